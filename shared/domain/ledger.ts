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
 * taken), or the claimant itself once it knows its own run has not started. DynamoDB expresses the
 * `claimed` branch as the condition of its conditional write.
 *
 * A pending claim is never taken without judging its owner, even when the owner is the claimant: the
 * same group of objects always gets the same run name, so a redelivered batch claims under the name
 * of a run that may have started already (its confirm write lost). Taken blindly, its objects would
 * be deferred to another run of the partition, joined to a waiting one, or take the partition's lease
 * for an execution that has ended: a second run for an object version its run was given.
 */
export function decideClaim(
  existing: Pick<LedgerEntry, 'state' | 'executionName'> | undefined,
  reclaimable: ReadonlySet<string> = new Set(),
): ClaimDecision {
  if (!existing) return 'claimed';
  // Started: its run reads it. Deferred: the follow-up of a running run will.
  if (existing.state === 'started' || existing.state === 'deferred') return 'duplicate';
  if (reclaimable.has(existing.executionName)) return 'claimed';
  return 'in-flight';
}

/**
 * What to do about a pending claim, once its owner is judged. `mine`: the owner is the claimant (a
 * redelivery of its batch): not started, it is ours to claim again at once (its run is started by
 * name, so a landing that may still be starting it starts the same execution); started, its run has
 * the object, as for any owner.
 */
export function pendingClaimOutcome(owner: OwnerState, mine = false): 'duplicate' | 'reclaim' | 'in-flight' {
  switch (owner) {
    case 'running':
    case 'ended':
      // Its run started (the confirm write was lost): the object is that run's, never run again.
      return 'duplicate';
    case 'never-started':
      return 'reclaim';
    case 'starting':
      return mine ? 'reclaim' : 'in-flight';
  }
}

/**
 * May `executionName` take the lease without asking about its holder? A lease whose holder waits for
 * an execution slot never expires: its run has not started, and the queue starts it.
 */
export function canTakeLease(
  lease: Pick<PartitionLease, 'holder' | 'expiresAt' | 'waiting'> | undefined,
  executionName: string,
  now: Date,
): boolean {
  return (
    !lease ||
    lease.holder === executionName ||
    (lease.waiting === undefined && Date.parse(lease.expiresAt) <= now.getTime())
  );
}

/**
 * Does a landing of the partition join the lease holder's run instead of judging it? Yes while the
 * holder waits for a slot and none is assigned yet: its input still grows, so the landing's objects
 * become its own (one waiting run per partition, never a second).
 */
export const joinsWaitingRun = (lease: Pick<PartitionLease, 'waiting'>): boolean =>
  lease.waiting !== undefined && lease.waiting.startingAt === undefined;

/**
 * A lease held by another run, once its holder is judged: defer to a running holder's follow-up,
 * take over from a holder that ended or never started, wait for one that may be starting. A holder
 * whose waiting run has a slot assigned is being started by the queue: never taken over for not
 * having started.
 */
export function busyLeaseDecision(
  holder: OwnerState,
  waiting?: Pick<NonNullable<PartitionLease['waiting']>, 'startingAt'>,
): 'defer' | 'take-over' | 'wait' {
  switch (holder) {
    case 'running':
      return 'defer';
    case 'ended':
      return 'take-over';
    case 'never-started':
      return waiting ? 'wait' : 'take-over';
    case 'starting':
      return 'wait';
  }
}

/**
 * May `executionName` take the lease? `takeOver`: the holder (and the acquisition instant seen) judged
 * ended or never started; the lease is taken only if it has not changed since.
 */
export function mayAcquireLease(
  lease: Pick<PartitionLease, 'holder' | 'expiresAt' | 'acquiredAt' | 'waiting'> | undefined,
  executionName: string,
  now: Date,
  takeOver?: { readonly holder: string; readonly acquiredAt: string },
): boolean {
  return (
    canTakeLease(lease, executionName, now) ||
    (!!lease &&
      !!takeOver &&
      lease.holder === takeOver.holder &&
      lease.acquiredAt === takeOver.acquiredAt &&
      (lease.waiting === undefined || lease.waiting.startingAt !== undefined))
  );
}

/**
 * Record `executionName` as waiting for an execution slot: only the lease's own holder (it took the
 * lease, then found every slot held). Its pending claims become `deferred` to it.
 */
export const mayWait = (lease: Pick<PartitionLease, 'holder'> | undefined, executionName: string) =>
  lease?.holder === executionName;

/**
 * Join a waiting run: objects still claimed by `claimedBy` (pending) become `deferred` to the waiting
 * `holder`, while no slot is assigned to it (its input still grows); the holder's own pending claims
 * (a retried delivery of its batch) at any time, as its input lists them already.
 */
export const mayJoinWaiting = (
  lease: Pick<PartitionLease, 'holder' | 'waiting'> | undefined,
  holder: string,
  entry: Pick<LedgerEntry, 'executionName' | 'state'> | undefined,
  claimedBy: string,
) =>
  lease?.holder === holder &&
  lease.waiting !== undefined &&
  (claimedBy === holder || lease.waiting.startingAt === undefined) &&
  entry?.executionName === claimedBy &&
  entry.state === 'pending';

/** Assign a slot to a waiting run: while it holds its partition's lease and waits. */
export const mayAssignWaiting = (
  lease: Pick<PartitionLease, 'holder' | 'waiting'> | undefined,
  executionName: string,
) => lease?.holder === executionName && lease.waiting !== undefined;

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
