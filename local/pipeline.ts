import type { Context } from 'aws-lambda';
import { adoptRunDeps, createHandler as createAdoptRun } from '../functions/adopt-run/handler';
import { createHandler as createFinishRun, finishRunDeps } from '../functions/finish-run/handler';
import { createHandler as createNotify, notifyDeps } from '../functions/notify/handler';
import {
  createHandler as createOnLanding,
  landingDeps,
  type OnLandingResponse,
} from '../functions/on-landing/handler';
import { createHandler as createPrepareRun, prepareRunDeps } from '../functions/prepare-run/handler';
import { createHandler as createRecordStage, recordStageDeps } from '../functions/record-stage/handler';
import { loadRegistry } from '../shared/config/registry';
import type { Registry } from '../shared/domain/datasets';
import type { SlotSweepEvent, SweepResult } from '../shared/core/run-slots';
import type { Log } from '../shared/ports';
import { FileObjectLedger } from './file-ledger';
import { fileUri, runGlueJob } from './glue-runner';
import { SparkGlue } from './spark-glue';
import { ExecutionHistoryStore, type ExecutionHistory } from './history';
import { localDefinition } from './definition';
import { LocalLake, sqsEventFor } from './lake';
import { writePlans } from './plans';
import { LocalRunStarter, LOCAL_STATE_MACHINE_ARN } from './run-starter';
import { LocalRuntime, type LocalLambda } from './runtime';
import { FileAlerter, FileCatalog, FileManifestStore, FileMetrics, type AlertLine } from './system-store';

/**
 * The embedded local pipeline: the real handlers of functions/* wired to the local adapters, the
 * real ASL run by the local runtime, Glue jobs run by DuckDB, all against one lake folder.
 */

export const quietLog: Log = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

export interface LocalPipelineOptions {
  readonly lake?: LocalLake;
  readonly registry?: Registry;
  /** Where the handlers log (default: nowhere; the history and the system tables tell the story). */
  readonly log?: Log;
  /** The ASL text (default: state-machines/medallion-pipeline.asl.json). */
  readonly definition?: string;
  readonly concurrency?: number;
  /**
   * Executions in flight at most (shared/domain/run-slots.ts), as the stack's `executionBudget`
   * bounds them; none: unbounded (the runtime's `concurrency` still queues them).
   */
  readonly executionBudget?: number;
  readonly onUpdate?: (history: ExecutionHistory) => void;
  readonly onAlert?: (alert: AlertLine) => void;
  /**
   * What runs the Glue tasks: `duckdb` (default, local/glue-runner.ts) or `spark`, the real
   * Glue scripts on local Spark (local/spark-glue.ts; needs .venv and Java 17).
   */
  readonly engine?: GlueEngineName;
}

export const GLUE_ENGINES = ['duckdb', 'spark'] as const;
export type GlueEngineName = (typeof GLUE_ENGINES)[number];

