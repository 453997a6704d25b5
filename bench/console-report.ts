import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fmt, hyperfine, kb, median, type BenchRow, type Suite } from './lib';

/**
 * The run console's offline page: `medallion report --out F.html` on the demo's lake (DEMO_EXECUTIONS
 * executions, one failed), then on the same lake after REPLAYS replays of orders' three good days
 * (DEMO_EXECUTIONS + 3·REPLAYS executions, all real runs through the local runtime). Measured: the file's size, the command's
 * wall time from spawn to exit (node start-up and the lake's registry included), and the time the
 * command itself reports for reading the lake and writing the page (its --json `ms`), median of
 * the same runs.
 */

const ROOT = process.cwd();
const CLI = join(ROOT, 'bin', 'medallion.cjs');
const LAKE = join(tmpdir(), 'medallion-bench-console');
const RUNS = 7;
const REPLAYS = 15;
/** Executions of one demo: 5 of orders, 3 of customers, 3 of sign_ins (local/demo-scenario.ts). */
const DEMO_EXECUTIONS = 11;

function cli(args: string[]): void {
  const out = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8' });
  if (out.status !== 0)
    throw new Error(`medallion ${args.join(' ')} exited ${out.status}: ${out.stderr.slice(-2000)}`);
}

/**
 * hyperfine times `medallion report` (RUNS after one unmeasured run, which may rebuild dist/ after a
 * source change); each run appends its --json line (the page's bytes, the command's own `ms`) to a
 * file through the shell, whose start-up hyperfine subtracts.
 */
function measure(executions: number): BenchRow {
  const out = join(LAKE, 'report.html');
  const lines = join(LAKE, 'report-runs.jsonl');
  rmSync(lines, { force: true });
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const [timed] = hyperfine(
    [
      `${quote(process.execPath)} ${quote(CLI)} report --lake ${quote(LAKE)} --out ${quote(out)} --json >> ${quote(lines)}`,
    ],
    { runs: RUNS, warmup: 1, shell: true },
  );
  if (!timed) throw new Error('hyperfine timed nothing');
  const written = readFileSync(lines, 'utf8')
    .trim()
    .split('\n')
    .slice(-RUNS)
    .map((line) => JSON.parse(line) as { bytes: number; ms: number });
  const inside = median(written.map((w) => w.ms));
  const bytes = written[0]?.bytes ?? 0;
  return {
    benchmark: 'Run console report',
    case: `\`medallion report\`, ${executions} executions (demo lake${executions > DEMO_EXECUTIONS ? ` + ${REPLAYS} replays` : ''})`,
    measured: `${kb(bytes)}; ${fmt(timed.medianMs)} ms wall (${fmt(inside)} ms reading the lake and writing the page)`,
    baseline: '—',
    target: '—',
    met: null,
    values: { bytes, wallMs: timed.medianMs, commandMs: inside, executions, runsWallMs: timed.runsMs },
    runs: RUNS,
  };
}

export const consoleReportSuite: Suite = {
  name: 'console',
  async run(): Promise<BenchRow[]> {
    rmSync(LAKE, { recursive: true, force: true });
    try {
      cli(['demo', '--lake', LAKE, '--rows', '100']);
      const rows = [measure(DEMO_EXECUTIONS)];
      for (let i = 0; i < REPLAYS; i++) {
        // Replay names carry the second they started: one replay per second at most.
        const started = Date.now();
        cli(['replay', '--dataset', 'orders', '--from', '2024-01-15', '--to', '2024-01-17', '--lake', LAKE]);
        const wait = 1100 - (Date.now() - started);
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
      rows.push(measure(DEMO_EXECUTIONS + 3 * REPLAYS));
      return rows;
    } finally {
      rmSync(LAKE, { recursive: true, force: true });
    }
  },
};
