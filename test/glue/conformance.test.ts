import { join } from 'node:path';
import type { Dataset } from '../../shared/domain/datasets';
import { SparkGlue } from '../../local/spark-glue';
import { shippedRegistry } from '../helpers/registry';
import { venvPython } from '../helpers/python-env';
import { compileDatasetSql } from '../../shared/domain/sql';
import { DatasetConfigError } from '../../shared/domain/errors';
import { CORPUS, REFUSED_GOLD } from './conformance/corpus';
import { ConformanceLake, conformanceDatasets, type Case } from './conformance/engines';
import { Duck, sqlString } from '../../local/duck';
import { fileUri } from '../../local/glue-runner';

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

describe('CDC: the same current state on DuckDB and on Spark with Iceberg', () => {
  const customers = conformanceDatasets(join(__dirname, 'cdc', 'datasets')).get('customers') as Dataset;
  const change = (customer_id: string, op: string, seq: number | null, name?: string, country?: string) => ({
    customer_id,
    op,
    ...(seq === null ? {} : { seq }),
    ...(name ? { name } : {}),
    ...(country ? { country } : {}),
  });
  const jsonl = (...rows: ReadonlyArray<Record<string, unknown>>): string =>
    rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
  // Each entry: one partition's run, in landing order (the replay re-runs 2024-03-01).
  const RUNS: ReadonlyArray<{ day: string; files: Case['files'] }> = [
    {
      day: '2024-03-01',
      files: [
        {
          name: 'export-1.jsonl',
          content: jsonl(
            change('c1', 'I', 1, 'Ann', 'FR'),
            change('c2', 'I', 2, 'Bob', 'DE'),
            change('c3', 'I', 3, 'Cid', 'FR'),
            change('c1', 'U', 4, 'Ann B.', 'ES'),
            change('c2', 'I', 2, 'Bob', 'DE'), // a duplicate
            change('c9', 'X', 5, 'Unknown op'), // quarantined: cdc_operation
            change('c8', 'I', null, 'No sequence'), // quarantined: seq_required
          ),
        },
      ],
    },
    {
      day: '2024-03-02',
      files: [
        {
          name: 'export-2.csv',
          // a delete, two updates of c3 out of order (7 wins), an insert
          content:
            'customer_id,op,seq,name,country\nc2,D,5,,\nc3,U,7,Cid 7,FR\nc3,U,6,Cid 6,FR\nc4,I,8,Dan,IT\n',
        },
      ],
    },
    {
      day: '2024-03-03',
      files: [
        {
          name: 'export-3.jsonl',
          content: jsonl(
            change('c2', 'I', 9, 'Bob again', 'DE'), // re-insert after delete
            change('c4', 'U', 8, 'Dan (same sequence)', 'IT'), // equal sequence: a duplicate, ignored
            change('c5', 'D', 10), // a delete of a key never seen: its tombstone
          ),
        },
      ],
    },
    { day: '2024-03-01', files: [] }, // a replay of the first partition: nothing newer, nothing changes
    {
      day: '2024-03-04',
      files: [
        {
          name: 'export-4.jsonl',
          content: jsonl(
            change('c5', 'I', 3, 'Eve (late)', 'FR'), // older than c5's delete: stays deleted
            change('c1', 'U', 11, 'Ann C.', 'ES'),
          ),
        },
      ],
    },
  ];

  /** The state as the engine keeps it (tombstones included), read with DuckDB. */
  async function state(lake: ConformanceLake): Promise<string[]> {
    let folder = join(lake.root, 'silver', 'customers', 'current');
    if (lake.engine === 'spark') {
      folder = join(lake.root, '_export', 'customers');
      await spark.exportIcebergTable({
        lake: fileUri(lake.root),
        database: customers.catalog.database,
        table: customers.catalog.tables.silver,
        to: fileUri(folder),
      });
    }
    const duck = await Duck.open();
    try {
      const rows = await duck.rows(
        `SELECT customer_id, name, country, op, CAST(seq AS VARCHAR) AS seq, _cdc_deleted, regexp_extract(_source_file, '[^/]+$') AS file FROM read_parquet(${sqlString(join(folder, '*.parquet'))}) ORDER BY customer_id`,
      );
      return rows.map((r) => JSON.stringify(r));
    } finally {
      duck.close();
    }
  }

  test('inserts, updates, deletes, re-insert, duplicates, out-of-order and a replay', async () => {
    // Act: every run on both engines, in order
    const results: Array<[unknown, unknown]> = [];
    for (const [i, run] of RUNS.entries()) {
      const c: Case = { name: `cdc ${i}`, dataset: 'customers', files: run.files };
      results.push([
        await duckLake.runCase(customers, c, [run.day]),
        await sparkLake.runCase(customers, c, [run.day]),
      ]);
    }
    const duckState = await state(duckLake);
    const sparkState = await state(sparkLake);
    // Assess: each run's outcome and rows agree, and so does the final state
    for (const [duckdb, onSpark] of results) expect(onSpark).toEqual(duckdb);
    expect(sparkState).toEqual(duckState);
    expect(duckState.map((r) => JSON.parse(r) as Record<string, unknown>)).toEqual([
      {
        customer_id: 'c1',
        name: 'Ann C.',
        country: 'ES',
        op: 'U',
        seq: '11',
        _cdc_deleted: false,
        file: 'export-4.jsonl',
      },
      {
        customer_id: 'c2',
        name: 'Bob again',
        country: 'DE',
        op: 'I',
        seq: '9',
        _cdc_deleted: false,
        file: 'export-3.jsonl',
      },
      {
        customer_id: 'c3',
        name: 'Cid 7',
        country: 'FR',
        op: 'U',
        seq: '7',
        _cdc_deleted: false,
        file: 'export-2.csv',
      },
      {
        customer_id: 'c4',
        name: 'Dan',
        country: 'IT',
        op: 'I',
        seq: '8',
        _cdc_deleted: false,
        file: 'export-2.csv',
      },
      {
        customer_id: 'c5',
        name: null,
        country: null,
        op: 'D',
        seq: '10',
        _cdc_deleted: true,
        file: 'export-3.jsonl',
      },
    ]);
    const [first] = results[0] as [EngineResultLike, EngineResultLike];
    expect(first.stages['silver']).toMatchObject({
      ok: true,
      counts: { recordsIn: 7, recordsOut: 3, recordsQuarantined: 2 },
    });
    // gold of the last run: the current state per country (c5 deleted)
    const [last] = results[RUNS.length - 1] as [EngineResultLike, EngineResultLike];
    expect(last.zones['gold#0']?.rows).toEqual([
      '{"country":"DE","customers":"1"}',
      '{"country":"ES","customers":"1"}',
      '{"country":"FR","customers":"1"}',
      '{"country":"IT","customers":"1"}',
    ]);
  }, 900_000);
});

type EngineResultLike = {
  stages: Record<string, unknown>;
  zones: Record<string, { rows: string[] } | null>;
};
