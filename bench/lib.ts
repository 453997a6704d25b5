import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

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

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of nothing');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Runs `fn` `warmup` times unmeasured, then `runs` times; returns every measured result. */
export async function repeat<T>(runs: number, fn: () => Promise<T>, warmup = 1): Promise<T[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: T[] = [];
  for (let i = 0; i < runs; i++) out.push(await fn());
  return out;
}

/** Wall and CPU (user + system) milliseconds of one call. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ result: T; wallMs: number; cpuMs: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await fn();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { result, wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
}

export const medianOf = <T>(items: readonly T[], pick: (item: T) => number): number =>
  median(items.map(pick));

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
