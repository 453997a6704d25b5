import { existsSync, statSync } from 'node:fs';
import { LocalLake } from '../local/lake';
import { DatasetRows } from '../local/dataset-rows';
import { datePartitions, partitionFromPath, ReplayArgumentError } from '../local/replay';
import { ORDER_COLUMNS, orderRows, writeRows } from '../local/sample';
import type { Dataset, Registry } from '../shared/domain/datasets';
import type { Partition } from '../shared/domain/object-key';
import { dateLayoutOf, dayOfPartition } from '../shared/domain/partition-dates';
import { datasetNamed, registry } from './datasets';
import { ms } from './format';
import { UsageError } from './options';

export interface SampleCommandOptions {
  readonly dataset: string;
  readonly records: number;
  /** A calendar date, checked by the option parser: the partition's day (with `where`) and the rows'. */
  readonly date?: string;
  /** A partition's hive path (`dt=2024-05-01`, `region=eu/dt=…`): any layout. */
  readonly partition?: string;
  readonly where?: string[];
  readonly badRatio: number;
  /** CDC datasets: shares of changes delivered twice, and written after the next change. */
  readonly duplicates: number;
  readonly outOfOrder: number;
  readonly seed: number;
  readonly firstId: number;
  /** Default: the dataset's first landing format. */
  readonly format?: 'jsonl' | 'csv';
  readonly file?: string;
  readonly lake?: string;
  readonly json: boolean;
}

/**
 * Rows written so far, on stderr: redrawn in place on a terminal; piped, one line per tenth of the
 * rows (a log reads "100,000 / 1,000,000 rows" lines, not one long line of carriage returns).
 */
export function rowProgress(total: number, tty: boolean): (rows: number) => void {
  let next = 0.1;
  const text = (n: number) => `${n.toLocaleString('en')} / ${total.toLocaleString('en')} rows`;
  return (n) => {
    if (tty) process.stderr.write(`\r  ${text(n)}`);
    else if (n / total >= next) {
      process.stderr.write(`  ${text(n)}\n`);
      next = Math.floor((n / total) * 10) / 10 + 0.1;
    }
  };
}

/** `medallion sample`: a seeded, reproducible landing file. */
export async function sample(v: SampleCommandOptions): Promise<number> {
  const reg = registry();
  const dataset = datasetNamed(reg, v.dataset);
  const format = v.format ?? (dataset.landing.formats[0] === 'csv' ? 'csv' : 'jsonl');
  if (!dataset.landing.formats.includes(format))
    throw new UsageError(
      `dataset "${dataset.name}" does not accept ${format} files (it takes ${dataset.landing.formats.join(', ')})`,
    );
  if ((v.duplicates > 0 || v.outOfOrder > 0) && dataset.mode !== 'cdc')
    throw new UsageError(
      `--duplicates and --out-of-order shape a change stream: dataset "${dataset.name}" is not a CDC dataset (mode: cdc)`,
    );
  const fileName = v.file ?? `sample-${v.seed}.${format}`;
  if (fileName.includes('/')) throw new UsageError('--file must be a file name, not a path');

  const partition = partitionOf(reg, dataset, v);
  const layout = dateLayoutOf(dataset);
  const day = (layout && dayOfPartition(layout, partition)) ?? v.date;
  const lake = new LocalLake(v.lake);
  const created = !existsSync(lake.root);
  const key = `${dataset.landing.prefix}${partition.path}/${fileName}`;
  const path = lake.path(key);
  const started = Date.now();
  const showProgress = !v.json && v.records >= 100_000;
  const options = { records: v.records, badRatio: v.badRatio, seed: v.seed, firstId: v.firstId };
  // orders keeps the demo's generator (its figures are checked by hand); any other dataset gets rows
  // from its declared columns and rules.
  const generic =
    dataset.name === 'orders' && day
      ? undefined
      : new DatasetRows(dataset, {
          ...options,
          duplicates: v.duplicates,
          outOfOrder: v.outOfOrder,
          ...(day ? { day } : {}),
        });
  const result = writeRows(
    path,
    format,
    generic ? dataset.columns.map((c) => c.name) : ORDER_COLUMNS,
    generic ?? orderRows({ ...options, date: day as string }),
    showProgress ? rowProgress(v.records, process.stderr.isTTY === true) : undefined,
  );
  if (showProgress && process.stderr.isTTY) process.stderr.write('\n');
  const elapsed = Date.now() - started;
  const bad = generic ? generic.bad : undefined;
  const summary = {
    key,
    path,
    rows: result.rows,
    ...(bad !== undefined ? { rowsBreakingARule: bad } : {}),
    bytes: statSync(path).size,
    elapsedMs: elapsed,
  };
  if (v.json) console.log(JSON.stringify(summary, null, 2));
  else {
    if (created) console.log(`created the lake folder ${lake.root}`);
    console.log(
      `wrote ${summary.rows.toLocaleString('en')} rows (${(summary.bytes / 1e6).toFixed(1)} MB) to ${key} in ${ms(elapsed)}`,
    );
  }
  return 0;
}

/** The partition to write into: `--partition` for any layout, else `--date` (and `--where`) for a date layout. */
function partitionOf(reg: Registry, dataset: Dataset, v: SampleCommandOptions): Partition {
  try {
    if (v.partition !== undefined) return partitionFromPath(reg, dataset, v.partition);
    if (v.date === undefined) throw new UsageError('give --date YYYY-MM-DD or --partition k=v/...');
    if (!dateLayoutOf(dataset))
      throw new UsageError(
        `dataset ${dataset.name} is partitioned by ${dataset.partitionKeys.map((k) => k.name).join('/')}, none of which holds a date: give --partition`,
      );
    const partitions = datePartitions(reg, dataset, v.date, v.date, v.where ?? []);
    if (partitions.length !== 1)
      throw new UsageError(`--where names ${partitions.length} partitions: give one value per key`);
    return partitions[0] as Partition;
  } catch (error) {
    if (error instanceof ReplayArgumentError) throw new UsageError(error.message);
    throw error;
  }
}
