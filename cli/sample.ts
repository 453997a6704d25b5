import { statSync } from 'node:fs';
import { loadRegistry } from '../shared/config/registry';
import { LocalLake } from '../shared/local/lake';
import { orderRows, writeRows } from '../shared/local/sample';
import { parseCommand, usageError } from './args';
import { ms } from './format';

const HELP = `medallion sample — write a deterministic sample file into the landing folder of the local lake.

Usage: medallion sample --dataset orders --records N --date YYYY-MM-DD [options]

Options:
  --dataset NAME      dataset to generate for (sample generators exist for: orders)
  --records N         number of rows (streamed: 1,000,000 rows take seconds and little memory)
  --date YYYY-MM-DD   the partition (year=/month=/day=) and the day of the rows
  --bad-ratio R       share of rows that break one rule each, 0..1 (default 0)
  --seed N            random seed (default 42): the same seed gives the same file
  --first-id N        order ids start after N (default 0)
  --format F          jsonl or csv (default jsonl)
  --file NAME         file name (default sample-<seed>.<format>)
  --lake DIR          lake folder (default: $MEDALLION_LAKE or .lake)
  --json              print the result as JSON
  -h, --help          show this help

Writing a file does not run the pipeline: run "medallion watch", or "medallion replay" for the date.
Exit codes: 0 written, 1 failure, 2 usage error.`;

const GENERATORS = ['orders'];

export async function sample(args: string[]): Promise<number> {
  const parsed = parseCommand(args, HELP, {
    dataset: { type: 'string', default: 'orders' },
    records: { type: 'string' },
    date: { type: 'string' },
    'bad-ratio': { type: 'string', default: '0' },
    seed: { type: 'string', default: '42' },
    'first-id': { type: 'string', default: '0' },
    format: { type: 'string', default: 'jsonl' },
    file: { type: 'string' },
    lake: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  if (typeof parsed === 'number') return parsed;
  const v = parsed.values;
  const usage = (message: string) => usageError(message, HELP);
  const records = Number(v.records);
  if (!v.records || !Number.isInteger(records) || records < 1)
    return usage('--records must be a positive integer');
  if (!v.date || !/^\d{4}-\d{2}-\d{2}$/.test(v.date) || Number.isNaN(Date.parse(v.date)))
    return usage('--date must be YYYY-MM-DD');
  const badRatio = Number(v['bad-ratio']);
  if (!(badRatio >= 0 && badRatio <= 1)) return usage('--bad-ratio must be between 0 and 1');
  const seed = Number(v.seed);
  const firstId = Number(v['first-id']);
  if (!Number.isInteger(seed) || !Number.isInteger(firstId))
    return usage('--seed and --first-id must be integers');
  if (v.format !== 'jsonl' && v.format !== 'csv') return usage('--format must be jsonl or csv');
  if (!GENERATORS.includes(v.dataset))
    return usage(`no sample generator for dataset "${v.dataset}" (available: ${GENERATORS.join(', ')})`);
  const dataset = loadRegistry().get(v.dataset);
  if (!dataset.landing.formats.includes(v.format))
    return usage(`dataset "${dataset.name}" does not accept ${v.format} files`);
  const fileName = v.file ?? `sample-${seed}.${v.format}`;
  if (fileName.includes('/')) return usage('--file must be a file name, not a path');

  const [year, month, day] = v.date.split('-');
  const lake = new LocalLake(v.lake);
  const key = `${dataset.landing.prefix}year=${year}/month=${month}/day=${day}/${fileName}`;
  const path = lake.path(key);
  const started = Date.now();
  const showProgress = !v.json && records >= 100_000;
  const result = writeRows(
    path,
    v.format,
    orderRows({ date: v.date, records, badRatio, seed, firstId }),
    showProgress
      ? (n) => process.stderr.write(`\r  ${n.toLocaleString('en')} / ${records.toLocaleString('en')} rows`)
      : undefined,
  );
  if (showProgress) process.stderr.write('\n');
  const elapsed = Date.now() - started;
  const summary = { key, path, rows: result.rows, bytes: statSync(path).size, elapsedMs: elapsed };
  if (v.json) console.log(JSON.stringify(summary, null, 2));
  else
    console.log(
      `wrote ${summary.rows.toLocaleString('en')} rows (${(summary.bytes / 1e6).toFixed(1)} MB) to ${key} in ${ms(elapsed)}`,
    );
  return 0;
}
