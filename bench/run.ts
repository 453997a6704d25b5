import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { bundleSuite } from './bundle';
import { cliStartupSuite } from './cli-startup';
import { consoleReportSuite } from './console-report';
import { e2eSuite } from './e2e';
import { enginesSuite } from './engines';
import { machine, markdownTable, notMeasured, type BenchRow, type Machine, type Suite } from './lib';
import { onLandingSuite } from './on-landing';
import { partitionsSuite } from './partitions';
import { settleSuite } from './settle';
import { transitionsSuite } from './transitions';

/**
 * `npm run bench [-- <suite>...]`: runs the benchmarks, prints one table, writes bench/results.json
 * and refreshes the table in BENCHMARKS.md. With suite names, runs only those and writes nothing,
 * unless `--update`: then their rows replace those suites' rows in bench/results.json (the run is
 * recorded beside the full run's figures) and BENCHMARKS.md is re-rendered; `--render` only
 * re-renders BENCHMARKS.md from bench/results.json.
 */

const SUITES: readonly Suite[] = [
  onLandingSuite,
  transitionsSuite,
  bundleSuite,
  partitionsSuite,
  settleSuite,
  e2eSuite,
  cliStartupSuite,
  consoleReportSuite,
  enginesSuite,
];

const TABLE_START = '<!-- bench:table:start -->';
const TABLE_END = '<!-- bench:table:end -->';

interface Results {
  readonly machine: Machine;
  readonly loadAverage: { readonly start: number[]; readonly end: number[] };
  readonly totalSeconds: number;
  readonly suiteSeconds: Record<string, number>;
  readonly rows: BenchRow[];
  /** Suites run later on their own (`--update`), with when, where and under what load. */
  readonly updates?: Array<{
    suites: string[];
    date: string;
    commit: string;
    loadAverage: { start: number[]; end: number[] };
    seconds: number;
  }>;
}

const RESULTS = join(process.cwd(), 'bench', 'results.json');
const DOC = join(process.cwd(), 'BENCHMARKS.md');

/** Replaces the table between the markers of BENCHMARKS.md with the one of `results`. */
function renderDoc(results: Results): void {
  if (!existsSync(DOC)) return;
  const text = readFileSync(DOC, 'utf8');
  const from = text.indexOf(TABLE_START);
  const to = text.indexOf(TABLE_END);
  if (from < 0 || to < from) throw new Error(`BENCHMARKS.md lacks the ${TABLE_START} / ${TABLE_END} markers`);
  const m = results.machine;
  const load = (l: number[]) => l.map((x) => x.toFixed(1)).join(' / ');
  const header =
    `Latest run: ${m.date.slice(0, 16).replace('T', ' ')} UTC, commit ${m.commit}; ${m.nproc} × ${m.cpuModel}, ` +
    `${m.memoryGiB} GiB RAM, node ${m.node} (${m.platform}); load average (1/5/15 min) ${load(results.loadAverage.start)} ` +
    `at start, ${load(results.loadAverage.end)} at end; whole run ${results.totalSeconds} s ` +
    `(${Object.entries(results.suiteSeconds)
      .map(([name, sec]) => `${name} ${sec} s`)
      .join(', ')}).` +
    (results.updates ?? [])
      .map(
        (u) =>
          ` Later, on their own: ${u.suites.join(', ')} at ${u.date.slice(0, 16).replace('T', ' ')} UTC, commit ${u.commit}, ` +
          `load average ${load(u.loadAverage.start)} at start, ${load(u.loadAverage.end)} at end, ${u.seconds} s.`,
      )
      .join('');
  writeFileSync(
    DOC,
    `${text.slice(0, from + TABLE_START.length)}\n${header}\n\n${markdownTable(results.rows)}\n${text.slice(to)}`,
  );
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.includes('--render')) {
    renderDoc(JSON.parse(readFileSync(RESULTS, 'utf8')) as Results);
    return 0;
  }
  const only = args.filter((a) => !a.startsWith('-'));
  const unknown = only.filter((name) => !SUITES.some((s) => s.name === name));
  if (unknown.length > 0) {
    console.error(`Unknown suite(s): ${unknown.join(', ')}. Suites: ${SUITES.map((s) => s.name).join(', ')}`);
    return 2;
  }
  const selected = only.length > 0 ? SUITES.filter((s) => only.includes(s.name)) : SUITES;
  const loadStart = loadavg();
  const started = performance.now();
  const rows: BenchRow[] = [];
  const durations: Record<string, number> = {};
  const failed: string[] = [];
  for (const suite of selected) {
    const t0 = performance.now();
    process.stderr.write(`bench: ${suite.name} ...`);
    try {
      rows.push(...(await suite.run()));
    } catch (error) {
      // One broken suite (say, someone's code failing mid-change) must not hide the others' figures.
      failed.push(suite.name);
      const reason = error instanceof Error ? error.message : String(error);
      process.stderr.write(` FAILED: ${reason}\n`);
      rows.push(
        notMeasured(suite.name, 'every case', '—', `the suite failed: ${reason.split('\n')[0] ?? ''}`),
      );
    }
    durations[suite.name] = Math.round((performance.now() - t0) / 100) / 10;
    process.stderr.write(` ${durations[suite.name]} s\n`);
  }
  const totalSeconds = Math.round((performance.now() - started) / 100) / 10;
  const host = machine();
  console.log(markdownTable(rows));
  console.log(
    `\n${rows.length} rows in ${totalSeconds} s on ${host.nproc} CPU, ${host.memoryGiB} GiB, node ${host.node}`,
  );
  if (only.length > 0 && args.includes('--update')) {
    const previous = JSON.parse(readFileSync(RESULTS, 'utf8')) as Results;
    const names = new Set(rows.map((r) => r.benchmark));
    const results: Results = {
      ...previous,
      rows: [...previous.rows.filter((r) => !names.has(r.benchmark)), ...rows],
      updates: [
        ...(previous.updates ?? []).filter((u) => !u.suites.every((name) => only.includes(name))),
        {
          suites: only,
          date: host.date,
          commit: host.commit,
          loadAverage: { start: loadStart, end: loadavg() },
          seconds: totalSeconds,
        },
      ],
    };
    writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
    renderDoc(results);
  }
  if (only.length === 0) {
    const results: Results = {
      machine: host,
      loadAverage: { start: loadStart, end: loadavg() },
      totalSeconds,
      suiteSeconds: durations,
      rows,
    };
    writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
    renderDoc(results);
  }
  return failed.length === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 1;
  },
);
