import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { failureOf, stageReports, type StageReport } from './history';
import { openLakeViews } from './lake-query';
import type { LocalPipeline } from './pipeline';
import { expectedLake, sampleOrders, toCsv, toJsonLines, writeFile, type OrderRow } from './sample';
import type { AlertLine } from './system-store';

/**
 * The demo: four landings of the orders dataset that exercise every path of the pipeline, each with
 * the outcomes it must produce, checked against the lake itself and against hand-computed figures.
 *
 * 1. a clean day (JSON lines + gzipped CSV), plus a file that matches no dataset;
 * 2. a day with duplicate order versions, the same batch delivered twice, and late records for day 1;
 * 3. a day with a quarantine spike (an alert; the dataset's policy lets gold run anyway);
 * 4. a day with a corrupt file (bronze fails, the run fails, the alert names the file).
 */

export type { StageReport };

export interface DemoOptions {
  /** Rows of a regular file (default 400). The spike and late files scale with it. */
  readonly rows?: number;
  /** Called as each step starts. */
  readonly onStep?: (title: string) => void;
}

export interface RunReport {
  readonly step: string;
  readonly name: string;
  readonly partition: string;
  readonly status: string;
  readonly durationMs: number | undefined;
  readonly path: string[];
  readonly stages: StageReport[];
  readonly error: string | undefined;
  /** Why it failed, in one line (a failed Glue job's ErrorMessage, a Lambda's errorMessage). */
  readonly cause: string | undefined;
  readonly alerts: Array<{ kind: string; severity: string; subject: string }>;
}

export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface DemoResult {
  readonly runs: RunReport[];
  readonly checks: Check[];
}

const ORDERS = 'landing/shop/orders/';
const key = (date: string, file: string) => {
  const [y, m, d] = date.split('-');
  return `${ORDERS}year=${y}/month=${m}/day=${d}/${file}`;
};
const partitionOf = (date: string) => {
  const [y, m, d] = date.split('-');
  return `year=${y}/month=${m}/day=${d}`;
};

