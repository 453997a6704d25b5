import { gzipSync } from 'node:zlib';
import { failureOf, stageReports, type StageReport } from './history';
import type { LocalPipeline } from './pipeline';
import { sampleOrders, toCsv, toJsonLines, writeFile, type OrderRow } from './sample';
import type { AlertLine } from './system-store';

/**
 * The demo: four landings of the orders dataset that exercise every path of the pipeline. It lands the
 * files and reports what happened (each step's runs, and every file it landed with the rows it
 * generated); whether that is what should happen is the end-to-end test's business
 * (test/local/demo.test.ts, test/helpers/demo-outcomes.ts), which checks it against the lake and
 * against figures computed by hand from those rows.
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

/** One step of the scenario: what it shows a person, and what it landed. */
export interface DemoStep {
  readonly title: string;
  /** What a person should see happen, in one sentence. */
  readonly shows: string;
}

/** A file the demo landed: its key, and the order rows it holds (none for a file of no dataset or a corrupt one). */
export interface LandedFile {
  readonly step: string;
  readonly key: string;
  readonly content: string | Buffer;
  readonly rows?: readonly OrderRow[];
  /** Delivered twice in the same SQS batch shape. */
  readonly redelivered: boolean;
}

export interface DemoResult {
  readonly steps: DemoStep[];
  readonly runs: RunReport[];
  readonly landed: LandedFile[];
  /** SQS batch items a landing did not acknowledge (none expected). */
  readonly unacknowledged: Array<{ step: string; itemIdentifier: string }>;
}

const ORDERS = 'landing/shop/orders/';
const key = (date: string, file: string) => {
  const [y, m, d] = date.split('-');
  return `${ORDERS}year=${y}/month=${m}/day=${d}/${file}`;
};

export async function runDemo(pipeline: LocalPipeline, options: DemoOptions = {}): Promise<DemoResult> {
  const n = options.rows ?? 400;
  const lake = pipeline.lake;
  const steps: DemoStep[] = [];
  const runs: RunReport[] = [];
  const landed: LandedFile[] = [];
  const unacknowledged: DemoResult['unacknowledged'] = [];
  const seen = new Set<string>();

  /** Lands files, waits for every run (and follow-up) to end, reports the new executions. */
  const step = async (
    title: string,
    shows: string,
    files: Array<[string, string | Buffer, (readonly OrderRow[])?]>,
    redeliver = false,
  ) => {
    options.onStep?.(title);
    steps.push({ title, shows });
    for (const [k, content, rows] of files) {
      writeFile(lake.path(k), content);
      landed.push({ step: title, key: k, content, redelivered: redeliver, ...(rows ? { rows } : {}) });
    }
    const keys = files.map(([k]) => k);
    const alertsBefore = pipeline.alerts.all().length;
    const response = await pipeline.land(keys);
    if ('batchItemFailures' in response)
      for (const f of response.batchItemFailures)
        unacknowledged.push({ step: title, itemIdentifier: f.itemIdentifier });
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
  await step(
    'Clean day',
    'one run through bronze, silver and gold; the few broken rows in quarantine with their reasons; no page; the file of no dataset left alone',
    [
      [key(day1, 'web orders 001.jsonl'), toJsonLines(d1a), d1a],
      [key(day1, 'web orders 002.jsonl'), toJsonLines(d1b), d1b],
      [key(day1, 'marketplace feed.csv.gz'), gzipSync(toCsv(d1c)), d1c],
      ['landing/crm/contacts/export.csv', 'id,name\n1,Ada\n'],
    ],
  );

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
  await step(
    'Duplicates and late records',
    'the batch delivered twice starts nothing more; silver keeps the latest version of each order; day 1 runs again and grows by the late orders only',
    [
      [key(day2, 'web orders 001.jsonl'), toJsonLines(d2), d2],
      [key(day2, 'web orders 002 (status updates).jsonl'), toJsonLines(versions), versions],
      [key(day1, 'late orders.jsonl'), toJsonLines(late), late],
    ],
    true,
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
  await step(
    'Quarantine spike',
    "30 % of the rows break a rule: silver is judged a spike and on-call gets a warning; the dataset's policy (alert) builds gold anyway",
    [[key(day3, 'web orders 001.jsonl'), toJsonLines(d3), d3]],
  );

  // 4. A corrupt file.
  const day4 = '2024-01-18';
  const good = sampleOrders({ date: day4, records: n, seed: 6, firstId: 15 * n });
  const corrupt = `${toJsonLines(sampleOrders({ date: day4, records: 5, seed: 7, firstId: 17 * n }))}{"order_id": "ORD-0000`;
  await step(
    'Corrupt file',
    'a line that is not JSON: bronze fails naming the file, the run fails, on-call gets one critical page, the file stays in landing untouched',
    [
      [key(day4, 'web orders 001.jsonl'), toJsonLines(good), good],
      [key(day4, 'web orders 002.jsonl'), corrupt],
    ],
  );

  return { steps, runs, landed, unacknowledged };
}
