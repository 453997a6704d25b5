import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { GlueJobRunFinder } from '../../shared/aws/glue-job-runs';
import {
  adoptRun,
  type AdoptRunDeps,
  type AdoptedRun,
  type FindRunResult,
} from '../../shared/core/adopt-run';
import { createLogger } from '../../shared/logger';
import type { JobRunFinder } from '../../shared/ports';

/**
 * adopt-run: the fault-only adopt path of an ambiguous Glue start (docs/pipeline.md, "Ambiguous Glue starts").
 *
 * Input: { action: 'find', stage, jobName, runId: $$.Execution.Name, startedAfter: $$.Execution.StartTime }
 * Output: { found: true, jobRun: { Id, JobName, JobRunState } } | { found: false, jobRun: null }
 *
 * Input: { action: 'wait', stage, jobName, jobRunId }
 * Output: { Id, JobName, JobRunState } once the run ended SUCCEEDED or STOPPED (as `.sync` returns it).
 * Errors: JobRunNotFinishedError while it runs (the state machine retries it: the poll),
 * JobRunFailedError when it ended FAILED, TIMEOUT, ERROR or EXPIRED.
 */

const logger = createLogger('adopt-run');

/** Env: none (GetJobRuns / GetJobRun on the stack's Glue jobs). */
export const REQUIRED_ENV = [] as const;

/** What adopt-run runs against: Glue, or the runs the local Glue started. */
export interface AdoptRunWorld {
  readonly runs: JobRunFinder;
  readonly log: AdoptRunDeps['log'];
}

/** The one wiring of adopt-run, used by the Lambda entry and by the local runtime. */
export const adoptRunDeps = (world: AdoptRunWorld): AdoptRunDeps => ({ runs: world.runs, log: world.log });

let awsDeps: AdoptRunDeps | undefined;
const defaultDeps = (): AdoptRunDeps =>
  (awsDeps ??= adoptRunDeps({ runs: new GlueJobRunFinder(), log: logger }));

export const createHandler = (deps: () => AdoptRunDeps = defaultDeps) =>
  middy(async (event: unknown): Promise<FindRunResult | AdoptedRun> => adoptRun(event, deps())).use(
    injectLambdaContext(logger, { resetKeys: true }),
  );

export const handler = createHandler();
