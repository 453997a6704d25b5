import type { Stage } from './domain/datasets';
import type { JobRunSummary } from './domain/job-runs';
import type { LandedObject } from './domain/events';
import type { RunInput } from './domain/run';
import type { Alert, AlertKind, AlertSeverity } from './domain/alert';
import type {
  AssignOutcome,
  ExecutionStatus,
  FollowUpRequest,
  LedgerEntry,
  PartitionKey,
  PartitionLease,
  QueuedRun,
  RunSlot,
  RunSlotState,
  SlotOutcome,
  WaitingRun,
} from './domain/ledger-records';
import type { StageMetrics } from './domain/metrics';

/**
 * The ports: every side effect of the core goes through one of these, with an AWS adapter
 * (shared/aws) and a local twin (local/) each.
 */

// Records the ports carry, defined in the domain (which imports nothing from here).
export type {
  AssignOutcome,
  Alert,
  AlertKind,
  AlertSeverity,
  ExecutionStatus,
  FollowUpRequest,
  LedgerEntry,
  PartitionKey,
  PartitionLease,
  QueuedRun,
  RunSlot,
  RunSlotState,
  SlotOutcome,
  StageMetrics,
  WaitingRun,
};

export interface StartResult {
  /** `already-started`: an execution with this name exists (a retry, or a duplicate delivery). */
  readonly outcome: 'started' | 'already-started';
  readonly executionArn: string;
}

/** Starts pipeline runs (Step Functions executions). */
export interface RunStarter {
  start(request: { readonly name: string; readonly input: RunInput }): Promise<StartResult>;
}

/**
 * Reads runs' statuses (DescribeExecution on AWS, the execution history locally): how the ledger
 * tells a run that never started, or has ended, from one that is running.
 */
export interface ExecutionStatusReader {
  status(executionName: string): Promise<ExecutionStatus>;
}

export type ClaimOutcome =
  /** Ours now: include it in the run. */
  | { readonly objectId: string; readonly outcome: 'claimed' }
  /** Already processed by a started run: never trigger another. */
  | { readonly objectId: string; readonly outcome: 'duplicate'; readonly executionName: string }
  /** Claimed by a run that has not confirmed its start (`claimedAt`: when): ask about its owner. */
  | {
      readonly objectId: string;
      readonly outcome: 'in-flight';
      readonly executionName: string;
      readonly claimedAt: string;
    };

/**
 * The object ledger: per-object idempotency (rules: shared/domain/ledger.ts). Claims are `pending`
 * until the run is confirmed started; a pending claim of an owner judged never-started may be
 * re-claimed by naming the owner in `reclaimable`.
 */
export interface ObjectLedger {
  claim(
    objectIds: readonly string[],
    executionName: string,
    now: Date,
    reclaimable?: ReadonlySet<string>,
  ): Promise<ClaimOutcome[]>;
  confirm(objectIds: readonly string[], executionName: string, now: Date): Promise<void>;
  release(objectIds: readonly string[], executionName: string): Promise<void>;
  /** Which execution processed (or is processing) this object version? */
  lookup(objectId: string): Promise<LedgerEntry | undefined>;
}

export type LeaseOutcome =
  | { readonly acquired: true; readonly lease: PartitionLease }
  | { readonly acquired: false; readonly lease: PartitionLease };

/** Which deferred objects of a partition the run `holder` read (the ledger's markRead). */
export interface MarkReadRequest {
  readonly partitionKey: PartitionKey;
  readonly objectIds: readonly string[];
  readonly followUpName: string;
  readonly holder: string;
  readonly now: Date;
}

/**
 * Partition leases: runs of one partition never overlap. A run takes its partition's lease before its
 * first stage and releases it after its last (success or failure); objects landing meanwhile are
 * deferred to one follow-up run, started when the holder ends. Implemented by the ledger adapters
 * (same table / file as the object ledger).
 */
