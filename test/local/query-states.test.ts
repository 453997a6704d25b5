import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalLake } from '../../local/lake';
import { openLakeViews } from '../../local/lake-query';
import { LocalPipeline } from '../../local/pipeline';
import { sampleOrders, toJsonLines, writeFile } from '../../local/sample';

const DAY = 'landing/shop/orders/year=2024/month=01/day=15/';
const VIEWS_DAY = 'landing/web/page_views/dt=2024-01-15/';
const VIEWS_CSV = [
  'view_id,session_id,user_id,page,referrer,device,duration_ms,viewed_at',
  'PV-0000000001,S1,U1,/,-,desktop,1200,2024-01-15 10:00:00',
  'PV-0000000002,S1,U1,/cart,/,desktop,-,2024-01-15 10:00:05',
  'PV-0000000003,S2,-,/,https://example.com/,mobile,800,2024-01-15T11:00:00Z',
  'bad-id,S3,-,/,-,watch,5,2024-01-15 12:00:00',
].join('\n');

/** The example queries of the README and docs/local.md, run as written. */
const DOC_TEXT = ['README.md', 'docs/local.md'].map((f) => readFileSync(f, 'utf8')).join('\n');
const README_QUERIES = [...DOC_TEXT.matchAll(/npx medallion query "([^"]+)"/g)]
  .map((m) => m[1] ?? '')
  .filter((sql) => /^SELECT /i.test(sql) && !sql.includes('...'));

async function describeAndRun(lake: LocalLake, pipeline: LocalPipeline) {
  const { duck } = await openLakeViews(lake, pipeline.registry);
  try {
    const tables = (await duck.rows('SHOW TABLES')).map((r) => String(r['name'])).sort();
    const runsColumns = (await duck.rows('DESCRIBE runs')).map((r) => [r['column_name'], r['column_type']]);
    const shapes: Record<string, unknown[]> = {};
    const counts: Record<string, number> = {};
    for (const t of pipeline.registry.datasets.flatMap((d) => Object.values(d.catalog.tables))) {
      shapes[t] = (await duck.rows(`DESCRIBE ${t}`)).map((r) => [r['column_name'], r['column_type']]);
      counts[t] = Number(await duck.scalar(`SELECT count(*) FROM ${t}`));
    }
    const results = [];
    for (const sql of README_QUERIES) results.push(await duck.rows(sql));
    const runs = await duck.rows('SELECT name, status, durationMs, error FROM runs ORDER BY startedAt');
    return { tables, runsColumns, shapes, counts, results, runs };
  } finally {
    duck.close();
  }
}

describe('medallion query works on every lake state', () => {
  const root = mkdtempSync(join(tmpdir(), 'query-lake-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const lake = new LocalLake(root);
  const pipeline = new LocalPipeline({ lake });

  test('the documented example queries are found', () => {
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
    writeFile(lake.path(`${VIEWS_DAY}views.csv`), VIEWS_CSV);
    await pipeline.land([`${DAY}a.jsonl`, `${VIEWS_DAY}views.csv`]);
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
    const succeededRun = {
      name: expect.any(String),
      status: 'SUCCEEDED',
      durationMs: expect.stringMatching(/^[0-9]+$/),
      error: null,
    };
    expect(succeeded.runs).toEqual([succeededRun, succeededRun]);
    expect(succeeded.results.every((rows) => rows.length > 0)).toBe(true);
    expect(failed.runs.map((r) => [r['status'], r['error']])).toEqual([
      ['SUCCEEDED', null],
      ['SUCCEEDED', null],
      ['FAILED', expect.any(String)],
    ]);
    for (const state of [succeeded, failed]) {
      expect(state.tables).toEqual(empty.tables);
      expect(state.runsColumns).toEqual(empty.runsColumns);
    }
    expect(empty.tables).toEqual(
      expect.arrayContaining([
        'alerts',
        'catalog',
        'ledger',
        'metrics',
        'runs',
        'orders_silver',
        'page_views_daily',
      ]),
    );
    // with two datasets, a bare zone name (`gold`) would be ambiguous: there is none
    expect(pipeline.registry.datasets.length).toBeGreaterThanOrEqual(2);
    expect(empty.tables).not.toContain('gold');
    // an empty zone has the columns the jobs write (partition keys as text in both)
    const keys = new Set(pipeline.registry.datasets.flatMap((d) => d.partitionKeys.map((k) => k.name)));
    const withoutKeys = (cols: unknown[]) => cols.filter((c) => !keys.has(String((c as unknown[])[0])));
    expect(Object.keys(empty.shapes)).toHaveLength(4 * pipeline.registry.datasets.length);
    for (const table of Object.keys(empty.shapes))
      expect(withoutKeys(empty.shapes[table] ?? [])).toEqual(withoutKeys(succeeded.shapes[table] ?? []));
    // the dt= CSV dataset ran end to end: '-' is missing, the bad row is quarantined
    expect(succeeded.counts).toMatchObject({
      page_views_bronze: 4,
      page_views_silver: 3,
      page_views_quarantine: 1,
      page_views_daily: 3,
    });
    expect(Object.values(empty.counts).every((n) => n === 0)).toBe(true);
  }, 60_000);
});
