import type { Stage } from '../domain/datasets';
import { adoptedRunOutcome, type JobRunSummary } from '../domain/job-runs';
import { JobRunFailedError, JobRunNotFinishedError } from '../domain/pipeline-errors';
import { STAGES } from '../domain/datasets';
import { MedallionError } from '../domain/errors';
import type { JobRunFinder, Log } from '../ports';

/**
 * The adopt path of an ambiguous Glue start (docs/pipeline.md, "Ambiguous Glue starts"): StartJobRun failed
 * with an error after which a run may have started (it takes no idempotency token). *Find <stage>
 * run* looks for this execution's run of the stage (`find`); when there is one, *Wait for <stage>
 * run* follows it to its end (`wait`, retried by the state machine while it runs) instead of
 * starting another; when there is none, the stage is started once more.
 */

/** The adopt function was called with an event it cannot read. */
export class InvalidAdoptRequestError extends MedallionError {
  readonly retryable = false;
}

export interface FindRunRequest {
  readonly action: 'find';
  readonly stage: Stage;
  readonly jobName: string;
  /** `$$.Execution.Name`: the `--run_id` of the execution's runs. */
  readonly runId: string;
  /** `$$.Execution.StartTime`: no run of this execution started before it. */
  readonly startedAfter?: string;
}

export interface WaitRunRequest {
  readonly action: 'wait';
  readonly stage: Stage;
  readonly jobName: string;
  readonly jobRunId: string;
}

export type AdoptRunRequest = FindRunRequest | WaitRunRequest;

/** A run as the state machine passes it on (the Glue Tasks' ResultSelector shape). */
export type AdoptedRun = Pick<JobRunSummary, 'Id' | 'JobName' | 'JobRunState'>;

export type FindRunResult =
  { readonly found: true; readonly jobRun: AdoptedRun } | { readonly found: false; readonly jobRun: null };

export interface AdoptRunDeps {
  readonly runs: JobRunFinder;
  readonly log: Log;
}

const text = (event: Record<string, unknown>, field: string): string => {
  const v = event[field];
  if (typeof v !== 'string' || v === '')
    throw new InvalidAdoptRequestError(
      `Invalid adopt-run event: ${field}: expected a non-empty string, got ${JSON.stringify(v)}`,
    );
  return v;
};

function parse(raw: unknown): AdoptRunRequest {
  const event = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const stage = event['stage'];
  if (!STAGES.includes(stage as Stage))
    throw new InvalidAdoptRequestError(
      `Invalid adopt-run event: stage: expected one of ${STAGES.join(', ')}, got ${JSON.stringify(stage)}`,
    );
  const jobName = text(event, 'jobName');
  if (event['action'] === 'find') {
    const startedAfter = event['startedAfter'];
    if (
      startedAfter !== undefined &&
      (typeof startedAfter !== 'string' || Number.isNaN(Date.parse(startedAfter)))
    )
      throw new InvalidAdoptRequestError(
        `Invalid adopt-run event: startedAfter: expected a timestamp, got ${JSON.stringify(startedAfter)}`,
      );
    return {
      action: 'find',
      stage: stage as Stage,
      jobName,
      runId: text(event, 'runId'),
      ...(typeof startedAfter === 'string' ? { startedAfter } : {}),
    };
  }
  if (event['action'] === 'wait')
    return { action: 'wait', stage: stage as Stage, jobName, jobRunId: text(event, 'jobRunId') };
  throw new InvalidAdoptRequestError(
    `Invalid adopt-run event: action: expected "find" or "wait", got ${JSON.stringify(event['action'])}`,
  );
}

const summary = (run: JobRunSummary): AdoptedRun => ({
  Id: run.Id,
  JobName: run.JobName,
  JobRunState: run.JobRunState,
});

export async function adoptRun(raw: unknown, deps: AdoptRunDeps): Promise<FindRunResult | AdoptedRun> {
  const request = parse(raw);
  if (request.action === 'find') {
    const run = await deps.runs.findStageRun({
      jobName: request.jobName,
      runId: request.runId,
      stage: request.stage,
      ...(request.startedAfter ? { startedAfter: new Date(request.startedAfter) } : {}),
    });
    deps.log.info(
      run
        ? 'Found the run of the ambiguous start: adopting it'
        : 'The ambiguous start started no run: starting the stage once more',
      {
        runId: request.runId,
        stage: request.stage,
        jobName: request.jobName,
        ...(run ? { jobRunId: run.Id, state: run.JobRunState } : {}),
      },
    );
    return run ? { found: true, jobRun: summary(run) } : { found: false, jobRun: null };
  }
  const run = await deps.runs.getJobRun({ jobName: request.jobName, jobRunId: request.jobRunId });
  switch (adoptedRunOutcome(run.JobRunState)) {
    case 'running':
      throw new JobRunNotFinishedError(run.JobName, run.Id, run.JobRunState);
    case 'failed':
      throw new JobRunFailedError(run.JobName, run.Id, run.JobRunState, run.ErrorMessage);
    case 'ended':
      deps.log.info('Adopted run ended', {
        stage: request.stage,
        jobName: run.JobName,
        jobRunId: run.Id,
        state: run.JobRunState,
      });
      return summary(run);
  }
}