export interface PartitionLeases {
  /**
   * Takes the lease if it is free, expired, already held by `executionName` (then it is renewed), or
   * still exactly as `takeOver` describes it (a holder judged ended or never started). A lease taken
   * over keeps its follow-up request: those objects still need their run.
   */
  acquireLease(
    partitionKey: PartitionKey,
    executionName: string,
    now: Date,
    ttlMs: number,
    takeOver?: { readonly holder: string; readonly acquiredAt: string },
  ): Promise<LeaseOutcome>;
  /**
   * Hands objects claimed by `claimedBy` to the follow-up run of the current `holder` (ledger entries
   * become `deferred` to `followUpName`). Returns false, changing nothing, if `holder` no longer holds
   * the lease (the caller then tries to acquire it again).
   */
  deferToFollowUp(request: {
    readonly partitionKey: PartitionKey;
    readonly holder: string;
    readonly followUpName: string;
    readonly claimedBy: string;
    readonly objects: readonly LandedObject[];
    readonly now: Date;
  }): Promise<boolean>;
  readLease(partitionKey: PartitionKey): Promise<PartitionLease | undefined>;
  /**
   * Objects deferred to `followUpName` that the run `holder` read (its bronze listed them) become
   * `started` by `holder`, while it holds the partition's lease (shared/domain/ledger.ts mayMarkRead;
   * idempotent). Returns the ids that are now the holder's; any other entry is left as it is.
   */
  markRead(request: MarkReadRequest): Promise<string[]>;
  /**
   * Replaces the follow-up request of the lease `holder` holds with `next` (none: removed), if it is
   * still exactly `previous`. False, changing nothing, otherwise (an object was deferred meanwhile).
   */
  replaceFollowUp(request: {
    readonly partitionKey: PartitionKey;
    readonly holder: string;
    readonly previous: FollowUpRequest;
    readonly next: FollowUpRequest | undefined;
  }): Promise<boolean>;
  /** Hands a held lease to its follow-up run (clearing the follow-up request). False if `from` does not hold it. */
  handOverLease(
    partitionKey: PartitionKey,
    from: string,
    to: string,
    now: Date,
    ttlMs: number,
  ): Promise<boolean>;
  /**
   * Frees the lease if `executionName` holds it and no follow-up is requested. `follow-up-pending`:
   * a follow-up was requested (hand the lease over instead); `not-held`: someone else holds it, or nobody.
   */
  releaseLease(
    partitionKey: PartitionKey,
    executionName: string,
  ): Promise<'released' | 'follow-up-pending' | 'not-held'>;
}

/**
 * The bound on executions in flight (rules: shared/domain/run-slots.ts): a slot is taken before an
 * execution starts and released when it ends (finish-run). Implemented by the ledger adapters (same
 * table / file as the object ledger and the leases).
 */
export interface RunSlots {
  /**
   * Takes a slot for `executionName` if mayTakeSlot allows it (already held, inherited from
   * `handOverFrom`, whose slot is then freed in the same write, or fewer than `budget` held).
   * `overBudget`: take it even when every slot is held (a follow-up run whose predecessor held none).
   */
  takeSlot(request: {
    readonly executionName: string;
    readonly now: Date;
    readonly budget: number;
    readonly handOverFrom?: string;
    readonly overBudget?: boolean;
  }): Promise<SlotOutcome>;
  /** Frees `executionName`'s slot; false when it held none (idempotent). */
  releaseSlot(executionName: string): Promise<boolean>;
  readSlots(): Promise<RunSlotState>;
  /** Frees these slots if each is still held as seen (same name, same instant); returns how many were. */
  freeSlots(seen: readonly RunSlot[]): Promise<number>;
  /** Records a check of the holders at `now` if mayRepairSlots allows one; false when another taker checks. */
  claimSlotRepair(now: Date): Promise<boolean>;