export async function runDemo(pipeline: LocalPipeline, options: DemoOptions = {}): Promise<DemoResult> {
  const n = options.rows ?? 400;
  const lake = pipeline.lake;
  const checks: Check[] = [];
  const check = (name: string, ok: boolean, detail = '') => checks.push({ name, ok, detail });
  const runs: RunReport[] = [];
  const seen = new Set<string>();

  /** Lands files, waits for every run (and follow-up) to end, reports the new executions. */
  const step = async (title: string, files: Array<[string, string | Buffer]>, redeliver = false) => {
    options.onStep?.(title);
    for (const [k, content] of files) writeFile(lake.path(k), content);
    const keys = files.map(([k]) => k);
    const alertsBefore = pipeline.alerts.all().length;
    const response = await pipeline.land(keys);
    if ('batchItemFailures' in response && response.batchItemFailures.length > 0)
      check(`${title}: every SQS message acknowledged`, false, JSON.stringify(response.batchItemFailures));
    if (redeliver) await pipeline.land(keys);
    await pipeline.idle();
    const alerts: AlertLine[] = pipeline.alerts.all().slice(alertsBefore);
    const fresh = pipeline.history
      .list()
      .filter((h) => !seen.has(h.name))
      .reverse();
    const reports: RunReport[] = fresh.map((h) => {
      seen.add(h.name);
      return {
        step: title,
        name: h.name,
        partition: h.partition,
        status: h.status,
        durationMs: h.durationMs,
        path: h.states.map((s) => s.name),
        stages: stageReports(h),
        error: h.error,
        cause: failureOf(h)?.cause,
        alerts: alerts
          .filter((a) => a.body.includes(h.name))
          .map((a) => ({ kind: a.attributes.kind, severity: a.attributes.severity, subject: a.subject })),
      };
    });
    runs.push(...reports);
    return reports;
  };

  const stage = (r: RunReport | undefined, s: string) => r?.stages.find((x) => x.stage === s);

  // 1. A clean day.
  const day1 = '2024-01-15';
  const d1a = sampleOrders({ date: day1, records: n, seed: 1, badRatio: 0.01 });
  const d1b = sampleOrders({
    date: day1,
    records: Math.round(n * 0.75),
    seed: 2,
    firstId: n,
    badRatio: 0.01,
  });
  const d1c = sampleOrders({
    date: day1,
    records: Math.round(n / 2),
    seed: 3,
    firstId: 2 * n,
    badRatio: 0.01,
  });
  const [r1] = await step('Clean day', [
    [key(day1, 'web orders 001.jsonl'), toJsonLines(d1a)],
    [key(day1, 'web orders 002.jsonl'), toJsonLines(d1b)],
    [key(day1, 'marketplace feed.csv.gz'), gzipSync(toCsv(d1c))],
    ['landing/crm/contacts/export.csv', 'id,name\n1,Ada\n'],
  ]);
  const e1 = expectedLake([...d1a, ...d1b, ...d1c]);
  check(
    'clean day: one run, all three stages succeed',
    r1?.status === 'SUCCEEDED' && r1.stages.length === 3,
    r1?.status,
  );
  check(
    'clean day: silver holds exactly the clean rows, quarantine the rest',
    stage(r1, 'silver')?.recordsOut === e1.silver.size &&
      stage(r1, 'silver')?.recordsQuarantined === e1.quarantined,
    `silver ${stage(r1, 'silver')?.recordsOut} / expected ${e1.silver.size}, quarantined ${stage(r1, 'silver')?.recordsQuarantined} / expected ${e1.quarantined}`,
  );
  check('clean day: no alert', (r1?.alerts.length ?? -1) === 0);

  // 2. Duplicates (order versions, and the same batch delivered twice) and late records for day 1.
  const day2 = '2024-01-16';
  const d2 = sampleOrders({ date: day2, records: n, seed: 4, firstId: 5 * n, badRatio: 0.01 });
  const versions: OrderRow[] = d2
    .filter((_, i) => i % 8 === 0)
    .map((r) => ({ ...r, status: 'delivered', updated_at: `${day2} 23:59:59.000` }));
  const late: OrderRow[] = [
    ...sampleOrders({ date: day1, records: Math.round(n / 4), seed: 9, firstId: 9 * n }),
    ...d1a
      .filter((_, i) => i % 10 === 0)
      .map((r) => ({ ...r, status: 'cancelled', updated_at: `${day1} 23:59:59.000` })),
  ];
  const landingBefore = pipeline.history.list().length;
  const reports2 = await step(
    'Duplicates and late records',
    [
      [key(day2, 'web orders 001.jsonl'), toJsonLines(d2)],
      [key(day2, 'web orders 002 (status updates).jsonl'), toJsonLines(versions)],
      [key(day1, 'late orders.jsonl'), toJsonLines(late)],
    ],
    true,
  );
  const r2 = reports2.find((r) => r.partition === partitionOf(day2));
  const r2late = reports2.find((r) => r.partition === partitionOf(day1));
  const e2 = expectedLake([...d2, ...versions]);
  const e1late = expectedLake([...d1a, ...d1b, ...d1c, ...late]);
  check(
    'redelivered batch starts nothing (one run per partition)',
    pipeline.history.list().length - landingBefore === 2 && reports2.length === 2,
    `${reports2.length} runs`,
  );
  check(
    'duplicates: silver keeps one row per order, the latest version',
    r2?.status === 'SUCCEEDED' && stage(r2, 'silver')?.recordsOut === e2.silver.size,
    `silver ${stage(r2, 'silver')?.recordsOut} / expected ${e2.silver.size} from ${d2.length + versions.length} rows`,
  );
  check(
    'late records: day 1 re-runs and silver grows by the new orders only',
    r2late?.status === 'SUCCEEDED' && stage(r2late, 'silver')?.recordsOut === e1late.silver.size,
    `silver ${stage(r2late, 'silver')?.recordsOut} / expected ${e1late.silver.size}`,
  );

  // 3. A quarantine spike.
  const day3 = '2024-01-17';
  const d3 = sampleOrders({
    date: day3,
    records: Math.round(n * 1.5),
    seed: 5,
    firstId: 12 * n,
    badRatio: 0.3,
  });
  const [r3] = await step('Quarantine spike', [[key(day3, 'web orders 001.jsonl'), toJsonLines(d3)]]);
  const e3 = expectedLake(d3);
  check(
    'spike: silver judged a spike, one quarantine-spike alert',
    stage(r3, 'silver')?.verdict === 'spike' &&
      r3?.alerts.filter((a) => a.kind === 'quarantine-spike').length === 1,
    `verdict ${stage(r3, 'silver')?.verdict}, alerts ${JSON.stringify(r3?.alerts)}`,
  );
  check(
    'spike: the quarantined rows are exactly the broken ones',
    stage(r3, 'silver')?.recordsQuarantined === e3.quarantined,
    `${stage(r3, 'silver')?.recordsQuarantined} / expected ${e3.quarantined}`,
  );

  // 4. A corrupt file.
  const day4 = '2024-01-18';
  const corruptKey = key(day4, 'web orders 002.jsonl');
  const good = toJsonLines(sampleOrders({ date: day4, records: n, seed: 6, firstId: 15 * n }));
  const corrupt = `${toJsonLines(sampleOrders({ date: day4, records: 5, seed: 7, firstId: 17 * n }))}{"order_id": "ORD-0000`;
  const [r4] = await step('Corrupt file', [
    [key(day4, 'web orders 001.jsonl'), good],
    [corruptKey, corrupt],
  ]);
  check(
    'corrupt file: the run fails in bronze',
    r4?.status === 'FAILED' && (r4.stages.length ?? 0) === 0,
    r4?.error,
  );
  const failureAlert = pipeline.alerts
    .all()
    .find((a) => a.attributes.kind === 'run-failed' && a.body.includes(r4?.name ?? '?'));
  check(
    'corrupt file: one failure alert naming the file',
    r4?.alerts.filter((a) => a.kind === 'run-failed').length === 1 &&
      (failureAlert?.body.includes('web orders 002.jsonl') ?? false),
    failureAlert?.subject ?? 'no alert',
  );
  check('corrupt file: left in landing unmodified', readFileSync(lake.path(corruptKey), 'utf8') === corrupt);

  // The lake itself.
  const views = await openLakeViews(lake, pipeline.registry);
  try {
    const silverRows = Number(
      await views.duck.scalar(
        `SELECT count(*) FROM orders_silver WHERE day = 15 AND month = 1 AND year = 2024`,
      ),
    );
    check(
      'lake: silver day 1 rows = hand-computed clean rows',
      silverRows === e1late.silver.size,
      `${silverRows}`,
    );
    const reasons = Number(
      await views.duck.scalar(
        `SELECT count(*) FROM orders_quarantine WHERE _quarantine_reasons IS NULL OR _quarantine_reasons = ''`,
      ),
    );
    const quarantineRows = Number(await views.duck.scalar('SELECT count(*) FROM orders_quarantine'));
    check(
      'lake: every quarantined row carries its reasons',
      quarantineRows > 0 && reasons === 0,
      `${quarantineRows} rows`,
    );
    const revenue = Number(
      await views.duck.scalar(
        `SELECT CAST(round(sum(revenue) * 100) AS BIGINT) FROM orders_daily_revenue WHERE year = 2024 AND month = 1 AND day = 15`,
      ),
    );
    check(
      'lake: gold revenue of day 1 = hand-computed total',
      revenue === e1late.revenueCents,
      `${revenue / 100} / expected ${e1late.revenueCents / 100}`,
    );
    const expectedPartitions = new Set(
      runs.flatMap((r) =>
        r.stages.flatMap((st) => [
          `${st.stage}|${r.partition}`,
          ...(st.stage === 'silver' && st.recordsQuarantined > 0 ? [`quarantine|${r.partition}`] : []),
        ]),
      ),
    );
    const partitions = Number(await views.duck.scalar('SELECT count(*) FROM catalog'));
    check(
      'catalog: every bronze, silver, quarantine and gold partition registered once',
      partitions === expectedPartitions.size,
      `${partitions} / expected ${expectedPartitions.size}`,
    );
    const metrics = Number(await views.duck.scalar('SELECT count(*) FROM metrics'));
    check(
      'metrics: one data point per stage run',
      metrics === runs.reduce((s, r) => s + r.stages.length, 0),
      `${metrics}`,
    );
  } finally {
    views.duck.close();
  }

  return { runs, checks };
}
