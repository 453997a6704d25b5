import type { RunInput } from './run';

/**
 * The settle window (dataset.yml `trigger.settleSeconds`): a landing run of a partition waits until
 * `settleSeconds` after the partition's first arrival before its bronze reads, so files that land over
 * a few minutes cost one Glue run per stage, not one per arrival.
 *
 * Mechanism, one rule for AWS and the local twin: prepare-run computes the wait (`run.settleSeconds`,
 * below), and the state machine's first Choice sends a run with a wait to the Wait state *Settle
 * partition* (`SecondsPath`), then to bronze; a run without one goes straight to bronze, so a dataset
 * without a window pays no extra transition. The run holds the partition's lease while it waits, so
 * files landing meanwhile are deferred to its follow-up, and finish-run finds them in the bronze
 * manifest's source files: no follow-up run for them. The wait is bounded by SETTLE_SECONDS_MAX and
 * counted in the run's horizon (shared/domain/horizon.ts), hence in the lease.
 *
 * Chosen over SQS message delays: DelaySeconds is per message or per queue (at most 15 minutes) and
 * delays every dataset's files alike, so a partition's arrivals would still start runs as they come;
 * the Wait state is per run, per dataset, and runs unchanged in the local runtime.
 */

export { SETTLE_SECONDS_MAX } from './dataset-limits';

/** Where the state machine reads the wait: the Wait state's `SecondsPath`. */
export const SETTLE_SECONDS_PATH = '$.run.settleSeconds';

/**
 * Seconds a run still waits before its bronze reads: until `settleSeconds` after the first arrival of
 * its objects (a follow-up run counts from its own first deferred object), never more than the window,
 * and 0 for replays and runs that do not start at bronze (they read nothing new).
 */
export function settleWaitSeconds(
  settleSeconds: number,
  input: Pick<RunInput, 'trigger' | 'fromStage' | 'objects'>,
  now: Date,
): number {
  if (settleSeconds <= 0 || input.trigger !== 'landing' || input.fromStage !== 'bronze') return 0;
  const first = input.objects.firstLandedAt === null ? Number.NaN : Date.parse(input.objects.firstLandedAt);
  if (!Number.isFinite(first)) return settleSeconds;
  const left = Math.ceil((first + settleSeconds * 1000 - now.getTime()) / 1000);
  return Math.min(settleSeconds, Math.max(0, left));
}
