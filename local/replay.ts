import type { Dataset, Registry, Stage } from '../shared/domain/datasets';
import { InvalidObjectKeyError, MedallionError } from '../shared/domain/errors';
import { KeyParser, type Partition } from '../shared/domain/object-key';
import {
  dateKeysOf,
  dateKeyValues,
  dateLayoutOf,
  daysBetween,
  parseCalendarDay,
} from '../shared/domain/partition-dates';
import { replayRunInput, replayRunName } from '../shared/domain/run';
import { takeRunSlot, type SlotDeps } from '../shared/core/run-slots';
import type { RunStarter, StartResult } from '../shared/ports';

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

/**
 * The partitions of the days from `from` to `to` (both included) for any date-like layout
 * (shared/domain/partition-dates.ts): `year/month/day`, `dt=YYYY-MM-DD`, `dt=YYYYMMDD`... The keys that
 * do not hold the date take their values from `where` (`region=us-east`, repeatable: several values of
 * a key replay each), and every partition is validated like a landing key.
 */
export function datePartitions(
  registry: Registry,
  dataset: Dataset,
  from: string,
  to: string,
  where: readonly string[] = [],
): Partition[] {
  const layout = dateLayoutOf(dataset);
  const names = dataset.partitionKeys.map((k) => k.name);
  if (!layout)
    throw new ReplayArgumentError(
      `dataset ${dataset.name} is partitioned by ${names.join('/')}, none of which holds a date: give --partition instead of --from/--to`,
    );
  const start = parseCalendarDay(from);
  const end = parseCalendarDay(to);
  if (!start) throw new ReplayArgumentError(`--from ${from} is not a calendar date YYYY-MM-DD`);
  if (!end) throw new ReplayArgumentError(`--to ${to} is not a calendar date YYYY-MM-DD`);
  if (end.epochMs < start.epochMs) throw new ReplayArgumentError(`--to ${to} is before --from ${from}`);

  const dateKeys = dateKeysOf(layout);
  const others = names.filter((n) => !dateKeys.includes(n));
  const values = new Map<string, string[]>();
  for (const pair of where) {
    const eq = pair.indexOf('=');
    const [key, value] = eq < 0 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)];
    if (!others.includes(key) || value === '')
      throw new ReplayArgumentError(
        `--where ${pair}: expected key=value with a key of dataset ${dataset.name} other than its date (${others.join(', ') || 'it has none'})`,
      );
    values.set(key, [...(values.get(key) ?? []), value]);
  }
  const missing = others.filter((n) => !values.has(n));
  if (missing.length > 0)
    throw new ReplayArgumentError(
      `dataset ${dataset.name} is partitioned by ${names.join('/')}: give ${missing.map((n) => `--where ${n}=…`).join(' ')} with --from/--to, or --partition`,
    );
  // Every combination of the --where values, for each day.
  let combos: Array<Record<string, string>> = [{}];
  for (const [key, list] of values) combos = combos.flatMap((c) => list.map((v) => ({ ...c, [key]: v })));
  return daysBetween(start.epochMs, end.epochMs).flatMap((day) =>
    combos.map((combo) => {
      const row: Record<string, string> = { ...combo, ...dateKeyValues(layout, day) };
      return partitionFromPath(registry, dataset, names.map((n) => `${n}=${row[n]}`).join('/'));
    }),
  );
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
  /**
   * The bound on executions in flight: each replay takes a slot before it starts, waiting (polling
   * every `pollMs`) while every slot is held.
   */
  readonly executionBudget?: SlotDeps & { readonly pollMs?: number };
  /** Called once each time a replay starts waiting for a slot. */
  readonly onWaiting?: (wait: { name: string; inFlight: number; budget: number }) => void;
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
    const budget = p.executionBudget;
    if (budget) await waitForSlot(budget, name, p.onWaiting);
    let result: StartResult;
    try {
      result = await p.starter.start({
        name,
        input: replayRunInput(p.dataset.name, partition, p.fromStage, at),
      });
    } catch (error) {
      // Not started: its slot goes back (a start that did start is found by the holders' check).
      await budget?.slots.releaseSlot(name).catch(() => undefined);
      throw error;
    }
    const entry = { ...result, name, partition: partition.path };
    started.push(entry);
    p.onStarted?.(entry, i);
  }
  return started;
}

async function waitForSlot(
  budget: SlotDeps & { readonly pollMs?: number },
  name: string,
  onWaiting?: (wait: { name: string; inFlight: number; budget: number }) => void,
): Promise<void> {
  let waiting = false;
  for (;;) {
    const outcome = await takeRunSlot(budget, name);
    if (outcome.kind === 'taken') return;
    if (!waiting) onWaiting?.({ name, inFlight: outcome.inFlight, budget: outcome.budget });
    waiting = true;
    await sleep(budget.pollMs ?? 10_000);
  }
}
