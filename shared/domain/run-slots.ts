import { InvalidExecutionBudgetError } from './errors';
import type { OwnerState } from './ledger';
import type { QueuedRun, RunSlot, WaitingRun } from './ledger-records';
import type { LandedObject } from './events';
import { mergeFollowUp } from './lease';
import type { RunInput } from './run';

/**
 * The bound on executions in flight, written once: a semaphore of execution slots in the ledger
 * (one item / one file), taken before StartExecution by whoever starts a run (on-landing, replay,
 * finish-run for a follow-up run) and released by finish-run wherever it releases the partition
 * lease. Both ledger adapters condition their writes on these decisions; the contract suite
 * (test/contract/ledger.test.ts) runs the same cases against both.
 *
 * A run that finds every slot held waits in the ledger, not in the landing queue: it keeps its
 * partition's lease, marked waiting with its execution input (PartitionLease.waiting), its objects
 * `deferred` to it, and its landing is acknowledged. Later landings of the partition join it (its
 * input grows) until a slot is assigned. Whoever frees a slot (finish-run, the leak repair, the
 * sweep) assigns it to the oldest waiting run (queueOrder) and starts it by its name (a retried start
 * is refused as already started): the slot and the "starting" mark are one write, the start the next,
 * and the lease loses its waiting mark last, so a start that fails leaves the run waiting, listed,
 * holding its slot, and the next freer or sweep starts it again.
 *
 * The holders are a map `execution name → when its slot was taken`, not a string set: the instant is
 * what tells a holder that never started from one that may still be starting (judgeOwner, as for a
 * lease), and a map lets one UpdateItem hand a slot over (REMOVE one key, SET another: a set cannot be
 * ADDed to and DELETEd from in one update expression, the paths overlap).
 */

/**
 * The most slots a budget may have: 1,000 holders of at most 80-character names and a 24-character
 * instant are about 110 KB, well inside DynamoDB's 400 KB item; Glue's own per-account run quota is
 * far below it.
 */
export const EXECUTION_BUDGET_MAX = 1000;

/**
 * How often a full semaphore is checked for leaked slots (holders that ended without releasing, or
 * never started): one taker per interval asks for the holders' statuses (DescribeExecution), so a
 * backfill waiting on a full budget costs at most one status read per holder per minute.
 */
export const SLOT_REPAIR_INTERVAL_MS = 60_000;

/** A budget parameter must be a whole number of slots from 1 to EXECUTION_BUDGET_MAX. */
export function checkExecutionBudget(value: unknown, field = 'executionBudget'): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > EXECUTION_BUDGET_MAX)
    throw new InvalidExecutionBudgetError(
      `${field}: must be a whole number of executions from 1 to ${EXECUTION_BUDGET_MAX}, got ${JSON.stringify(value)}`,
    );
  return n;
}

/**
 * May `executionName` take a slot? Yes when it holds one already (a retried start keeps its slot),
 * when `handOverFrom` holds one (a follow-up run inherits its predecessor's slot: the count does not
 * grow), or when fewer than `budget` are held.
 */
export function mayTakeSlot(
  holders: ReadonlyMap<string, string> | Readonly<Record<string, string>>,
  executionName: string,
  budget: number,
  handOverFrom?: string,
): boolean {
  const has = (n: string) => (holders instanceof Map ? holders.has(n) : Object.hasOwn(holders, n));
  const size = holders instanceof Map ? holders.size : Object.keys(holders).length;
  return has(executionName) || (handOverFrom !== undefined && has(handOverFrom)) || size < budget;
}

/** What to do with a holder's slot once its execution is judged (shared/domain/ledger.ts judgeOwner). */
export function slotRepair(owner: OwnerState): 'free' | 'keep' {
  return owner === 'ended' || owner === 'never-started' ? 'free' : 'keep';
}

/** May a taker check the holders now (the last check is older than the interval)? */
export const mayRepairSlots = (repairedAt: string | undefined, now: Date): boolean =>
  repairedAt === undefined || Date.parse(repairedAt) <= now.getTime() - SLOT_REPAIR_INTERVAL_MS;

/** Slots seen by a taker, oldest first (the likeliest to have leaked). */
export const oldestFirst = (holders: readonly RunSlot[]): RunSlot[] =>
  [...holders].sort(
    (a, b) => a.takenAt.localeCompare(b.takenAt) || a.executionName.localeCompare(b.executionName),
  );

/** The waiting queue's order: oldest first, then by name (deterministic). */
export const queueOrder = (a: QueuedRun, b: QueuedRun): number =>
  a.since.localeCompare(b.since) || a.executionName.localeCompare(b.executionName);

/** A run begins to wait: its input as on-landing would have started it. */
export const waitingRun = (input: RunInput, now: Date): WaitingRun => ({ since: now.toISOString(), input });

/**
 * A landing joins a waiting run: its objects are added to the run's input (counted once each: a
 * landing joins with the objects it claimed, which no other run holds), its request time kept.
 */
export function joinWaiting(waiting: WaitingRun, objects: readonly LandedObject[], now: Date): WaitingRun {
  const merged = mergeFollowUp(
    { executionName: '', requestedAt: waiting.input.requestedAt, objects: waiting.input.objects },
    '',
    objects,
    now,
  );
  return { ...waiting, input: { ...waiting.input, objects: merged.objects } };
}

/** How long the oldest waiting run has waited, in whole seconds (0 with none). */
export const oldestWaitSeconds = (oldest: QueuedRun | undefined, now: Date): number =>
  oldest ? Math.max(0, Math.floor((now.getTime() - Date.parse(oldest.since)) / 1000)) : 0;
