import type { Registry } from '../domain/datasets';
import {
  describeError,
  ExecutionBudgetFullError,
  MedallionError,
  NoDatasetMatchError,
  ObjectsInFlightError,
  StartRunError,
} from '../domain/errors';
import { toDeliveryUnits, type DeliveryShape, type DeliveryUnit, type LandedObject } from '../domain/events';
import { followUpRunName, leaseTtlMs, partitionKeyOf } from '../domain/lease';
import { judgeOwner, pendingClaimOutcome } from '../domain/ledger';
import { KeyParser, type Partition } from '../domain/object-key';
import { landingRunInput, landingRunName } from '../domain/run';
import { waitingRun } from '../domain/run-slots';
import type { ExecutionStatusReader, Log, ObjectLedger, PartitionLeases, RunStarter } from '../ports';
import { mapWithConcurrency } from './concurrency';
import { takePartitionLease } from './partition-lease';
import { takeRunSlot, type ExecutionBudget } from './run-slots';

/**
 * The landing flow: turn a delivery of S3 object events into at most one run per
 * (dataset, partition), never twice for the same object version, never acknowledging a
 * delivery whose run has not started.
 */

export interface LandingDeps {
  readonly registry: Registry;
  readonly ledger: ObjectLedger;
  readonly starter: RunStarter;
  /** Statuses of runs: tells a claim or lease owner that never started, or ended, from a running one. */
  readonly executions: ExecutionStatusReader;
  /**
   * Partition leases (runs of one partition never overlap). With them, a group whose partition is
   * being processed is deferred to the running run's follow-up instead of starting a second run.
   */
  readonly leases?: PartitionLeases;
  /**
   * The bound on executions in flight: a run takes a slot before it starts. With none free, it waits
   * in the ledger (its partition's lease holds it) and its messages are acknowledged.
   */
  readonly executionBudget?: ExecutionBudget;
  readonly log: Log;
  readonly now?: () => Date;
  /** Groups started in parallel (StartExecution and ledger calls). */
  readonly maxConcurrentStarts?: number;
}

export interface RunStarted {
  readonly executionName: string;
  readonly executionArn: string;
  readonly dataset: string;
  readonly partition: string;
  readonly objects: number;
  readonly outcome: 'started' | 'already-started';
}

export interface RecordFailure {
  /** SQS messageId, or `direct`. */
  readonly unit: string;
  readonly key?: string;
  readonly error: string;
  readonly message: string;
  readonly retryable: boolean;
}

/** A run that did not start because every execution slot was held: it waits in the ledger. */
export interface RunWaiting {
  readonly dataset: string;
  readonly partition: string;
  readonly executionName: string;
  readonly objects: number;
  readonly inFlight: number;
  readonly budget: number;
}

/** Objects handed to the follow-up of the run holding their partition's lease. */
export interface RunDeferred {
  readonly dataset: string;
  readonly partition: string;
  /** The run processing the partition now. */
  readonly holder: string;
  /** The run that will pick these objects up, started when `holder` ends. */
  readonly followUp: string;
  readonly objects: number;
}

export interface LandingResult {
  readonly shape: DeliveryShape;
  /**
   * records = started + duplicates + skipped + failed (+ deferred: present when leases are used; +
   * waiting: present with an execution budget, objects of runs recorded as waiting for a slot).
   */
  readonly counts: {
    records: number;
    started: number;
    deferred?: number;
    waiting?: number;
    duplicates: number;
    skipped: number;
    failed: number;
  };
  readonly runs: RunStarted[];
  readonly deferrals: RunDeferred[];
  /** Runs recorded as waiting for an execution slot (their messages are acknowledged: the ledger holds them). */
  readonly waiting: RunWaiting[];
  readonly failures: RecordFailure[];
  /**
   * Delivery units (SQS messages) to redeliver: every unit carrying a failed record (an object that
   * could not be settled fails only the messages that carry it).
   */
  readonly failedUnits: string[];
}

