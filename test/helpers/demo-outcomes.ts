import { readFileSync } from 'node:fs';
import type { DemoResult, RunReport } from '../../local/demo-scenario';
import { openLakeViews } from '../../local/lake-query';
import type { LocalPipeline } from '../../local/pipeline';
import type { OrderRow } from '../../local/sample';

/**
 * What the demo scenario must produce (local/demo-scenario.ts lands the files; this checks them),
 * against the lake itself and against figures computed here by hand from the generated rows, never
 * by the generated SQL. Shared by the DuckDB and the Spark end-to-end tests.
 */

const VALID_CURRENCIES = new Set(['EUR', 'USD', 'GBP']);
const STATUSES = new Set(['placed', 'paid', 'shipped', 'delivered', 'cancelled']);

/** Whether a generated row breaks one of the orders dataset's rules (datasets/orders/dataset.yml), by hand. */
const breaksOrderRules = (r: OrderRow): boolean =>
  r.order_id === null ||
  !/^ORD-[0-9]{8}$/.test(r.order_id) ||
  r.customer_id === null ||
  r.amount === null ||
  r.amount < 0 ||
  r.amount > 100000 ||
  !VALID_CURRENCIES.has(r.currency) ||
  !STATUSES.has(r.status) ||
  r.items < 1 ||
  r.items > 500;

/** Hand-computed silver and gold of some rows: latest clean version per order, revenue of non-cancelled. */
export function expectedLake(rows: readonly OrderRow[]): {
  quarantined: number;
  silver: number;
  revenueCents: number;
} {
  const silver = new Map<string, OrderRow>();
  let quarantined = 0;
  for (const r of rows) {
    if (breaksOrderRules(r)) {
      quarantined++;
      continue;
    }
    const id = r.order_id as string;
    const current = silver.get(id);
    if (!current || r.updated_at > current.updated_at) silver.set(id, r);
  }
  let revenueCents = 0;
  for (const r of silver.values())
    if (r.status !== 'cancelled') revenueCents += Math.round((r.amount ?? 0) * 100);
  return { quarantined, silver: silver.size, revenueCents };
}

const dayOf = (key: string) => /day=(\d+)/.exec(key)?.[1] ?? '?';

/** The rows landed for a day up to and including a step. */
function rowsOf(result: DemoResult, day: string, throughStep: string): OrderRow[] {
  const last = result.steps.findIndex((s) => s.title === throughStep);
  const steps = new Set(result.steps.slice(0, last + 1).map((s) => s.title));
  return result.landed
    .filter((f) => steps.has(f.step) && dayOf(f.key) === day)
    .flatMap((f) => [...(f.rows ?? [])]);
}

const stage = (r: RunReport | undefined, s: string) => r?.stages.find((x) => x.stage === s);

function runOf(result: DemoResult, step: string, day: string): RunReport | undefined {
  return result.runs.find((r) => r.step === step && r.partition.endsWith(`day=${day}`));
}

