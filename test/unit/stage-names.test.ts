import { shippedRegistry } from '../helpers/registry';
import {
  StageNameError,
  datasetForStage,
  registryForStage,
  stageDatabaseName,
  stageJobName,
  stageMetricsNamespace,
} from '../../shared/domain/stage-names';

describe('names a deployed stage gives what a dataset declares', () => {
  test('Glue jobs end in -<stage>, databases in _<stage> (underscores: Athena reads them unquoted)', () => {
    expect(stageJobName('medallion-bronze', 'prod')).toBe('medallion-bronze-prod');
    expect(stageDatabaseName('shop_lake', 'prod-eu')).toBe('shop_lake_prod_eu');
    expect(stageMetricsNamespace('dev')).toBe('MedallionLake/dev');
  });

  test('the stage registry renames jobs and databases only: tables, prefixes and datasets are as declared', () => {
    const declared = shippedRegistry();
    const staged = registryForStage(declared, 'prod');

    for (const d of declared.datasets) {
      const s = staged.get(d.name);
      expect(s.stages.bronze.glueJob).toBe(`${d.stages.bronze.glueJob}-prod`);
      expect(s.stages.gold.glueJob).toBe(`${d.stages.gold.glueJob}-prod`);
      expect(s.catalog.database).toBe(`${d.catalog.database}_prod`);
      expect(s.catalog.tables).toEqual(d.catalog.tables);
      expect(s.landing).toEqual(d.landing);
    }
  });

  test('a stage that cannot name a bucket, or a name over Glue’s 255 characters, is refused naming the field', () => {
    const orders = shippedRegistry().get('orders');
    const long = {
      ...orders,
      stages: { ...orders.stages, silver: { ...orders.stages.silver, glueJob: 'j'.repeat(253) } },
    };

    expect(() => stageJobName('medallion-bronze', 'Prod')).toThrow(StageNameError);
    expect(() => stageJobName('medallion-bronze', 'Prod')).toThrow(
      'stage "Prod": use 1-15 lower-case letters',
    );
    expect(() => datasetForStage(long, 'dev')).toThrow(
      `datasets/${orders.folder}/dataset.yml: stages.silver.glueJob: "${'j'.repeat(253)}-dev" is 257 characters with the stage, Glue allows 255`,
    );
  });
});
