import { existsSync, readdirSync, rmSync } from 'node:fs';
import { percent } from '../shared/domain/quarantine';
import { runDemo, type RunReport } from '../shared/local/demo-scenario';
import { LocalLake } from '../shared/local/lake';
import { LocalPipeline } from '../shared/local/pipeline';
import { ENGINE_OPTION, parseCommand, parseEngine, usageError } from './args';
import { ms } from './format';

const HELP = `medallion demo — run the whole pipeline on sample orders in a fresh local lake: the real
on-landing handler, the real state machine (state-machines/medallion-pipeline.asl.json) with the real
stage functions, and the Glue jobs on DuckDB (or, with --engine spark, the real Glue scripts on local Spark).

Four landings: a clean day; a day with duplicate order versions, a redelivered batch and late records
for the first day; a day with a quarantine spike; a day with a corrupt file. Each run's path,
durations, record and quarantine counts, registered partitions and alerts are printed, then the
expected outcomes are checked against the lake and against hand-computed figures.

Usage: medallion demo [--lake DIR] [--rows N] [--engine duckdb|spark] [--json]

Options:
  --lake DIR   lake folder (default: $MEDALLION_LAKE or .lake); it is emptied first
  --rows N     rows of a regular sample file (default 400)
  --json       print the runs and checks as JSON
  --engine E   Glue engine: duckdb (default) or spark (the real Glue scripts on local Spark)
  -h, --help   show this help

Exit codes: 0 every expected outcome happened, 1 some did not, 2 usage error.`;

function printRun(r: RunReport): void {
  console.log(`  ${r.name}  ${r.status}  ${ms(r.durationMs)}`);
  console.log(`    path: ${r.path.join(' → ')}`);
  for (const s of r.stages) {
    const q =
      s.recordsQuarantined > 0 || s.stage === 'silver'
        ? `  quarantined ${s.recordsQuarantined} (${percent(s.recordsIn ? s.recordsQuarantined / s.recordsIn : 0)}${s.verdict === 'spike' ? ', SPIKE' : ''})`
        : '';
    console.log(
      `    ${s.stage.padEnd(7)} ${ms(s.durationMs).padStart(6)}  in ${String(s.recordsIn).padStart(5)}  out ${String(s.recordsOut).padStart(5)}${q}  partitions +${s.partitionsCreated} new, ${s.partitionsUpdated} updated`,
    );
  }
  if (r.error) console.log(`    error: ${r.error}${r.cause ? `: ${r.cause}` : ''}`);
  console.log(
    `    alerts: ${r.alerts.length === 0 ? 'none' : r.alerts.map((a) => a.subject).join('\n            ')}`,
  );
}

export async function demo(args: string[]): Promise<number> {
  const parsed = parseCommand(args, HELP, {
    lake: { type: 'string' },
    rows: { type: 'string', default: '400' },
    json: { type: 'boolean', default: false },
    ...ENGINE_OPTION,
  });
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  const rows = Number(values.rows);
  if (!Number.isInteger(rows) || rows < 100) {
    return usageError(
      `--rows must be an integer ≥ 100 (the spike day needs the dataset's minRecords).`,
      HELP,
    );
  }
  const engine = parseEngine(values.engine);
  if (!engine) return usageError(`--engine must be duckdb or spark, got "${values.engine}".`, HELP);
  const lake = new LocalLake(values.lake);
  if (existsSync(lake.root)) {
    const entries = readdirSync(lake.root);
    if (entries.length > 0 && !entries.includes('_system') && !entries.includes('landing')) {
      console.error(
        `${lake.root} is not empty and does not look like a lake (no _system/ or landing/): not emptying it.`,
      );
      return 2;
    }
  }
  rmSync(lake.root, { recursive: true, force: true });

  const started = Date.now();
  const pipeline = new LocalPipeline({ lake, engine });
  if (!values.json) console.log(`Local lake: ${lake.root} (Glue engine: ${engine})`);
  let result: Awaited<ReturnType<typeof runDemo>>;
  try {
    result = await runDemo(pipeline, {
      rows,
      onStep: (title) => {
        if (!values.json) process.stderr.write(`  running: ${title}\n`);
      },
    });
  } finally {
    await pipeline.close();
  }
  const elapsed = Date.now() - started;
  const ok = result.checks.every((c) => c.ok);
  if (values.json) {
    console.log(JSON.stringify({ lake: lake.root, elapsedMs: elapsed, ok, ...result }, null, 2));
    return ok ? 0 : 1;
  }
  console.log('');
  for (const step of [...new Set(result.runs.map((r) => r.step))]) {
    console.log(`▶ ${step}`);
    for (const r of result.runs.filter((x) => x.step === step)) printRun(r);
  }
  const metricNames = 'duration, records in/out/quarantined, quarantine ratio';
  console.log(
    `\nLake ${lake.root}:` +
      `\n  Parquet      bronze/ silver/ gold/ quarantine/ <dataset>/<partition>/` +
      `\n  catalog      ${pipeline.catalog.all().length} partitions registered   _system/catalog.json` +
      `\n  metrics      ${pipeline.metrics.all().length} stage data points (${metricNames})   _system/metrics.jsonl` +
      `\n  alerts       ${pipeline.alerts.all().length} raised   _system/alerts.jsonl` +
      `\n  executions   ${pipeline.history.list().length} histories   _system/executions/`,
  );
  console.log('\nExpected outcomes:');
  for (const c of result.checks)
    console.log(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}${c.ok || !c.detail ? '' : `  (${c.detail})`}`);
  console.log(
    `\n${ok ? 'Every expected outcome happened' : 'Some expected outcomes did NOT happen'} (${ms(elapsed)}).` +
      `\nExplore: npx medallion runs · npx medallion runs show <name> · npx medallion query "SELECT * FROM orders_daily_revenue"`,
  );
  return ok ? 0 : 1;
}