/** One (dataset, partition) of the delivery: its objects and the delivery units carrying each. */
interface Group {
  readonly datasetName: string;
  readonly partition: Partition;
  readonly objects: Map<string, LandedObject>;
  /** The delivery unit that carried each object (one string each: 10,000 to a batch). */
  readonly unitOf: Map<string, string>;
  /** Further units carrying the same object version (duplicate notifications; rare). */
  readonly moreUnitsOf: Map<string, string[]>;
}

/** The outcome of a delivery as it is worked out. */
class Tally {
  readonly counts: LandingResult['counts'];
  readonly runs: RunStarted[] = [];
  readonly deferrals: RunDeferred[] = [];
  readonly waiting: RunWaiting[] = [];
  readonly failures: RecordFailure[] = [];
  readonly failedUnits = new Set<string>();

  constructor(
    private readonly log: Log,
    withLeases: boolean,
    withBudget = false,
  ) {
    this.counts = {
      records: 0,
      started: 0,
      ...(withLeases ? { deferred: 0 } : {}),
      ...(withBudget ? { waiting: 0 } : {}),
      duplicates: 0,
      skipped: 0,
      failed: 0,
    };
  }

  /** A record that failed on its own (malformed, bad key). */
  failRecord(unit: string, error: unknown, key?: string): void {
    const { name, message } = describeError(error);
    const retryable = error instanceof MedallionError ? error.retryable : true;
    this.counts.failed++;
    this.failedUnits.add(unit);
    this.failures.push({ unit, error: name, message, retryable, ...(key !== undefined ? { key } : {}) });
    this.log.error(
      retryable
        ? 'Landing record failed; will be retried'
        : 'Landing record cannot be processed; it goes to the DLQ after maxReceiveCount',
      { unit, key, error: name, reason: message },
    );
  }

  /** Objects of a group that could not be settled: only the units carrying them come back. */
  failObjects(
    group: Group,
    ids: readonly string[],
    error: unknown,
    context: Record<string, unknown>,
    logged = false,
  ): void {
    const units = new Set<string>();
    for (const id of ids) {
      const first = group.unitOf.get(id);
      if (first !== undefined) units.add(first);
      for (const unit of group.moreUnitsOf.get(id) ?? []) units.add(unit);
    }
    for (const unit of units) this.failedUnits.add(unit);
    const { name, message } = describeError(error);
    const retryable = error instanceof MedallionError ? error.retryable : true;
    this.counts.failed += ids.length;
    this.failures.push({ unit: [...units].join(','), error: name, message, retryable });
    if (!logged)
      this.log.error('Objects of a partition could not be settled; their messages will be retried', {
        ...context,
        error: name,
        reason: message,
        objects: ids.length,
      });
  }
}

const parsers = new WeakMap<Registry, KeyParser>();
const keyParserFor = (registry: Registry): KeyParser => {
  let parser = parsers.get(registry);
  if (!parser) parsers.set(registry, (parser = new KeyParser(registry)));
  return parser;
};

