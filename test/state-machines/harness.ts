import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { adoptRunDeps, createHandler as adoptRunHandler } from '../../functions/adopt-run/handler';
import { finishRunDeps, createHandler as finishRunHandler } from '../../functions/finish-run/handler';
import { notifyDeps, createHandler as notifyHandler } from '../../functions/notify/handler';
import { prepareRunDeps, createHandler as prepareRunHandler } from '../../functions/prepare-run/handler';
import { recordStageDeps, createHandler as recordStageHandler } from '../../functions/record-stage/handler';
import type { Registry, Stage } from '../../shared/domain/datasets';
import { boundDefinition } from '../../shared/domain/horizon';
import { MANIFEST_VERSION, type RunManifest } from '../../shared/domain/manifest';
import type { RunInput } from '../../shared/domain/run';
import {
  AslRunner,
  LocalJobRuns,
  StatesError,
  type AslExecution,
  type GlueJobRun,
  type GlueStartJobRun,
  type LocalLambda,
} from '../../local/asl-runner';
import { FileObjectLedger } from '../../local/file-ledger';
import type {
  Alert,
  Alerter,
  ManifestStore,
  MetricsReader,
  MetricsSink,
  PartitionCatalog,
  RunStarter,
  StageMetrics,
  StartResult,
} from '../../shared/ports';
import { memoryLog, shippedRegistry } from '../helpers/registry';

/**
 * Runs the real state machine definition in aws-local-stepfunctions with the real handlers of
 * functions/prepare-run, record-stage, notify and finish-run (wired to in-memory ports), and Glue
 * tasks scripted per test. Lambda tasks behave as `lambda:invoke` does: the result is wrapped in
 * `Payload`, and a thrown error surfaces with its name as Error and Lambda's JSON as Cause.
 */

export const ASL_PATH = 'state-machines/medallion-pipeline.asl.json';
export const loadAsl = (): StateMachineDefinition =>
  JSON.parse(readFileSync(join(process.cwd(), ASL_PATH), 'utf8')) as StateMachineDefinition;

export const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:medallion-pipeline';

const lambdaTask =
  <E, C>(fn: (event: E, context: C) => Promise<unknown>): LocalLambda =>
  (event) =>
    fn(event as E, { functionName: 'local', awsRequestId: 'local' } as C);

/** An error shaped like the ones Step Functions raises for Glue (name = `Glue.<Code>` or States.TaskFailed). */
export const GlueTaskError = StatesError;

/** What a scripted Glue job does when the state machine starts it. */
export type GlueScript =
  | { kind: 'succeed'; counts?: { in: number; out: number; quarantined: number } }
  | { kind: 'fail'; message: string }
  | { kind: 'stop' }
  | { kind: 'concurrent-runs'; times: number; counts?: { in: number; out: number; quarantined: number } }
  | { kind: 'no-manifest' }
  /** Runs, writes its manifest, and ends only after `ms` (longer than its Task timeout, in tests). */
  | { kind: 'hang'; ms: number }
  /** Succeeds but writes a manifest that is not one. */
  | { kind: 'bad-manifest' };

export class MemoryCatalog implements PartitionCatalog {
  readonly registered: Array<{ table: string; values: readonly string[]; location: string }> = [];
  async registerPartitions(request: Parameters<PartitionCatalog['registerPartitions']>[0]) {
    for (const p of request.partitions) this.registered.push({ table: request.table, ...p });
    return { created: request.partitions.length, updated: 0 };
  }
}

export class MemoryMetrics implements MetricsSink, MetricsReader {
  readonly published: StageMetrics[] = [];
  constructor(public baseline: number[] = []) {}
  async publishStage(metrics: StageMetrics) {
    this.published.push(metrics);
  }
  async recentQuarantineRatios(query: { limit: number }) {
    return this.baseline.slice(0, query.limit);
  }
}

export class MemoryAlerter implements Alerter {
  readonly alerts: Alert[] = [];
  failWith: Error | undefined;
  async publish(alert: Alert) {
    if (this.failWith) throw this.failWith;
    this.alerts.push(alert);
    return { messageId: `msg-${this.alerts.length}` };
  }
}

export class MemoryManifests implements ManifestStore {
  readonly objects = new Map<string, string>();
  async read(location: string) {
    return this.objects.get(location);
  }
}

export class RecordingStarter implements RunStarter {
  readonly started: Array<{ name: string; input: RunInput }> = [];
  async start(request: { name: string; input: RunInput }): Promise<StartResult> {
    const executionArn = `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${request.name}`;
    if (this.started.some((s) => s.name === request.name))
      return { outcome: 'already-started', executionArn };
    this.started.push(request);
    return { outcome: 'started', executionArn };
  }
}

