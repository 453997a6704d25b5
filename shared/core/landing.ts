import type { Registry } from '../domain/datasets';
import {
  describeError,
  MedallionError,
  NoDatasetMatchError,
  ObjectsInFlightError,
  StartRunError,
} from '../domain/errors';
import { toDeliveryUnits, type DeliveryShape, type LandedObject } from '../domain/events';
import { followUpRunName, leaseTtlMs, partitionKeyOf } from '../domain/lease';
import { KeyParser, type Partition } from '../domain/object-key';
import { landingRunInput, landingRunName } from '../domain/run';
import type { Log, ObjectLedger, PartitionLeases, RunStarter } from '../ports';
import { mapWithConcurrency } from './concurrency';

/**
 * The landing flow: turn a delivery of S3 object events into at most one run per
 * (dataset, partition), never twice for the same object version, never acknowledging a
 * delivery whose run has not started.
 */

export interface LandingDeps {
  readonly registry: Registry;
  readonly ledger: ObjectLedger;
  readonly starter: RunStarter;
  /**
   * Partition leases (runs of one partition never overlap). With them, a group whose partition is
   * being processed is deferred to the running run's follow-up instead of starting a second run.
   */
  readonly leases?: PartitionLeases;
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
   * records = started + duplicates + skipped + failed (+ deferred: present when leases are used).
   */
  readonly counts: {
    records: number;
    started: number;
    deferred?: number;
    duplicates: number;
    skipped: number;
    failed: number;
  };
  readonly runs: RunStarted[];
  readonly deferrals: RunDeferred[];
  readonly failures: RecordFailure[];
  /** Delivery units (SQS messages) to redeliver: every unit with at least one failed record. */
  readonly failedUnits: string[];
}

interface Group {
  readonly datasetName: string;
  readonly partition: Partition;
  readonly objects: Map<string, LandedObject>;
  readonly units: Set<string>;
}

const parsers = new WeakMap<Registry, KeyParser>();
const keyParserFor = (registry: Registry): KeyParser => {
  let parser = parsers.get(registry);
  if (!parser) parsers.set(registry, (parser = new KeyParser(registry)));
  return parser;
};

/** Acquire-or-defer attempts per group before its messages are left for redelivery. */
const LEASE_ROUNDS = 4;

