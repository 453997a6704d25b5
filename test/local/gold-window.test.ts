import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCliCaptured as cli } from '../helpers/cli';
import { venvPython } from '../helpers/python-env';

/**
 * A gold model over a trailing window (`gold.window`): a late file for a day corrects the gold of the
 * later days whose window holds it, in the same run, on DuckDB and on Spark (the real gold Glue
 * script) alike; the run's manifest lists the gold partitions it wrote and GoldPartitionsWritten
 * counts them.
 */

const VISITS = `name: visits
description: Page visits, a test dataset whose gold counts the visits of the trailing 3 days.
landing:
  prefix: landing/test/visits/
  formats: [csv]
partitionKeys:
  - { name: dt, pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' }
catalog:
  database: test_lake
  tables: { bronze: visits_bronze, silver: visits_silver, gold: visits_3d, quarantine: visits_quarantine }
stages:
  bronze: { glueJob: medallion-bronze, timeoutMinutes: 10 }
  silver: { glueJob: medallion-silver, timeoutMinutes: 10 }
  gold: { glueJob: medallion-gold, timeoutMinutes: 10 }
columns:
  - { name: visit_id, type: string, nullable: false }
  - { name: page, type: string, nullable: false }
  - { name: seconds, type: int }
rules:
  - { column: page, check: accepted_values, values: [home, search, cart, checkout] }
dedup: { key: [visit_id], orderBy: seconds }
gold:
  sql: gold.sql
  window: { partitions: 3 }
  columns:
    - { name: page, type: string }
    - { name: visits, type: bigint }
quarantine:
  maxRatio: 1
  spike: { lookback: 7, k: 3, minRecords: 1000000 }
  onSpike: alert
`;

const root = mkdtempSync(join(tmpdir(), 'gold-window-'));
const datasetsDir = join(root, 'datasets');
const saved = { datasets: process.env['DATASETS_DIR'], python: process.env['MEDALLION_PYTHON'] };

beforeAll(() => {
  cpSync('datasets', datasetsDir, { recursive: true });
  mkdirSync(join(datasetsDir, 'visits'));
  writeFileSync(join(datasetsDir, 'visits', 'dataset.yml'), VISITS);
  writeFileSync(
    join(datasetsDir, 'visits', 'gold.sql'),
    'SELECT page, count(*) AS visits FROM silver GROUP BY page\n',
  );
  process.env['DATASETS_DIR'] = datasetsDir;
  process.env['MEDALLION_PYTHON'] ??= venvPython();
});
afterAll(() => {
  for (const [key, value] of [
    ['DATASETS_DIR', saved.datasets],
    ['MEDALLION_PYTHON', saved.python],
  ] as const)
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  rmSync(root, { recursive: true, force: true });
});

async function ok(args: string[]): Promise<string> {
  const r = await cli(args);
  if (r.code !== 0) throw new Error(`medallion ${args.join(' ')} exited ${r.code}: ${r.err}${r.out}`);
  return r.out;
}

const sample = (lake: string, day: string, seed: number, file = `day-${seed}.csv`) =>
  ok(
    `sample --lake ${lake} --dataset visits --records 120 --date ${day} --seed ${seed} --first-id ${seed * 1000} --file ${file}`.split(
      ' ',
    ),
  );

const query = async (lake: string, sql: string) =>
  JSON.parse(await ok(['query', '--lake', lake, '--json', sql])) as Array<Record<string, unknown>>;

const GOLD = 'SELECT dt, page, visits::INTEGER AS visits FROM visits_3d ORDER BY dt, page';
/** Gold of a day as the window defines it, computed here from silver directly. */
const goldFromSilver = (from: string, to: string) =>
  `SELECT page, count(*)::INTEGER AS visits FROM visits_silver WHERE dt BETWEEN '${from}' AND '${to}' GROUP BY page ORDER BY page`;

function goldManifests(
  lake: string,
): Array<{ runId: string; outputPartitions: Array<{ values: string[] }> }> {
  const folder = join(lake, '_manifests', 'visits', 'gold');
  return readdirSync(folder).map((f) => JSON.parse(readFileSync(join(folder, f), 'utf8')));
}

describe('gold over a trailing window', () => {
  const duckLake = join(root, 'duck');
  const sparkLake = join(root, 'spark');

  test('days land one after another: each gold day covers its day and the two before', async () => {
    for (const [i, day] of ['2024-05-01', '2024-05-02', '2024-05-03'].entries()) {
      await sample(duckLake, day, i + 1);
      await ok(['watch', '--once', '--lake', duckLake]);
    }
    const day3 = await query(
      duckLake,
      "SELECT page, visits::INTEGER AS visits FROM visits_3d WHERE dt = '2024-05-03' ORDER BY page",
    );
    expect(day3).toEqual(await query(duckLake, goldFromSilver('2024-05-01', '2024-05-03')));
    expect(day3.reduce((n, r) => n + Number(r['visits']), 0)).toBe(360);
  });

  test('a late file for day 1 corrects the gold of days 2 and 3 in the same run, on DuckDB and on Spark alike', async () => {
    cpSync(duckLake, sparkLake, { recursive: true });
    const before = new Set(goldManifests(duckLake).map((m) => m.runId));
    for (const lake of [duckLake, sparkLake]) await sample(lake, '2024-05-01', 9, 'late.csv');
    await ok(['watch', '--once', '--lake', duckLake]);
    await ok(['watch', '--once', '--lake', sparkLake, '--engine', 'spark']);

    // The late run wrote day 1 and the two later days whose window holds day 1.
    const late = goldManifests(duckLake).filter((m) => !before.has(m.runId));
    expect(late.map((m) => m.outputPartitions.map((p) => p.values[0]))).toEqual([
      ['2024-05-01', '2024-05-02', '2024-05-03'],
    ]);
    const day3 = await query(
      duckLake,
      "SELECT page, visits::INTEGER AS visits FROM visits_3d WHERE dt = '2024-05-03' ORDER BY page",
    );
    expect(day3).toEqual(await query(duckLake, goldFromSilver('2024-05-01', '2024-05-03')));
    expect(day3.reduce((n, r) => n + Number(r['visits']), 0)).toBe(480);
    const metric = await query(
      duckLake,
      "SELECT goldPartitionsWritten::INTEGER AS n FROM metrics WHERE stage = 'gold' ORDER BY timestamp DESC LIMIT 1",
    );
    expect(metric).toEqual([{ n: 3 }]);

    // Spark's gold job (the deployed script) recomputed the same partitions with the same rows.
    expect(await query(sparkLake, GOLD)).toEqual(await query(duckLake, GOLD));
  }, 600_000);
});
