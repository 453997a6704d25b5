import { readFileSync } from 'node:fs';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { describeError, MedallionError } from '../domain/errors';
import type { RunInput } from '../domain/run';
import { ExecutionHistoryStore, type ExecutionHistory, type StateVisit } from './history';
import type { JobOutcome } from './glue-runner';
import { LOCAL_STATE_MACHINE_ARN, type LocalExecutionRecord } from './run-starter';

/**
 * The local Step Functions: runs the deployed ASL file with aws-local-stepfunctions, each Task mapped
 * by what it calls (never by state name) — `lambda:invoke` of `${XxxFunctionArn}` to the real handler
 * of functions/xxx, `glue:startJobRun.sync` to the DuckDB runner — and keeps every execution's
 * history under `.lake/_system/executions/`.
 */

export const DEFAULT_DEFINITION_PATH = 'state-machines/medallion-pipeline.asl.json';

/** The ASL has a Task this runtime cannot run, or a placeholder it cannot fill. */
export class LocalRuntimeError extends MedallionError {
  readonly retryable = false;
}

/** A Lambda handler as the runtime calls it (event → result). */
export type LocalLambda = (event: unknown) => Promise<unknown>;

/** A Glue job run: the arguments as the Task passes them. */
export type LocalGlue = (jobName: string, args: Record<string, string>) => Promise<JobOutcome>;

export interface LocalRuntimeOptions {
  /** The ASL definition, as text or parsed JSON (default: read DEFAULT_DEFINITION_PATH). */
  readonly definition?: string | object;
  /** Handlers by placeholder name without `${}`, e.g. `RecordStageFunctionArn`. */
  readonly lambdas: Readonly<Record<string, LocalLambda>>;
  readonly glue: LocalGlue;
  /** Values of the other `${Name}` placeholders (LakeBucket, ArtifactsLocation...). */
  readonly placeholders: Readonly<Record<string, string>>;
  readonly history: ExecutionHistoryStore;
  /** Retry and Wait intervals are multiplied by this (default 0: no waiting locally). */
  readonly timeScale?: number;
  /** Executions running at once (default 1: runs of a partition queue up like the lease makes them). */
  readonly concurrency?: number;
  /** Called when an execution changes (state entered / exited, finished). */
  readonly onUpdate?: (history: ExecutionHistory) => void;
}

const PLACEHOLDER = /\$\{([A-Za-z0-9]+)\}/g;
const GLUE_SYNC = /^arn:aws:states:::glue:startJobRun\.sync(:2)?$/;
const LAMBDA_INVOKE = /^arn:aws:states:::lambda:invoke(\.waitForTaskToken)?$/;
const functionArn = (name: string) => `arn:aws:lambda:local:000000000000:function:${name}`;

/** `RecordStageFunctionArn` → `record-stage` (the functions/ folder). */
export const functionFolder = (placeholder: string): string =>
  placeholder
    .replace(/FunctionArn$/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase();

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function substitute(value: Json, fill: (name: string) => string, seen: Set<string>): Json {
  if (typeof value === 'string')
    return value.replace(PLACEHOLDER, (_, name: string) => {
      seen.add(name);
      return fill(name);
    });
  if (Array.isArray(value)) return value.map((v) => substitute(v, fill, seen));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, fill, seen)]));
  return value;
}

interface TaskState {
  readonly name: string;
  readonly resource: string;
  readonly functionName?: string;
  readonly retry: ReadonlyArray<{ IntervalSeconds?: number }>;
}

/** Every state of the definition, nested Map / Parallel states included. */
function walkStates(
  definition: { States?: Record<string, Record<string, unknown>> },
  visit: (name: string, state: Record<string, unknown>) => void,
): void {
  for (const [name, state] of Object.entries(definition.States ?? {})) {
    visit(name, state);
    const nested = (state['ItemProcessor'] ?? state['Iterator']) as typeof definition | undefined;
    if (nested) walkStates(nested, visit);
    for (const branch of (state['Branches'] as Array<typeof definition> | undefined) ?? [])
      walkStates(branch, visit);
  }
}

/** Step Functions' view of a Glue job run (what `.sync` returns / puts in the Cause). */
export interface GlueJobRun {
  readonly Id: string;
  readonly JobName: string;
  readonly JobRunState: 'SUCCEEDED' | 'FAILED';
  readonly StartedOn: number;
  readonly CompletedOn: number;
  /** Seconds. */
  readonly ExecutionTime: number;
  readonly ErrorMessage?: string;
  readonly Arguments: Record<string, string>;
  readonly Attempt: number;
}

