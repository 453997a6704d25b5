import { spawnSync } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fmt, median, onlyExecution, type BenchRow, type Suite } from './lib';

/**
 * Local end-to-end: `medallion sample` writes N orders into one partition of a fresh lake, then
 * `medallion watch --once` delivers it to the real on-landing handler and runs the real ASL locally
 * (bronze → silver → gold on DuckDB). Wall time and peak RSS are those of the `watch` process
 * (GNU time -v), so node start-up and the TypeScript loader are included.
 */

const ROOT = process.cwd();
const CLI = join(ROOT, 'bin', 'medallion.cjs');
const WORK = join(tmpdir(), 'medallion-bench-e2e');
const CASES = [
  { records: 100_000, runs: 3 },
  { records: 1_000_000, runs: 3 },
] as const;
const WALL_TARGET_S = 15;
const RSS_TARGET_BYTES = 2 * 1024 ** 3;
const DATE = '2024-01-15';

interface E2eSample {
  wallS: number;
  /** The execution's own duration (its history), without CLI start-up and landing. */
  executionS: number;
  peakRssBytes: number;
  transitions: number;
  stages: Record<string, number>;
  silverRecordsOut: number | undefined;
}

/** Runs the CLI; `timed`: under GNU time -v (peak RSS in stderr). Wall seconds from spawn to exit. */
function cli(args: string[], timed: boolean): { stdout: string; stderr: string; wallS: number } {
  const command = timed ? '/usr/bin/time' : process.execPath;
  const argv = timed ? ['-v', process.execPath, CLI, ...args] : [CLI, ...args];
  const t0 = performance.now();
  const out = spawnSync(command, argv, { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const wallS = (performance.now() - t0) / 1000;
  if (out.status !== 0)
    throw new Error(`medallion ${args.join(' ')} exited ${out.status}: ${out.stderr.slice(-2000)}`);
  return { stdout: out.stdout, stderr: out.stderr, wallS };
}

function parseMaxRss(text: string): number {
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(text);
  if (!m) throw new Error('no maximum resident set size in the output of /usr/bin/time -v');
  return Number(m[1]) * 1024;
}

async function measure(records: number, runs: number): Promise<E2eSample[]> {
  const source = join(WORK, `sample-${records}`);
  rmSync(source, { recursive: true, force: true });
  const written = JSON.parse(
    cli(
      [
        'sample',
        '--dataset',
        'orders',
        '--records',
        String(records),
        '--date',
        DATE,
        '--lake',
        source,
        '--json',
      ],
      false,
    ).stdout,
  ) as { key: string; path: string; rows: number };
  if (written.rows !== records)
    throw new Error(`medallion sample wrote ${written.rows} rows, not ${records}`);

  const samples: E2eSample[] = [];
  for (let i = 0; i < runs; i++) {
    const lake = join(WORK, `lake-${records}-${i}`);
    rmSync(lake, { recursive: true, force: true });
    const target = join(lake, ...written.key.split('/'));
    mkdirSync(dirname(target), { recursive: true });
    linkSync(written.path, target);
    const { stderr, wallS } = cli(
      ['watch', '--once', '--lake', lake, '--batch-window', '0', '--interval', '50'],
      true,
    );
    const history = onlyExecution(lake);
    if (history.status !== 'SUCCEEDED')
      throw new Error(
        `the ${fmt(records)}-record run ended ${history.status}: ${history.error ?? ''} ${history.cause ?? ''}`,
      );
    samples.push({
      wallS,
      executionS: (history.durationMs ?? 0) / 1000,
      peakRssBytes: parseMaxRss(stderr),
      transitions: history.states.length + history.states.reduce((n, s) => n + s.retries, 0),
      stages: Object.fromEntries(
        history.states.filter((s) => /^Run \w+ job$/.test(s.name)).map((s) => [s.name, s.durationMs ?? 0]),
      ),
      silverRecordsOut: history.output?.results?.['silver']?.recordsOut,
    });
    rmSync(lake, { recursive: true, force: true });
  }
  rmSync(source, { recursive: true, force: true });
  return samples;
}

export const e2eSuite: Suite = {
  name: 'e2e',
  async run(): Promise<BenchRow[]> {
    const rows: BenchRow[] = [];
    if (!existsSync('/usr/bin/time'))
      throw new Error('GNU time (/usr/bin/time, Debian package time) measures the peak RSS: not installed');
    // The fixed cost inside every wall time: node + the tsx loader + the CLI's imports.
    const startup: Array<{ wallS: number; rss: number }> = [];
    for (let i = 0; i < 3; i++) {
      const { stderr, wallS } = cli(['--help'], true);
      startup.push({ wallS, rss: parseMaxRss(stderr) });
    }
    const startupS = median(startup.map((s) => s.wallS));
    const startupRss = median(startup.map((s) => s.rss));
    for (const { records, runs } of CASES) {
      const samples = await measure(records, runs);
      const executionS = median(samples.map((s) => s.executionS));
      const wallS = median(samples.map((s) => s.wallS));
      const rss = median(samples.map((s) => s.peakRssBytes));
      const stageNames = Object.keys(samples[0]?.stages ?? {});
      const stages = Object.fromEntries(
        stageNames.map((n) => [n, median(samples.map((s) => s.stages[n] ?? 0))]),
      );
      const isTargetCase = records === 1_000_000;
      rows.push({
        benchmark: 'local end-to-end',
        case: `${fmt(records)} records, one partition, 3 stages`,
        measured:
          `wall ${fmt(wallS, 1)} s, peak RSS ${fmt(rss / 1024 ** 2)} MB; ` +
          `CLI start-up alone ${fmt(startupS, 1)} s and ${fmt(startupRss / 1024 ** 2)} MB, execution ${fmt(executionS, 1)} s, of which jobs ${stageNames.map((n) => `${n.replace(/^Run | job$/g, '')} ${fmt((stages[n] ?? 0) / 1000, 1)} s`).join(', ')}; ` +
          `silver rows ${fmt(samples[0]?.silverRecordsOut ?? 0)}; ${samples[0]?.transitions ?? 0} transitions`,
        baseline: '—',
        target: isTargetCase ? `≤ ${WALL_TARGET_S} s and ≤ 2 GB` : '— (target at 1M)',
        met: isTargetCase ? wallS <= WALL_TARGET_S && rss <= RSS_TARGET_BYTES : null,
        values: {
          records,
          wallS,
          peakRssBytes: rss,
          cliStartupS: startupS,
          cliStartupRssBytes: startupRss,
          executionS,
          jobMs: stages,
          samples,
        },
        runs,
      });
    }
    return rows;
  },
};