/** Step 1: parse and group by (dataset, partition); the same object version twice counts once. */
function groupObjects(units: readonly DeliveryUnit[], parser: KeyParser, tally: Tally, log: Log): Group[] {
  const groups = new Map<string, Group>();
  const seen = new Map<string, Group>();
  for (const unit of units) {
    for (const record of unit.records) {
      tally.counts.records++;
      switch (record.kind) {
        case 'test-event':
          tally.counts.skipped++;
          log.info('Acknowledged s3:TestEvent', { unit: unit.id });
          continue;
        case 'ignored':
          tally.counts.skipped++;
          log.info('Skipped record', { unit: unit.id, reason: record.reason });
          continue;
        case 'malformed':
          tally.failRecord(unit.id, record.error);
          continue;
        case 'object':
          break;
      }
      const object = record.object;
      const already = seen.get(object.objectId);
      if (already) {
        tally.counts.duplicates++;
        const more = already.moreUnitsOf.get(object.objectId);
        if (more) more.push(unit.id);
        else already.moreUnitsOf.set(object.objectId, [unit.id]);
        continue;
      }
      let parsed;
      try {
        parsed = parser.parse(object.key);
      } catch (error) {
        if (error instanceof NoDatasetMatchError) {
          tally.counts.skipped++;
          log.warn('Skipped object outside every dataset landing prefix', { unit: unit.id, key: object.key });
        } else {
          tally.failRecord(unit.id, error, object.key);
        }
        continue;
      }
      const groupKey = `${parsed.dataset.name}\u0000${parsed.partition.path}`;
      let group = groups.get(groupKey);
      if (!group) {
        group = {
          datasetName: parsed.dataset.name,
          partition: parsed.partition,
          objects: new Map(),
          unitOf: new Map(),
          moreUnitsOf: new Map(),
        };
        groups.set(groupKey, group);
      }
      group.objects.set(object.objectId, object);
      group.unitOf.set(object.objectId, unit.id);
      seen.set(object.objectId, group);
    }
  }
  return [...groups.values()];
}

/**
 * Step 2: claim the group's objects. A pending claim is settled by asking about its owner
 * (shared/domain/ledger.ts): a started owner makes it a duplicate (and its claim is confirmed for
 * it), a never-started one gives it up, one that may be starting leaves it in flight. The owner may
 * be this very run (a redelivered batch gets the same name): started, its objects are duplicates
 * too; not started, they are claimed again.
 * Returns the objects claimed for `executionName`.
 */
async function claimObjects(
  group: Group,
  executionName: string,
  deps: LandingDeps,
  tally: Tally,
  context: Record<string, unknown>,
): Promise<LandedObject[]> {
  const now = deps.now ?? (() => new Date());
  let outcomes = await deps.ledger.claim([...group.objects.keys()], executionName, now());
  const claimed = new Set(outcomes.filter((o) => o.outcome === 'claimed').map((o) => o.objectId));
  const duplicates = new Map<string, string>();
  for (const o of outcomes) if (o.outcome === 'duplicate') duplicates.set(o.objectId, o.executionName);

  const inFlight = outcomes.filter((o) => o.outcome === 'in-flight');
  const stillInFlight: string[] = [];
  if (inFlight.length > 0) {
    const owners = new Map<string, { since: string; ids: string[] }>();
    for (const o of inFlight) {
      const owner = owners.get(o.executionName) ?? { since: o.claimedAt, ids: [] };
      if (o.claimedAt > owner.since) owner.since = o.claimedAt;
      owner.ids.push(o.objectId);
      owners.set(o.executionName, owner);
    }
    const reclaim = new Set<string>();
    const reclaimIds: string[] = [];
    for (const [owner, { since, ids }] of owners) {
      const judged = judgeOwner(await deps.executions.status(owner), since, now());
      switch (pendingClaimOutcome(judged, owner === executionName)) {
        case 'duplicate':
          for (const id of ids) duplicates.set(id, owner);
          // Record what happened: the owner's run started (its confirm was lost).
          await deps.ledger.confirm(ids, owner, now()).catch((error: unknown) =>
            deps.log.warn('Could not confirm the claims of a started run', {
              ...context,
              owner,
              error: describeError(error).message,
            }),
          );
          break;
        case 'reclaim':
          reclaim.add(owner);
          reclaimIds.push(...ids);
          break;
        case 'in-flight':
          stillInFlight.push(...ids);
          break;
      }
    }
    if (reclaimIds.length > 0) {
      outcomes = await deps.ledger.claim(reclaimIds, executionName, now(), reclaim);
      for (const o of outcomes) {
        if (o.outcome === 'claimed') claimed.add(o.objectId);
        else if (o.outcome === 'duplicate') duplicates.set(o.objectId, o.executionName);
        else stillInFlight.push(o.objectId);
      }
    }
  }

  tally.counts.duplicates += duplicates.size;
  if (duplicates.size > 0) {
    deps.log.info('Skipped object versions already processed', {
      ...context,
      duplicates: duplicates.size,
      processedBy: [...new Set(duplicates.values())].slice(0, 5),
    });
  }
  if (stillInFlight.length > 0) {
    const unsettled = new Set(stillInFlight);
    const owners = [
      ...new Set(inFlight.filter((o) => unsettled.has(o.objectId)).map((o) => o.executionName)),
    ];
    tally.failObjects(
      group,
      stillInFlight,
      new ObjectsInFlightError(
        `${stillInFlight.length} object(s) are claimed by runs not yet started: ${owners.slice(0, 3).join(', ')}`,
      ),
      context,
    );
  }
  return [...claimed].map((id) => group.objects.get(id)).filter((o): o is LandedObject => o !== undefined);
}

