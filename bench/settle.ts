import { processLanding } from '../shared/core/landing';
import { finishRun, prepareRun } from '../shared/core/run-lease';
import { loadRegistry } from '../shared/config/registry';
import { makeRegistry, type Registry } from '../shared/domain/datasets';
import { MANIFEST_VERSION, type RunManifest } from '../shared/domain/manifest';
import type { RunInput } from '../shared/domain/run';
import type { SourceFile } from '../shared/domain/source-files';
import { FileObjectLedger } from '../local/file-ledger';
import type { ExecutionStatus, Log, ManifestStore } from '../shared/ports';
import { fmt, type BenchRow, type Suite } from './lib';

/**
 * Glue runs per partition (issue #11, item 7), in simulated time: files land in one partition every
 * 5 minutes for an hour, and the real on-landing, prepare-run and finish-run code (the ledger rules,
 * the in-memory ledger twin) decides which runs start. A run's bronze lists the partition when it
 * starts (after the settle wait) and its manifest says what it read; each Glue stage takes
 * STAGE_MINUTES. Counted: executions and Glue job runs started, and each file's wait from landing
 * to the end of the run that read it.
 */

const PARTITION = 'year=2024/month=01/day=15';
const PREFIX = `landing/shop/orders/${PARTITION}/`;
const T0 = Date.parse('2024-01-15T08:00:00.000Z');
const MINUTE = 60_000;
/** One file every 5 minutes for one hour. */
const ARRIVALS = Array.from({ length: 12 }, (_, i) => i * 5 * MINUTE);
/** Each Glue stage's run time (start-up included); bronze lists the partition when it starts. */
const STAGE_MINUTES = 2;
const STAGES_PER_RUN = 3;

const quiet: Log = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

interface Outcome {
  readonly executions: number;
  readonly glueRuns: number;
  /** Minutes from a file's landing to the end of the run that read it. */
  readonly waitMinutes: { readonly max: number; readonly mean: number };
}

/** The dataset registry with orders' settle window set. */
const withSettle = (registry: Registry, settleSeconds: number): Registry =>
  makeRegistry(
    registry.datasets.map((d) => (d.name === 'orders' ? { ...d, trigger: { settleSeconds } } : d)),
  );

/**
 * One simulated hour. `compareSources`: finish-run reads the bronze manifest (issue #11); without it,
 * every deferred object gets its follow-up run, as before.
 */
