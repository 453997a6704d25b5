import {
  bindPlaceholders,
  functionFolderOf,
  functionPlaceholder,
  PlaceholderError,
  placeholdersOf,
} from '../../shared/domain/asl-placeholders';
import { AslRunner, UNBOUNDED_TASK_SECONDS } from '../../local/asl-runner';

const join = (parts: readonly unknown[]) => ({ 'Fn::Join': ['', parts] });

describe('ASL placeholder grammar (one for the stack and the local runner)', () => {
  it('binds a whole-string placeholder to its value and a mixed string to a join of parts', () => {
    const bound = bindPlaceholders(
      { a: '${LakeBucket}', b: ['s3://${LakeBucket}/x'], c: 'plain', d: 3 },
      (name) => [{ Ref: name }],
      join,
    );

    expect(bound).toEqual({
      a: { Ref: 'LakeBucket' },
      b: [{ 'Fn::Join': ['', ['s3://', { Ref: 'LakeBucket' }, '/x']] }],
      c: 'plain',
      d: 3,
    });
  });

  it('refuses "${" outside the grammar and placeholders in keys, naming where', () => {
    expect(() => bindPlaceholders({ s: { x: 'a ${not valid}' } }, () => ['v'], join)).toThrow(
      new PlaceholderError(
        'the state machine definition: $.s.x: "${" that is not a ${Name} placeholder in "a ${not valid}"',
      ),
    );
    expect(() => bindPlaceholders({ '${K}': 1 }, () => ['v'], join)).toThrow(
      /placeholders are not allowed in keys/,
    );
  });

  it('names a function placeholder after its functions/ folder, both ways', () => {
    expect(functionPlaceholder('record-stage')).toBe('RecordStageFunctionArn');
    expect(functionPlaceholder('on-landing')).toBe('OnLandingFunctionArn');
    expect(functionFolderOf('FinishRunFunctionArn')).toBe('finish-run');
    expect(functionFolderOf('LakeBucket')).toBeUndefined();
    expect(placeholdersOf('${A} ${B_1} ${A}')).toEqual(['A', 'B_1']);
  });

  it('the runner gives a Task without TimeoutSeconds no 60-second limit (AWS has none)', () => {
    const runner = new AslRunner({
      definition: {
        StartAt: 'T',
        States: {
          T: { Type: 'Task', Resource: 'arn:aws:states:::glue:startJobRun.sync', End: true },
        },
      },
      lambdas: {},
      glue: async () => ({ Id: 'jr', JobName: 'j', JobRunState: 'SUCCEEDED' }),
    });

    const task = (runner.definition.States as Record<string, { TimeoutSeconds?: number }>)['T'];
    expect(task?.TimeoutSeconds).toBe(UNBOUNDED_TASK_SECONDS);
    expect(UNBOUNDED_TASK_SECONDS).toBeGreaterThan(24 * 3600);
  });
});
