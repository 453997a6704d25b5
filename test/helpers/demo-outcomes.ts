import { readFileSync } from 'node:fs';
import type { SampleRow } from '../../local/dataset-rows';
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
    .filter((f) => steps.has(f.step) && f.key.startsWith('landing/shop/orders/') && dayOf(f.key) === day)
    .flatMap((f) => [...((f.rows ?? []) as readonly OrderRow[])]);
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
  const foreign = result.landed.find((f) => f.key.startsWith('landing/crm/contacts/'));
  expect(readFileSync(pipeline.lake.path(foreign?.key ?? '?'), 'utf8')).toBe(foreign?.content);
  expect(new Set(result.runs.map((r) => r.name.replace(/-\d{4}-.*$/, '')))).toEqual(
    new Set(['orders', 'customers', 'sign_ins']),
  );

  await expectCdcOutcomes(pipeline, result);
  await expectWindowOutcomes(pipeline, result);

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
    // Every bronze, silver, quarantine and gold partition registered once, but no silver partition of
    // customers (its silver is the current state, one table).
    const registered = new Set(
      result.runs.flatMap((r) =>
        r.stages.flatMap((st) => [
          ...(r.name.startsWith('customers-') && st.stage === 'silver'
            ? []
            : [`${r.name.split('-')[0]}|${st.stage}|${r.partition}`]),
          ...(st.stage === 'silver' && st.recordsQuarantined > 0
            ? [`${r.name.split('-')[0]}|quarantine|${r.partition}`]
            : []),
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

/** A change stream folded by hand: per customer the change with the highest change_seq, deletes gone. */
function customersState(changes: readonly SampleRow[]): Map<string, SampleRow> {
  const latest = new Map<string, SampleRow>();
  for (const c of changes) {
    const seen = latest.get(String(c['customer_id']));
    if (!seen || Number(c['change_seq']) > Number(seen['change_seq']))
      latest.set(String(c['customer_id']), c);
  }
  return new Map([...latest].filter(([, c]) => c['op'] !== 'D'));
}

/** Customers per country and segment, by hand, sorted as the query below sorts (NULLs last). */
function byCountry(
  state: Map<string, SampleRow>,
): Array<{ country: unknown; segment: unknown; customers: number }> {
  const counts = new Map<string, number>();
  for (const c of state.values()) {
    const k = JSON.stringify([c['country'] ?? null, c['segment'] ?? null]);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const order = (a: unknown, b: unknown) =>
    a === b ? 0 : a === null ? 1 : b === null ? -1 : String(a).localeCompare(String(b));
  return [...counts]
    .map(([k, customers]) => {
      const [country, segment] = JSON.parse(k) as [unknown, unknown];
      return { country, segment, customers };
    })
    .sort((a, b) => order(a.country, b.country) || order(a.segment, b.segment));
}

const CDC_STEP = 'Customer changes (CDC)';
const WINDOW_STEP = 'Late file for a rolling gold';

/**
 * Step 5: the customers change stream. The gold of each run is over the current state after it, so
 * gold of day 2 is the state after the export and day 2's changes, and gold of day 1 (rewritten by
 * the late file's run, the last) the final state: both equal the changes folded by hand, on either
 * engine. A merge that let the older late changes win, missed the delete or the late change that is
 * newer would change the figures. On DuckDB the state itself is read too.
 */
async function expectCdcOutcomes(pipeline: LocalPipeline, result: DemoResult): Promise<void> {
  const runs = result.runs.filter((r) => r.step === CDC_STEP);
  expect(runs.map((r) => [r.partition, r.status, stage(r, 'silver')?.recordsQuarantined])).toEqual([
    ['dt=2024-01-15', 'SUCCEEDED', 0],
    ['dt=2024-01-16', 'SUCCEEDED', 0],
    ['dt=2024-01-15', 'SUCCEEDED', 0],
  ]);
  expect(runs.flatMap((r) => r.alerts)).toEqual([]);
  const prefix = 'landing/crm/customers/';
  const files = result.landed.filter((f) => f.step === CDC_STEP);
  expect(files.map((f) => f.key.slice(prefix.length))).toEqual([
    'dt=2024-01-15/customers export.jsonl',
    'dt=2024-01-16/changes.jsonl',
    'dt=2024-01-15/late changes.jsonl',
  ]);
  const [exportRows, day2Rows, lateRows] = files.map((f) => [
    ...((f.rows ?? []) as readonly SampleRow[]),
  ]) as [SampleRow[], SampleRow[], SampleRow[]];
  // The story holds what it says: the late changes are older than day 2's and newer than the export's.
  const seqs = (rows: SampleRow[]) => rows.map((r) => Number(r['change_seq']));
  expect(Math.max(...seqs(lateRows))).toBeLessThan(Math.min(...seqs(day2Rows)));
  expect(Math.min(...seqs(lateRows))).toBeGreaterThan(Math.max(...seqs(exportRows)));
  const afterDay2 = customersState([...exportRows, ...day2Rows]);
  const final = customersState([...exportRows, ...day2Rows, ...lateRows]);
  const { cdc } = result.incremental;
  expect(final.get(cdc.updated)).toBe(afterDay2.get(cdc.updated));
  expect([afterDay2.has(cdc.deleted), final.has(cdc.deleted)]).toEqual([false, false]);
  expect(final.get(cdc.lateMerged)?.['country']).toBe('NO');

  const { duck } = await openLakeViews(pipeline.lake, pipeline.registry);
  try {
    const gold = (day: string) =>
      duck.rows(
        `SELECT country, segment, CAST(customers AS INTEGER) AS customers FROM customers_by_country WHERE dt = '${day}' ORDER BY country, segment`,
      );
    expect(await gold('2024-01-16')).toEqual(byCountry(afterDay2));
    expect(await gold('2024-01-15')).toEqual(byCountry(final));
    if (pipeline.engine === 'duckdb') {
      const state = await duck.rows(
        'SELECT customer_id, email, full_name, country, segment, CAST(change_seq AS VARCHAR) AS change_seq FROM customers_silver ORDER BY customer_id',
      );
      expect(state).toEqual(
        [...final.values()]
          .map((c) => ({
            customer_id: c['customer_id'],
            email: c['email'],
            full_name: c['full_name'],
            country: c['country'],
            segment: c['segment'],
            change_seq: String(c['change_seq']),
          }))
          .sort((a, b) => String(a.customer_id).localeCompare(String(b.customer_id))),
      );
      expect(cdc.state.map((r) => r['customer_id'])).toEqual(
        [cdc.updated, cdc.inserted, cdc.lateMerged].sort(),
      );
    }
  } finally {
    duck.close();
  }
}

/** Users active and sign-ins per platform over some sign-ins, by hand (latest version of each sign-in). */
function activeUsers(
  rows: readonly SampleRow[],
): Array<{ platform: string; active_users: number; sign_ins: number }> {
  const latest = new Map<string, SampleRow>();
  for (const r of rows) {
    const seen = latest.get(String(r['sign_in_id']));
    if (!seen || String(r['signed_in_at']) > String(seen['signed_in_at']))
      latest.set(String(r['sign_in_id']), r);
  }
  const by = new Map<string, { users: Set<string>; n: number }>();
  for (const r of latest.values()) {
    const p = by.get(String(r['platform'])) ?? { users: new Set<string>(), n: 0 };
    p.users.add(String(r['user_id']));
    p.n++;
    by.set(String(r['platform']), p);
  }
  return [...by]
    .map(([platform, p]) => ({ platform, active_users: p.users.size, sign_ins: p.n }))
    .sort((a, b) => a.platform.localeCompare(b.platform));
}

/**
 * Step 6: sign_ins' gold is a 7-day window. The late file's run wrote the gold of its day and of the
 * next (whose window holds it): before it, day 2's gold was over the first two files; after it, over
 * all three, by hand; a gold that did not look back would have kept the first figure.
 */
async function expectWindowOutcomes(pipeline: LocalPipeline, result: DemoResult): Promise<void> {
  const runs = result.runs.filter((r) => r.step === WINDOW_STEP);
  expect(runs.map((r) => [r.partition, r.status])).toEqual([
    ['dt=2024-01-15', 'SUCCEEDED'],
    ['dt=2024-01-16', 'SUCCEEDED'],
    ['dt=2024-01-15', 'SUCCEEDED'],
  ]);
  expect(runs.flatMap((r) => r.alerts)).toEqual([]);
  const late = stage(runs[2], 'gold');
  expect([late?.partitionsCreated, late?.partitionsUpdated]).toEqual([0, 2]);
  const prefix = 'landing/web/sign_ins/';
  const files = result.landed.filter((f) => f.step === WINDOW_STEP);
  const [first, second, lateRows] = files.map((f) => [...((f.rows ?? []) as readonly SampleRow[])]) as [
    SampleRow[],
    SampleRow[],
    SampleRow[],
  ];
  expect(files.map((f) => f.key.slice(prefix.length))).toEqual([
    'dt=2024-01-15/sign-ins.jsonl',
    'dt=2024-01-16/sign-ins.jsonl',
    'dt=2024-01-15/late sign-ins.jsonl',
  ]);
  const { window } = result.incremental;
  expect(window).toMatchObject({ lateDay: '2024-01-15', correctedDay: '2024-01-16' });
  expect(window.before).toEqual(activeUsers([...first, ...second]));
  const after = activeUsers([...first, ...second, ...lateRows]);
  expect(window.after).toEqual(after);
  const total = (rows: ReadonlyArray<Record<string, unknown>>) =>
    rows.reduce((n, r) => n + Number(r['active_users']), 0);
  expect(total(after)).toBeGreaterThan(total(window.before));
  // What the lake holds now, read here (not the scenario's own reading).
  const { duck } = await openLakeViews(pipeline.lake, pipeline.registry);
  try {
    const gold = (day: string) =>
      duck.rows(
        `SELECT platform, CAST(active_users AS INTEGER) AS active_users, CAST(sign_ins AS INTEGER) AS sign_ins FROM active_users_7d WHERE dt = '${day}' ORDER BY platform`,
      );
    expect(await gold('2024-01-16')).toEqual(after);
    expect(await gold('2024-01-15')).toEqual(activeUsers([...first, ...lateRows]));
  } finally {
    duck.close();
  }
}