async function simulate(registry: Registry, compareSources: boolean): Promise<Outcome> {
  let now = T0;
  const clock = () => new Date(now);
  const ledger = FileObjectLedger.inMemory();
  const statuses = new Map<string, ExecutionStatus>();
  const inputs = new Map<string, RunInput>();
  const manifests = new Map<string, string>();
  const landed: Array<{ source: SourceFile; at: number }> = [];
  const readAt = new Map<string, number>();
  const runs = {
    start: async ({ name, input }: { name: string; input: RunInput }) => {
      const executionArn = `arn:aws:states:eu-west-1:1:execution:p:${name}`;
      if (statuses.has(name)) return { outcome: 'already-started' as const, executionArn };
      statuses.set(name, 'RUNNING');
      inputs.set(name, input);
      schedule(now, () => prepare(name));
      return { outcome: 'started' as const, executionArn };
    },
    status: async (name: string) => statuses.get(name) ?? 'NOT_FOUND',
  };
  const manifestStore: ManifestStore = { read: async (location) => manifests.get(location) };

  // The event queue: [time, seq, action], run in time order (arrivals first at equal times).
  const queue: Array<[number, number, () => Promise<void>]> = [];
  let seq = 0;
  const schedule = (at: number, action: () => Promise<void>) => queue.push([at, seq++, action]);

  const land = async (i: number) => {
    const key = `${PREFIX}part-${String(i).padStart(2, '0')}.jsonl`;
    const source = { key, size: 1000 + i, eTag: `${i.toString(16).padStart(32, '0')}` };
    landed.push({ source, at: now });
    const notification = {
      Records: [
        {
          eventVersion: '2.1',
          eventSource: 'aws:s3',
          eventTime: clock().toISOString(),
          eventName: 'ObjectCreated:Put',
          s3: {
            bucket: { name: 'lake' },
            object: { key, size: source.size, eTag: source.eTag, sequencer: `${(i + 1).toString(16)}` },
          },
        },
      ],
    };
    const result = await processLanding(
      { Records: [{ messageId: `m${i}`, eventSource: 'aws:sqs', body: JSON.stringify(notification) }] },
      { registry, ledger, leases: ledger, starter: runs, executions: runs, log: quiet, now: clock },
    );
    if (result.counts.failed > 0)
      throw new Error(`landing ${key} failed: ${JSON.stringify(result.failures)}`);
  };

  const prepare = async (name: string) => {
    const input = inputs.get(name);
    if (!input) throw new Error(`no input for ${name}`);
    const prepared = await prepareRun(
      { executionName: name, input },
      {
        registry,
        leases: ledger,
        executions: runs,
        lakeRoot: 's3://lake/',
        plansLocation: 's3://artifacts/plans/',
        log: quiet,
        now: clock,
      },
    );
    const location = prepared.run.jobs.bronze.manifestLocation;
    schedule(now + prepared.run.settleSeconds * 1000, async () => {
      // Bronze lists the partition: the latest version of every key landed so far.
      const sources = landed.map((l) => l.source);
      const manifest: RunManifest = {
        version: MANIFEST_VERSION,
        dataset: 'orders',
        stage: 'bronze',
        runId: name,
        jobRunId: `jr_${name}`,
        startedAt: clock().toISOString(),
        completedAt: clock().toISOString(),
        recordsIn: sources.length,
        recordsOut: sources.length,
        recordsQuarantined: 0,
        outputPartitions: [],
        quarantineLocation: null,
        sourceFiles: sources,
      };
      manifests.set(location, JSON.stringify(manifest));
      schedule(now + STAGES_PER_RUN * STAGE_MINUTES * MINUTE, async () => {
        for (const s of sources) if (!readAt.has(s.key)) readAt.set(s.key, now);
        await finishRun(
          {
            executionName: name,
            dataset: input.dataset,
            partition: input.partition,
            partitionValues: input.partitionValues,
            partitionPath: input.partitionPath,
            outcome: 'succeeded',
            ...(compareSources ? { bronzeManifest: location } : {}),
          },
          {
            registry,
            leases: ledger,
            starter: runs,
            ...(compareSources ? { manifests: manifestStore } : {}),
            log: quiet,
            now: clock,
          },
        );
        statuses.set(name, 'SUCCEEDED');
      });
    });
  };

  ARRIVALS.forEach((at, i) => schedule(T0 + at, () => land(i)));
  while (queue.length > 0) {
    queue.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const [at, , action] = queue.shift() as [number, number, () => Promise<void>];
    now = at;
    await action();
  }
  const waits = landed.map((l) => ((readAt.get(l.source.key) ?? Number.NaN) - l.at) / MINUTE);
  if (waits.some((w) => !Number.isFinite(w))) throw new Error('a landed file was never read');
  return {
    executions: statuses.size,
    glueRuns: statuses.size * STAGES_PER_RUN,
    waitMinutes: { max: Math.max(...waits), mean: waits.reduce((a, b) => a + b, 0) / waits.length },
  };
}

/** The baseline: every arrival starts its own run at once. */
const perArrival = (): Outcome => ({
  executions: ARRIVALS.length,
  glueRuns: ARRIVALS.length * STAGES_PER_RUN,
  waitMinutes: { max: STAGES_PER_RUN * STAGE_MINUTES, mean: STAGES_PER_RUN * STAGE_MINUTES },
});

const describe = (o: Outcome) =>
  `${o.executions} executions, ${o.glueRuns} Glue job runs; a file waits ${fmt(o.waitMinutes.mean, 1)} min on average, at most ${fmt(o.waitMinutes.max, 1)} min, from landing to gold`;

export const settleSuite: Suite = {
  name: 'settle',
  async run(): Promise<BenchRow[]> {
    const shipped = loadRegistry();
    const baseline = perArrival();
    const cases: Array<{ label: string; settle: number; compare: boolean; note?: string }> = [
      {
        label: 'before #11 item 7: a follow-up run for every deferred object, no window',
        settle: 0,
        compare: false,
      },
      { label: 'no settle window (today’s default)', settle: 0, compare: true },
      { label: 'trigger.settleSeconds: 300', settle: 300, compare: true },
      { label: 'trigger.settleSeconds: 900', settle: 900, compare: true },
      {
        label: 'trigger.settleSeconds: 900, without comparing the bronze source files',
        settle: 900,
        compare: false,
        note: 'what the window alone would give: files deferred during the wait get a follow-up run that reads them again',
      },
    ];
    const rows: BenchRow[] = [];
    for (const c of cases) {
      const outcome = await simulate(withSettle(shipped, c.settle), c.compare);
      rows.push({
        benchmark: 'Glue runs per partition (simulated hour)',
        case: `12 files, one every 5 min, into one partition; stages ${STAGE_MINUTES} min each; ${c.label}`,
        measured: describe(outcome),
        baseline: `one run per arrival: ${describe(baseline)}`,
        target: 'fewer Glue job runs than one run per arrival',
        met: outcome.glueRuns < baseline.glueRuns,
        values: { ...outcome, settleSeconds: c.settle, comparesSourceFiles: c.compare },
        baselineValues: { ...baseline },
        ...(c.note ? { note: c.note } : {}),
      });
    }
    return rows;
  },
};