/** Step 3 (with leases): take the partition's lease, or hand the objects to the running holder's follow-up. */
async function leaseOrDefer(
  group: Group,
  executionName: string,
  objects: readonly LandedObject[],
  deps: LandingDeps & { leases: PartitionLeases },
  tally: Tally,
  context: Record<string, unknown>,
): Promise<'leased' | 'leased-waiting' | 'deferred' | 'failed'> {
  const now = deps.now ?? (() => new Date());
  const ids = objects.map((o) => o.objectId);
  const partitionKey = partitionKeyOf(group.datasetName, group.partition.path);
  const slots = deps.executionBudget?.slots;
  // The partition's run waits for a slot: these objects join it (its input grows), no second run.
  const join = slots
    ? async (holder: string) => {
        const joined = await slots.joinWaitingRun({
          partitionKey,
          holder,
          claimedBy: executionName,
          objects,
          now: now(),
        });
        if (joined) {
          tally.counts.deferred = (tally.counts.deferred ?? 0) + objects.length;
          tally.deferrals.push({
            dataset: group.datasetName,
            partition: group.partition.path,
            holder,
            followUp: holder,
            objects: objects.length,
          });
          deps.log.info("The partition's run waits for an execution slot; objects joined it", {
            ...context,
            holder,
            objects: objects.length,
          });
        }
        return joined;
      }
    : undefined;
  const giveBack = async (error: unknown) => {
    await deps.ledger.release(ids, executionName).catch(() => undefined);
    tally.failObjects(group, ids, error, context);
    return 'failed' as const;
  };
  try {
    const outcome = await takePartitionLease(
      deps,
      partitionKey,
      executionName,
      leaseTtlMs(deps.registry.datasets),
      async (holder) => {
        const followUp = followUpRunName(holder);
        const deferred = await deps.leases.deferToFollowUp({
          partitionKey,
          holder,
          followUpName: followUp,
          claimedBy: executionName,
          objects,
          now: now(),
        });
        if (deferred) {
          tally.counts.deferred = (tally.counts.deferred ?? 0) + objects.length;
          tally.deferrals.push({
            dataset: group.datasetName,
            partition: group.partition.path,
            holder,
            followUp,
            objects: objects.length,
          });
          deps.log.info('Partition is being processed; objects deferred to the follow-up run', {
            ...context,
            holder,
            followUp,
            objects: objects.length,
          });
        }
        return deferred;
      },
      join,
    );
    // Ours already, waiting for a slot: a retried delivery of the waiting run's batch.
    if (outcome.kind === 'acquired') return outcome.lease.waiting ? 'leased-waiting' : 'leased';
    if (outcome.kind === 'deferred' || outcome.kind === 'joined') return 'deferred';
    return giveBack(new ObjectsInFlightError(outcome.reason));
  } catch (error) {
    return giveBack(error);
  }
}

