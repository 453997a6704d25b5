import { spawnSync } from 'node:child_process';
import { fmt, median, type BenchRow, type Suite } from './lib';

/**
 * CLI start-up: wall time of `medallion --help` in a fresh process (spawn to exit), median of RUNS
 * after WARMUP unmeasured runs, against (a) a bare `node -e 0` (the floor) and (b) the CLI run from
 * its TypeScript sources through tsx, which is how bin/medallion.cjs started before the compiled
 * bundle (dist/cli.cjs). `npx medallion --help` is measured too (npm's own start-up on top).
 */

const RUNS = 15;
const WARMUP = 2;
const TARGET_MS = 200;

/** Median wall milliseconds of `command args` run to completion; throws if it exits non-zero. */
function spawnMedian(
  command: string,
  args: readonly string[],
  runs = RUNS,
): { medianMs: number; all: number[] } {
  const all: number[] = [];
  for (let i = 0; i < WARMUP + runs; i++) {
    const t0 = performance.now();
    const result = spawnSync(command, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    const wall = performance.now() - t0;
    if (result.status !== 0)
      throw new Error(`${command} ${args.join(' ')} exited ${result.status}: ${result.stderr.slice(0, 300)}`);
    if (i >= WARMUP) all.push(Math.round(wall * 10) / 10);
  }
  return { medianMs: median(all), all };
}

export const cliStartupSuite: Suite = {
  name: 'cli',
  async run(): Promise<BenchRow[]> {
    const node = process.execPath;
    // The first start after a source change compiles the bundle: do it before measuring.
    spawnMedian(node, ['bin/medallion.cjs', '--help'], 1);
    const bundled = spawnMedian(node, ['bin/medallion.cjs', '--help']);
    const bare = spawnMedian(node, ['-e', '0']);
    const fromSources = spawnMedian(node, ['--import', 'tsx', 'cli/main.ts', '--help'], 5);
    const npx = spawnMedian('npx', ['--no-install', 'medallion', '--help'], 5);
    return [
      {
        benchmark: 'CLI start-up',
        case: '`medallion --help` (node bin/medallion.cjs, compiled dist/cli.cjs)',
        measured: `${fmt(bundled.medianMs)} ms (bare \`node -e 0\`: ${fmt(bare.medianMs)} ms)`,
        baseline: `${fmt(fromSources.medianMs)} ms from the TypeScript sources through tsx (the start-up before)`,
        target: `≤ ${TARGET_MS} ms`,
        met: bundled.medianMs <= TARGET_MS,
        values: { medianMs: bundled.medianMs, runsMs: bundled.all, bareNodeMedianMs: bare.medianMs },
        baselineValues: { medianMs: fromSources.medianMs, runsMs: fromSources.all },
        runs: RUNS,
      },
      {
        benchmark: 'CLI start-up',
        case: '`npx medallion --help`',
        measured: `${fmt(npx.medianMs)} ms`,
        baseline: '—',
        target: '—',
        met: null,
        values: { medianMs: npx.medianMs, runsMs: npx.all },
        runs: 5,
        note: "npm's own start-up (npx resolving the bin) on top of the CLI's",
      },
    ];
  },
};
