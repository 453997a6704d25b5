import type { BuildParams } from './context';

/**
 * Back-pressure parameters checked at packaging (docs/deploy.md "Back-pressure"): the Glue jobs'
 * MaxConcurrentRuns add up to at most `glueRunBudget`, which must stay below `glueRunQuota`, the
 * account's concurrent job runs. Runs over a limit wait in Glue's queue (job run queuing). The
 * landing side is bounded by the SQS event source's MaximumConcurrency (serverless.yml).
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