export async function processLanding(event: unknown, deps: LandingDeps): Promise<LandingResult> {
  const { log } = deps;
  const now = deps.now ?? (() => new Date());
  const parser = keyParserFor(deps.registry);
  const { shape, units } = toDeliveryUnits(event);

  const counts: LandingResult['counts'] = deps.leases
    ? { records: 0, started: 0, deferred: 0, duplicates: 0, skipped: 0, failed: 0 }
    : { records: 0, started: 0, duplicates: 0, skipped: 0, failed: 0 };
  const deferrals: RunDeferred[] = [];
  const failures: RecordFailure[] = [];
  const failedUnits = new Set<string>();
  const fail = (unit: string, error: unknown, key?: string, count = 1): void => {
    const { name, message } = describeError(error);
    const retryable = error instanceof MedallionError ? error.retryable : true;
    counts.failed += count;
    failedUnits.add(unit);
    failures.push({ unit, error: name, message, retryable, ...(key !== undefined ? { key } : {}) });
    log.error(
      retryable
        ? 'Landing record failed; will be retried'
        : 'Landing record cannot be processed; it goes to the DLQ after maxReceiveCount',
      {
        unit,
        key,
        error: name,
        reason: message,
      },
    );
  };

  // 1. Parse and group by (dataset, partition); the same object version twice counts once.
  const groups = new Map<string, Group>();
  const seen = new Map<string, Group>();
  for (const unit of units) {
    for (const record of unit.records) {
      counts.records++;
      switch (record.kind) {
        case 'test-event':
          counts.skipped++;
          log.info('Acknowledged s3:TestEvent', { unit: unit.id });
          continue;
        case 'ignored':
          counts.skipped++;
          log.info('Skipped record', { unit: unit.id, reason: record.reason });
          continue;
        case 'malformed':
          fail(unit.id, record.error);
          continue;
        case 'object':
          break;
      }
      const object = record.object;
      const already = seen.get(object.objectId);
      if (already) {
        counts.duplicates++;
        already.units.add(unit.id);
        continue;
      }
      let parsed;
      try {
        parsed = parser.parse(object.key);
      } catch (error) {
        if (error instanceof NoDatasetMatchError) {
          counts.skipped++;
          log.warn('Skipped object outside every dataset landing prefix', { unit: unit.id, key: object.key });
        } else {
          fail(unit.id, error, object.key);
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
          units: new Set(),
        };
        groups.set(groupKey, group);
      }
      group.objects.set(object.objectId, object);
      group.units.add(unit.id);
      seen.set(object.objectId, group);
    }
  }

  // 2. One run per group, groups in parallel (bounded).
  const runs: RunStarted[] = [];
  await mapWithConcurrency([...groups.values()], deps.maxConcurrentStarts ?? 8, async (group) => {
    const objectIds = [...group.objects.keys()];
    const executionName = landingRunName(group.datasetName, group.partition, objectIds);
    const context = { dataset: group.datasetName, partition: group.partition.path, executionName };
    const failGroup = (error: unknown, count: number): void => {
      for (const unit of group.units) failedUnits.add(unit);
      const { name, message } = describeError(error);
      const retryable = error instanceof MedallionError ? error.retryable : true;
      counts.failed += count;
      failures.push({ unit: [...group.units].join(','), error: name, message, retryable });
      log.error('Could not start the run of a partition; its messages will be retried', {
        ...context,
        error: name,
        reason: message,
        objects: count,
      });
    };

    let outcomes;
    try {
      outcomes = await deps.ledger.claim(objectIds, executionName, now());
    } catch (error) {
      failGroup(error, objectIds.length);
      return;
    }
    const claimed = outcomes.filter((o) => o.outcome === 'claimed').map((o) => o.objectId);
    const duplicates = outcomes.filter((o) => o.outcome === 'duplicate');
    const inFlight = outcomes.filter((o) => o.outcome === 'in-flight');
    counts.duplicates += duplicates.length;
    if (duplicates.length > 0) {
      log.info('Skipped object versions already processed', {
        ...context,
        duplicates: duplicates.length,
        processedBy: [...new Set(duplicates.map((d) => ('executionName' in d ? d.executionName : '')))].slice(
          0,
          5,
        ),
      });
    }
    if (inFlight.length > 0) {
      const owners = [...new Set(inFlight.map((d) => ('executionName' in d ? d.executionName : '')))];
      failGroup(
        new ObjectsInFlightError(
          `${inFlight.length} object(s) are claimed by runs not yet started: ${owners.slice(0, 3).join(', ')}`,
        ),
        inFlight.length,
      );
    }
    if (claimed.length === 0) return;

    const objects = claimed
      .map((id) => group.objects.get(id))
      .filter((o): o is LandedObject => o !== undefined);

    let leaseTaken = false;
    if (deps.leases) {
      const leases = deps.leases;
      const partitionKey = partitionKeyOf(group.datasetName, group.partition.path);
      const ttl = leaseTtlMs(deps.registry.get(group.datasetName));
      try {
        // Take the partition's lease for this run, or hand the objects to the running run's
        // follow-up; the lease may change hands in between, hence a few rounds.
        for (let round = 0; round < LEASE_ROUNDS && !leaseTaken; round++) {
          const lease = await leases.acquireLease(partitionKey, executionName, now(), ttl);
          if (lease.acquired) {
            leaseTaken = true;
            break;
          }
          const followUp = followUpRunName(lease.lease.holder);
          const deferred = await leases.deferToFollowUp({
            partitionKey,
            holder: lease.lease.holder,
            followUpName: followUp,
            claimedBy: executionName,
            objects,
            now: now(),
          });
          if (deferred) {
            counts.deferred = (counts.deferred ?? 0) + objects.length;
            deferrals.push({
              dataset: group.datasetName,
              partition: group.partition.path,
              holder: lease.lease.holder,
              followUp,
              objects: objects.length,
            });
            log.info('Partition is being processed; objects deferred to the follow-up run', {
              ...context,
              holder: lease.lease.holder,
              followUp,
              objects: objects.length,
            });
            return;
          }
        }
      } catch (error) {
        await deps.ledger.release(claimed, executionName).catch(() => undefined);
        failGroup(error, claimed.length);
        return;
      }
      if (!leaseTaken) {
        await deps.ledger.release(claimed, executionName).catch(() => undefined);
        failGroup(
          new ObjectsInFlightError(`the lease of ${partitionKey} kept changing hands; will retry`),
          claimed.length,
        );
        return;
      }
    }

    const input = landingRunInput(group.datasetName, group.partition, objects, now());
    let runExists = false;
    try {
      const result = await deps.starter.start({ name: executionName, input });
      runExists = true;
      await deps.ledger.confirm(claimed, executionName, now());
      counts.started += claimed.length;
      runs.push({
        ...context,
        executionArn: result.executionArn,
        objects: claimed.length,
        outcome: result.outcome,
      });
      log.info(result.outcome === 'started' ? 'Started run' : 'Run already started (same run key)', {
        ...context,
        executionArn: result.executionArn,
        objects: claimed.length,
        bytes: input.objects.bytes,
      });
    } catch (error) {
      await deps.ledger.release(claimed, executionName).catch((releaseError: unknown) =>
        log.warn('Could not release ledger claims; they expire after the stale window', {
          ...context,
          error: describeError(releaseError).message,
        }),
      );
      if (leaseTaken && deps.leases && !runExists) {
        // The run never started: free its lease (kept if objects were deferred to it meanwhile, for
        // the redelivery that will start it). A started run keeps its lease until its last state.
        await deps.leases
          .releaseLease(partitionKeyOf(group.datasetName, group.partition.path), executionName)
          .catch(() => undefined);
      }
      failGroup(
        error instanceof StartRunError
          ? error
          : new StartRunError(describeError(error).message, true, { cause: error }),
        claimed.length,
      );
    }
  });

  const result: LandingResult = { shape, counts, runs, deferrals, failures, failedUnits: [...failedUnits] };
  log.info('Landing batch processed', {
    shape,
    ...counts,
    runs: runs.length,
    deferrals: deferrals.length,
    failedUnits: result.failedUnits.length,
  });
  return result;
}
