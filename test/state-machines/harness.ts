import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { createHandler as finishRunHandler } from '../../functions/finish-run/handler';
import { createHandler as notifyHandler } from '../../functions/notify/handler';
import { createHandler as prepareRunHandler } from '../../functions/prepare-run/handler';
import { createHandler as recordStageHandler } from '../../functions/record-stage/handler';
import type { Registry, Stage } from '../../shared/domain/datasets';
import { describeError } from '../../shared/domain/errors';
import { MANIFEST_VERSION, type RunManifest } from '../../shared/domain/manifest';
import type { RunInput } from '../../shared/domain/run';
import { FileObjectLedger } from '../../shared/local/file-ledger';
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

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

class LambdaFunctionError extends Error {
  constructor(error: unknown) {
    const { name, message } = describeError(error);
    super(JSON.stringify({ errorType: name, errorMessage: message, trace: [] }));
    this.name = name;
  }
}

const lambdaTask =
  <E, C>(fn: (event: E, context: C) => Promise<unknown>) =>
  async (input: Json): Promise<Json> => {
    const payload = (input as { Payload?: unknown }).Payload as E;
    const context = { functionName: 'local', awsRequestId: 'local' } as C;
    try {
      return { StatusCode: 200, Payload: ((await fn(payload, context)) ?? null) as Json };
    } catch (error) {
      throw new LambdaFunctionError(error);
    }
  };

/** An error shaped like the ones Step Functions raises for Glue (name = `Glue.<Code>` or States.TaskFailed). */
export class GlueTaskError extends Error {
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}

/** What a scripted Glue job does when the state machine starts it. */
export type GlueScript =
  | { kind: 'succeed'; counts?: { in: number; out: number; quarantined: number } }
  | { kind: 'fail'; message: string }
  | { kind: 'stop' }
  | { kind: 'concurrent-runs'; times: number; counts?: { in: number; out: number; quarantined: number } }
  | { kind: 'no-manifest' };

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
  readonly glueCalls: Array<{ stage: Stage; jobName: string; args: Record<string, string> }>;
  readonly handlers: Record<string, (input: Json) => Promise<Json>>;
  /** Glue behaviour per stage (default: succeed with 1000 in / 990 out / 10 quarantined). */
  readonly glue: Partial<Record<Stage, GlueScript>>;
  /** Called when a Glue job starts and resolves when it may finish (to interleave runs). */
  beforeGlue: (stage: Stage, args: Record<string, string>) => Promise<void>;
}

export function createHarness(
  registry: Registry = shippedRegistry(),
  options: { starter?: RunStarter; ledger?: FileObjectLedger } = {},
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

  const glueTask =
    (stage: Stage) =>
    async (input: Json): Promise<Json> => {
      const params = input as { JobName: string; Arguments: Record<string, string> };
      const args = params.Arguments;
      glueCalls.push({ stage, jobName: params.JobName, args });
      await harness.beforeGlue(stage, args);
      const script = glue[stage] ?? { kind: 'succeed' };
      const attempt = (attempts[stage] = (attempts[stage] ?? 0) + 1);
      const runId = `jr_${stage}_${attempt}`;
      const jobRun = (state: string) => ({
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

  const prepare = prepareRunHandler(() => ({
    registry,
    leases: ledger,
    lakeRoot: 's3://example-lake/',
    plansLocation: 's3://example-artifacts/plans/',
    log,
  }));
  const record = recordStageHandler(() => ({
    registry,
    manifests,
    catalog,
    metrics,
    baseline: metrics,
    log,
  }));
  const notify = notifyHandler(() => ({ alerter, log }));
  const finish = finishRunHandler(() => ({
    registry,
    leases: ledger,
    starter: options.starter ?? starter,
    log,
  }));

  const handlers: Harness['handlers'] = {
    'Take partition lease': lambdaTask(prepare),
    'Run bronze job': glueTask('bronze'),
    'Record bronze results': lambdaTask(record),
    'Run silver job': glueTask('silver'),
    'Record silver results': lambdaTask(record),
    'Alert on-call of quarantine spike': lambdaTask(notify),
    'Run gold job': glueTask('gold'),
    'Record gold results': lambdaTask(record),
    'Release partition lease': lambdaTask(finish),
    'Alert on-call of failure': lambdaTask(notify),
    'Release partition lease after failure': lambdaTask(finish),
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
    handlers,
    glue,
    beforeGlue: async () => undefined,
  };
  return harness;
}

export interface RunOutcome {
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly output?: Record<string, unknown>;
  readonly error?: string;
  readonly cause?: string;
  /** State names in the order they were entered. */
  readonly path: string[];
  readonly retries: string[];
}

/** Runs one execution to its end, with every retry interval overridden to 0. */
export async function runPipeline(
  h: Harness,
  input: RunInput,
  name = 'orders-2024-01-15-0123456789abcdef',
): Promise<RunOutcome> {
  const asl = loadAsl();
  const retryIntervalOverrides = Object.fromEntries(Object.keys(asl.States).map((s) => [s, 0]));
  const execution = new StateMachine(asl, { validationOptions: { checkArn: false } }).run(
    input as unknown as Json,
    {
      overrides: { taskResourceLocalHandlers: h.handlers, retryIntervalOverrides },
      context: {
        Execution: {
          Id: `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${name}`,
          Name: name,
        },
        StateMachine: { Id: STATE_MACHINE_ARN, Name: 'medallion-pipeline' },
      },
    },
  );
  const path: string[] = [];
  const retries: string[] = [];
  let status: RunOutcome['status'] = 'SUCCEEDED';
  let error: string | undefined;
  let cause: string | undefined;
  let output: Record<string, unknown> | undefined;
  for await (const event of execution.eventLogs) {
    if (event.type === 'StateEntered') path.push(event.state.name);
    if (event.type === 'StateRetried') retries.push(event.state.name);
    if (event.type === 'ExecutionFailed') {
      status = 'FAILED';
      error = event.Error;
      cause = typeof event.Cause === 'string' ? event.Cause : JSON.stringify(event.Cause);
    }
    if (event.type === 'ExecutionSucceeded') output = event.output as Record<string, unknown>;
  }
  await execution.result.catch(() => undefined);
  return {
    status,
    path,
    retries,
    ...(output ? { output } : {}),
    ...(error !== undefined ? { error } : {}),
    ...(cause !== undefined ? { cause } : {}),
  };
}
