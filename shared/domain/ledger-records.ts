import type { DeferredVersion } from './source-files';
import type { RunInput } from './run';

/**
 * What the ledgers record (DynamoDB on AWS, files locally): object claims, partition leases and the
 * statuses they are judged by. Types only; the rules over them are in ledger.ts and lease.ts, and the
 * ledger ports in shared/ports.ts.
 */

/** An execution's status as Step Functions reports it; `NOT_FOUND` when no execution has that name. */
export type ExecutionStatus =
  'NOT_FOUND' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';

/** What the ledger knows of one object version. */
export interface LedgerEntry {
  readonly objectId: string;
  readonly executionName: string;
  /**
   * `pending`: claimed by a run that has not confirmed its start; `started`: its run started;
   * `deferred`: handed to a run that starts later (`executionName`): the follow-up run of the run
   * holding its partition (it landed meanwhile), which starts when that run ends; or a run waiting for
   * an execution slot (shared/domain/run-slots.ts), which starts when a slot is handed to it.
   */
  readonly state: 'pending' | 'started' | 'deferred';
  readonly claimedAt: string;
  readonly startedAt?: string;
}

/** `<dataset>/<partitionPath>`, e.g. `orders/year=2024/month=01/day=15`: what a lease is held on. */
export type PartitionKey = string;

/** The run that will pick up objects which landed while the partition was leased. */
export interface FollowUpRequest {
  readonly executionName: string;
  /** When the first deferred object was handed over (the follow-up's `requestedAt`). */
  readonly requestedAt: string;
  /** Summary of the deferred objects, shaped like the execution input's `objects`. */
  readonly objects: RunInput['objects'];
  /**
   * The deferred object versions themselves, while there are at most FOLLOW_UP_VERSIONS_MAX of them
   * (shared/domain/lease.ts): what finish-run compares with the holder's bronze source files. Complete
   * only when it lists `objects.count` versions; otherwise the follow-up run starts for all of them.
   */
  readonly versions?: readonly DeferredVersion[];
}

/** A per-partition lease: while it is held, no other run of the partition runs a stage. */
export interface PartitionLease {
  readonly partitionKey: PartitionKey;
  /** Execution name of the run holding the lease. */
  readonly holder: string;
  readonly acquiredAt: string;
  /** A lease past this instant (its holder died without releasing) may be taken over. */
  readonly expiresAt: string;
  readonly followUp?: FollowUpRequest;
  /**
   * The holder has not started: it waits for an execution slot (shared/domain/run-slots.ts). Its
   * objects are `deferred` to it; later landings of the partition join it until a slot is assigned.
   */
  readonly waiting?: WaitingRun;
}

/** A run recorded as waiting for an execution slot, on its partition's lease. */
export interface WaitingRun {
  /** When it began to wait: the queue's order (oldest first). */
  readonly since: string;
  /** Its execution input, grown by each landing that joins it, frozen once a slot is assigned. */
  readonly input: RunInput;
  /** When a slot was assigned to it: it is being started (no landing joins it any more). */
  readonly startingAt?: string;
}

/** A waiting run as the queue lists it. */
export interface QueuedRun {
  readonly executionName: string;
  readonly partitionKey: PartitionKey;
  readonly since: string;
}

/** Assigning a slot to a waiting run: its input to start it with, or why not. */
export type AssignOutcome =
  | { readonly kind: 'assigned'; readonly input: RunInput; readonly since: string }
  /** Every slot is held (and none was handed over). */
  | { readonly kind: 'full' }
  /** It waits no more (started by another, or its lease moved on). */
  | { readonly kind: 'not-waiting' };

/** One held execution slot: the execution's name and when the slot was taken (ISO). */
export interface RunSlot {
  readonly executionName: string;
  readonly takenAt: string;
}

/** The execution slots as stored. */
export interface RunSlotState {
  readonly holders: readonly RunSlot[];
  /** The budget the last taker named (what `medallion replay` on AWS uses when given none). */
  readonly budget?: number;
  /** When a taker last checked the holders for leaked slots. */
  readonly repairedAt?: string;
}

export type SlotOutcome =
  | { readonly taken: true; readonly inFlight: number }
  /** Every slot is held: the holders as they were. */
  | { readonly taken: false; readonly holders: readonly RunSlot[] };