/**
 * Step 3b (with an execution budget): take an execution slot for the run. None free: the run waits
 * in the ledger (its lease marked waiting with its input, its claims deferred to it) and its messages
 * are acknowledged; whoever frees a slot starts it (shared/core/run-slots.ts). Only when it cannot be
 * recorded as waiting are the claims and the lease given back and its messages failed.
 */
async function takeSlot(
  group: Group,
  executionName: string,
  objects: readonly LandedObject[],
  leased: 'leased' | 'leased-waiting' | false,
  deps: LandingDeps & { executionBudget: ExecutionBudget },
  tally: Tally,
  context: Record<string, unknown>,
): Promise<boolean> {
  const now = deps.now ?? (() => new Date());
  const ids = objects.map((o) => o.objectId);
  const giveBack = async (error: unknown, logged = false) => {
    if (leased && deps.leases)
      await deps.leases
        .releaseLease(partitionKeyOf(group.datasetName, group.partition.path), executionName)
        .catch(() => undefined);
    await deps.ledger.release(ids, executionName).catch(() => undefined);
    tally.failObjects(group, ids, error, context, logged);
    return false;
  };
  let inFlight: number;
  if (leased === 'leased-waiting') {
    // It waits already (its batch delivered again): it keeps its place in the queue.
    inFlight = (await deps.executionBudget.slots.readSlots().catch(() => ({ holders: [] }))).holders.length;
  } else {
    let outcome;
    try {
      outcome = await takeRunSlot(
        {
          ...deps.executionBudget,
          executions: deps.executions,
          log: deps.log,
          ...(deps.now ? { now: deps.now } : {}),
        },
        executionName,
      );
    } catch (error) {
      return giveBack(error);
    }
    if (outcome.kind === 'taken') return true;
    inFlight = outcome.inFlight;
    // A run of this name exists already (its batch delivered again after it started, even after it
    // ended): it needs no slot and must never wait, as a waiting run is started by this very name.
    let status;
    try {
      status = await deps.executions.status(executionName);
    } catch (error) {
      return giveBack(error);
    }
    if (status !== 'NOT_FOUND') return true;
  }
  const waiting: RunWaiting = {
    dataset: group.datasetName,
    partition: group.partition.path,
    executionName,
    objects: ids.length,
    inFlight,
    budget: deps.executionBudget.budget,
  };
  const full = new ExecutionBudgetFullError(
    `${inFlight} of ${waiting.budget} executions are in flight: the run of ${group.datasetName} ${group.partition.path} waits for a slot`,
  );
  // Without a lease there is nothing to hold the waiting run (leases are off): its messages come back.
  if (!leased) return giveBack(full);
  try {
    const recorded = await deps.executionBudget.slots.waitForSlot({
      partitionKey: partitionKeyOf(group.datasetName, group.partition.path),
      executionName,
      waiting: waitingRun(landingRunInput(group.datasetName, group.partition, objects, now()), now()),
      objectIds: ids,
    });
    if (!recorded) return giveBack(full);
  } catch (error) {
    return giveBack(error);
  }
  tally.waiting.push(waiting);
  tally.counts.waiting = (tally.counts.waiting ?? 0) + ids.length;
  // The message an operator (and the stack's metric filter) looks for: runs waiting for a slot.
  deps.log.info('Run waits for an execution slot', { ...context, ...waiting });
  return false;
}

/**
 * Step 4: start the run. A run that started keeps its claims even if recording the start fails (any
 * later sighting finds its run through the status reader); one that did not start gives its claims
 * and its lease back for the redelivery.
 */
