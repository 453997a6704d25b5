import type { Stage } from './datasets';
import { GLUE_ARGS } from './glue-args';

/**
 * Finding this execution's run of a stage's Glue job: the rule of the fault-only adopt path (docs/pipeline.md,
 * "Ambiguous Glue starts"). StartJobRun takes no idempotency token, so after an ambiguous start error
 * (`Glue.InternalServiceException`, `Glue.OperationTimeoutException`) the run, if one started, is
 * recognised by its arguments: `--run_id` is the execution name and `--stage` the stage.
 * One rule for the AWS adapter (GetJobRuns) and the local twin.
 */

/** A Glue job run as GetJobRuns / GetJobRun report it (the fields the adopt path reads). */
export interface JobRunSummary {
  readonly Id: string;
  readonly JobName: string;
  readonly JobRunState: string;
  readonly Arguments?: Readonly<Record<string, string>>;
  /** Epoch milliseconds. */
  readonly StartedOn?: number;
  /** Why a run failed (GetJobRun). */
  readonly ErrorMessage?: string;
}

/** Glue's JobRunState values after which a run changes no more. */
export const TERMINAL_JOB_RUN_STATES: ReadonlySet<string> = new Set([
  'SUCCEEDED',
  'FAILED',
  'STOPPED',
  'TIMEOUT',
  'ERROR',
  'EXPIRED',
]);

export const isTerminalJobRunState = (state: string): boolean => TERMINAL_JOB_RUN_STATES.has(state);

/** Is this run the one the execution `runId` started for `stage`? */
export const isStageRun = (run: JobRunSummary, runId: string, stage: Stage): boolean =>
  run.Arguments?.[GLUE_ARGS.runId] === runId && run.Arguments?.[GLUE_ARGS.stage] === stage;

/**
 * This execution's run of the stage among `runs`, or undefined. Should several match (a start that was
 * retried by hand), the latest started is the one to follow.
 */
export function findStageRun(
  runs: Iterable<JobRunSummary>,
  runId: string,
  stage: Stage,
): JobRunSummary | undefined {
  let found: JobRunSummary | undefined;
  for (const run of runs) {
    if (!isStageRun(run, runId, stage)) continue;
    if (!found || (run.StartedOn ?? 0) > (found.StartedOn ?? 0)) found = run;
  }
  return found;
}

/**
 * What an adopted run's state means to the state machine, as `.sync` would have reported it: SUCCEEDED
 * and STOPPED end the wait with the run as a result (Record fails a STOPPED run), FAILED, TIMEOUT,
 * ERROR and EXPIRED fail it, any other state (STARTING, RUNNING, STOPPING, WAITING) keeps it waiting.
 */
export function adoptedRunOutcome(state: string): 'running' | 'ended' | 'failed' {
  if (!isTerminalJobRunState(state)) return 'running';
  return state === 'SUCCEEDED' || state === 'STOPPED' ? 'ended' : 'failed';
}
