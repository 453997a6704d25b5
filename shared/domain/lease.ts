import { createHash } from 'node:crypto';
import pipelineDefinition from '../../state-machines/medallion-pipeline.asl.json';
import { boundDefinition, type HorizonDataset } from './horizon';
import { START_GRACE_MS } from './ledger';
import type { LandedObject } from './events';
import type { DeferredVersion } from './source-files';
import { EXECUTION_NAME_MAX, INLINE_OBJECTS, type RunInput } from './run';
import type { FollowUpRequest, PartitionKey } from './ledger-records';

/**
 * Per-partition leases: the rules shared by every ledger adapter and the stage functions.
 * A run of a partition holds its lease from its first state to its last; objects landing meanwhile
 * are deferred to one follow-up run, started by the holder when it ends.
 */

export const partitionKeyOf = (dataset: string, partitionPath: string): PartitionKey =>
  `${dataset}/${partitionPath}`;

/**
 * The pipeline as deployed (placeholders do not change its timeouts): bundled into the functions that
 * size leases, so the lease is computed from the very ASL whose horizon it must outlive.
 */
const PIPELINE: object = pipelineDefinition;

const ttls = new WeakMap<object, number>();

/**
 * Time a run may hold a lease: the state machine's worst-case horizon for these datasets (its
 * TimeoutSeconds, computed from every Retry and Task timeout of the ASL by shared/domain/horizon.ts:
 * Step Functions ends the execution by then) plus START_GRACE_MS (on-landing takes the lease up to
 * that long before the execution starts). A run therefore never outlives its lease; a run that ended
 * without releasing it is taken over at once by judging its status (shared/domain/ledger.ts).
 */
export function leaseTtlMs(datasets: ReadonlyArray<HorizonDataset>, definition: object = PIPELINE): number {
  const cached = definition === PIPELINE ? ttls.get(datasets) : undefined;
  if (cached !== undefined) return cached;
  const ttl = boundDefinition(definition, datasets).TimeoutSeconds * 1000 + START_GRACE_MS;
  if (definition === PIPELINE) ttls.set(datasets, ttl);
  return ttl;
}

/**
 * The follow-up run of `holder`: deterministic (a retried hand-over starts the same execution, which
 * Step Functions then refuses to start twice), readable (`<holder's head>-next-<hash>`), ≤ 80 chars.
 */
export function followUpRunName(holder: string): string {
  const hash = createHash('sha256').update(holder).digest('hex').slice(0, 12);
  const tail = `next-${hash}`;
  const head = holder.replace(/-[0-9a-f]{16}$|-next-[0-9a-f]{12}$|-replay-.*$/, '');
  return `${head.slice(0, EXECUTION_NAME_MAX - tail.length - 1)}-${tail}`;
}

const emptyObjects = (): RunInput['objects'] => ({
  count: 0,
  bytes: 0,
  firstLandedAt: null,
  lastLandedAt: null,
  inline: [],
  notListed: 0,
});

/**
 * Deferred versions a follow-up request lists one by one (about 300 bytes each in the lease item, far
 * below DynamoDB's 400 KB). Beyond it the request only counts them, and the follow-up run starts for
 * all of them (none is compared with the holder's bronze source files).
 */
export const FOLLOW_UP_VERSIONS_MAX = 200;

const versionOf = (o: LandedObject): DeferredVersion => ({
  objectId: o.objectId,
  key: o.key,
  size: o.size,
  ...(o.eTag !== undefined ? { eTag: o.eTag } : {}),
  eventTime: o.eventTime,
});

/** Does the request list every deferred version (so that each can be compared with what a run read)? */
export const listsEveryVersion = (
  f: FollowUpRequest,
): f is FollowUpRequest & { versions: DeferredVersion[] } =>
  f.versions !== undefined && f.versions.length === f.objects.count;

/** Adds deferred objects to a follow-up request (objects already listed inline are not re-added). */
export function mergeFollowUp(
  existing: FollowUpRequest | undefined,
  followUpName: string,
  objects: readonly LandedObject[],
  now: Date,
): FollowUpRequest {
  const same = existing?.executionName === followUpName;
  const base = same ? existing.objects : emptyObjects();
  const times = objects.map((o) => o.eventTime).sort();
  const first = [base.firstLandedAt, times[0]].filter((t): t is string => !!t).sort()[0] ?? null;
  const last =
    [base.lastLandedAt, times[times.length - 1]]
      .filter((t): t is string => !!t)
      .sort()
      .pop() ?? null;
  const inline = [...base.inline];
  for (const o of [...objects].sort((a, b) => a.eventTime.localeCompare(b.eventTime))) {
    if (inline.length >= INLINE_OBJECTS) break;
    if (!inline.some((i) => i.key === o.key)) inline.push({ key: o.key, size: o.size });
  }
  const count = base.count + objects.length;
  // Listed while every deferred version fits; once one is left out, none is compared any more.
  const listed = same ? existing.versions : [];
  const versions =
    listed !== undefined && count <= FOLLOW_UP_VERSIONS_MAX
      ? [...listed, ...objects.map(versionOf)]
      : undefined;
  return {
    executionName: followUpName,
    requestedAt: same ? existing.requestedAt : now.toISOString(),
    objects: {
      count,
      bytes: base.bytes + objects.reduce((sum, o) => sum + o.size, 0),
      firstLandedAt: first,
      lastLandedAt: last,
      inline,
      notListed: count - inline.length,
    },
    ...(versions ? { versions } : {}),
  };
}

/**
 * The follow-up request once the versions the holder read are settled: the versions left, summarised
 * again (same run name and request time), or none when the holder read every one.
 */
export function remainingFollowUp(
  followUp: FollowUpRequest,
  remaining: readonly DeferredVersion[],
): FollowUpRequest | undefined {
  if (remaining.length === 0) return undefined;
  const rebuilt = mergeFollowUp(
    undefined,
    followUp.executionName,
    remaining.map((v) => ({ ...v, bucket: '' })),
    new Date(followUp.requestedAt),
  );
  return { ...rebuilt, requestedAt: followUp.requestedAt };
}

/** The execution input of a follow-up run: a landing run of the whole partition. */
export function followUpRunInput(
  base: Pick<RunInput, 'dataset' | 'partition' | 'partitionValues' | 'partitionPath'>,
  followUp: FollowUpRequest,
): RunInput {
  return {
    dataset: base.dataset,
    partition: base.partition,
    partitionValues: base.partitionValues,
    partitionPath: base.partitionPath,
    trigger: 'landing',
    fromStage: 'bronze',
    requestedAt: followUp.requestedAt,
    objects: followUp.objects,
  };
}
