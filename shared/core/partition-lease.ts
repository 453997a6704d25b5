import { busyLeaseDecision, joinsWaitingRun, judgeOwner } from '../domain/ledger';
import type { ExecutionStatusReader, Log, PartitionKey, PartitionLease, PartitionLeases } from '../ports';

/**
 * Taking a partition's lease, for on-landing and for "Take partition lease" alike: free, ours or
 * expired → taken; held by a running run → deferred to its follow-up (when the caller can defer);
 * held by a run that ended or never started → taken over (follow-up request kept); held by a run
 * that may still be starting → busy. Decisions: shared/domain/ledger.ts.
 */

export type TakeLeaseOutcome =
  | { readonly kind: 'acquired'; readonly lease: PartitionLease; readonly tookOverFrom?: string }
  | { readonly kind: 'deferred'; readonly holder: string }
  /** The holder waits for an execution slot: the caller's objects joined its run. */
  | { readonly kind: 'joined'; readonly holder: string }
  | { readonly kind: 'busy'; readonly lease: PartitionLease; readonly reason: string };

/** Acquire / judge / defer rounds: the lease may change hands in between. */
const LEASE_ROUNDS = 4;

export async function takePartitionLease(
  deps: {
    readonly leases: PartitionLeases;
    readonly executions: ExecutionStatusReader;
    readonly log: Log;
    readonly now?: () => Date;
  },
  partitionKey: PartitionKey,
  executionName: string,
  ttlMs: number,
  /** Hands the caller's objects to `holder`'s follow-up; false if `holder` no longer holds the lease. */
  defer?: (holder: string) => Promise<boolean>,
  /** Adds the caller's objects to `holder`'s waiting run; false if it no longer waits unassigned. */
  join?: (holder: string) => Promise<boolean>,
): Promise<TakeLeaseOutcome> {
  const now = deps.now ?? (() => new Date());
  let takeOver: { holder: string; acquiredAt: string } | undefined;
  let last: PartitionLease | undefined;
  for (let round = 0; round < LEASE_ROUNDS; round++) {
    const outcome = await deps.leases.acquireLease(partitionKey, executionName, now(), ttlMs, takeOver);
    if (outcome.acquired) {
      if (takeOver)
        deps.log.warn('Took over the lease of a run that ended or never started', {
          partition: partitionKey,
          runId: executionName,
          previousHolder: takeOver.holder,
          followUp: outcome.lease.followUp?.executionName,
        });
      return {
        kind: 'acquired',
        lease: outcome.lease,
        ...(takeOver ? { tookOverFrom: takeOver.holder } : {}),
      };
    }
    const lease = (last = outcome.lease);
    takeOver = undefined;
    // A holder waiting for a slot has not started: it is neither judged nor deferred to, but joined.
    if (joinsWaitingRun(lease)) {
      if (!join)
        return {
          kind: 'busy',
          lease,
          reason: `the run of ${partitionKey} (${lease.holder}) waits for an execution slot`,
        };
      if (await join(lease.holder)) return { kind: 'joined', holder: lease.holder };
      continue;
    }
    const status = await deps.executions.status(lease.holder);
    const decision = busyLeaseDecision(judgeOwner(status, lease.acquiredAt, now()), lease.waiting);
    if (decision === 'take-over') {
      takeOver = { holder: lease.holder, acquiredAt: lease.acquiredAt };
      continue;
    }
    if (decision === 'wait')
      return {
        kind: 'busy',
        lease,
        reason: `the lease of ${partitionKey} is held by ${lease.holder}, which has not started yet`,
      };
    if (!defer)
      return { kind: 'busy', lease, reason: `${partitionKey} is being processed by ${lease.holder}` };
    if (await defer(lease.holder)) return { kind: 'deferred', holder: lease.holder };
  }
  if (!last) throw new Error(`unreachable: no lease outcome for ${partitionKey}`);
  return { kind: 'busy', lease: last, reason: `the lease of ${partitionKey} kept changing hands` };
}
