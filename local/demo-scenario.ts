import { gzipSync } from 'node:zlib';
import type { Dataset } from '../shared/domain/datasets';
import { DatasetRows, type SampleRow } from './dataset-rows';
import { failureOf, stageReports, type StageReport } from './history';
import { openLakeViews } from './lake-query';
import type { LocalPipeline } from './pipeline';
import { sampleOrders, seededRandom, toCsv, toJsonLines, writeFile, type OrderRow } from './sample';
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
 * 4. a day with a corrupt file (bronze fails, the run fails, the alert names the file);
 * 5. the `customers` change stream (a CDC dataset): an export, then an update, a delete and an insert,
 *    then late changes with older sequences, merged into the current state without regressing it;
 * 6. `sign_ins`, whose gold is a 7-day rolling figure (gold.window): two days, then a late file for
 *    the first day that corrects the second day's gold in the same run.
 * Steps 5 and 6 land in waves (each waits for the runs of the one before); what they show is read
 * back from the lake into `facts`.
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

/** A file the demo landed: its key, and the rows it holds (none for a file of no dataset or a corrupt one). */
export interface LandedFile {
  readonly step: string;
  readonly key: string;
  readonly content: string | Buffer;
  /** Order rows for orders' files, sample rows (dataset-rows.ts) for customers' and sign_ins'. */
  readonly rows?: readonly OrderRow[] | readonly SampleRow[];
  /** Delivered twice in the same SQS batch shape. */
  readonly redelivered: boolean;
}

export interface DemoResult {
  readonly steps: DemoStep[];
  readonly runs: RunReport[];
  readonly landed: LandedFile[];
  /** SQS batch items a landing did not acknowledge (none expected). */
  readonly unacknowledged: Array<{ step: string; itemIdentifier: string }>;
  /** What steps 5 and 6 show, read back from the lake. */
  readonly incremental: IncrementalFacts;
}

/** The customers whose changes step 5 lands after the export, and what the lake holds for them. */
export interface CdcFacts {
  /** Updated on day 2 (country and segment), then a late, older change: the day-2 row must stay. */
  readonly updated: string;
  /** Deleted on day 2, then a late, older update: it must stay deleted. */
  readonly deleted: string;
  /** Inserted on day 2. */
  readonly inserted: string;
  /** Untouched on day 2; its late change is newer than its export row, so it is merged. */
  readonly lateMerged: string;
  /** The current state of those four (`customers_silver`), empty where the engine's state is not Parquet (Spark: Iceberg). */
  readonly state: Array<Record<string, unknown>>;
}

/** Gold of a later day of sign_ins (a 7-day window) before and after a late file for the day before. */
export interface WindowFacts {
  readonly lateDay: string;
  readonly correctedDay: string;
  readonly before: Array<Record<string, unknown>>;
  readonly after: Array<Record<string, unknown>>;
}

export interface IncrementalFacts {
  readonly cdc: CdcFacts;
  readonly window: WindowFacts;
}

