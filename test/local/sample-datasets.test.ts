import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCliCaptured as cli } from '../helpers/cli';

/**
 * `medallion sample` writes rows for any dataset from its declared columns and rules: with no bad
 * ratio every row passes the dataset's compiled rules on the real local pipeline, and with one
 * exactly the rows it says break a rule end in quarantine. Any partition layout: `--date` (with
 * `--where` for keys that are not the date) or `--partition`.
 */

/** Every column type, every rule kind, and a layout keyed by region and day. */
const READINGS = `name: readings
description: Meter readings, a test dataset with every column type.
landing:
  prefix: landing/test/readings/
  formats: [jsonl, csv]
partitionKeys:
  - { name: region, pattern: '^[a-z]+-[a-z]+$' }
  - { name: dt, pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' }
catalog:
  database: test_lake
  tables: { bronze: readings_bronze, silver: readings_silver, gold: readings_daily, quarantine: readings_quarantine }
stages:
  bronze: { glueJob: medallion-bronze, timeoutMinutes: 10 }
  silver: { glueJob: medallion-silver, timeoutMinutes: 10 }
  gold: { glueJob: medallion-gold, timeoutMinutes: 10 }
columns:
  - { name: reading_id, type: bigint, nullable: false }
  - { name: meter, type: string, nullable: false }
  - { name: kind, type: string }
  - { name: value, type: double }
  - { name: cost, type: 'decimal(10,2)' }
  - { name: level, type: int }
  - { name: estimated, type: boolean }
  - { name: billing_day, type: date }
  - { name: read_at, type: timestamp, nullable: false }
rules:
  - { column: meter, check: pattern, pattern: '^M[0-9]{6}$' }
  - { column: kind, check: accepted_values, values: [power, gas, water] }
  - { column: value, check: range, min: 0, max: 5000 }
  - { column: level, check: range, min: 1 }
  - { column: cost, check: not_null }
dedup: { key: [reading_id], orderBy: read_at }
gold:
  sql: gold.sql
  columns:
    - { name: kind, type: string }
    - { name: readings, type: bigint }
quarantine:
  maxRatio: 1
  spike: { lookback: 7, k: 3, minRecords: 1000000 }
  onSpike: alert
`;

const root = mkdtempSync(join(tmpdir(), 'sample-datasets-'));
const datasetsDir = join(root, 'datasets');
const saved = process.env['DATASETS_DIR'];

beforeAll(() => {
  cpSync('datasets', datasetsDir, { recursive: true });
  mkdirSync(join(datasetsDir, 'readings'));
  writeFileSync(join(datasetsDir, 'readings', 'dataset.yml'), READINGS);
  writeFileSync(
    join(datasetsDir, 'readings', 'gold.sql'),
    'SELECT kind, count(*) AS readings FROM silver GROUP BY kind\n',
  );
  process.env['DATASETS_DIR'] = datasetsDir;
});
afterAll(() => {
  if (saved === undefined) delete process.env['DATASETS_DIR'];
  else process.env['DATASETS_DIR'] = saved;
  rmSync(root, { recursive: true, force: true });
});

let lakeCount = 0;
const newLake = () => join(root, `lake-${++lakeCount}`);

async function sample(
  lake: string,
  args: string[],
): Promise<{ key: string; rows: number; rowsBreakingARule: number }> {
  const r = await cli(['sample', '--lake', lake, '--json', ...args]);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.out) as { key: string; rows: number; rowsBreakingARule: number };
}

/** Runs what landed, then the silver and quarantine row counts of the dataset. */
async function runAndCount(lake: string, dataset: string): Promise<{ silver: number; quarantined: number }> {
  await cli(['watch', '--once', '--lake', lake]);
  const r = await cli([
    'query',
    '--lake',
    lake,
    '--json',
    `SELECT (SELECT count(*) FROM ${dataset}_silver) AS silver, (SELECT count(*) FROM ${dataset}_quarantine) AS quarantined`,
  ]);
  expect(r.code).toBe(0);
  const [row] = JSON.parse(r.out) as Array<{ silver: number; quarantined: number }>;
  return { silver: Number(row?.silver), quarantined: Number(row?.quarantined) };
}

