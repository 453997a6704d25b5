import { LocalLake } from '../shared/local/lake';
import { LocalPipeline } from '../shared/local/pipeline';
import { LandingWatcher } from '../shared/local/watcher';
import { ENGINE_HELP, ENGINE_OPTION, parseCommand, parseEngine, usageError } from './args';
import { ms } from './format';

const HELP = `medallion watch — watch the local lake's landing folders and run the pipeline as files arrive.

Files are delivered to the real on-landing handler in batches, like the SQS event source: up to
--batch-size files, or --batch-window seconds after the first one. Files that match no dataset (or
break its key layout) are reported and left alone. Files already processed (the ledger knows them)
start nothing. Stop with Ctrl-C: running executions finish first.

Usage: medallion watch [--lake DIR] [--once] [--interval MS] [--batch-window S] [--batch-size N] [--engine E]

Options:
  --once             deliver the files present now, wait for their runs, exit
  --interval MS      polling interval (default 500)
  --batch-window S   seconds to gather a batch (default 2, like MaximumBatchingWindowInSeconds)
  --batch-size N     files per delivery (default 10, the SQS default)
  --lake DIR         lake folder (default: $MEDALLION_LAKE or .lake)
${ENGINE_HELP}
  -h, --help         show this help

Exit codes: 0 every run succeeded (--once) or stopped cleanly, 1 a run failed (--once), 2 usage error.`;

export async function watch(args: string[]): Promise<number> {
  const parsed = parseCommand(args, HELP, {
    once: { type: 'boolean', default: false },
    interval: { type: 'string', default: '500' },
    'batch-window': { type: 'string', default: '2' },
    'batch-size': { type: 'string', default: '10' },
    lake: { type: 'string' },
    ...ENGINE_OPTION,
  });
  if (typeof parsed === 'number') return parsed;
  const v = parsed.values;
  const interval = Number(v.interval);
  const window = Number(v['batch-window']);
  const size = Number(v['batch-size']);
  if (!(interval > 0) || !(window >= 0) || !Number.isInteger(size) || size < 1) {
    return usageError(`--interval, --batch-window and --batch-size must be positive numbers.`, HELP);
  }
  const engine = parseEngine(v.engine);
  if (!engine) return usageError(`--engine must be duckdb or spark, got "${v.engine}".`, HELP);
  const lake = new LocalLake(v.lake);
  const failed: string[] = [];
  const pipeline = new LocalPipeline({
    lake,
    engine,
    onUpdate: (h) => {
      if (h.status === 'RUNNING') return;
      if (h.status !== 'SUCCEEDED') failed.push(h.name);
      console.log(
        `${h.status.padEnd(9)} ${h.name}  ${ms(h.durationMs)}  ${h.states.map((s) => s.name).join(' → ')}${h.error ? `  (${h.error})` : ''}`,
      );
    },
    onAlert: (a) => console.log(`ALERT     [${a.attributes.severity}] ${a.subject}`),
  });
  const watcher = new LandingWatcher(pipeline, {
    intervalMs: interval,
    batchWindowMs: window * 1000,
    batchSize: size,
    onEvent: (e) => {
      if (e.kind === 'ignored') console.log(`ignored   ${e.key}: ${e.reason}`);
      else
        console.log(
          `delivered ${e.keys.length} file(s)${e.failed ? `, ${e.failed} to retry` : ''}: ${e.keys.join(', ')}`,
        );
    },
  });
  if (v.once) {
    await watcher.once();
    await pipeline.close();
    return failed.length === 0 ? 0 : 1;
  }
  console.log(`Watching ${lake.root} (Ctrl-C to stop)`);
  watcher.start();
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  console.log('Stopping: waiting for running executions...');
  await watcher.stop();
  await pipeline.close();
  return 0;
}
