import { fmt, hyperfine, type BenchRow, type Suite } from './lib';

/**
 * CLI start-up: wall time of `medallion --help` in a fresh process (spawn to exit), timed by
 * hyperfine (median of RUNS after WARMUP unmeasured runs; the first run after a source change
 * rebuilds dist/ and is one of them), against (a) a bare `node -e 0` (the floor) and (b) the CLI run
 * from its TypeScript sources through tsx, which is how bin/medallion.cjs started before the
 * compiled bundle (dist/cli.cjs). `npx medallion --help` is measured too (npm's own start-up on top).
 */

const RUNS = 15;
const SLOW_RUNS = 5;
const WARMUP = 3;
const TARGET_MS = 200;

export const cliStartupSuite: Suite = {
  name: 'cli',
  async run(): Promise<BenchRow[]> {
    const node = process.execPath;
    const [bundled, bare] = hyperfine([`${node} bin/medallion.cjs --help`, `${node} -e 0`], {
      runs: RUNS,
      warmup: WARMUP,
    });
    const [fromSources, npx] = hyperfine(
      [`${node} --import tsx cli/main.ts --help`, 'npx --no-install medallion --help'],
      { runs: SLOW_RUNS, warmup: 2 },
    );
    if (!bundled || !bare || !fromSources || !npx)
      throw new Error('hyperfine timed fewer commands than given');
    return [
      {
        benchmark: 'CLI start-up',
        case: '`medallion --help` (node bin/medallion.cjs, compiled dist/cli.cjs)',
        measured: `${fmt(bundled.medianMs)} ms (bare \`node -e 0\`: ${fmt(bare.medianMs)} ms)`,
        baseline: `${fmt(fromSources.medianMs)} ms from the TypeScript sources through tsx (the start-up before)`,
        target: `≤ ${TARGET_MS} ms`,
        met: bundled.medianMs <= TARGET_MS,
        values: { medianMs: bundled.medianMs, runsMs: bundled.runsMs, bareNodeMedianMs: bare.medianMs },
        baselineValues: { medianMs: fromSources.medianMs, runsMs: fromSources.runsMs },
        runs: RUNS,
      },
      {
        benchmark: 'CLI start-up',
        case: '`npx medallion --help`',
        measured: `${fmt(npx.medianMs)} ms`,
        baseline: '—',
        target: '—',
        met: null,
        values: { medianMs: npx.medianMs, runsMs: npx.runsMs },
        runs: SLOW_RUNS,
        note: "npm's own start-up (npx resolving the bin) on top of the CLI's",
      },
    ];
  },
};
