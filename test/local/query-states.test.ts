import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalLake } from '../../local/lake';
import { openLakeViews } from '../../local/lake-query';
import { LocalPipeline } from '../../local/pipeline';
import { sampleOrders, toJsonLines, writeFile } from '../../local/sample';

const DAY = 'landing/shop/orders/year=2024/month=01/day=15/';

/** The example queries of the README, run as written. */
const README_QUERIES = [...readFileSync('README.md', 'utf8').matchAll(/npx medallion query "([^"]+)"/g)]
  .map((m) => m[1] ?? '')
  .filter((sql) => /^SELECT /i.test(sql) && !sql.includes('...'));

async function describeAndRun(lake: LocalLake, pipeline: LocalPipeline) {
  const { duck } = await openLakeViews(lake, pipeline.registry);
  try {
    const tables = (await duck.rows('SHOW TABLES')).map((r) => String(r['name'])).sort();
    const runsColumns = (await duck.rows('DESCRIBE runs')).map((r) => [r['column_name'], r['column_type']]);
    const shapes: Record<string, unknown[]> = {};
    for (const t of ['orders_bronze', 'orders_silver', 'orders_daily_revenue', 'orders_quarantine'])
      shapes[t] = (await duck.rows(`DESCRIBE ${t}`)).map((r) => [r['column_name'], r['column_type']]);
    const results = [];
    for (const sql of README_QUERIES) results.push(await duck.rows(sql));
    const runs = await duck.rows('SELECT name, status, durationMs, error FROM runs ORDER BY startedAt');
    return { tables, runsColumns, shapes, results, runs };
  } finally {
    duck.close();
  }
}

describe('medallion query works on every lake state', () => {
  const root = mkdtempSync(join(tmpdir(), 'query-lake-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const lake = new LocalLake(root);
  const pipeline = new LocalPipeline({ lake });

  test('the README example queries are found', () => {
    expect(README_QUERIES.length).toBeGreaterThanOrEqual(3);
  });

  test('empty lake, all runs succeeded, some failed: every table exists with the same columns', async () => {
    // Prepare + Act: the empty lake
    const empty = await describeAndRun(lake, pipeline);
    // a lake where every run succeeded (no execution has an `error` key)
    writeFile(
      lake.path(`${DAY}a.jsonl`),
      toJsonLines(sampleOrders({ date: '2024-01-15', records: 40, badRatio: 0.2 })),
    );
    await pipeline.land([`${DAY}a.jsonl`]);
    await pipeline.idle();
    const succeeded = await describeAndRun(lake, pipeline);
    // a lake where a run failed
    const bad = 'landing/shop/orders/year=2024/month=01/day=16/broken.jsonl';
    writeFile(lake.path(bad), '{"order_id": \n');
    await pipeline.land([bad]);
    await pipeline.idle();
    const failed = await describeAndRun(lake, pipeline);

    // Assess
    expect(empty.results.every((rows) => rows.length === 0)).toBe(true);
    expect(empty.runs).toEqual([]);
    expect(succeeded.runs).toEqual([
      {
        name: expect.any(String),
        status: 'SUCCEEDED',
        durationMs: expect.stringMatching(/^[0-9]+$/),
        error: null,
      },
    ]);
    expect(succeeded.results.every((rows) => rows.length > 0)).toBe(true);
    expect(failed.runs.map((r) => [r['status'], r['error']])).toEqual([
      ['SUCCEEDED', null],
      ['FAILED', expect.any(String)],
    ]);
    for (const state of [succeeded, failed]) {
      expect(state.tables).toEqual(empty.tables);
      expect(state.runsColumns).toEqual(empty.runsColumns);
    }
    expect(empty.tables).toEqual(
      expect.arrayContaining(['alerts', 'catalog', 'ledger', 'metrics', 'runs', 'orders_silver', 'gold']),
    );
    // an empty zone has the columns the jobs write (partition keys as text in both)
    const withoutKeys = (cols: unknown[]) =>
      cols.filter((c) => !['year', 'month', 'day'].includes(String((c as unknown[])[0])));
    for (const table of Object.keys(empty.shapes))
      expect(withoutKeys(empty.shapes[table] ?? [])).toEqual(withoutKeys(succeeded.shapes[table] ?? []));
  }, 60_000);
});
