import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { bindPlaceholders, functionFolderOf, functionPlaceholder } from '../shared/domain/asl-placeholders';
import {
  ENDED_EXECUTION_TARGET,
  ROUTED_END_STATUSES,
  UNCATCHABLE_ERRORS,
  type RoutedEndStatus,
} from '../shared/domain/execution-end';
import { describeError, MedallionError } from '../shared/domain/errors';
import { ADOPTED_RUN_POLL_ERROR } from '../shared/domain/horizon';
import { findStageRun, type JobRunSummary } from '../shared/domain/job-runs';
import type { FindStageRunRequest, JobRunFinder } from '../shared/ports';
import { DEFAULT_DEFINITION_PATH, readDefinition } from './definition';
import type { ExecutionStatus, StateVisit } from './history';

/**
 * The one way to run the pipeline's ASL on one machine, used by the local runtime
 * (local/runtime.ts), the state-machine tests and the benchmark. It binds the `${...}`
 * placeholders (shared/domain/asl-placeholders.ts, the grammar the stack binds too), maps every Task
 * by what it calls — `lambda:invoke` of `${XxxFunctionArn}` to a local handler of functions/xxx,
 * `glue:startJobRun.sync` to a pluggable Glue task (DuckDB, Spark, a test fake) — never by state
 * name, scales Retry and Wait intervals (0 by default: no waiting locally), honours every Task's
 * TimeoutSeconds as AWS does, and records the execution as the console shows it (states visited,
 * retries, error and cause, billed transitions).
 */

export { DEFAULT_DEFINITION_PATH, readDefinition };

/** The shortest wait between two polls of an adopted Glue run locally (shared/domain/horizon.ts). */
export const LOCAL_POLL_MS = 100;

/** The ASL has a Task this runner cannot run, or a placeholder it cannot fill. */
export class LocalRuntimeError extends MedallionError {
  readonly retryable = false;
}

/** A Lambda handler as a Task calls it (event → result). */
export type LocalLambda = (event: unknown) => Promise<unknown>;

/** The Parameters a `glue:startJobRun.sync` Task passes. */
export interface GlueStartJobRun {
  readonly JobName: string;
  readonly Arguments: Record<string, string>;
  /** Minutes (Glue's own run timeout). */
  readonly Timeout?: number;
}

/** Step Functions' view of a Glue job run (what `.sync` returns / puts in the Cause). */
export interface GlueJobRun {
  readonly Id: string;
  readonly JobName: string;
  readonly JobRunState: string;
  readonly StartedOn?: number;
  readonly CompletedOn?: number;
  /** Seconds. */
  readonly ExecutionTime?: number;
  readonly ErrorMessage?: string;
  readonly Arguments?: Record<string, string>;
  readonly Attempt?: number;
}

/**
 * What runs a `glue:startJobRun.sync` Task: resolves with the ended run (SUCCEEDED, or STOPPED, which
 * `.sync` returns as a result) or throws the error Step Functions raises (`States.TaskFailed` with the
 * JobRun as cause, `Glue.<Code>` for an API error). Pluggable: see `glueEngineTask`.
 */
export type GlueSyncTask = (params: GlueStartJobRun) => Promise<GlueJobRun>;

/** The error Step Functions raises for a run that ended FAILED / TIMEOUT / ERROR: JobRun JSON as cause. */
export class TaskFailedError extends Error {
  constructor(readonly jobRun: GlueJobRun) {
    super(JSON.stringify(jobRun));
    this.name = 'States.TaskFailed';
  }
}

/** An error as Step Functions names it (`Glue.ThrottlingException`, `States.TaskFailed`...). */
export class StatesError extends Error {
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}

/** A Glue engine: runs the job with these arguments to its end, resolves with its run id or throws. */
export type GlueEngine = (jobName: string, args: Record<string, string>) => Promise<{ jobRunId: string }>;

/**
 * The local twin of GetJobRuns: the runs the local Glue started (running ones included), so the adopt
 * path finds them by `--run_id` and `--stage` with the same rule as on AWS.
 */
export class LocalJobRuns implements JobRunFinder {
  private readonly runs = new Map<string, JobRunSummary>();

  /** Records a run (again, with its new state, when it changes). */
  record(run: JobRunSummary): void {
    this.runs.set(`${run.JobName}\u0000${run.Id}`, run);
  }

