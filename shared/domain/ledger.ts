import type { ExecutionStatus, LedgerEntry, PartitionLease } from './ledger-records';

/**
 * The ledger rules, written once. Both ledger adapters (DynamoDB, the local file) only store entries
 * and condition their writes on these decisions; the core asks them through the ports. The contract
 * suite (test/contract/ledger.test.ts) runs the same cases against both.
 *
 * An object version's entry is:
 * - `pending`: claimed by a run that has not confirmed its start;
 * - `started`: its run started (that run reads it);
 * - `deferred`: handed to the follow-up run of the run holding its partition's lease (verified
 *   running when it was handed), which starts when that run ends — unless that run's bronze read it
 *   (its manifest lists the version): then it becomes `started` by that run (mayMarkRead).
 *
 * Time alone never decides that a run is dead: a pending claim or a lease is taken from its owner
 * only once the owner's execution is known to have ended, or to have never started after
 * START_GRACE_MS (the most a landing handler can take between its claim and StartExecution).
 */

/**
 * Longer than on-landing's 60 s timeout (a claimant that has not started its run by then never will)
 * with margin for DescribeExecution to see a fresh execution.
 */
export const START_GRACE_MS = 5 * 60 * 1000;

/** How long ledger entries live (DynamoDB TTL): past Step Functions' 90-day name uniqueness window. */
export const DEFAULT_LEDGER_TTL_DAYS = 120;

/** What the owner of a claim or a lease is, judged from its execution's status. */
export type OwnerState =
  /** Its execution is running: it reads the objects, it will end and release. */
  | 'running'
  /** Its execution ended (it read the objects; it will never release a lease it still holds). */
  | 'ended'
  /** No execution yet, but its claimant may still be about to start it. */
  | 'starting'
  /** No execution, and too long after the claim for one to ever start. */
  | 'never-started';

export function judgeOwner(
  status: ExecutionStatus,
  since: string,
  now: Date,
  graceMs: number = START_GRACE_MS,
): OwnerState {
  if (status === 'RUNNING' || status === 'PENDING_REDRIVE') return 'running';
  if (status !== 'NOT_FOUND') return 'ended';
  return now.getTime() - Date.parse(since) >= graceMs ? 'never-started' : 'starting';
}

export type ClaimDecision = 'claimed' | 'duplicate' | 'in-flight';

/**
 * The claim rule. `reclaimable`: owners of pending claims judged `never-started` (their claims may be
 * taken). DynamoDB expresses the `claimed` branch as the condition of its conditional write.
 */
export function decideClaim(
  existing: Pick<LedgerEntry, 'state' | 'executionName'> | undefined,
  executionName: string,
  reclaimable: ReadonlySet<string> = new Set(),
): ClaimDecision {
  if (!existing) return 'claimed';
  // Started: its run reads it. Deferred: the follow-up of a running run will.
  if (existing.state === 'started' || existing.state === 'deferred') return 'duplicate';
  if (existing.executionName === executionName || reclaimable.has(existing.executionName)) return 'claimed';
  return 'in-flight';
}

/** What to do about a pending claim of another run, once its owner is judged. */
export function pendingClaimOutcome(owner: OwnerState): 'duplicate' | 'reclaim' | 'in-flight' {
  switch (owner) {
    case 'running':
    case 'ended':
      // Its run started (the confirm write was lost): the object is that run's, never run again.
      return 'duplicate';
    case 'never-started':
      return 'reclaim';
    case 'starting':
      return 'in-flight';
  }
}

/** May `executionName` take the lease without asking about its holder? */
export function canTakeLease(
  lease: Pick<PartitionLease, 'holder' | 'expiresAt'> | undefined,
  executionName: string,
  now: Date,
): boolean {
  return !lease || lease.holder === executionName || Date.parse(lease.expiresAt) <= now.getTime();
}

/**
 * A lease held by another run, once its holder is judged: defer to a running holder's follow-up,
 * take over from a holder that ended or never started, wait for one that may be starting.
 */
export function busyLeaseDecision(holder: OwnerState): 'defer' | 'take-over' | 'wait' {
  switch (holder) {
    case 'running':
      return 'defer';
    case 'ended':
    case 'never-started':
      return 'take-over';
    case 'starting':
      return 'wait';
  }
}

/**
 * May `executionName` take the lease? `takeOver`: the holder (and the acquisition instant seen) judged
 * ended or never started; the lease is taken only if it has not changed since.
 */
export function mayAcquireLease(
  lease: Pick<PartitionLease, 'holder' | 'expiresAt' | 'acquiredAt'> | undefined,
  executionName: string,
  now: Date,
  takeOver?: { readonly holder: string; readonly acquiredAt: string },
): boolean {
  return (
    canTakeLease(lease, executionName, now) ||
    (!!lease && !!takeOver && lease.holder === takeOver.holder && lease.acquiredAt === takeOver.acquiredAt)
  );
}

/** Confirm: only the owner's `pending` claim turns `started` (any other entry is left as it is). */
export const mayConfirm = (
  entry: Pick<LedgerEntry, 'executionName' | 'state'> | undefined,
  executionName: string,
) => entry?.executionName === executionName && entry.state === 'pending';

/** Release: only the owner's own `pending` claim is deleted (never a started or deferred entry). */
export const mayRelease = (
  entry: Pick<LedgerEntry, 'executionName' | 'state'> | undefined,
  executionName: string,
) => entry?.executionName === executionName && entry.state === 'pending';

/** Defer: only objects still claimed by `claimedBy`, to a lease still held by `holder`. */
export const mayDefer = (
  lease: Pick<PartitionLease, 'holder'> | undefined,
  holder: string,
  entry: Pick<LedgerEntry, 'executionName'> | undefined,
  claimedBy: string,
) => lease?.holder === holder && entry?.executionName === claimedBy;

/**
 * Mark read: while `holder` still holds the lease, an object deferred to `followUpName` becomes
 * `started` by `holder`, whose bronze read it (shared/domain/source-files.ts); one already marked so
 * stays (a retried finish-run). Once the lease has moved on (taken over, handed over), nothing changes:
 * the follow-up may already have read the object.
 */
export const mayMarkRead = (
  lease: Pick<PartitionLease, 'holder'> | undefined,
  holder: string,
  entry: Pick<LedgerEntry, 'executionName' | 'state'> | undefined,
  followUpName: string,
) =>
  lease?.holder === holder &&
  ((entry?.state === 'deferred' && entry.executionName === followUpName) ||
    (entry?.state === 'started' && entry.executionName === holder));
