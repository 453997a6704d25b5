import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Bench } from 'tinybench';

/** One line of the results table; `values` keep the raw numbers for bench/results.json. */
export interface BenchRow {
  readonly benchmark: string;
  readonly case: string;
  /** What was measured, human readable (the table cell). */
  readonly measured: string;
  /** The baseline run in the same process, human readable; `—` when the issue names none. */
  readonly baseline: string;
  readonly target: string;
  /** `null`: not measured, or no target applies. */
  readonly met: boolean | null;
  readonly values: Record<string, unknown>;
  readonly baselineValues?: Record<string, unknown>;
  readonly runs?: number;
  readonly note?: string;
}

export interface Suite {
  readonly name: string;
  run(): Promise<BenchRow[]>;
}

/** Median of a few numbers (the bundle's interleaved load times, the end-to-end runs). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  if (sorted.length === 0) throw new Error('median of nothing');
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** CPU milliseconds (user + system, all threads, so V8's concurrent GC counts) as a tinybench clock. */
const cpuNow = (): number => {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1000;
};

/**
 * An in-process workload for tinybench: `run` is the timed call; `setup` before it and `after` it
 * (with its result, and whether the call was measured or a warm-up) are not timed.
 */
export interface Workload<R> {
  readonly setup?: () => void | Promise<void>;
  readonly run: () => Promise<R>;
  readonly after?: (result: R, measured: boolean) => void;
}

/**
 * tinybench: `warmup` unmeasured calls, then exactly `iterations` measured ones, timed by the wall
 * clock (performance.now) or the process's CPU time. Returns the median (p50) and every sample, ms.
 */
export async function measure<R>(
  workload: Workload<R>,
  options: { iterations: number; warmup: number; clock: 'wall' | 'cpu' },
): Promise<{ medianMs: number; samplesMs: number[] }> {
  let last: R | undefined;
  const bench = new Bench({
    iterations: options.iterations,
    time: 0,
    warmup: options.warmup > 0,
    warmupIterations: options.warmup,
    warmupTime: 0,
    retainSamples: true,
    throws: true,
    ...(options.clock === 'cpu' ? { now: cpuNow } : {}),
  });
  bench.add(
    'workload',
    async () => {
      last = await workload.run();
    },
    {
      ...(workload.setup ? { beforeEach: workload.setup } : {}),
      afterEach: (mode) => workload.after?.(last as R, mode === 'run'),
    },
  );
  const [task] = await bench.run();
  const result = task?.result;
  if (result?.state !== 'completed')
    throw new Error(`tinybench: the workload ended ${result?.state ?? 'unrun'}`);
  return { medianMs: result.latency.p50, samplesMs: [...(result.latency.samples ?? [])] };
}

/** One command's wall times from hyperfine's --export-json (seconds there, milliseconds here). */
export interface CommandTimes {
  readonly medianMs: number;
  readonly runsMs: number[];
}

/**
 * Times whole commands with hyperfine (`warmup` unmeasured runs, then `runs`; a non-zero exit fails
 * it): each command a string as hyperfine takes it, run without a shell (`-N`) unless `shell`, in
 * which case hyperfine subtracts the shell's own start-up. Returns each command's median and runs.
 */
export function hyperfine(
  commands: readonly string[],
  options: { runs: number; warmup: number; shell?: boolean },
): CommandTimes[] {
  const dir = mkdtempSync(join(tmpdir(), 'medallion-bench-hyperfine-'));
  const json = join(dir, 'times.json');
  try {
    const out = spawnSync(
      'hyperfine',
      [
        ...(options.shell ? [] : ['-N']),
        ...['--style', 'basic', '--runs', String(options.runs), '--warmup', String(options.warmup)],
        ...['--export-json', json, ...commands],
      ],
      { cwd: process.cwd(), encoding: 'utf8' },
    );
    if (out.error)
      throw new Error(`hyperfine could not run (Debian: apt-get install hyperfine): ${out.error.message}`);
    if (out.status !== 0)
      throw new Error(`hyperfine failed: ${(out.stderr || out.stdout).trim().slice(-1000)}`);
    const { results } = JSON.parse(readFileSync(json, 'utf8')) as {
      results: Array<{ median: number; times: number[] }>;
    };
    return results.map((r) => ({ medianMs: r.median * 1000, runsMs: r.times.map((s) => s * 1000) }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const fmt = (n: number, digits = 0): string =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

export const kb = (bytes: number): string => `${fmt(bytes / 1024, 1)} KB`;

export function notMeasured(benchmark: string, kase: string, target: string, missing: string): BenchRow {
  return {
    benchmark,
    case: kase,
    measured: `not measured: ${missing}`,
    baseline: '—',
    target,
    met: null,
    values: { notMeasured: missing },
  };
}

export interface Machine {
  readonly date: string;
  readonly nproc: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly platform: string;
  readonly commit: string;
}

export function machine(): Machine {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    // Files changed but not committed were measured too: say so (the bench's own outputs aside).
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' })
      .split('\n')
      .map((line) => line.slice(3).trim())
      .filter((file) => file && !['bench/results.json', 'BENCHMARKS.md'].includes(file));
    if (dirty.length > 0)
      commit += ` + uncommitted changes in ${dirty.length} file${dirty.length === 1 ? '' : 's'}`;
  } catch {
    // not a git checkout: leave it unknown
  }
  return {
    date: new Date().toISOString(),
    nproc: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    commit,
  };
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function markdownTable(rows: readonly BenchRow[]): string {
  const head =
    '| Benchmark | Case | Measured (median) | Baseline (same run) | Target | Met |\n|---|---|---|---|---|---|';
  const body = rows.map(
    (r) =>
      `| ${cell(r.benchmark)} | ${cell(r.case)} | ${cell(r.measured)} | ${cell(r.baseline)} | ${cell(r.target)} | ${
        r.met === null ? '—' : r.met ? 'yes' : '**no**'
      } |`,
  );
  return [head, ...body].join('\n');
}

/** The local runtime's history of one execution (.lake/_system/executions/<name>.json), as the bench reads it. */
export interface ExecutionHistory {
  status: string;
  durationMs?: number;
  states: Array<{ name: string; durationMs?: number; retries: number }>;
  output?: { results?: Record<string, { recordsOut?: number }> };
  error?: string;
  cause?: string;
}

/** The one execution a lake holds after a single run; throws when there are none or several. */
export function onlyExecution(lake: string): ExecutionHistory {
  const dir = join(lake, '_system', 'executions');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  if (files.length !== 1) throw new Error(`expected one execution in ${dir}, found ${files.length}`);
  return JSON.parse(readFileSync(join(dir, files[0] as string), 'utf8')) as ExecutionHistory;
}
