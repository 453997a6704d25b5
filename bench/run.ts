import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleSuite } from './bundle';
import { e2eSuite } from './e2e';
import { machine, markdownTable, type BenchRow, type Suite } from './lib';
import { onLandingSuite } from './on-landing';
import { partitionsSuite } from './partitions';
import { transitionsSuite } from './transitions';

/**
 * `npm run bench [-- <suite>...]`: runs the benchmarks, prints one table, writes bench/results.json
 * and refreshes the table in BENCHMARKS.md. With suite names, runs only those and writes nothing.
 */

const SUITES: readonly Suite[] = [onLandingSuite, transitionsSuite, bundleSuite, partitionsSuite, e2eSuite];

const TABLE_START = '<!-- bench:table:start -->';
const TABLE_END = '<!-- bench:table:end -->';

async function main(): Promise<number> {
  const only = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const unknown = only.filter((name) => !SUITES.some((s) => s.name === name));
  if (unknown.length > 0) {
    console.error(`Unknown suite(s): ${unknown.join(', ')}. Suites: ${SUITES.map((s) => s.name).join(', ')}`);
    return 2;
  }
  const selected = only.length > 0 ? SUITES.filter((s) => only.includes(s.name)) : SUITES;
  const started = performance.now();
  const rows: BenchRow[] = [];
  const durations: Record<string, number> = {};
  for (const suite of selected) {
    const t0 = performance.now();
    process.stderr.write(`bench: ${suite.name} ...`);
    rows.push(...(await suite.run()));
    durations[suite.name] = Math.round((performance.now() - t0) / 100) / 10;
    process.stderr.write(` ${durations[suite.name]} s\n`);
  }
  const totalSeconds = Math.round((performance.now() - started) / 100) / 10;
  const host = machine();
  const table = markdownTable(rows);
  console.log(table);
  console.log(
    `\n${rows.length} rows in ${totalSeconds} s on ${host.nproc} CPU, ${host.memoryGiB} GiB, node ${host.node}`,
  );

  if (only.length === 0) {
    const results = { machine: host, totalSeconds, suiteSeconds: durations, rows };
    writeFileSync(join(process.cwd(), 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
    const doc = join(process.cwd(), 'BENCHMARKS.md');
    if (existsSync(doc)) {
      const text = readFileSync(doc, 'utf8');
      const from = text.indexOf(TABLE_START);
      const to = text.indexOf(TABLE_END);
      if (from >= 0 && to > from) {
        const header =
          `Latest run: ${host.date.slice(0, 16).replace('T', ' ')} UTC, commit ${host.commit}, ${host.nproc} × ${host.cpuModel}, ` +
          `${host.memoryGiB} GiB RAM, node ${host.node} (${host.platform}); whole run ${totalSeconds} s.`;
        writeFileSync(
          doc,
          `${text.slice(0, from + TABLE_START.length)}\n${header}\n\n${table}\n${text.slice(to)}`,
        );
      }
    }
  }
  return 0;
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
