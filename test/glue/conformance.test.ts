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
    if (c.drift === 'refused') expect(duckdb.stages.bronze?.ok).toBe(false);
    else if (c.drift) expect(duckdb.stages.bronze?.drift).toEqual(c.drift);
  }, 180_000);
});

test('a column declared after bronze was written: silver reads it as empty on both engines', async () => {
  // Prepare: bronze written under the probe dataset; silver and gold run after `added` was declared
  const probe = datasets.get('probe') as Dataset;
  const evolved: Dataset = {
    ...probe,
    columns: [...probe.columns, { name: 'added', type: 'int', nullable: true }],
    goldSql: 'SELECT s, COUNT(*) AS rows_, COUNT(added) AS added_values FROM silver GROUP BY s',
    gold: {
      ...probe.gold,
      columns: [
        { name: 's', type: 'string' },
        { name: 'rows_', type: 'bigint' },
        { name: 'added_values', type: 'bigint' },
      ],
    },
  };
  const c: Case = {
    name: 'evolution',
    dataset: 'probe',
    files: [{ name: 'before.jsonl', content: '{"id":"ev1","s":"x"}\n{"id":"ev2","s":"y"}\n' }],
  };
  const values = partition(probe, CORPUS.length + 1);
  // Act
  const duckdb = await duckLake.runCase(evolved, c, values, probe);
  const onSpark = await sparkLake.runCase(evolved, c, values, probe);
  // Assess: both succeed, agree, and the silver rows have the new column, empty
  expect(onSpark).toEqual({ ...duckdb, stages: expect.anything() });
  expect(Object.values(onSpark.stages).map((s) => s?.ok)).toEqual(
    Object.values(duckdb.stages).map((s) => s?.ok),
  );
  expect(duckdb.stages.silver).toMatchObject({ ok: true, counts: { recordsIn: 2, recordsOut: 2 } });
  expect(duckdb.zones['silver']?.schema).toContain('added INTEGER');
  expect(
    duckdb.zones['silver']?.rows.every((r) => (JSON.parse(r) as { added: unknown }).added === null),
  ).toBe(true);
  expect(duckdb.zones['gold#0']?.rows).toEqual([
    '{"s":"x","rows_":"1","added_values":"0"}',
    '{"s":"y","rows_":"1","added_values":"0"}',
  ]);
}, 180_000);

describe('gold SQL the engines evaluate differently is refused when the dataset is compiled', () => {
  test.each(REFUSED_GOLD)('%s', (_what, goldSql, why) => {
    const probe = datasets.get('probe') as Dataset;
    expect(() => compileDatasetSql({ ...probe, goldSql })).toThrow(DatasetConfigError);
    expect(() => compileDatasetSql({ ...probe, goldSql })).toThrow(why);
  });
});