let invocation = 0;
/** Enough of a Lambda context for middy and Powertools. */
function lambdaContext(functionName: string): Context {
  invocation++;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: `local-${process.pid}-${invocation}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 900_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

type MiddyHandler<E, R> = (event: E, context: Context) => Promise<R>;
const asLambda =
  <E, R>(name: string, handler: MiddyHandler<E, R>): LocalLambda =>
  (event) =>
    handler(event as E, lambdaContext(name));

export class LocalPipeline {
  readonly lake: LocalLake;
  readonly ledger: FileObjectLedger;
  readonly catalog: FileCatalog;
  readonly metrics: FileMetrics;
  readonly alerts: FileAlerter;
  readonly history: ExecutionHistoryStore;
  readonly starter: LocalRunStarter;
  readonly engine: GlueEngineName;
  readonly executionBudget: number | undefined;
  private current: Registry;
  private active: LocalRuntime;
  /** Runtimes replaced by a reload, until their executions end. */
  private readonly retired = new Set<LocalRuntime>();
  private onLanding: MiddyHandler<unknown, OnLandingResponse>;
  private readonly log: Log;
  private sparkGlue: SparkGlue | undefined;

  constructor(private readonly options: LocalPipelineOptions = {}) {
    this.lake = options.lake ?? new LocalLake();
    this.current = options.registry ?? loadRegistry();
    this.engine = options.engine ?? 'duckdb';
    this.executionBudget = options.executionBudget;
    this.log = options.log ?? quietLog;
    const lake = this.lake;
    writePlans(lake, this.current);
    this.ledger = new FileObjectLedger(lake.system('ledger.json'));
    this.catalog = new FileCatalog(lake.system('catalog.json'));
    this.metrics = new FileMetrics(lake.system('metrics.jsonl'));
    this.alerts = new FileAlerter(lake.system('alerts.jsonl'), options.onAlert);
    this.history = new ExecutionHistoryStore(lake.system('executions'));
    this.starter = new LocalRunStarter(
      lake.system('executions.jsonl'),
      (record) => {
        void this.active.start(record);
      },
      (name) => this.history.get(name)?.status,
    );
    this.active = this.newRuntime();
    this.onLanding = this.newOnLanding();
  }

  /** The datasets the pipeline runs (the handlers read the current one at each invocation). */
  get registry(): Registry {
    return this.current;
  }

  /** The runtime that runs the executions started from now on. */
  get runtime(): LocalRuntime {
    return this.active;
  }

  /**
   * Runs the given datasets from now on (`watch` after a dataset.yml or gold SQL changed): plans are
   * rewritten, new landings and executions use them; executions already running finish as started.
   */
  reload(registry: Registry): void {
    writePlans(this.lake, registry);
    this.current = registry;
    const previous = this.active;
    this.retired.add(previous);
    void previous.idle().then(() => this.retired.delete(previous));
    this.active = this.newRuntime();
    this.onLanding = this.newOnLanding();
  }

  private newOnLanding(): MiddyHandler<unknown, OnLandingResponse> {
    const deps = landingDeps({
      registry: this.current,
      ledger: this.ledger,
      ...this.budget(),
      runs: this.starter,
      log: this.log,
    });
    return createOnLanding(() => deps);
  }

  /** The execution budget for the handlers that take and release slots, when one is set. */
  private budget(): { executionBudget?: number } {
    return this.executionBudget !== undefined ? { executionBudget: this.executionBudget } : {};
  }

  /** finish-run, wired as on AWS: the release states, the rule on ended executions and the slot sweep. */
  private readonly finishRun = asLambda(
    'finish-run',
    createFinishRun(() =>
      finishRunDeps({
        registry: this.current,
        ledger: this.ledger,
        ...this.budget(),
        runs: this.starter,
        executions: this.starter,
        alerts: this.alerts,
        manifests: new FileManifestStore(),
        log: this.log,
      }),
    ),
  );

  /**
   * The slot sweep AWS runs every minute (finish-run with a sweep event): frees leaked slots and
   * starts the waiting runs free slots allow (a waiting run whose start failed, too). With no budget
   * there is nothing to sweep.
   */
  async sweepSlots(): Promise<SweepResult | undefined> {
    if (this.executionBudget === undefined) return undefined;
    const event: SlotSweepEvent = { sweep: 'execution-slots', stateMachineArn: LOCAL_STATE_MACHINE_ARN };
    return (await this.finishRun(event)) as SweepResult;
  }

  private newRuntime(): LocalRuntime {
    const { options, lake, log } = this;
    const registry = this.current;
    const manifests = new FileManifestStore();
    return new LocalRuntime({
      // The Glue Tasks and the execution bounded as the stack bounds them (shared/domain/horizon.ts).
      definition: localDefinition(options.definition, registry.datasets),
      history: this.history,
      ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
      ...(options.onUpdate ? { onUpdate: options.onUpdate } : {}),
      placeholders: {
        LakeBucket: lake.bucket,
        StateMachineArn: LOCAL_STATE_MACHINE_ARN,
      },
      glue: (_jobName, args) =>
        this.engine === 'spark'
          ? this.spark().runJob(args, { tempDir: fileUri(lake.system('tmp')) })
          : runGlueJob(args, { spillDirectory: lake.system('tmp') }),
      lambdas: {
        PrepareRunFunctionArn: asLambda(
          'prepare-run',
          createPrepareRun(() =>
            prepareRunDeps({
              registry: this.current,
              ledger: this.ledger,
              runs: this.starter,
              lakeRoot: fileUri(lake.root),
              plansLocation: fileUri(lake.system('plans')),
              log,
            }),
          ),
        ),
        RecordStageFunctionArn: asLambda(
          'record-stage',
          createRecordStage(() =>
            recordStageDeps({
              registry: this.current,
              manifests,
              catalog: this.catalog,
              metrics: this.metrics,
              log,
            }),
          ),
        ),
        NotifyFunctionArn: asLambda(
          'notify',
          createNotify(() => notifyDeps({ alerter: this.alerts, log })),
        ),
        AdoptRunFunctionArn: asLambda(
          'adopt-run',
          createAdoptRun(() => adoptRunDeps({ runs: this.runtime.jobRuns, log })),
        ),
        FinishRunFunctionArn: asLambda('finish-run', this.finishRun),
      },
    });
  }

  /** Delivers landed files (lake keys) to the real on-landing handler, one SQS message per file. */
  land(keys: readonly string[]): Promise<OnLandingResponse> {
    return this.onLanding(sqsEventFor(this.lake, keys), lambdaContext('on-landing'));
  }

  /** The Spark job process, started on the first Glue task. */
  private spark(): SparkGlue {
    this.sparkGlue ??= SparkGlue.start();
    return this.sparkGlue;
  }

  /** Stops what the pipeline started (the Spark job process). */
  async close(): Promise<void> {
    await this.sparkGlue?.close();
    this.sparkGlue = undefined;
  }

  /** Resolves when every started execution (and the follow-ups they start) has ended. */
  async idle(): Promise<void> {
    // A retired runtime's run may start its follow-up in the active one: wait until all are still.
    for (;;) {
      const runtimes = [...this.retired, this.active];
      await Promise.all(runtimes.map((r) => r.idle()));
      if (runtimes.every((r) => !r.busy) && runtimes.includes(this.active)) return;
    }
  }
}
