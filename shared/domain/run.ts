import { createHash } from 'node:crypto';
import type { Stage } from './datasets';
import type { LandedObject } from './events';
import type { Partition } from './object-key';

/** Step Functions execution names: 1–80 chars of A-Z a-z 0-9 - _ (AWS-FACTS). */
export const EXECUTION_NAME_MAX = 80;
const HASH_CHARS = 16;

const sanitize = (s: string): string => s.replace(/[^A-Za-z0-9_-]/g, '_');

/** `orders-2024-01-15`: the readable head of every execution name of a partition. */
export function runNameHead(dataset: string, partition: Partition): string {
  return sanitize([dataset, ...partition.values.map(([, v]) => v)].join('-'));
}

const fit = (head: string, tail: string): string =>
  `${head.slice(0, EXECUTION_NAME_MAX - tail.length - 1)}-${tail}`;

/**
 * The run key of a landing: dataset and partition first (readable in the console), then a hash of the
 * group's object versions, so the same group always yields the same name (Step Functions then refuses
 * a second execution with ExecutionAlreadyExists).
 */
export function landingRunName(dataset: string, partition: Partition, objectIds: readonly string[]): string {
  const hash = createHash('sha256');
  for (const id of [...objectIds].sort()) hash.update(id).update('\n');
  return fit(runNameHead(dataset, partition), hash.digest('hex').slice(0, HASH_CHARS));
}

/** A replay's name: one per (partition, stage, requested-at second). */
export function replayRunName(dataset: string, partition: Partition, fromStage: Stage, at: Date): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return fit(runNameHead(dataset, partition), `replay-${fromStage}-${stamp}`);
}

export type RunTrigger = 'landing' | 'replay';

/** How many landed objects an execution input lists inline; the rest are referenced through the ledger. */
export const INLINE_OBJECTS = 10;

/**
 * The execution input: small and bounded whatever the batch size (≤ ~12 KB even with 1 KB keys),
 * and it documents the run for whoever opens it in the console.
 */
export interface RunInput {
  readonly dataset: string;
  /** Partition values by key, in the dataset's declared order. */
  readonly partition: Readonly<Record<string, string>>;
  /** The same values as a list, in the catalog's partition-key order. */
  readonly partitionValues: readonly string[];
  /** Hive path, e.g. `year=2024/month=01/day=15`. */
  readonly partitionPath: string;
  readonly trigger: RunTrigger;
  /** First stage to run (replays may skip earlier stages). */
  readonly fromStage: Stage;
  readonly requestedAt: string;
  readonly objects: {
    readonly count: number;
    readonly bytes: number;
    readonly firstLandedAt: string | null;
    readonly lastLandedAt: string | null;
    /** Up to INLINE_OBJECTS objects, oldest first. */
    readonly inline: ReadonlyArray<{ readonly key: string; readonly size: number }>;
    /** Objects not listed inline; find them all in the ledger by this execution's name. */
    readonly notListed: number;
  };
}

export function landingRunInput(
  dataset: string,
  partition: Partition,
  objects: readonly LandedObject[],
  requestedAt: Date,
): RunInput {
  const byTime = [...objects].sort((a, b) => a.eventTime.localeCompare(b.eventTime));
  const inline = byTime.slice(0, INLINE_OBJECTS).map((o) => ({ key: o.key, size: o.size }));
  return {
    dataset,
    partition: Object.fromEntries(partition.values),
    partitionValues: partition.values.map(([, v]) => v),
    partitionPath: partition.path,
    trigger: 'landing',
    fromStage: 'bronze',
    requestedAt: requestedAt.toISOString(),
    objects: {
      count: objects.length,
      bytes: objects.reduce((sum, o) => sum + o.size, 0),
      firstLandedAt: byTime[0]?.eventTime ?? null,
      lastLandedAt: byTime[byTime.length - 1]?.eventTime ?? null,
      inline,
      notListed: objects.length - inline.length,
    },
  };
}

export function replayRunInput(
  dataset: string,
  partition: Partition,
  fromStage: Stage,
  requestedAt: Date,
): RunInput {
  return {
    dataset,
    partition: Object.fromEntries(partition.values),
    partitionValues: partition.values.map(([, v]) => v),
    partitionPath: partition.path,
    trigger: 'replay',
    fromStage,
    requestedAt: requestedAt.toISOString(),
    objects: { count: 0, bytes: 0, firstLandedAt: null, lastLandedAt: null, inline: [], notListed: 0 },
  };
}