export const ordersInput = (overrides: Partial<RunInput> = {}): RunInput => ({
  dataset: 'orders',
  partition: { year: '2024', month: '01', day: '15' },
  partitionValues: ['2024', '01', '15'],
  partitionPath: 'year=2024/month=01/day=15',
  trigger: 'landing',
  fromStage: 'bronze',
  requestedAt: '2024-01-15T10:21:09.000Z',
  objects: {
    count: 1,
    bytes: 48213,
    firstLandedAt: '2024-01-15T10:21:07.412Z',
    lastLandedAt: '2024-01-15T10:21:07.412Z',
    inline: [{ key: 'landing/shop/orders/year=2024/month=01/day=15/batch-001.jsonl', size: 48213 }],
    notListed: 0,
  },
  ...overrides,
});

export interface Harness {
  readonly registry: Registry;
  readonly ledger: FileObjectLedger;
  readonly catalog: MemoryCatalog;
  readonly metrics: MemoryMetrics;
  readonly alerter: MemoryAlerter;
  readonly manifests: MemoryManifests;
  readonly starter: RecordingStarter;
  /** Every StartJobRun that reached Glue; `started`: it started a run (a start error starts none). */
  readonly glueCalls: Array<{
    stage: Stage;
    jobName: string;
    args: Record<string, string>;
    started: boolean;
  }>;
  /** The Glue runs that started (the local GetJobRuns / GetJobRun of the adopt path). */
  readonly jobRuns: LocalJobRuns;
  /** The Lambda handlers by the placeholder that names their function. */
  readonly lambdas: Record<string, LocalLambda>;
  /** Glue behaviour per stage (default: succeed with 1000 in / 990 out / 10 quarantined). */
  readonly glue: Partial<Record<Stage, GlueScript>>;
  /** The Glue `.sync` task the runner calls (scripted by `glue`). */
  readonly glueTask: (params: GlueStartJobRun) => Promise<GlueJobRun>;
  /** Called when a Glue job starts and resolves when it may finish (to interleave runs). */
  beforeGlue: (stage: Stage, args: Record<string, string>) => Promise<void>;
}