/** The error Step Functions raises for a FAILED job run: `States.TaskFailed`, JobRun JSON as cause. */
export class TaskFailedError extends Error {
  constructor(readonly jobRun: GlueJobRun) {
    super(JSON.stringify(jobRun));
    this.name = 'States.TaskFailed';
  }
}

/** What a Lambda function error looks like to Step Functions: its type as Error, JSON as Cause. */
class LambdaFunctionError extends Error {
  constructor(error: unknown) {
    const { name, message } = describeError(error);
    super(JSON.stringify({ errorType: name, errorMessage: message, trace: [] }));
    this.name = name;
  }
}

export class LocalRuntime {
  readonly definition: StateMachineDefinition;
  private readonly machine: StateMachine;
  private readonly handlers: Record<string, (input: Json) => Promise<Json>> = {};
  private readonly retryOverrides: Record<string, number[]> = {};
  private readonly waitOverrides: Record<string, number> = {};
  private readonly running = new Set<Promise<ExecutionHistory>>();
  private readonly queue: Array<() => void> = [];
  private active = 0;

  constructor(private readonly options: LocalRuntimeOptions) {
    const raw =
      options.definition === undefined
        ? (JSON.parse(readFileSync(DEFAULT_DEFINITION_PATH, 'utf8')) as Json)
        : typeof options.definition === 'string'
          ? (JSON.parse(options.definition) as Json)
          : (options.definition as unknown as Json);
    const missing = new Set<string>();
    const used = new Set<string>();
    const functionPlaceholders = new Map<string, string>();
    const definition = substitute(
      raw,
      (name) => {
        if (name.endsWith('FunctionArn')) {
          const arn = functionArn(functionFolder(name));
          functionPlaceholders.set(arn, name);
          return arn;
        }
        const value = options.placeholders[name];
        if (value === undefined) missing.add(name);
        return value ?? '';
      },
      used,
    ) as unknown as StateMachineDefinition;
    if (missing.size > 0)
      throw new LocalRuntimeError(
        `the state machine uses placeholders the local runtime has no value for: ${[...missing].map((m) => `\${${m}}`).join(', ')}`,
      );
    this.definition = definition;

    const tasks: TaskState[] = [];
    const scale = options.timeScale ?? 0;
    walkStates(definition as unknown as { States: Record<string, Record<string, unknown>> }, (name, s) => {
      const retry = (s['Retry'] as TaskState['retry'] | undefined) ?? [];
      if (retry.length > 0)
        this.retryOverrides[name] = retry.map((r) => (r.IntervalSeconds ?? 1) * 1000 * scale);
      if (s['Type'] === 'Wait') this.waitOverrides[name] = Number(s['Seconds'] ?? 0) * 1000 * scale;
      if (s['Type'] !== 'Task') return;
      const params = s['Parameters'] as Record<string, unknown> | undefined;
      const fn = params?.['FunctionName'];
      tasks.push({
        name,
        resource: String(s['Resource']),
        retry,
        ...(typeof fn === 'string' ? { functionName: fn } : {}),
      });
    });

    const problems: string[] = [];
    for (const task of tasks) {
      if (this.handlers[task.name]) {
        problems.push(`two Task states are named "${task.name}"`);
        continue;
      }
      if (GLUE_SYNC.test(task.resource)) {
        this.handlers[task.name] = (input) => this.runGlue(input);
        continue;
      }
      const target = LAMBDA_INVOKE.test(task.resource) ? task.functionName : task.resource;
      const placeholder = target ? functionPlaceholders.get(target) : undefined;
      const lambda = placeholder ? options.lambdas[placeholder] : undefined;
      if (!placeholder || !lambda) {
        problems.push(
          `Task "${task.name}" calls ${target ?? task.resource}${placeholder ? ` (\${${placeholder}}: no local handler for functions/${functionFolder(placeholder)})` : ''}`,
        );
        continue;
      }
      this.handlers[task.name] = LAMBDA_INVOKE.test(task.resource)
        ? async (input) => {
            const payload = (input as { Payload?: unknown } | null)?.Payload ?? {};
            let result: unknown;
            try {
              result = await lambda(payload);
            } catch (error) {
              throw new LambdaFunctionError(error);
            }
            return { ExecutedVersion: '$LATEST', Payload: (result ?? null) as Json, StatusCode: 200 };
          }
        : async (input) => {
            try {
              return ((await lambda(input)) ?? null) as Json;
            } catch (error) {
              throw new LambdaFunctionError(error);
            }
          };
    }
    if (problems.length > 0)
      throw new LocalRuntimeError(`the local runtime cannot run this state machine: ${problems.join('; ')}`);
    this.machine = new StateMachine(definition, { validationOptions: { checkArn: false } });
  }

