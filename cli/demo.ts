import { percent } from '../shared/domain/quarantine';
import {
  DEMO_CDC_DATASET,
  DEMO_WINDOW_DATASET,
  runDemo,
  type IncrementalFacts,
  type RunReport,
} from '../local/demo-scenario';
import { clearDemoLake, DEFAULT_DEMO_LAKE, recordDemoLake } from '../local/demo-lake';
import { LocalLake } from '../local/lake';
import { LocalPipeline } from '../local/pipeline';
import type { Engine } from './options';
import { ms } from './format';
import { datasetNamed, registry } from './datasets';
import { RunProgress } from './progress';

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

/** What steps 5 and 6 left in the lake, under their runs. */
function printFacts(title: string, facts: IncrementalFacts): void {
  if (title.startsWith('Customer changes')) {
    const { cdc } = facts;
    console.log('  current state of the customers changed after the export (customers_silver):');
    const lines: Array<[string, string]> = [
      [cdc.updated, 'updated on day 2, then an older late update'],
      [cdc.deleted, 'deleted on day 2, then an older late update'],
      [cdc.inserted, 'inserted on day 2'],
      [cdc.lateMerged, 'a late update, newer than its export row'],
    ];
    for (const [id, what] of lines) {
      const row = cdc.state.find((r) => r['customer_id'] === id);
      const now = row
        ? `${String(row['country'])}  ${String(row['segment'])}  change ${String(row['change_seq'])}`
        : cdc.state.length === 0
          ? '(the state is an Iceberg table on Spark: see its gold)'
          : '(no row)';
      console.log(`    ${id}  ${what.padEnd(44)} →  ${now}`);
    }
  }
  if (title.startsWith('Late file')) {
    const { window } = facts;
    console.log(
      `  gold of ${window.correctedDay}, before → after the late file for ${window.lateDay} (active_users_7d):`,
    );
    for (const after of window.after) {
      const before = window.before.find((b) => b['platform'] === after['platform']);
      const was = (k: string) => (before ? String(before[k]) : '–');
      console.log(
        `    ${String(after['platform']).padEnd(8)} active users ${was('active_users')} → ${String(after['active_users'])}   sign-ins ${was('sign_ins')} → ${String(after['sign_ins'])}`,
      );
    }
  }
}

export interface DemoOptions {
  readonly lake?: string;
  readonly rows: number;
  readonly engine: Engine;
  readonly json: boolean;
}

export async function demo(values: DemoOptions): Promise<number> {
  const { rows, engine } = values;
  // The demo's own folder; it deletes only what its last run wrote (local/demo-lake.ts).
  const lakeArg = values.lake ?? DEFAULT_DEMO_LAKE;
  const lake = new LocalLake(lakeArg);
  clearDemoLake(lake.root);

  const started = Date.now();
  // Each run's stages as they go, on stderr (stdout is the report; nothing under --json).
  const progress = values.json
    ? undefined
    : await RunProgress.create((line) => process.stderr.write(`    ${line}\n`), process.stderr);
  // The demo lands orders, customers and sign_ins: those must be valid; an invalid other dataset is
  // named and left out.
  const reg = registry();
  for (const name of ['orders', DEMO_CDC_DATASET, DEMO_WINDOW_DATASET]) datasetNamed(reg, name);
  const pipeline = new LocalPipeline({
    lake,
    engine,
    registry: reg,
    onUpdate: (h) => progress?.update(h),
  });
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
    progress?.stop();
    recordDemoLake(lake.root);
  }
  const elapsed = Date.now() - started;
  if (values.json) {
    const landed = result.landed.map(({ step, key, redelivered, rows }) => ({
      step,
      key,
      redelivered,
      rows: rows?.length,
    }));
    console.log(
      JSON.stringify(
        {
          lake: lake.root,
          elapsedMs: elapsed,
          steps: result.steps,
          runs: result.runs,
          landed,
          unacknowledged: result.unacknowledged,
          incremental: result.incremental,
        },
        null,
        2,
      ),
    );
    return 0;
  }
  console.log('');
  for (const step of result.steps) {
    console.log(`▶ ${step.title}: ${step.shows}`);
    for (const f of result.landed.filter((x) => x.step === step.title))
      console.log(
        `  landed ${f.key}${f.rows ? ` (${f.rows.length} rows)` : ''}${f.redelivered ? ', delivered twice' : ''}`,
      );
    for (const r of result.runs.filter((x) => x.step === step.title)) printRun(r);
    printFacts(step.title, result.incremental);
  }
  for (const u of result.unacknowledged)
    console.log(`  warning: ${u.step}: SQS message ${u.itemIdentifier} was not acknowledged`);
  const metricNames = 'duration, records in/out/quarantined, quarantine ratio';
  console.log(
    `\nLake ${lake.root}:` +
      `\n  Parquet      bronze/ silver/ gold/ quarantine/ <dataset>/<partition>/` +
      `\n  catalog      ${pipeline.catalog.all().length} partitions registered   _system/catalog.json` +
      `\n  metrics      ${pipeline.metrics.all().length} stage data points (${metricNames})   _system/metrics.jsonl` +
      `\n  alerts       ${pipeline.alerts.all().length} raised   _system/alerts.jsonl` +
      `\n  executions   ${pipeline.history.list().length} histories   _system/executions/`,
  );
  console.log(
    `\nThe demo ran in ${ms(elapsed)}; test/local/demo.test.ts checks these outcomes against the lake and figures computed by hand.` +
      `\nExplore: npx medallion runs --lake ${lakeArg} · npx medallion report --lake ${lakeArg} --out run.html · npx medallion query "SELECT * FROM orders_daily_revenue" --lake ${lakeArg} · npx medallion query "SELECT * FROM customers_silver" --lake ${lakeArg}`,
  );
  return 0;
}
