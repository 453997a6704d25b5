import { functionFolderOf } from '../shared/domain/asl-placeholders';
import { describeError } from '../shared/domain/errors';
import type { RunInput } from '../shared/domain/run';
import { AslRunner, glueEngineTask, LocalJobRuns, type GlueEngine, type LocalLambda } from './asl-runner';
import { ExecutionHistoryStore, type ExecutionHistory } from './history';
import { LOCAL_STATE_MACHINE_ARN, type LocalExecutionRecord } from './run-starter';

/**
 * The local Step Functions: runs the deployed ASL file through the one ASL runner
 * (local/asl-runner.ts: Tasks mapped by what they call, never by state name), queues
 * executions like the partition lease makes them queue, and keeps every execution's history under
 * `.lake/_system/executions/`.
 */

export {
  DEFAULT_DEFINITION_PATH,
  LocalRuntimeError,
  TaskFailedError,
  type GlueJobRun,
  type LocalLambda,
} from './asl-runner';

/** A Glue job run: the arguments as the Task passes them (DuckDB by default; any engine plugs in). */
export type LocalGlue = GlueEngine;

export interface LocalRuntimeOptions {
  /** The ASL definition, as text or parsed JSON (default: read DEFAULT_DEFINITION_PATH). */
  readonly definition?: string | object;
  /** Handlers by placeholder name without `${}`, e.g. `RecordStageFunctionArn`. */
  readonly lambdas: Readonly<Record<string, LocalLambda>>;
  readonly glue: LocalGlue;
  /** Values of the other `${Name}` placeholders (LakeBucket, ArtifactsLocation...). */
  readonly placeholders: Readonly<Record<string, string>>;
  readonly history: ExecutionHistoryStore;
  /** Retry intervals and fixed Wait states are multiplied by this (default 0); the settle Wait waits as named. */
  readonly timeScale?: number;
  /** Executions running at once (default 1: runs of a partition queue up like the lease makes them). */
  readonly concurrency?: number;
  /** Called when an execution changes (state entered / exited, finished). */
  readonly onUpdate?: (history: ExecutionHistory) => void;
}

/** `RecordStageFunctionArn` → `record-stage` (the functions/ folder). */
export const functionFolder = (placeholder: string): string => functionFolderOf(placeholder) ?? placeholder;

export class LocalRuntime {
  readonly runner: AslRunner;
  private readonly running = new Set<Promise<ExecutionHistory>>();
  private readonly queue: Array<() => void> = [];
  private active = 0;
  /** The Glue runs this runtime started: the local GetJobRuns of the adopt path. */
  readonly jobRuns = new LocalJobRuns();

  constructor(private readonly options: LocalRuntimeOptions) {
    this.runner = new AslRunner({
      ...(options.definition !== undefined ? { definition: options.definition } : {}),
      lambdas: options.lambdas,
      glue: glueEngineTask(options.glue, this.jobRuns),
      placeholders: options.placeholders,
      ...(options.timeScale !== undefined ? { timeScale: options.timeScale } : {}),
    });
  }

  get definition() {
    return this.runner.definition;
  }

  /** Starts an execution (queued behind `concurrency` running ones); resolves when it ends. */
  start(record: LocalExecutionRecord): Promise<ExecutionHistory> {
    const promise = new Promise<void>((resolve) => {
      if (this.active < (this.options.concurrency ?? 1)) {
        this.active++;
        resolve();
      } else this.queue.push(resolve);
    })
      .then(() => this.execute(record))
      .catch((error: unknown) => this.crashed(record, error))
      .finally(() => {
        const next = this.queue.shift();
        if (next) next();
        else this.active--;
      });
    this.running.add(promise);
    void promise.finally(() => this.running.delete(promise));
    return promise;
  }

  /** The runtime itself failed (not a state): the execution is recorded as FAILED, never lost. */
  private crashed(record: LocalExecutionRecord, error: unknown): ExecutionHistory {
    const { name, message } = describeError(error);
    const now = new Date().toISOString();
    const history: ExecutionHistory = {
      ...(this.options.history.get(record.name) ?? {
        name: record.name,
        executionArn: record.executionArn,
        stateMachineArn: LOCAL_STATE_MACHINE_ARN,
        dataset: record.input.dataset,
        partition: record.input.partitionPath,
        trigger: record.input.trigger,
        startedAt: now,
        input: record.input,
        states: [],
      }),
      status: 'FAILED',
      error: name,
      cause: message,
      stoppedAt: now,
    };
    this.options.history.save(history);
    this.options.onUpdate?.(history);
    return history;
  }

  /** Whether an execution is running or queued. */
  get busy(): boolean {
    return this.running.size > 0;
  }

  /** Resolves once no execution is running or queued (including ones started meanwhile). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  private async execute(record: LocalExecutionRecord): Promise<ExecutionHistory> {
    const input: RunInput = record.input;
    const history: ExecutionHistory = {
      name: record.name,
      executionArn: record.executionArn,
      stateMachineArn: LOCAL_STATE_MACHINE_ARN,
      dataset: input.dataset,
      partition: input.partitionPath,
      trigger: input.trigger,
      status: 'RUNNING',
      startedAt: new Date().toISOString(),
      input,
      states: [],
    };
    const save = () => {
      this.options.history.save(history);
      this.options.onUpdate?.(history);
    };
    save();
    const execution = await this.runner.run(
      input,
      {
        name: record.name,
        executionArn: record.executionArn,
        stateMachineArn: LOCAL_STATE_MACHINE_ARN,
        startTime: history.startedAt,
      },
      (e) => {
        history.states.splice(0, history.states.length, ...e.states);
        save();
      },
    );
    history.states.splice(0, history.states.length, ...execution.states);
    history.status = execution.status;
    if (execution.output !== undefined) history.output = execution.output;
    if (execution.error !== undefined) history.error = execution.error;
    if (execution.cause !== undefined) history.cause = execution.cause;
    history.stoppedAt = new Date().toISOString();
    history.durationMs = Date.parse(history.stoppedAt) - Date.parse(history.startedAt);
    save();
    return history;
  }
}