const distinct = (lake: string, key: string, column: number): number =>
  new Set(
    readFileSync(join(lake, key), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(',')[column]),
  ).size;

type Change = Record<string, unknown>;
const jsonLines = (lake: string, key: string): Change[] =>
  readFileSync(join(lake, key), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Change);

/** datasets/customers' rules (and a CDC change's key, sequence and operation), checked by hand. */
const breaksCustomerRules = (c: Change): boolean =>
  typeof c['customer_id'] !== 'string' ||
  !/^C[0-9]{6}$/.test(c['customer_id']) ||
  typeof c['change_seq'] !== 'number' ||
  c['change_seq'] < 1 ||
  !['I', 'U', 'D'].includes(String(c['op'])) ||
  c['changed_at'] === null ||
  (c['country'] !== null && !/^[A-Z]{2}$/.test(String(c['country']))) ||
  (c['segment'] !== null && !['consumer', 'business'].includes(String(c['segment'])));

/** The current state by hand: per customer the change with the highest sequence, deleted ones gone. */
function foldCustomers(changes: readonly Change[]): string[] {
  const latest = new Map<string, Change>();
  for (const c of changes) {
    const seen = latest.get(String(c['customer_id']));
    if (!seen || Number(c['change_seq']) > Number(seen['change_seq']))
      latest.set(String(c['customer_id']), c);
  }
  return [...latest.values()]
    .filter((c) => c['op'] !== 'D')
    .map((c) => `${String(c['customer_id'])} ${String(c['change_seq'])} ${String(c['country'])}`)
    .sort();
}

async function customersState(lake: string): Promise<string[]> {
  const r = await cli([
    'query',
    '--lake',
    lake,
    '--json',
    "SELECT customer_id || ' ' || change_seq || ' ' || coalesce(country, 'null') AS c FROM customers_silver ORDER BY 1",
  ]);
  expect(r.code).toBe(0);
  return (JSON.parse(r.out) as Array<{ c: string }>).map((row) => row.c);
}

