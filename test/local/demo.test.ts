import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDemo, type DemoResult } from '../../local/demo-scenario';
import { expectDemoOutcomes } from '../helpers/demo-outcomes';
import { LocalLake } from '../../local/lake';
import { LocalPipeline } from '../../local/pipeline';
import { ExecutionHistoryStore, type ExecutionHistory } from '../../local/history';
import { runCli } from '../../cli/program';
import { lakeRows } from '../helpers/demo-lake';

/** The demo scenario, small: its landings (orders, customers, sign_ins) through the real handlers, ASL and the DuckDB jobs. */
describe('local lake end to end (demo scenario, 100-row files)', () => {
  const root = mkdtempSync(join(tmpdir(), 'demo-lake-'));
  let pipeline: LocalPipeline;
  let result: DemoResult;

  beforeAll(async () => {
    pipeline = new LocalPipeline({ lake: new LocalLake(root) });
    result = await runDemo(pipeline, { rows: 100 });
  }, 60_000);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const query = (sql: string) => lakeRows(pipeline, sql);

  test('every expected outcome of the scenario happened, against the lake and hand-computed figures', async () => {
    await expectDemoOutcomes(pipeline, result);
  });

  test('eleven runs: orders’ corrupt day fails in bronze, every other run succeeds through bronze, silver and gold', () => {
    const dataset = (r: { name: string }) => r.name.replace(/-\d{4}-.*$/, '');
    expect(
      result.runs.map((r) => [dataset(r), r.partition, r.status, r.stages.map((s) => s.stage).join(',')]),
    ).toEqual([
      ['orders', 'year=2024/month=01/day=15', 'SUCCEEDED', 'bronze,silver,gold'],
      ['orders', 'year=2024/month=01/day=16', 'SUCCEEDED', 'bronze,silver,gold'],
      ['orders', 'year=2024/month=01/day=15', 'SUCCEEDED', 'bronze,silver,gold'],
      ['orders', 'year=2024/month=01/day=17', 'SUCCEEDED', 'bronze,silver,gold'],
      ['orders', 'year=2024/month=01/day=18', 'FAILED', ''],
      ...['dt=2024-01-15', 'dt=2024-01-16', 'dt=2024-01-15'].flatMap((dt) =>
        ['customers', 'sign_ins'].map((d) => [d, dt, 'SUCCEEDED', 'bronze,silver,gold']),
      ),
    ]);
    const failed = result.runs[4];
    expect(failed?.path).toContain('Alert on-call of failure');
    expect(failed?.cause).toMatch(
      /MalformedLandingFileError: Landed file .*web orders 002\.jsonl cannot be read/,
    );
  });

  test('silver row counts equal the runs’ clean rows, and quarantine rows carry their reasons', async () => {
    const silver = await query(
      'SELECT day::INT AS day, count(*)::INT AS n FROM orders_silver GROUP BY day ORDER BY day',
    );
    const bySilverStage = new Map(
      result.runs
        .filter((r) => r.status === 'SUCCEEDED' && r.name.startsWith('orders-'))
        .map((r) => [Number(r.partition.slice(-2)), r.stages.find((s) => s.stage === 'silver')?.recordsOut]),
    );
    expect(silver).toEqual(
      [...bySilverStage.entries()].sort(([a], [b]) => a - b).map(([day, n]) => ({ day, n })),
    );
    const reasons = await query(
      `SELECT DISTINCT unnest(string_split(_quarantine_reasons, ',')) AS reason FROM orders_quarantine ORDER BY reason`,
    );
    expect(reasons.map((r) => r['reason'])).toEqual(
      expect.arrayContaining([
        'amount_range',
        'currency_accepted_values',
        'customer_id_not_null',
        'order_id_pattern',
      ]),
    );
    const unexplained = await query(
      `SELECT count(*)::INT AS n FROM orders_quarantine WHERE coalesce(_quarantine_reasons, '') = ''`,
    );
    expect(unexplained).toEqual([{ n: 0 }]);
  });

  test('gold equals the silver rows aggregated by hand', async () => {
    const [gold] = await query(
      `SELECT sum(orders)::INT AS orders, CAST(sum(revenue) AS VARCHAR) AS revenue FROM orders_daily_revenue WHERE day = 17`,
    );
    const [handmade] = await query(
      `SELECT count(*)::INT AS orders, CAST(CAST(sum(amount) AS DECIMAL(14, 2)) AS VARCHAR) AS revenue
       FROM orders_silver WHERE day = 17 AND (status IS NULL OR status <> 'cancelled')`,
    );
    expect(gold).toEqual(handmade);
  });

  test('catalog, metrics, alerts and the execution history are on disk and readable', async () => {
    expect(await query('SELECT DISTINCT "table" FROM catalog ORDER BY 1')).toEqual([
      { table: 'active_users_7d' },
      { table: 'customers_bronze' },
      { table: 'customers_by_country' },
      { table: 'orders_bronze' },
      { table: 'orders_daily_revenue' },
      { table: 'orders_quarantine' },
      { table: 'orders_silver' },
      { table: 'sign_ins_bronze' },
      { table: 'sign_ins_silver' },
    ]);
    const alerts = await query(`SELECT attributes.kind AS kind FROM alerts ORDER BY publishedAt`);
    expect(alerts).toEqual([{ kind: 'quarantine-spike' }, { kind: 'run-failed' }]);
    const history = new ExecutionHistoryStore(pipeline.lake.system('executions')).list();
    expect(history).toHaveLength(11);
    // One data point per stage run: orders 4 × 3 (the corrupt day none), customers and sign_ins 3 × 3 each
    expect(readFileSync(pipeline.lake.system('metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(30);
  });

  test('medallion runs lists the executions and shows one with its states', async () => {
    const out: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((text: string) => void out.push(text));
    const listed = await runCli(['runs', '--lake', root, '--json', '--status', 'failed']);
    const failedName = (JSON.parse(out[0] ?? '[]') as ExecutionHistory[]).map((h) => h.name);
    const shown = await runCli(['runs', 'show', failedName[0] ?? '?', '--lake', root]);
    log.mockRestore();

    expect([listed, shown]).toEqual([0, 0]);
    expect(failedName).toEqual([result.runs[4]?.name]);
    expect(out[1]).toContain('status     FAILED  MalformedLandingFileError (States.TaskFailed)');
    expect(out[1]).toMatch(/Run bronze job\s+Task\s+caught/);
  });
});