async function startRun(
  group: Group,
  executionName: string,
  objects: readonly LandedObject[],
  leased: boolean,
  deps: LandingDeps,
  tally: Tally,
  context: Record<string, unknown>,
): Promise<void> {
  const now = deps.now ?? (() => new Date());
  const ids = objects.map((o) => o.objectId);
  const input = landingRunInput(group.datasetName, group.partition, objects, now());
  let result;
  try {
    result = await deps.starter.start({ name: executionName, input });
  } catch (startError) {
    // A timed-out StartExecution may still have started it: ask before giving anything back.
    const status = await deps.executions.status(executionName).catch(() => undefined);
    if (status === 'NOT_FOUND') {
      await deps.ledger.release(ids, executionName).catch((releaseError: unknown) =>
        deps.log.warn('Could not release ledger claims; the next sighting settles them', {
          ...context,
          error: describeError(releaseError).message,
        }),
      );
      if (leased && deps.leases) {
        await deps.leases
          .releaseLease(partitionKeyOf(group.datasetName, group.partition.path), executionName)
          .catch(() => undefined);
      }
      await deps.executionBudget?.slots.releaseSlot(executionName).catch(() => undefined);
    }
    tally.failObjects(
      group,
      ids,
      startError instanceof StartRunError
        ? startError
        : new StartRunError(describeError(startError).message, true, { cause: startError }),
      context,
    );
    return;
  }
  try {
    await deps.ledger.confirm(ids, executionName, now());
  } catch (error) {
    deps.log.warn('Run started but its ledger claims could not be confirmed; the next sighting does', {
      ...context,
      error: describeError(error).message,
    });
  }
  tally.counts.started += ids.length;
  tally.runs.push({
    ...context,
    executionName,
    dataset: group.datasetName,
    partition: group.partition.path,
    executionArn: result.executionArn,
    objects: ids.length,
    outcome: result.outcome,
  });
  deps.log.info(result.outcome === 'started' ? 'Started run' : 'Run already started (same run key)', {
    ...context,
    executionArn: result.executionArn,
    objects: ids.length,
    bytes: input.objects.bytes,
  });
}

export async function processLanding(event: unknown, deps: LandingDeps): Promise<LandingResult> {
  const { log } = deps;
  const { shape, units } = toDeliveryUnits(event);
  const tally = new Tally(log, !!deps.leases, !!deps.executionBudget);
  const groups = groupObjects(units, keyParserFor(deps.registry), tally, log);

  // One run per group, groups in parallel (bounded).
  await mapWithConcurrency(groups, deps.maxConcurrentStarts ?? 8, async (group) => {
    const executionName = landingRunName(group.datasetName, group.partition, [...group.objects.keys()]);
    const context = { dataset: group.datasetName, partition: group.partition.path, executionName };
    let objects: LandedObject[];
    try {
      objects = await claimObjects(group, executionName, deps, tally, context);
    } catch (error) {
      tally.failObjects(group, [...group.objects.keys()], error, context);
      return;
    }
    if (objects.length === 0) return;
    let leased: 'leased' | 'leased-waiting' | false = false;
    if (deps.leases) {
      const step = await leaseOrDefer(
        group,
        executionName,
        objects,
        { ...deps, leases: deps.leases },
        tally,
        context,
      );
      if (step !== 'leased' && step !== 'leased-waiting') return;
      leased = step;
    }
    const budget = deps.executionBudget;
    if (
      budget &&
      !(await takeSlot(
        group,
        executionName,
        objects,
        leased,
        { ...deps, executionBudget: budget },
        tally,
        context,
      ))
    )
      return;
    await startRun(group, executionName, objects, !!leased, deps, tally, context);
  });

  const { counts, runs, deferrals, waiting, failures } = tally;
  const result: LandingResult = {
    shape,
    counts,
    runs,
    deferrals,
    waiting,
    failures,
    failedUnits: [...tally.failedUnits],
  };
  log.info('Landing batch processed', {
    shape,
    ...counts,
    runs: runs.length,
    deferrals: deferrals.length,
    ...(deps.executionBudget ? { waitingForSlot: waiting.length } : {}),
    failedUnits: result.failedUnits.length,
  });
  return result;
}
