import type { Dataset, Registry, Stage } from '../domain/datasets';
import { DatasetConfigError, InvalidObjectKeyError } from '../domain/errors';
import { KeyParser, type Partition } from '../domain/object-key';
import { replayRunInput, replayRunName } from '../domain/run';
import type { RunStarter, StartResult } from '../ports';

/**
 * Replays: re-run partitions from a stage on, locally or on AWS, through a RunStarter. Starts are
 * spaced to a rate (StartExecution is a token bucket per account and region; a replay of a year must
 * not starve the landings).
 */

/** A partition of a dataset from its hive path, validated like a landing key. */
export function partitionFromPath(registry: Registry, dataset: Dataset, path: string): Partition {
  const ext = dataset.landing.formats[0] === 'csv' ? 'csv' : 'jsonl';
  try {
    return new KeyParser(registry).parse(`${dataset.landing.prefix}${path.replace(/\/+$/, '')}/replay.${ext}`)
      .partition;
  } catch (error) {
    if (error instanceof InvalidObjectKeyError)
      throw new DatasetConfigError([`partition "${path}" of dataset ${dataset.name}: ${error.message}`]);
    throw error;
  }
}

/** The daily partitions from `from` to `to` (inclusive), for datasets partitioned year/month/day. */
export function dailyPartitions(registry: Registry, dataset: Dataset, from: string, to: string): Partition[] {
  const names = dataset.partitionKeys.map((k) => k.name).join('/');
  if (names !== 'year/month/day')
    throw new DatasetConfigError([
      `dataset ${dataset.name} is partitioned by ${names}, not year/month/day: give --partition instead of --from/--to`,
    ]);
  const start = Date.parse(`${from}T00:00:00Z`);
  const end = Date.parse(`${to}T00:00:00Z`);
  if (Number.isNaN(start) || Number.isNaN(end))
    throw new DatasetConfigError(['--from and --to must be YYYY-MM-DD']);
  if (end < start) throw new DatasetConfigError([`--to ${to} is before --from ${from}`]);
  const partitions: Partition[] = [];
  for (let t = start; t <= end; t += 86_400_000) {
    const [y, m, d] = new Date(t).toISOString().slice(0, 10).split('-');
    partitions.push(partitionFromPath(registry, dataset, `year=${y}/month=${m}/day=${d}`));
  }
  return partitions;
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
