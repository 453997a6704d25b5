import { join } from 'node:path';
import type { Dataset } from '../../shared/domain/datasets';
import { SparkGlue } from '../../local/spark-glue';
import { shippedRegistry } from '../helpers/registry';
import { venvPython } from '../helpers/python-env';
import { compileDatasetSql } from '../../shared/domain/sql';
import { DatasetConfigError } from '../../shared/domain/errors';
import { CORPUS, REFUSED_GOLD } from './conformance/corpus';
import { ConformanceLake, conformanceDatasets, type Case } from './conformance/engines';

/**
 * The cross-engine conformance suite: every landing file of the corpus (test/glue/conformance/corpus.ts)
 * goes through the DuckDB runner and through the real Glue scripts on Spark; the stage outcomes and
 * manifest counts, the silver, quarantine (with reasons) and gold rows, and the Parquet schemas must be
 * equal. One Spark process for the whole file.
 */

const datasets = new Map<string, Dataset>([
  ...conformanceDatasets(join(__dirname, 'conformance', 'datasets')),
  ['orders', shippedRegistry().get('orders')],
]);

let spark: SparkGlue;
let duckLake: ConformanceLake;
let sparkLake: ConformanceLake;

beforeAll(async () => {
  spark = SparkGlue.start({ python: venvPython() });
  duckLake = new ConformanceLake('duckdb', undefined);
  sparkLake = new ConformanceLake('spark', spark);
  await spark.whenReady(); // Spark's start-up is not charged to the first case's time limit
}, 300_000);
afterAll(() => spark.close(), 60_000);

/** The partition values of the i-th case: one day each. */
function partition(dataset: Dataset, i: number): string[] {
  const day = new Date(Date.UTC(2024, 0, 1 + i)).toISOString().slice(0, 10);
  const [y = '', m = '', d = ''] = day.split('-');
  return dataset.partitionKeys.length === 1 ? [day] : [y, m, d];
}

test('the corpus holds at least 40 landing files', () => {
  expect(CORPUS.flatMap((c) => c.files).length).toBeGreaterThanOrEqual(40);
});

describe.each(CORPUS.map((c, i) => [c.name, c, i] as const))('%s', (_name, c: Case, i: number) => {
  test('both engines agree', async () => {
    // Prepare
    const dataset = datasets.get(c.dataset) as Dataset;
    const values = partition(dataset, i);
    // Act
    const duckdb = await duckLake.runCase(dataset, c, values);
    const onSpark = await sparkLake.runCase(dataset, c, values);
    // Assess: stage outcomes and counts, rows and Parquet schemas of every zone
    const comparable = (r: typeof duckdb) => ({
      ...r,
      stages: Object.fromEntries(
        Object.entries(r.stages).map(([stage, o]) => [stage, { ...o, error: undefined }]),
      ),
    });
    expect(comparable(onSpark)).toEqual(comparable(duckdb));
  }, 180_000);
});

describe('gold SQL the engines evaluate differently is refused when the dataset is compiled', () => {
  test.each(REFUSED_GOLD)('%s', (_what, goldSql, why) => {
    const probe = datasets.get('probe') as Dataset;
    expect(() => compileDatasetSql({ ...probe, goldSql })).toThrow(DatasetConfigError);
    expect(() => compileDatasetSql({ ...probe, goldSql })).toThrow(why);
  });
});