const ORDERS = 'landing/shop/orders/';
/** The two datasets of steps 5 and 6 (datasets/customers, datasets/sign_ins). */
export const DEMO_CDC_DATASET = 'customers';
export const DEMO_WINDOW_DATASET = 'sign_ins';
const DAY_MS = 86_400_000;
const COUNTRIES = ['DE', 'FR', 'GB', 'ES', 'IT', 'NL'];
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

  /**
   * Lands the stories' files in waves (wave k of every story at once, each wave after the runs of the
   * one before have ended; `between` runs after each wave), and reports the new executions under
   * their story: the one whose dataset they ran, or the only one.
   */
  const together = async (stories: readonly Story[], redeliver = false) => {
    for (const story of stories) {
      options.onStep?.(story.title);
      steps.push({ title: story.title, shows: story.shows });
    }
    const alertsBefore = pipeline.alerts.all().length;
    const waves = Math.max(...stories.map((st) => st.waves.length));
    for (let wave = 0; wave < waves; wave++) {
      const keys: string[] = [];
      for (const story of stories)
        for (const [k, content, rows] of story.waves[wave] ?? []) {
          writeFile(lake.path(k), content);
          landed.push({
            step: story.title,
            key: k,
            content,
            redelivered: redeliver,
            ...(rows ? { rows } : {}),
          });
          keys.push(k);
        }
      const response = await pipeline.land(keys);
      if ('batchItemFailures' in response)
        for (const f of response.batchItemFailures)
          unacknowledged.push({ step: stories[0]?.title ?? '', itemIdentifier: f.itemIdentifier });
      if (redeliver) await pipeline.land(keys);
      await pipeline.idle();
      for (const story of stories) await story.between?.(wave);
    }
    const alerts: AlertLine[] = pipeline.alerts.all().slice(alertsBefore);
    const fresh = pipeline.history
      .list()
      .filter((h) => !seen.has(h.name))
      .reverse();
    const reports: RunReport[] = fresh.map((h) => {
      seen.add(h.name);
      const story = stories.find((st) => st.dataset === undefined || h.name.startsWith(`${st.dataset}-`));
      return {
        step: story?.title ?? stories[0]?.title ?? '',
        name: h.name,
        partition: h.partition,
        status: h.status,
        durationMs: h.durationMs,
        path: h.states.map((st) => st.name),
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
  /** One step: files landed at once. */
  const step = (title: string, shows: string, files: Files, redeliver = false) =>
    together([{ title, shows, waves: [files] }], redeliver);

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

  // 5 and 6: a change stream, and a rolling gold corrected by a late file; side by side (two
  // datasets, wave by wave), so they cost three waves of runs, not six.
  const cdc = customerChanges(pipeline, n);
  const window = lateFileForRollingGold(pipeline, n, cdc.customers);
  await together([cdc.story, window.story]);

  return {
    steps,
    runs,
    landed,
    unacknowledged,
    incremental: { cdc: await cdc.facts(), window: await window.facts() },
  };
}

type Files = Array<[string, string | Buffer, (readonly OrderRow[] | readonly SampleRow[])?]>;

/** Files of one dataset landed in waves; `between` runs after each wave has run. */
interface Story {
  readonly title: string;
  readonly shows: string;
  readonly waves: readonly Files[];
  /** The dataset whose runs are this story's (needed when stories land together). */
  readonly dataset?: string;
  readonly between?: (wave: number) => Promise<void>;
}

const jsonLines = (rows: readonly SampleRow[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
const dayAfter = (day: string) =>
  new Date(Date.parse(`${day}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);
/** Sample rows' change sequence base of a day (local/dataset-rows.ts): day number × 10⁶. */
const sequenceBase = (day: string) => Math.floor(Date.parse(`${day}T00:00:00Z`) / DAY_MS) * 1_000_000;

async function lakeRows(pipeline: LocalPipeline, sql: string): Promise<Array<Record<string, unknown>>> {
  const { duck } = await openLakeViews(pipeline.lake, pipeline.registry);
  try {
    return await duck.rows(sql);
  } finally {
    duck.close();
  }
}

/** A CDC dataset's current state after some changes, folded here (valid changes only): key → row. */
function foldChanges(cdc: NonNullable<Dataset['cdc']>, rows: readonly SampleRow[]): Map<string, SampleRow> {
  const latest = new Map<string, SampleRow>();
  for (const r of rows) {
    const key = JSON.stringify(cdc.key.map((k) => r[k]));
    const seen = latest.get(key);
    if (!seen || Number(r[cdc.sequence]) > Number(seen[cdc.sequence])) latest.set(key, r);
  }
  return new Map([...latest].filter(([, r]) => r[cdc.operation.column] !== cdc.operation.delete));
}

/**
 * Step 5: the customers table's export (a generated change stream), the next day's changes (an
 * update, a delete, an insert), then a late file of the first day whose changes are older than the
 * second day's: the update's and the delete's keys keep their newer state, a key untouched on day 2
 * takes its late change.
 */
function customerChanges(
  pipeline: LocalPipeline,
  n: number,
): { story: Story; facts: () => Promise<CdcFacts>; customers: string[] } {
  const dataset = pipeline.registry.get(DEMO_CDC_DATASET);
  const cdc = dataset.cdc as NonNullable<Dataset['cdc']>;
  const prefix = dataset.landing.prefix;
  const day1 = '2024-01-15';
  const day2 = dayAfter(day1);
  const records = Math.max(40, Math.round(n / 4));
  // The generator's countries are any two capitals; the shop's customers live where it sells.
  const rand = seededRandom(12);
  const exported = [...new DatasetRows(dataset, { records, day: day1, seed: 11 })].map((r) =>
    r['country'] === null ? r : { ...r, country: COUNTRIES[Math.floor(rand() * COUNTRIES.length)] ?? null },
  );
  const state = foldChanges(cdc, exported);
  const live = [...state.values()];
  if (live.length < 4)
    throw new RangeError(`the customers export left ${live.length} customers; the demo needs 4`);
  const [updated, deleted, lateMerged] = live.slice(-3) as [SampleRow, SampleRow, SampleRow];
  const id = (r: SampleRow) => String(r[cdc.key[0] as string]);
  const change = (
    row: SampleRow,
    op: string,
    seq: number,
    at: string,
    values: SampleRow = {},
  ): SampleRow => ({
    ...row,
    [cdc.operation.column]: op,
    [cdc.sequence]: seq,
    changed_at: at,
    ...values,
  });
  const used = new Set(exported.map(id));
  const newId = Array.from({ length: 1000 }, (_, i) => `C9${String(i).padStart(5, '0')}`).find(
    (c) => !used.has(c),
  );
  const base2 = sequenceBase(day2);
  const day2Changes: SampleRow[] = [
    change(updated, cdc.operation.update, base2 + 1, `${day2} 09:12:00.000`, {
      country: updated['country'] === 'PT' ? 'ES' : 'PT',
      segment: updated['segment'] === 'business' ? 'consumer' : 'business',
    }),
    change(
      Object.fromEntries(Object.keys(deleted).map((k) => [k, null])),
      cdc.operation.delete,
      base2 + 2,
      `${day2} 10:40:00.000`,
      { [cdc.key[0] as string]: id(deleted) },
    ),
    change(exported[0] as SampleRow, cdc.operation.insert, base2 + 3, `${day2} 11:05:00.000`, {
      customer_id: newId as string,
      email: 'email-new',
      full_name: 'full_name-new',
      country: 'IE',
      segment: 'consumer',
    }),
  ];
  // Late for day 1: older than day 2's changes, newer than the export.
  const late = sequenceBase(day1) + records + 1;
  const lateChanges: SampleRow[] = [
    change(updated, cdc.operation.update, late, `${day1} 23:50:00.000`, { country: 'NO' }),
    change(deleted, cdc.operation.update, late + 1, `${day1} 23:51:00.000`, { country: 'NO' }),
    change(lateMerged, cdc.operation.update, late + 2, `${day1} 23:52:00.000`, {
      country: 'NO',
      segment: lateMerged['segment'] === 'business' ? 'consumer' : 'business',
    }),
  ];
  const keys = [updated, deleted, lateMerged].map(id).concat(newId as string);
  return {
    story: {
      title: 'Customer changes (CDC)',
      shows:
        "customers is a change stream (mode: cdc) whose silver is the table's current state: an export, then day 2 updates, deletes and inserts customers, then a late file for day 1 with older change sequences: the newer state stays, a customer untouched since the export takes its late change",
      dataset: dataset.name,
      waves: [
        [[`${prefix}dt=${day1}/customers export.jsonl`, jsonLines(exported), exported]],
        [[`${prefix}dt=${day2}/changes.jsonl`, jsonLines(day2Changes), day2Changes]],
        [[`${prefix}dt=${day1}/late changes.jsonl`, jsonLines(lateChanges), lateChanges]],
      ],
    },
    facts: async () => ({
      updated: id(updated),
      deleted: id(deleted),
      inserted: newId as string,
      lateMerged: id(lateMerged),
      state: await lakeRows(
        pipeline,
        `SELECT customer_id, country, segment, CAST(change_seq AS VARCHAR) AS change_seq FROM ${dataset.catalog.tables.silver} WHERE customer_id IN (${keys.map((k) => `'${k}'`).join(', ')}) ORDER BY customer_id`,
      ),
    }),
    customers: [...state.keys()].map((k) => (JSON.parse(k) as string[])[0] as string),
  };
}

/**
 * Step 6: sign-ins of two days, then a late file for the first day: the late run recomputes the gold
 * of the first day and of the second (whose 7-day window holds the first), so the second day's
 * active users grow by the late file's users.
 */
function lateFileForRollingGold(
  pipeline: LocalPipeline,
  n: number,
  customers: readonly string[],
): { story: Story; facts: () => Promise<WindowFacts> } {
  const dataset = pipeline.registry.get(DEMO_WINDOW_DATASET);
  const prefix = dataset.landing.prefix;
  const day1 = '2024-01-15';
  const day2 = dayAfter(day1);
  const records = Math.max(40, Math.round(n / 4));
  // Users are customers: most sign-ins by a regular half, the late file's by the other half.
  const regulars = customers.slice(0, Math.ceil(customers.length / 2));
  const others = customers.slice(regulars.length);
  const signIns = (day: string, count: number, seed: number, users: readonly string[]) => {
    const rand = seededRandom(seed);
    return [...new DatasetRows(dataset, { records: count, day, seed })].map((r) => ({
      ...r,
      user_id: users[Math.floor(rand() * users.length)] ?? null,
    }));
  };
  const first = signIns(day1, records, 21, regulars);
  const second = signIns(day2, records, 22, regulars);
  const late = signIns(
    day1,
    Math.max(10, Math.round(records / 4)),
    23,
    others.length > 0 ? others : regulars,
  );
  const gold = dataset.catalog.tables.gold;
  const goldOf = (day: string) =>
    lakeRows(
      pipeline,
      `SELECT platform, CAST(active_users AS INTEGER) AS active_users, CAST(sign_ins AS INTEGER) AS sign_ins FROM ${gold} WHERE dt = '${day}' ORDER BY platform`,
    );
  let before: Array<Record<string, unknown>> = [];
  return {
    story: {
      title: 'Late file for a rolling gold',
      shows:
        "sign_ins' gold counts the users active in the last 7 days (gold.window); a late file for day 1 lands after day 2: its run recomputes the gold of day 1 and of day 2, whose window holds day 1",
      dataset: dataset.name,
      waves: [
        [[`${prefix}dt=${day1}/sign-ins.jsonl`, jsonLines(first), first]],
        [[`${prefix}dt=${day2}/sign-ins.jsonl`, jsonLines(second), second]],
        [[`${prefix}dt=${day1}/late sign-ins.jsonl`, jsonLines(late), late]],
      ],
      between: async (wave) => {
        if (wave === 1) before = await goldOf(day2);
      },
    },
    facts: async () => ({ lateDay: day1, correctedDay: day2, before, after: await goldOf(day2) }),
  };
}