  private async runGlue(input: Json): Promise<Json> {
    const params = (input ?? {}) as { JobName?: string; Arguments?: Record<string, string> };
    const jobName = params.JobName ?? 'unknown';
    const args = params.Arguments ?? {};
    const started = Date.now();
    const run = (state: GlueJobRun['JobRunState'], id: string, error?: unknown): GlueJobRun => {
      const completed = Date.now();
      return {
        Id: id,
        JobName: jobName,
        JobRunState: state,
        StartedOn: started,
        CompletedOn: completed,
        ExecutionTime: Math.round((completed - started) / 1000),
        ...(error !== undefined
          ? { ErrorMessage: `${describeError(error).name}: ${describeError(error).message}` }
          : {}),
        Arguments: args,
        Attempt: 0,
      };
    };
    try {
      const outcome = await this.options.glue(jobName, args);
      return run('SUCCEEDED', outcome.jobRunId) as unknown as Json;
    } catch (error) {
      throw new TaskFailedError(run('FAILED', `jr_local_failed_${started}`, error));
    }
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
    const execution = this.machine.run(input as unknown as Json, {
      overrides: {
        taskResourceLocalHandlers: this.handlers,
        retryIntervalOverrides: this.retryOverrides,
        waitTimeOverrides: this.waitOverrides,
      },
      context: {
        Execution: {
          Id: record.executionArn,
          Name: record.name,
          Input: input as unknown as Json,
          StartTime: history.startedAt,
          RoleArn: 'arn:aws:iam::000000000000:role/local',
        },
        StateMachine: { Id: LOCAL_STATE_MACHINE_ARN, Name: 'medallion-pipeline' },
      },
    });
    const open = new Map<string, StateVisit>();
    const cause = (c: unknown): string => (typeof c === 'string' ? c : JSON.stringify(c));
    for await (const event of execution.eventLogs) {
      const at = new Date(event.timestamp).toISOString();
      switch (event.type) {
        case 'StateEntered': {
          const visit: StateVisit = {
            name: event.state.name,
            type: event.state.type,
            enteredAt: at,
            status: 'running',
            retries: 0,
          };
          history.states.push(visit);
          open.set(event.state.name, visit);
          break;
        }
        case 'StateExited': {
          const visit = open.get(event.state.name);
          if (visit) {
            visit.exitedAt = at;
            visit.durationMs = event.timestamp - Date.parse(visit.enteredAt);
            if (visit.status === 'running') visit.status = 'succeeded';
            if (event.state.output !== undefined) visit.output = event.state.output;
          }
          break;
        }
        case 'StateRetried': {
          const visit = open.get(event.state.name);
          if (visit) visit.retries++;
          break;
        }
        case 'StateFailed':
        case 'StateCaught': {
          const visit = open.get(event.state.name);
          if (visit) {
            if (event.type === 'StateFailed') {
              visit.error = event.Error;
              visit.cause = cause(event.Cause);
            }
            visit.status = event.type === 'StateCaught' ? 'caught' : 'failed';
            visit.exitedAt = at;
            visit.durationMs = event.timestamp - Date.parse(visit.enteredAt);
          }
          break;
        }
        case 'ExecutionFailed':
          history.error = event.Error;
          history.cause = cause(event.Cause);
          break;
        default:
          break;
      }
      if (event.type === 'StateEntered' || event.type === 'StateExited') save();
    }
    try {
      history.output = await execution.result;
      history.status = 'SUCCEEDED';
    } catch (error) {
      history.status =
        (error as Error).name === 'ExecutionTimeoutError'
          ? 'TIMED_OUT'
          : (error as Error).name === 'ExecutionAbortedError'
            ? 'ABORTED'
            : 'FAILED';
      if (!history.error) {
        history.error = (error as Error).name;
        history.cause = (error as Error).message;
      }
    }
    history.stoppedAt = new Date().toISOString();
    history.durationMs = Date.parse(history.stoppedAt) - Date.parse(history.startedAt);
    save();
    return history;
  }
}
