import { checkExecutionBudget } from '../shared/domain/run-slots';
import { logGroupLogicalId, type BuildParams, type Cfn, type Resources } from './context';

/**
 * Back-pressure parameters checked at packaging (docs/deploy.md "Back-pressure"): the Glue jobs'
 * MaxConcurrentRuns add up to at most `glueRunBudget`, which must stay below `glueRunQuota`, the
 * account's concurrent job runs. Runs over a limit wait in Glue's queue (job run queuing). The
 * landing side is bounded by the SQS event source's MaximumConcurrency (serverless.yml), and the
 * executions in flight by `executionBudget` (shared/domain/run-slots.ts): at most each job's
 * MaxConcurrentRuns, its default, since an execution runs one Glue stage at a time, so no run of a
 * stage within the budget ever waits on its job's limit.
 */

/** MaxConcurrentRuns of each of `jobCount` Glue jobs. */
export function runsPerJob(p: Pick<BuildParams, 'glueRunBudget' | 'glueRunQuota'>, jobCount: number): number {
  const runs = Math.floor(p.glueRunBudget / Math.max(1, jobCount));
  if (!(p.glueRunBudget < p.glueRunQuota) || runs < 1) {
    throw new Error(
      `glueRunBudget ${p.glueRunBudget}: must be below glueRunQuota ${p.glueRunQuota} (the account's concurrent Glue job runs) and at least the number of Glue jobs (${jobCount})`,
    );
  }
  return runs;
}

/**
 * The executions in flight at most (on-landing's and finish-run's EXECUTION_BUDGET): the parameter,
 * or, when it is empty, each Glue job's MaxConcurrentRuns; never above it.
 */
export function executionBudget(
  p: Pick<BuildParams, 'glueRunBudget' | 'glueRunQuota' | 'executionBudget'>,
  jobCount: number,
): number {
  const perJob = runsPerJob(p, jobCount);
  if (p.executionBudget.trim() === '') return perJob;
  const budget = checkExecutionBudget(p.executionBudget);
  if (budget > perJob)
    throw new Error(
      `executionBudget ${budget}: must be at most each Glue job's MaxConcurrentRuns (${perJob} = glueRunBudget ${p.glueRunBudget} / ${jobCount} jobs), or executions would wait in Glue's queue past their Task timeouts`,
    );
  return budget;
}

/** The metrics of runs waiting for an execution slot (from on-landing's log line), in the stage's namespace. */
export const WAITING_METRICS = {
  /** Runs that found every slot held (one per run per delivery: their messages come back). */
  waiting: 'RunsWaitingForSlot',
  /** Executions in flight when a run had to wait (Maximum: the budget while a backlog waits). */
  inFlight: 'ExecutionsInFlightWhenWaiting',
} as const;

/**
 * Metric filters on on-landing's log group turning its "Run waits for an execution slot" lines
 * (shared/core/landing.ts) into the WAITING_METRICS, shown on the dashboard: an operator sees a
 * backlog waiting for slots, and how full the budget is.
 */
export function waitingRunFilters(namespace: string): Resources {
  const filter = (name: string, value: string): Cfn => ({
    Type: 'AWS::Logs::MetricFilter',
    Properties: {
      LogGroupName: { Ref: logGroupLogicalId('on-landing') },
      FilterPattern: '{ $.message = "Run waits for an execution slot" }',
      MetricTransformations: [{ MetricNamespace: namespace, MetricName: name, MetricValue: value }],
    },
  });
  return {
    RunsWaitingForSlotFilter: filter(WAITING_METRICS.waiting, '1'),
    ExecutionsInFlightWhenWaitingFilter: filter(WAITING_METRICS.inFlight, '$.inFlight'),
  };
}
