import type { Dataset } from './datasets';
import { dateLayoutOf, dateKeyValues, dayOfPartition } from './partition-dates';

/**
 * The gold partitions a run writes, and the silver partitions each is computed from: the rule behind
 * `gold.window` (a trailing window, e.g. a rolling 7-day model), computed once here for every engine
 * and passed to the gold job as `--gold_window` (shared/domain/glue-args.ts).
 *
 * Gold of a day T is the gold SELECT over silver of T and the `partitions - 1` days before it (the
 * keys that do not hold the date keep the run's values). When a run's silver partition P changes, the
 * gold partitions whose window holds P are P and the `partitions - 1` days after it: the gold job
 * recomputes each of those whose silver exists (a later day that has not landed yet has no gold to
 * correct; it is computed when it lands), reading the window's silver partitions that exist.
 * Without a window (or `partitions: 1`) the one target is P over P's silver, as always.
 */

export interface WindowPartition {
  /** Hive path and values (declared key order). */
  readonly path: string;
  readonly values: readonly string[];
}

/**
 * What the gold job gets as `--gold_window`: the window size and the `2 × size - 1` consecutive days
 * around the run's partition (the run's own in the middle), so that the job finds each target and its
 * window by position alone (`goldTargetsOf`), with no date rule of its own.
 */
export interface GoldWindowArgument {
  readonly size: number;
  readonly partitions: readonly WindowPartition[];
}

export interface GoldTarget extends WindowPartition {
  /** The silver partitions its gold is computed from, oldest first, the target's own last. */
  readonly window: readonly string[];
}

const DAY_MS = 86_400_000;

/** The window size a dataset declares (1: the partition alone). */
export const goldWindowSize = (dataset: Pick<Dataset, 'gold'>): number =>
  dataset.gold.window?.partitions ?? 1;

/** The `--gold_window` of a run on `partition`. */
export function goldWindowArgument(
  dataset: Pick<Dataset, 'gold' | 'partitionKeys'>,
  partition: WindowPartition,
): GoldWindowArgument {
  const size = goldWindowSize(dataset);
  if (size <= 1) return { size: 1, partitions: [{ path: partition.path, values: partition.values }] };
  const layout = dateLayoutOf(dataset);
  const pairs = dataset.partitionKeys.map((k, i) => [k.name, partition.values[i] ?? ''] as const);
  const day = layout ? dayOfPartition(layout, { values: pairs }) : undefined;
  if (!layout || !day)
    throw new RangeError(
      `gold.window needs a date in the partition: ${partition.path} holds none (shared/config validates this)`,
    );
  const dayMs = Date.parse(`${day}T00:00:00Z`);
  const at = (offsetDays: number): WindowPartition => {
    const iso = new Date(dayMs + offsetDays * DAY_MS).toISOString().slice(0, 10);
    const dated = dateKeyValues(layout, iso);
    const values = pairs.map(([k, v]) => dated[k] ?? v);
    return { path: pairs.map(([k], i) => `${k}=${values[i]}`).join('/'), values };
  };
  return { size, partitions: Array.from({ length: 2 * size - 1 }, (_, i) => at(i - (size - 1))) };
}

/**
 * The gold targets of a window argument: the run's partition first, then each later day, each with
 * its window (by position: target k is day `size - 1 + k`, its window days `k` to `k + size - 1`).
 * The Python twin is glue/medallion_glue/gold_window.py `gold_targets`.
 */
export function goldTargetsOf(arg: GoldWindowArgument): GoldTarget[] {
  const { size, partitions } = arg;
  if (!Number.isInteger(size) || size < 1 || partitions.length !== 2 * size - 1)
    throw new RangeError(
      `--gold_window: ${partitions.length} partitions for a window of ${size} (expected ${2 * size - 1})`,
    );
  return Array.from({ length: size }, (_, k) => ({
    ...(partitions[size - 1 + k] as WindowPartition),
    window: partitions.slice(k, k + size).map((p) => p.path),
  }));
}
