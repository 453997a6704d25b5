import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fmt, kb, median, type BenchRow, type Suite } from './lib';

/**
 * The run console's offline page: `medallion report --out F.html` on the demo's lake (5 executions,
 * one failed), then on the same lake after REPLAYS replays of its three good days (5 + 3·REPLAYS
 * executions, all real runs through the local runtime). Measured: the file's size, the command's
 * wall time from spawn to exit (node start-up and the lake's registry included), and the time the
 * command itself reports for reading the lake and writing the page (its --json `ms`).
 */

const ROOT = process.cwd();
const CLI = join(ROOT, 'bin', 'medallion.cjs');
const LAKE = join(tmpdir(), 'medallion-bench-console');
const RUNS = 7;
const REPLAYS = 15;

function cli(args: string[]): { stdout: string; wallMs: number } {
  const t0 = performance.now();
  const out = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8' });
  const wallMs = performance.now() - t0;
  if (out.status !== 0)
    throw new Error(`medallion ${args.join(' ')} exited ${out.status}: ${out.stderr.slice(-2000)}`);
  return { stdout: out.stdout, wallMs };
}

function measure(executions: number): BenchRow {
  const out = join(LAKE, 'report.html');
  const samples: Array<{ wallMs: number; ms: number; bytes: number }> = [];
  for (let i = 0; i < RUNS + 1; i++) {
    const run = cli(['report', '--lake', LAKE, '--out', out, '--json']);
    const written = JSON.parse(run.stdout) as { bytes: number; ms: number };
    // The first run may rebuild dist/ after a source change: not measured.
    if (i > 0) samples.push({ wallMs: run.wallMs, ms: written.ms, bytes: written.bytes });
  }
  const wall = median(samples.map((s) => s.wallMs));
  const inside = median(samples.map((s) => s.ms));
  const bytes = samples[0]?.bytes ?? 0;
  return {
    benchmark: 'Run console report',
    case: `\`medallion report\`, ${executions} executions (demo lake${executions > 5 ? ` + ${REPLAYS} replays` : ''})`,
    measured: `${kb(bytes)}; ${fmt(wall)} ms wall (${fmt(inside)} ms reading the lake and writing the page)`,
    baseline: '—',
    target: '—',
    met: null,
    values: { bytes, wallMs: wall, commandMs: inside, executions, runsWallMs: samples.map((s) => s.wallMs) },
    runs: RUNS,
  };
}

export const consoleReportSuite: Suite = {
  name: 'console',
  async run(): Promise<BenchRow[]> {
    rmSync(LAKE, { recursive: true, force: true });
    try {
      cli(['demo', '--lake', LAKE, '--rows', '100']);
      const rows = [measure(5)];
      for (let i = 0; i < REPLAYS; i++) {
        // Replay names carry the second they started: one replay per second at most.
        const started = Date.now();
        cli(['replay', '--dataset', 'orders', '--from', '2024-01-15', '--to', '2024-01-17', '--lake', LAKE]);
        const wait = 1100 - (Date.now() - started);
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
      rows.push(measure(5 + 3 * REPLAYS));
      return rows;
    } finally {
      rmSync(LAKE, { recursive: true, force: true });
    }
  },
};