  async findStageRun(request: FindStageRunRequest): Promise<JobRunSummary | undefined> {
    const after = request.startedAfter?.getTime() ?? Number.NEGATIVE_INFINITY;
    const ofJob = [...this.runs.values()].filter(
      (run) => run.JobName === request.jobName && (run.StartedOn ?? after) >= after,
    );
    return findStageRun(ofJob, request.runId, request.stage);
  }

  async getJobRun(request: { readonly jobName: string; readonly jobRunId: string }): Promise<JobRunSummary> {
    const run = this.runs.get(`${request.jobName}\u0000${request.jobRunId}`);
    if (!run)
      throw new StatesError(
        'EntityNotFoundException',
        `Job run ${request.jobRunId} of ${request.jobName} not found`,
      );
    return run;
  }
}

/**
 * `.sync` semantics over an engine: its failure becomes `States.TaskFailed` with the FAILED JobRun.
 * With `runs`, each run is recorded there (RUNNING, then its end), for the local GetJobRuns.
 */
let localRunCount = 0;

export const glueEngineTask =
  (engine: GlueEngine, runs?: LocalJobRuns): GlueSyncTask =>
  async (params) => {
    const jobName = params.JobName;
    const args = params.Arguments ?? {};
    const started = Date.now();
    const run = (state: string, id: string, error?: unknown): GlueJobRun => {
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
    const provisional = `jr_local_${started}_${++localRunCount}`;
    runs?.record({
      Id: provisional,
      JobName: jobName,
      JobRunState: 'RUNNING',
      Arguments: args,
      StartedOn: started,
    });
    const ended = (jobRun: GlueJobRun): GlueJobRun => {
      runs?.record({ ...jobRun, Id: provisional });
      return jobRun;
    };
    try {
      const outcome = await engine(jobName, args);
      return ended(run('SUCCEEDED', outcome.jobRunId));
    } catch (error) {
      throw new TaskFailedError(ended(run('FAILED', `jr_local_failed_${started}`, error)));
    }
  };

/** What a Lambda function error looks like to Step Functions: its type as Error, JSON as Cause. */
export class LambdaFunctionError extends Error {
  constructor(error: unknown) {
    const { name, message } = describeError(error);
    super(JSON.stringify({ errorType: name, errorMessage: message, trace: [] }));
    this.name = name;
  }
}

export interface AslRunnerOptions {
  /** The ASL definition, as text or parsed JSON (default: read DEFAULT_DEFINITION_PATH). */
  readonly definition?: string | object;
  /** Handlers by placeholder name without `${}`, e.g. `RecordStageFunctionArn`. */
  readonly lambdas: Readonly<Record<string, LocalLambda>>;
  readonly glue: GlueSyncTask;
  /** Values of the other `${Name}` placeholders (LakeBucket, ArtifactsLocation...). */
  readonly placeholders?: Readonly<Record<string, string>>;
  /**
   * Retry intervals and fixed Wait states are multiplied by this (default 0: no waiting locally); a
   * Wait on `SecondsPath` (the settle window) waits the seconds the execution names.
   */
  readonly timeScale?: number;
}

export interface ExecutionContextValues {
  readonly name: string;
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly startTime?: string;
}

/** An execution as the console shows it. */
export interface AslExecution {
  status: Exclude<ExecutionStatus, 'RUNNING'> | 'RUNNING';
  output?: unknown;
  error?: string;
  cause?: string;
  readonly states: StateVisit[];
  /** State names in the order they were entered. */
  readonly path: string[];
  /** State names, once per retry. */
  readonly retries: string[];
  /** Billed state transitions: every state entered plus every retry (AWS-FACTS). */
  transitions: number;
  /**
   * The rule on ended executions (the stack's EventBridge rule, twinned): what finish-run did with
   * this execution's status change, or the error it threw (on AWS the rule retries it for a day).
   */
  endedRule?: { readonly result: unknown } | { readonly error: string; readonly cause: string };
}

/** EventBridge's "Step Functions Execution Status Change" for an ended execution. */
export function statusChangeEvent(
  execution: Pick<AslExecution, 'status' | 'error' | 'cause'>,
  context: ExecutionContextValues,
  input: unknown,
) {
  return {
    version: '0',
    'detail-type': 'Step Functions Execution Status Change' as const,
    source: 'aws.states',
    resources: [context.executionArn],
    detail: {
      executionArn: context.executionArn,
      stateMachineArn: context.stateMachineArn,
      name: context.name,
      status: execution.status,
      input: JSON.stringify(input ?? null),
      output: null,
      error: execution.error ?? null,
      cause: execution.cause ?? null,
    },
  };
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type StateDef = Record<string, unknown>;

const GLUE_SYNC = /^arn:aws:states:::glue:startJobRun\.sync(:2)?$/;
const LAMBDA_INVOKE = /^arn:aws:states:::lambda:invoke(\.waitForTaskToken)?$/;
const functionArn = (folder: string) => `arn:aws:lambda:local:000000000000:function:${folder}`;
/**
 * A Task without TimeoutSeconds runs unbounded on AWS (99999999 s); Node's timers stop at 2^31-1 ms
 * (a longer one fires at once), so locally it gets the longest one Node has instead of
 * aws-local-stepfunctions' 60 s default, and longer timeouts are capped to it.
 */
export const UNBOUNDED_TASK_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/** Every state of the definition, nested Map / Parallel states included. */
export function walkStates(
  definition: { States?: Record<string, StateDef> },
  visit: (name: string, state: StateDef) => void,
): void {
  for (const [name, state] of Object.entries(definition.States ?? {})) {
    visit(name, state);
    const nested = (state['ItemProcessor'] ?? state['Iterator']) as typeof definition | undefined;
    if (nested) walkStates(nested, visit);
    for (const branch of (state['Branches'] as Array<typeof definition> | undefined) ?? [])
      walkStates(branch, visit);
  }
}

export class AslRunner {
  readonly definition: StateMachineDefinition;
  private readonly machine: StateMachine;
  private readonly handlers: Record<string, (input: Json) => Promise<Json>> = {};
  private readonly retryOverrides: Record<string, number[]> = {};
  private readonly waitOverrides: Record<string, number> = {};
  private readonly lambdas: Readonly<Record<string, LocalLambda>>;

  constructor(options: AslRunnerOptions) {
    this.lambdas = options.lambdas;
    const missing = new Set<string>();
    const functionPlaceholders = new Map<string, string>();
    const definition = bindPlaceholders<never>(
      readDefinition(options.definition),
      (name) => {
        const folder = functionFolderOf(name);
        if (folder) {
          functionPlaceholders.set(functionArn(folder), name);
          return [functionArn(folder)];
        }
        const value = options.placeholders?.[name];
        if (value === undefined) missing.add(name);
        return [value ?? ''];
      },
      (parts) => parts.join(''),
    ) as { States: Record<string, StateDef> };
    if (missing.size > 0)
      throw new LocalRuntimeError(
        `the state machine uses placeholders the local runtime has no value for: ${[...missing].map((m) => `\${${m}}`).join(', ')}`,
      );

    const scale = options.timeScale ?? 0;
    const problems: string[] = [];
    walkStates(definition, (name, s) => {
      const retry =
        (s['Retry'] as Array<{ IntervalSeconds?: number; ErrorEquals?: string[] }> | undefined) ?? [];
      // A poll of an adopted Glue run waits for real work, not a backoff: it never drops below
      // LOCAL_POLL_MS, or a scale of 0 would spend every poll before the run could end.
      if (retry.length > 0)
        this.retryOverrides[name] = retry.map((r) => {
          const ms = (r.IntervalSeconds ?? 1) * 1000 * scale;
          return r.ErrorEquals?.includes(ADOPTED_RUN_POLL_ERROR) ? Math.max(ms, LOCAL_POLL_MS) : ms;
        });
      // A fixed Wait is scaled like the retries; a Wait whose seconds the execution names (the
      // settle window, `SecondsPath`) waits them, as on AWS: it is the dataset's data, not a policy.
      if (s['Type'] === 'Wait' && s['SecondsPath'] === undefined)
        this.waitOverrides[name] = Number(s['Seconds'] ?? 0) * 1000 * scale;
      if (s['Type'] !== 'Task') return;
      if (s['TimeoutSeconds'] === undefined && s['TimeoutSecondsPath'] === undefined)
        s['TimeoutSeconds'] = UNBOUNDED_TASK_SECONDS;
      if (typeof s['TimeoutSeconds'] === 'number')
        s['TimeoutSeconds'] = Math.min(s['TimeoutSeconds'], UNBOUNDED_TASK_SECONDS);
      if (this.handlers[name]) {
        problems.push(`two Task states are named "${name}"`);
        return;
      }
      const resource = String(s['Resource']);
      if (GLUE_SYNC.test(resource)) {
        this.handlers[name] = async (input) =>
          (await options.glue(input as unknown as GlueStartJobRun)) as unknown as Json;
        return;
      }
      const invoke = LAMBDA_INVOKE.test(resource);
      const fn = (s['Parameters'] as StateDef | undefined)?.['FunctionName'];
      const target = invoke ? (typeof fn === 'string' ? fn : undefined) : resource;
      const placeholder = target ? functionPlaceholders.get(target) : undefined;
      const lambda = placeholder ? options.lambdas[placeholder] : undefined;
      if (!placeholder || !lambda) {
        problems.push(
          `Task "${name}" calls ${target ?? resource}${placeholder ? ` (\${${placeholder}}: no local handler for functions/${functionFolderOf(placeholder)})` : ''}`,
        );
        return;
      }
      this.handlers[name] = async (input) => {
        const event = invoke ? ((input as { Payload?: unknown } | null)?.Payload ?? {}) : input;
        let result: unknown;
        try {
          result = await lambda(event);
        } catch (error) {
          throw new LambdaFunctionError(error);
        }
        return invoke
          ? { ExecutedVersion: '$LATEST', Payload: (result ?? null) as Json, StatusCode: 200 }
          : ((result ?? null) as Json);
      };
    });
    const top = definition as { TimeoutSeconds?: number };
    if (typeof top.TimeoutSeconds === 'number')
      top.TimeoutSeconds = Math.min(top.TimeoutSeconds, UNBOUNDED_TASK_SECONDS);
    if (problems.length > 0)
      throw new LocalRuntimeError(`the local runtime cannot run this state machine: ${problems.join('; ')}`);
    this.definition = definition as unknown as StateMachineDefinition;
    this.machine = new StateMachine(this.definition, { validationOptions: { checkArn: false } });
  }

  /** Runs one execution to its end; `onChange` sees the record whenever a state is entered or exited. */
  async run(
    input: unknown,
    context: ExecutionContextValues,
    onChange?: (execution: AslExecution) => void,
  ): Promise<AslExecution> {
    const record: AslExecution = {
      status: 'RUNNING',
      states: [],
      path: [],
      retries: [],
      transitions: 0,
    };
    const execution = this.machine.run(input as Json, {
      overrides: {
        taskResourceLocalHandlers: this.handlers,
        retryIntervalOverrides: this.retryOverrides,
        waitTimeOverrides: this.waitOverrides,
      },
      context: {
        Execution: {
          Id: context.executionArn,
          Name: context.name,
          Input: input as Json,
          StartTime: context.startTime ?? new Date().toISOString(),
          RoleArn: 'arn:aws:iam::000000000000:role/local',
        },
        StateMachine: { Id: context.stateMachineArn, Name: context.stateMachineArn.split(':').pop() ?? '' },
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
          record.states.push(visit);
          record.path.push(event.state.name);
          record.transitions++;
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
          record.retries.push(event.state.name);
          record.transitions++;
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
        case 'ExecutionFailed': {
          record.error = event.Error;
          record.cause = cause(event.Cause);
          // AWS names the state an uncaught error happened in, in its cause; so does the twin.
          const failed = record.states.findLast((v) => v.status === 'failed');
          if ((UNCATCHABLE_ERRORS as readonly string[]).includes(event.Error) && failed)
            record.cause = `An error occurred while executing the state '${failed.name}'. ${record.cause}`;
          break;
        }
        default:
          break;
      }
      if (event.type === 'StateEntered' || event.type === 'StateExited') onChange?.(record);
    }
    try {
      record.output = await execution.result;
      record.status = 'SUCCEEDED';
    } catch (error) {
      const name = (error as Error).name;
      record.status =
        name === 'ExecutionTimeoutError'
          ? 'TIMED_OUT'
          : name === 'ExecutionAbortedError'
            ? 'ABORTED'
            : 'FAILED';
      if (!record.error) {
        record.error = record.status === 'TIMED_OUT' ? 'States.Timeout' : name;
        record.cause = (error as Error).message;
      }
    }
    await this.routeEnded(record, context, input);
    return record;
  }

  /**
   * The stack's rule on ended executions, twinned: a FAILED, ABORTED or TIMED_OUT execution's status
   * change goes to finish-run (releases its lease; pages for one that skipped its failure path).
   */
  private async routeEnded(record: AslExecution, context: ExecutionContextValues, input: unknown) {
    if (!(ROUTED_END_STATUSES as readonly string[]).includes(record.status)) return;
    const target = this.lambdas[functionPlaceholder(ENDED_EXECUTION_TARGET)];
    if (!target) return;
    try {
      record.endedRule = {
        result: await target(
          statusChangeEvent(record as AslExecution & { status: RoutedEndStatus }, context, input),
        ),
      };
    } catch (error) {
      const { name, message } = describeError(error);
      record.endedRule = { error: name, cause: message };
    }
  }
}
