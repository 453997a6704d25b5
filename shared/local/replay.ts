import type { Dataset, Registry, Stage } from '../domain/datasets';
import { InvalidObjectKeyError, MedallionError } from '../domain/errors';
import { isCalendarDate, KeyParser, type Partition } from '../domain/object-key';
import { replayRunInput, replayRunName } from '../domain/run';
import type { RunStarter, StartResult } from '../ports';

/**
 * Replays: re-run partitions from a stage on, locally or on AWS, through a RunStarter. Starts are
 * spaced to a rate (StartExecution is a token bucket per account and region; a replay of a year must
 * not starve the landings).
 */

/** A replay names no partition of its dataset: a bad partition path, a date that is none, an empty range. */
export class ReplayArgumentError extends MedallionError {
  readonly retryable = false;
}

/** A partition of a dataset from its hive path, validated like a landing key. */
export function partitionFromPath(registry: Registry, dataset: Dataset, path: string): Partition {
  const ext = dataset.landing.formats[0] === 'csv' ? 'csv' : 'jsonl';
  try {
    return new KeyParser(registry).parse(`${dataset.landing.prefix}${path.replace(/\/+$/, '')}/replay.${ext}`)
      .partition;
  } catch (error) {
    if (error instanceof InvalidObjectKeyError)
      throw new ReplayArgumentError(`partition "${path}" of dataset ${dataset.name}: ${error.message}`);
    throw error;
  }
}

/** The daily partitions from `from` to `to` (inclusive), for datasets partitioned year/month/day. */
export function dailyPartitions(registry: Registry, dataset: Dataset, from: string, to: string): Partition[] {
  const names = dataset.partitionKeys.map((k) => k.name).join('/');
  if (names !== 'year/month/day')
    throw new ReplayArgumentError(
      `dataset ${dataset.name} is partitioned by ${names}, not year/month/day: give --partition instead of --from/--to`,
    );
  const start = calendarDay(from, 'from');
  const end = calendarDay(to, 'to');
  if (end < start) throw new ReplayArgumentError(`--to ${to} is before --from ${from}`);
  const partitions: Partition[] = [];
  for (let t = start; t <= end; t += 86_400_000) {
    const [y, m, d] = new Date(t).toISOString().slice(0, 10).split('-');
    partitions.push(partitionFromPath(registry, dataset, `year=${y}/month=${m}/day=${d}`));
  }
  return partitions;
}

/** `YYYY-MM-DD` of a real calendar day as epoch milliseconds (`2024-02-30` is refused, not March 1). */
function calendarDay(value: string, option: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m || !isCalendarDate(Number(m[1]), Number(m[2]), Number(m[3])))
    throw new ReplayArgumentError(`--${option} ${value} is not a calendar date YYYY-MM-DD`);
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
}

export interface ReplayStarted extends StartResult {
  readonly name: string;
  readonly partition: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startReplays(p: {
  readonly starter: RunStarter;
  readonly dataset: Dataset;
  readonly partitions: readonly Partition[];
  readonly fromStage: Stage;
  /** StartExecution calls per second (default 5). */
  readonly ratePerSecond?: number;
  readonly now?: () => Date;
  readonly onStarted?: (started: ReplayStarted, index: number) => void;
}): Promise<ReplayStarted[]> {
  const interval = 1000 / (p.ratePerSecond ?? 5);
  const now = p.now ?? (() => new Date());
  const started: ReplayStarted[] = [];
  let last = 0;
  for (const [i, partition] of p.partitions.entries()) {
    const wait = last + interval - Date.now();
    if (i > 0 && wait > 0) await sleep(wait);
    last = Date.now();
    const at = now();
    const name = replayRunName(p.dataset.name, partition, p.fromStage, at);
    const result = await p.starter.start({
      name,
      input: replayRunInput(p.dataset.name, partition, p.fromStage, at),
    });
    const entry = { ...result, name, partition: partition.path };
    started.push(entry);
    p.onStarted?.(entry, i);
  }
  return started;
}