/** Every outcome the demo scenario must produce, as jest expectations. */
export async function expectDemoOutcomes(pipeline: LocalPipeline, result: DemoResult): Promise<void> {
  expect(result.unacknowledged).toEqual([]);

  // 1. A clean day: one run, three stages, silver and quarantine exactly as computed by hand, no page.
  const clean = result.runs.filter((r) => r.step === 'Clean day');
  expect(clean).toHaveLength(1);
  const r1 = clean[0];
  expect([r1?.status, r1?.stages.map((s) => s.stage)]).toEqual(['SUCCEEDED', ['bronze', 'silver', 'gold']]);
  const e1 = expectedLake(rowsOf(result, '15', 'Clean day'));
  expect({
    silver: stage(r1, 'silver')?.recordsOut,
    quarantined: stage(r1, 'silver')?.recordsQuarantined,
  }).toEqual({
    silver: e1.silver,
    quarantined: e1.quarantined,
  });
  expect(r1?.alerts).toEqual([]);

  // 2. The redelivered batch starts nothing more: one run per partition; latest versions; late rows.
  const step2 = 'Duplicates and late records';
  expect(
    result.runs
      .filter((r) => r.step === step2)
      .map((r) => r.partition)
      .sort(),
  ).toEqual(['year=2024/month=01/day=15', 'year=2024/month=01/day=16']);
  const r2 = runOf(result, step2, '16');
  expect(r2?.status).toBe('SUCCEEDED');
  expect(stage(r2, 'silver')?.recordsOut).toBe(expectedLake(rowsOf(result, '16', step2)).silver);
  const late = runOf(result, step2, '15');
  const e1late = expectedLake(rowsOf(result, '15', step2));
  expect(late?.status).toBe('SUCCEEDED');
  expect(stage(late, 'silver')?.recordsOut).toBe(e1late.silver);

  // 3. A quarantine spike: judged a spike, one warning page, exactly the broken rows quarantined, gold built.
  const r3 = runOf(result, 'Quarantine spike', '17');
  expect(stage(r3, 'silver')?.verdict).toBe('spike');
  expect(r3?.alerts.map((a) => [a.kind, a.severity])).toEqual([['quarantine-spike', 'warning']]);
  expect(stage(r3, 'silver')?.recordsQuarantined).toBe(
    expectedLake(rowsOf(result, '17', 'Quarantine spike')).quarantined,
  );
  expect(stage(r3, 'gold')).toBeDefined();

  // 4. A corrupt file: the run fails in bronze, one critical page naming the file, the file untouched.
  const r4 = runOf(result, 'Corrupt file', '18');
  expect([r4?.status, r4?.stages.length]).toEqual(['FAILED', 0]);
  expect(r4?.alerts.map((a) => [a.kind, a.severity])).toEqual([['run-failed', 'critical']]);
  const page = pipeline.alerts
    .all()
    .find((a) => a.attributes.kind === 'run-failed' && a.body.includes(r4?.name ?? '?'));
  expect(page?.body).toContain('web orders 002.jsonl');
  const corrupt = result.landed.find((f) => f.step === 'Corrupt file' && f.rows === undefined);
  expect(readFileSync(pipeline.lake.path(corrupt?.key ?? '?'), 'utf8')).toBe(corrupt?.content);

  // The file of no dataset started nothing and is still there.
  const foreign = result.landed.find((f) => f.key.startsWith('landing/crm/'));
  expect(readFileSync(pipeline.lake.path(foreign?.key ?? '?'), 'utf8')).toBe(foreign?.content);
  expect(result.runs.every((r) => r.name.startsWith('orders-'))).toBe(true);

  // The lake itself.
  const { duck } = await openLakeViews(pipeline.lake, pipeline.registry);
  try {
    const scalar = async (sql: string) => Number(await duck.scalar(sql));
    expect(
      await scalar('SELECT count(*) FROM orders_silver WHERE year = 2024 AND month = 1 AND day = 15'),
    ).toBe(e1late.silver);
    expect(await scalar('SELECT count(*) FROM orders_quarantine')).toBeGreaterThan(0);
    expect(
      await scalar(`SELECT count(*) FROM orders_quarantine WHERE coalesce(_quarantine_reasons, '') = ''`),
    ).toBe(0);
    expect(
      await scalar(
        'SELECT CAST(round(sum(revenue) * 100) AS BIGINT) FROM orders_daily_revenue WHERE year = 2024 AND month = 1 AND day = 15',
      ),
    ).toBe(e1late.revenueCents);
    // Every bronze, silver, quarantine and gold partition registered once.
    const registered = new Set(
      result.runs.flatMap((r) =>
        r.stages.flatMap((st) => [
          `${st.stage}|${r.partition}`,
          ...(st.stage === 'silver' && st.recordsQuarantined > 0 ? [`quarantine|${r.partition}`] : []),
        ]),
      ),
    );
    expect(await scalar('SELECT count(*) FROM catalog')).toBe(registered.size);
    // One metrics data point per stage run.
    expect(await scalar('SELECT count(*) FROM metrics')).toBe(
      result.runs.reduce((s, r) => s + r.stages.length, 0),
    );
  } finally {
    duck.close();
  }
}