describe('medallion sample for any dataset', () => {
  test("page_views (dt=, CSV): every generated row passes its rules; the file is the dataset's format", async () => {
    const lake = newLake();
    const written = await sample(lake, `--dataset page_views --records 400 --date 2024-05-01`.split(' '));
    expect(written.key).toBe('landing/web/page_views/dt=2024-05-01/sample-42.csv');
    expect(written.rowsBreakingARule).toBe(0);
    const counts = await runAndCount(lake, 'page_views');
    expect(counts.quarantined).toBe(0);
    expect(counts.silver).toBe(distinct(lake, written.key, 0)); // the latest version of each view
  });

  test('page_views with --bad-ratio: exactly the rows that break a rule are quarantined', async () => {
    const lake = newLake();
    const written = await sample(
      lake,
      `--dataset page_views --records 400 --date 2024-05-02 --bad-ratio 0.2 --seed 7`.split(' '),
    );
    expect(written.rowsBreakingARule).toBeGreaterThan(40);
    const counts = await runAndCount(lake, 'page_views');
    expect(counts.quarantined).toBe(written.rowsBreakingARule);
  });

  test('every column type and rule kind, region=/dt= by --date and --where, and by --partition', async () => {
    const lake = newLake();
    const byDate = await sample(
      lake,
      `--dataset readings --records 300 --date 2024-06-01 --where region=eu-west`.split(' '),
    );
    expect(byDate.key).toBe('landing/test/readings/region=eu-west/dt=2024-06-01/sample-42.jsonl');
    const byPath = await sample(
      lake,
      `--dataset readings --records 300 --partition region=us-east/dt=2024-06-02 --format csv --bad-ratio 0.3 --seed 3`.split(
        ' ',
      ),
    );
    expect(byPath.key).toBe('landing/test/readings/region=us-east/dt=2024-06-02/sample-3.csv');
    const counts = await runAndCount(lake, 'readings');
    expect(counts.quarantined).toBe(byPath.rowsBreakingARule);
    expect(counts.silver).toBe(600 - byPath.rowsBreakingARule);
    const types = await cli([
      'query',
      '--lake',
      lake,
      '--json',
      "SELECT min(billing_day)::VARCHAR AS d, count(DISTINCT estimated)::INTEGER AS b FROM readings_silver WHERE dt = '2024-06-01'",
    ]);
    expect(JSON.parse(types.out)).toEqual([{ d: '2024-06-01', b: 2 }]);
  });

  test('customers (mode: cdc): a change stream, duplicates and out-of-order changes included, merges into the state folded by hand', async () => {
    const lake = newLake();
    const written = await sample(
      lake,
      `--dataset customers --records 400 --date 2024-05-01 --duplicates 0.1 --out-of-order 0.1`.split(' '),
    );
    expect(written).toMatchObject({ key: 'landing/crm/customers/dt=2024-05-01/sample-42.jsonl', rows: 400 });
    const changes = jsonLines(lake, written.key);
    // A change stream: each key's changes, by sequence, start with its insert; deletes and updates follow.
    const byKey = new Map<string, Change[]>();
    for (const c of changes)
      byKey.set(String(c['customer_id']), [...(byKey.get(String(c['customer_id'])) ?? []), c]);
    for (const list of byKey.values())
      expect([...list].sort((a, b) => Number(a['change_seq']) - Number(b['change_seq']))[0]?.['op']).toBe(
        'I',
      );
    const ops = new Set(changes.map((c) => c['op']));
    expect(ops).toEqual(new Set(['I', 'U', 'D']));
    const lines = changes.map((c) => JSON.stringify(c));
    expect(new Set(lines).size).toBeLessThan(lines.length); // duplicates
    expect(
      changes.some((c, i) => i > 0 && Number(c['change_seq']) < Number(changes[i - 1]?.['change_seq'])),
    ).toBe(true); // out of order
    await cli(['watch', '--once', '--lake', lake]);
    expect(await customersState(lake)).toEqual(foldCustomers(changes));
  });

  test('customers with --bad-ratio: exactly the changes that break a rule are quarantined, the others merged', async () => {
    const lake = newLake();
    const written = await sample(
      lake,
      `--dataset customers --records 400 --date 2024-05-02 --bad-ratio 0.2 --seed 5`.split(' '),
    );
    const changes = jsonLines(lake, written.key);
    const broken = changes.filter(breaksCustomerRules);
    expect(broken.length).toBe(written.rowsBreakingARule);
    expect(written.rowsBreakingARule).toBeGreaterThan(40);
    const counts = await runAndCount(lake, 'customers');
    expect(counts.quarantined).toBe(written.rowsBreakingARule);
    expect(await customersState(lake)).toEqual(foldCustomers(changes.filter((c) => !breaksCustomerRules(c))));
  });

  test('usage errors name the problem: a format the dataset does not take, no partition, a layout without a date', async () => {
    const sampleIn = (args: string) => cli(['sample', '--lake', newLake(), ...args.split(' ')]);
    const format = await sampleIn('--dataset page_views --records 5 --date 2024-05-01 --format jsonl');
    expect(format.code).toBe(2);
    expect(format.err).toContain('dataset "page_views" does not accept jsonl files (it takes csv)');
    const none = await sampleIn('--dataset page_views --records 5');
    expect(none.code).toBe(2);
    expect(none.err).toContain('give --date YYYY-MM-DD or --partition');
    const where = await sampleIn('--dataset readings --records 5 --date 2024-05-01');
    expect(where.code).toBe(2);
    expect(where.err).toContain('region');
    const stream = await sampleIn('--dataset page_views --records 5 --date 2024-05-01 --duplicates 0.1');
    expect(stream.code).toBe(2);
    expect(stream.err).toContain('dataset "page_views" is not a CDC dataset');
  });
});
