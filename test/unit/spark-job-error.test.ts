import { SparkJobError } from '../../local/spark-glue';

describe('SparkJobError', () => {
  test('names the Python error class once, whether or not the job message already names it', () => {
    // Act
    const own = new SparkJobError(
      'StageContractError',
      'StageContractError: 1 of 406 landing record(s) could not be parsed',
    );
    const spark = new SparkJobError('AnalysisException', '[UNRESOLVED_COLUMN] amount cannot be resolved');
    // Assess
    expect(own.message).toBe('StageContractError: 1 of 406 landing record(s) could not be parsed');
    expect(own.errorClass).toBe('StageContractError');
    expect(spark.message).toBe('AnalysisException: [UNRESOLVED_COLUMN] amount cannot be resolved');
  });
});
