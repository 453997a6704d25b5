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
   * `deferred`: it landed while another run held its partition, and is handed to that run's follow-up
   * run (`executionName`), which starts when the current run ends.
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
}

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
