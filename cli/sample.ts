import { existsSync, statSync } from 'node:fs';
import { LocalLake } from '../local/lake';
import { orderRows, writeRows } from '../local/sample';
import { datasetNamed, registry } from './datasets';
import { ms } from './format';
import { UsageError } from './options';

export interface SampleCommandOptions {
  readonly dataset: string;
  readonly records: number;
  /** A calendar date, checked by the option parser. */
  readonly date: string;
  readonly badRatio: number;
  readonly seed: number;
  readonly firstId: number;
  readonly format: 'jsonl' | 'csv';
  readonly file?: string;
  readonly lake?: string;
  readonly json: boolean;
}

const GENERATORS = ['orders'];

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
  const dataset = datasetNamed(registry(), v.dataset);
  if (!GENERATORS.includes(dataset.name))
    throw new UsageError(
      `no sample generator for dataset "${dataset.name}" (available: ${GENERATORS.join(', ')})`,
    );
  if (!dataset.landing.formats.includes(v.format))
    throw new UsageError(`dataset "${dataset.name}" does not accept ${v.format} files`);
  const fileName = v.file ?? `sample-${v.seed}.${v.format}`;
  if (fileName.includes('/')) throw new UsageError('--file must be a file name, not a path');

  const [year, month, day] = v.date.split('-');
  const lake = new LocalLake(v.lake);
  const created = !existsSync(lake.root);
  const key = `${dataset.landing.prefix}year=${year}/month=${month}/day=${day}/${fileName}`;
  const path = lake.path(key);
  const started = Date.now();
  const showProgress = !v.json && v.records >= 100_000;
  const result = writeRows(
    path,
    v.format,
    orderRows({ date: v.date, records: v.records, badRatio: v.badRatio, seed: v.seed, firstId: v.firstId }),
    showProgress ? rowProgress(v.records, process.stderr.isTTY === true) : undefined,
  );
  if (showProgress && process.stderr.isTTY) process.stderr.write('\n');
  const elapsed = Date.now() - started;
  const summary = { key, path, rows: result.rows, bytes: statSync(path).size, elapsedMs: elapsed };
  if (v.json) console.log(JSON.stringify(summary, null, 2));
  else {
    if (created) console.log(`created the lake folder ${lake.root}`);
    console.log(
      `wrote ${summary.rows.toLocaleString('en')} rows (${(summary.bytes / 1e6).toFixed(1)} MB) to ${key} in ${ms(elapsed)}`,
    );
  }
  return 0;
}
