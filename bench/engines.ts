import { spawn } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fmt, onlyExecution, type BenchRow, type Suite } from './lib';

/**
 * The Glue engines side by side: one partition of N sample orders (JSON lines) through
 * `medallion watch --once --engine <duckdb|spark>` (the real on-landing handler and ASL; bronze →
 * silver → gold on DuckDB, or the real Glue scripts on local Spark). Peak RSS is the largest sum of
 * the resident sets of the `watch` process and all its descendants (Spark: node + Python + the JVM),
 * sampled from /proc every 100 ms; wall time is from spawn to exit, so start-up (and Spark's) counts.
 */

const ROOT = process.cwd();
const CLI = join(ROOT, 'bin', 'medallion.cjs');
const WORK = join(tmpdir(), 'medallion-bench-engines');
const DATE = '2024-01-15';
const RSS_TARGET_BYTES = 2 * 1024 ** 3;

const CASES = [
  { engine: 'duckdb', records: 1_000_000 },
  { engine: 'spark', records: 1_000_000 },
  { engine: 'duckdb', records: 10_000_000 },
] as const;

const PAGE = 4096;

/** pid → parent pid and resident bytes of every process now. */
function processTable(): Map<number, { ppid: number; rss: number }> {
  const table = new Map<number, { ppid: number; rss: number }>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Fields after the command (which may hold spaces) in parentheses: state ppid ... rss is field 24.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      table.set(Number(name), { ppid: Number(fields[1]), rss: Number(fields[21]) * PAGE });
    } catch {
      // the process ended while the table was read
    }
  }
  return table;
}

/** Resident bytes of `root` and all its descendants. */
function treeRss(root: number): number {
  const table = processTable();
  let total = 0;
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.pop() as number;
    total += table.get(pid)?.rss ?? 0;
    for (const [child, p] of table) if (p.ppid === pid) queue.push(child);
  }
  return total;
}

/** Runs the CLI; resolves with wall seconds and the peak RSS of its process tree. */
function run(args: string[]): Promise<{ wallS: number; peakRssBytes: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    let peak = 0;
    const timer = setInterval(() => {
      if (child.pid !== undefined) peak = Math.max(peak, treeRss(child.pid));
    }, 100);
    child.on('error', (error) => {
      clearInterval(timer);
      reject(error);
    });
    child.on('exit', (code) => {
      clearInterval(timer);
      const wallS = (performance.now() - t0) / 1000;
      if (code !== 0) reject(new Error(`medallion ${args.join(' ')} exited ${code}: ${stderr}`));
      else resolve({ wallS, peakRssBytes: peak, stdout });
    });
  });
}

const samples = new Map<number, { key: string; path: string }>();

async function sample(records: number): Promise<{ key: string; path: string }> {
  const known = samples.get(records);
  if (known && existsSync(known.path)) return known;
  const lake = join(WORK, `sample-${records}`);
  rmSync(lake, { recursive: true, force: true });
  const { stdout } = await run([
    'sample',
    '--dataset',
    'orders',
    '--records',
    String(records),
    '--date',
    DATE,
    '--lake',
    lake,
    '--json',
  ]);
  const written = JSON.parse(stdout) as { key: string; path: string; rows: number };
  if (written.rows !== records)
    throw new Error(`medallion sample wrote ${written.rows} rows, not ${records}`);
  samples.set(records, written);
  return written;
}

export const enginesSuite: Suite = {
  name: 'engines',
  async run(): Promise<BenchRow[]> {
    if (!existsSync('/proc/self/stat'))
      throw new Error('the peak RSS of a process tree is read from /proc: none here');
    const rows: BenchRow[] = [];
    try {
      for (const { engine, records } of CASES) {
        const written = await sample(records);
        const lake = join(WORK, `lake-${engine}-${records}`);
        rmSync(lake, { recursive: true, force: true });
        const target = join(lake, ...written.key.split('/'));
        mkdirSync(dirname(target), { recursive: true });
        linkSync(written.path, target);
        const measured = await run([
          'watch',
          '--once',
          '--lake',
          lake,
          '--engine',
          engine,
          '--batch-window',
          '0',
          '--interval',
          '50',
        ]);
        const history = onlyExecution(lake);
        rmSync(lake, { recursive: true, force: true });
        if (history.status !== 'SUCCEEDED')
          throw new Error(
            `${engine} at ${fmt(records)} records ended ${history.status}: ${history.error ?? ''} ${history.cause ?? ''}`,
          );
        const jobs = history.states
          .filter((s) => /^Run \w+ job$/.test(s.name))
          .map((s) => `${s.name.replace(/^Run | job$/g, '')} ${fmt((s.durationMs ?? 0) / 1000, 1)} s`)
          .join(', ');
        const bounded = engine === 'duckdb';
        rows.push({
          benchmark: 'Glue engines',
          case: `${engine === 'duckdb' ? 'DuckDB' : 'Spark (local[2], 1 GB driver)'}, ${fmt(records)} records, one partition, 3 stages`,
          measured:
            `wall ${fmt(measured.wallS, 1)} s, peak RSS ${fmt(measured.peakRssBytes / 1024 ** 2)} MB (process tree); ` +
            `execution ${fmt((history.durationMs ?? 0) / 1000, 1)} s, of which jobs ${jobs}; ` +
            `silver rows ${fmt(history.output?.results?.['silver']?.recordsOut ?? 0)}`,
          baseline: '—',
          target: bounded ? '≤ 2 GB peak RSS' : '— (compared with DuckDB)',
          met: bounded ? measured.peakRssBytes <= RSS_TARGET_BYTES : null,
          values: {
            engine,
            records,
            wallS: measured.wallS,
            peakRssBytes: measured.peakRssBytes,
            executionS: (history.durationMs ?? 0) / 1000,
          },
          runs: 1,
        });
      }
    } finally {
      rmSync(WORK, { recursive: true, force: true });
    }
    return rows;
  },
};