export function createHarness(
  registry: Registry = shippedRegistry(),
  options: {
    starter?: RunStarter;
    ledger?: FileObjectLedger;
    /** prepare-run's clock (default: the real time), for runs whose plan depends on it (the settle wait). */
    now?: () => Date;
  } = {},
): Harness {
  const ledger =
    options.ledger ?? new FileObjectLedger(join(mkdtempSync(join(tmpdir(), 'asl-ledger-')), 'ledger.json'));
  const catalog = new MemoryCatalog();
  const metrics = new MemoryMetrics();
  const alerter = new MemoryAlerter();
  const manifests = new MemoryManifests();
  const starter = new RecordingStarter();
  const glueCalls: Harness['glueCalls'] = [];
  const glue: Harness['glue'] = {};
  const log = memoryLog();
  const attempts: Partial<Record<Stage, number>> = {};

  const scriptedGlue = async (params: GlueStartJobRun): Promise<GlueJobRun> => {
    const args = params.Arguments;
    const stage = args['--stage'] as Stage;
    const script = glue[stage] ?? { kind: 'succeed' };
    const attempt = (attempts[stage] = (attempts[stage] ?? 0) + 1);
    glueCalls.push({
      stage,
      jobName: params.JobName,
      args,
      started: !(script.kind === 'concurrent-runs' && attempt <= script.times),
    });
    await harness.beforeGlue(stage, args);
    const runId = `jr_${stage}_${attempt}`;
    const jobRun = (state: string): GlueJobRun => ({
      Id: runId,
      JobName: params.JobName,
      JobRunState: state,
      Attempt: 0,
    });
    if (script.kind === 'concurrent-runs' && attempt <= script.times) {
      throw new GlueTaskError(
        'Glue.ConcurrentRunsExceededException',
        `Concurrent runs exceeded for ${params.JobName} (Service: Glue, Status Code: 400)`,
      );
    }
    if (script.kind === 'fail') {
      throw new GlueTaskError(
        'States.TaskFailed',
        JSON.stringify({ ...jobRun('FAILED'), ErrorMessage: script.message }),
      );
    }
    if (script.kind === 'stop') return jobRun('STOPPED');
    if (script.kind === 'hang') await new Promise((resolve) => setTimeout(resolve, script.ms));
    if (script.kind === 'bad-manifest') {
      manifests.objects.set(args['--manifest_location'] ?? '', '{"version": 1, "dataset": ');
      return jobRun('SUCCEEDED');
    }
    if (script.kind !== 'no-manifest') {
      const counts =
        ('counts' in script && script.counts) ||
        (stage === 'silver'
          ? { in: 1000, out: 990, quarantined: 10 }
          : { in: 1000, out: 1000, quarantined: 0 });
      const dataset = registry.get(args['--dataset'] ?? '');
      const table = dataset.catalog.tables[stage];
      const values = JSON.parse(args['--partition_values'] ?? '[]') as string[];
      const manifest: RunManifest = {
        version: MANIFEST_VERSION,
        dataset: dataset.name,
        stage,
        runId: args['--run_id'] ?? '',
        jobRunId: runId,
        startedAt: '2024-01-15T10:22:00.000Z',
        completedAt: '2024-01-15T10:24:30.000Z',
        recordsIn: counts.in,
        recordsOut: counts.out,
        recordsQuarantined: counts.quarantined,
        outputPartitions: [
          { table, values, location: args['--target_location'] ?? '' },
          ...(counts.quarantined > 0
            ? [
                {
                  table: dataset.catalog.tables.quarantine,
                  values,
                  location: args['--quarantine_location'] ?? '',
                },
              ]
            : []),
        ],
        quarantineLocation: counts.quarantined > 0 ? (args['--quarantine_location'] ?? null) : null,
      };
      manifests.objects.set(args['--manifest_location'] ?? '', JSON.stringify(manifest));
    }
    return jobRun('SUCCEEDED');
  };

  // Wired by the handlers' own wiring functions, as the Lambda entries and the local runtime do.
  const prepare = prepareRunHandler(() => ({
    ...prepareRunDeps({
      registry,
      ledger,
      lakeRoot: 's3://example-lake/',
      plansLocation: 's3://example-artifacts/plans/',
      log,
    }),
    ...(options.now ? { now: options.now } : {}),
  }));
  const record = recordStageHandler(() => recordStageDeps({ registry, manifests, catalog, metrics, log }));
  const notify = notifyHandler(() => notifyDeps({ alerter, log }));
  const finish = finishRunHandler(() =>
    finishRunDeps({ registry, ledger, runs: options.starter ?? starter, alerts: alerter, manifests, log }),
  );

  // Every run that started, as GetJobRuns / GetJobRun see it (RUNNING, then how it ended): the adopt
  // path's lookup, as the local runtime's Glue twin records them.
  const jobRuns = new LocalJobRuns();
  const glueTask = async (params: GlueStartJobRun): Promise<GlueJobRun> => {
    const stage = params.Arguments['--stage'] as Stage;
    const Id = `jr_${stage}_${(attempts[stage] ?? 0) + 1}`;
    const base = { Id, JobName: params.JobName, Arguments: params.Arguments, StartedOn: Date.now() };
    const running = scriptedGlue(params);
    // scriptedGlue pushed its call synchronously: did it start a run?
    const started = glueCalls.filter((c) => c.stage === stage).at(-1)?.started === true;
    if (started) jobRuns.record({ ...base, JobRunState: 'RUNNING' });
    try {
      const ended = await running;
      jobRuns.record({ ...base, JobRunState: ended.JobRunState });
      return ended;
    } catch (error) {
      if (started)
        jobRuns.record({ ...base, JobRunState: 'FAILED', ErrorMessage: String((error as Error).message) });
      throw error;
    }
  };
  const adopt = adoptRunHandler(() => adoptRunDeps({ runs: jobRuns, log }));

  const lambdas: Harness['lambdas'] = {
    AdoptRunFunctionArn: lambdaTask(adopt),
    PrepareRunFunctionArn: lambdaTask(prepare),
    RecordStageFunctionArn: lambdaTask(record),
    NotifyFunctionArn: lambdaTask(notify),
    FinishRunFunctionArn: lambdaTask(finish),
  };
  const harness: Harness = {
    registry,
    ledger,
    catalog,
    metrics,
    alerter,
    manifests,
    starter,
    glueCalls,
    jobRuns,
    lambdas,
    glue,
    glueTask,
    beforeGlue: async () => undefined,
  };
  return harness;
}

export type RunOutcome = AslExecution & {
  readonly status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  readonly output?: Record<string, unknown>;
};

/** The one ASL runner (local/asl-runner.ts) over this harness's handlers and Glue fake. */
export const harnessRunner = (h: Harness, definition: object = loadAsl()): AslRunner =>
  new AslRunner({
    definition: boundDefinition(definition, h.registry.datasets),
    lambdas: h.lambdas,
    glue: h.glueTask,
  });

/** Runs one execution to its end, with every retry interval overridden to 0. */
export async function runPipeline(
  h: Harness,
  input: unknown,
  name = 'orders-2024-01-15-0123456789abcdef',
  runner: AslRunner = harnessRunner(h),
): Promise<RunOutcome> {
  const run = await runner.run(input, {
    name,
    executionArn: `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${name}`,
    stateMachineArn: STATE_MACHINE_ARN,
  });
  if (run.status === 'RUNNING') throw new Error(`execution ${name} did not end`);
  return run as RunOutcome;
}