  // The waiting queue (shared/domain/run-slots.ts): runs that found every slot held.
  /**
   * Records `executionName`, which holds the partition's lease, as waiting with `waiting` (kept as it
   * is if it waits already: its place in the queue and its input), and its pending claims of
   * `objectIds` as `deferred` to it (mayWait, mayJoinWaiting). False, changing nothing, if it does not
   * hold the lease.
   */
  waitForSlot(request: {
    readonly partitionKey: PartitionKey;
    readonly executionName: string;
    readonly waiting: WaitingRun;
    readonly objectIds: readonly string[];
  }): Promise<boolean>;
  /**
   * A landing joins the waiting run `holder`: `objects` claimed by `claimedBy` become `deferred` to it
   * and are added to its input (joinWaiting). False, changing nothing, if `holder` no longer waits
   * unassigned (the caller asks for the lease again).
   */
  joinWaitingRun(request: {
    readonly partitionKey: PartitionKey;
    readonly holder: string;
    readonly claimedBy: string;
    readonly objects: readonly LandedObject[];
    readonly now: Date;
  }): Promise<boolean>;
  /** The oldest waiting runs, oldest first (queueOrder); `limit` at most. */
  waitingRuns(limit: number): Promise<QueuedRun[]>;
  /** How many runs wait. */
  countWaitingRuns(): Promise<number>;
  /**
   * Assigns a slot to the waiting run `executionName` and marks it starting, in one write: the slot
   * it holds already, `handOverFrom`'s (freed in the same write), or a free one (mayTakeSlot). Returns
   * its input to start it with.
   */
  assignSlot(request: {
    readonly executionName: string;
    readonly partitionKey: PartitionKey;
    readonly now: Date;
    readonly budget: number;
    readonly handOverFrom?: string;
  }): Promise<AssignOutcome>;
  /** The waiting run has started: its lease is a running run's from `now` (ttlMs). False if it does not hold it. */
  endWait(request: {
    readonly partitionKey: PartitionKey;
    readonly executionName: string;
    readonly now: Date;
    readonly ttlMs: number;
  }): Promise<boolean>;
}

/** Reads the run manifests the stage jobs write. Locations are `s3://bucket/key` or `file:///abs/path`. */
export interface ManifestStore {
  /** The manifest's text, or `undefined` when nothing exists at `location`. */
  read(location: string): Promise<string | undefined>;
}

/** One partition to register: values in the table's partition-key order. */
export interface PartitionSpec {
  readonly values: readonly string[];
  readonly location: string;
}

export interface RegisteredPartitions {
  /** Partitions newly created. */
  readonly created: number;
  /** Partitions that existed and were updated (location refreshed). */
  readonly updated: number;
}

/** The table catalog (Glue Data Catalog on AWS). */
export interface PartitionCatalog {
  /**
   * Creates the partitions, or updates those that exist. Throws PartitionRegistrationError naming
   * every partition that could be neither created nor updated.
   */
  registerPartitions(request: {
    readonly database: string;
    readonly table: string;
    readonly partitions: readonly PartitionSpec[];
  }): Promise<RegisteredPartitions>;
}

/** Where stage metrics go (CloudWatch on AWS). */
export interface MetricsSink {
  publishStage(metrics: StageMetrics): Promise<void>;
}

/** Reads recent metrics back: the baseline of the quarantine spike rule. */
export interface MetricsReader {
  /** The last `limit` QuarantineRatio data points of (dataset, stage) strictly before `before`, newest first. */
  recentQuarantineRatios(query: {
    readonly dataset: string;
    readonly stage: Stage;
    readonly limit: number;
    readonly before: Date;
  }): Promise<number[]>;
}

/** Pages on-call (SNS on AWS). */
export interface Alerter {
  publish(alert: Alert): Promise<{ readonly messageId: string }>;
}

/** Structured logging (Powertools Logger satisfies it). */
export interface Log {
  debug(message: string, ...attributes: Array<Record<string, unknown>>): void;
  info(message: string, ...attributes: Array<Record<string, unknown>>): void;
  warn(message: string, ...attributes: Array<Record<string, unknown>>): void;
  error(message: string, ...attributes: Array<Record<string, unknown>>): void;
}

/** Which run of a stage to look for: the execution's `--run_id` and `--stage` among `jobName`'s runs. */
export interface FindStageRunRequest {
  readonly jobName: string;
  readonly runId: string;
  readonly stage: Stage;
  /** Runs that started before it are not looked at. */
  readonly startedAfter?: Date;
}

/**
 * Finds the Glue job run an execution started for a stage (GetJobRuns on AWS, the local Glue's own
 * runs locally), matched by `--run_id` and `--stage` (shared/domain/job-runs.ts). `startedAfter`
 * bounds the search: no run of this execution started before the execution itself.
 */
export interface JobRunFinder {
  findStageRun(request: FindStageRunRequest): Promise<JobRunSummary | undefined>;
  /** One run by its id (GetJobRun); an unknown one is EntityNotFoundException. */
  getJobRun(request: { readonly jobName: string; readonly jobRunId: string }): Promise<JobRunSummary>;
}
