import { existsSync, mkdirSync } from 'node:fs';
import { defaultDatasetsDir } from '../shared/config/registry';
import { DatasetWatcher, type DatasetChange } from '../local/dataset-watcher';
import { LocalLake } from '../local/lake';
import { LocalPipeline } from '../local/pipeline';
import { LandingWatcher } from '../local/watcher';
import { registry } from './datasets';
import type { Engine } from './options';
import { RunProgress } from './progress';
import { endedLines } from './runs';

export interface WatchOptions {
  readonly once: boolean;
  readonly interval: number;
  readonly batchWindow: number;
  readonly batchSize: number;
  readonly lake?: string;
  readonly engine: Engine;
  /** Executions in flight at most (shared/domain/run-slots.ts); none: unbounded. */
  readonly executionBudget?: number;
  /** Stops watching when it resolves (default: on SIGINT or SIGTERM). */
  readonly until?: Promise<void>;
}

/** `medallion watch`: the pipeline as files land (created lake folder said so). */
export async function watch(v: WatchOptions): Promise<number> {
  const { interval, engine } = v;
  const window = v.batchWindow;
  const size = v.batchSize;
  const lake = new LocalLake(v.lake);
  if (!existsSync(lake.root)) {
    mkdirSync(lake.path('landing'), { recursive: true });
    console.log(`Created the lake folder ${lake.root}`);
  }
  const failed: string[] = [];
  const progress = await RunProgress.create((line) => console.log(line), process.stdout);
  const pipeline = new LocalPipeline({
    lake,
    engine,
    registry: registry(),
    ...(v.executionBudget !== undefined ? { executionBudget: v.executionBudget } : {}),
    onUpdate: (h) => {
      progress.update(h);
      if (h.status === 'RUNNING') return;
      if (h.status !== 'SUCCEEDED') failed.push(h.name);
      for (const line of endedLines(h)) console.log(line);
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
    progress.stop();
    return failed.length === 0 ? 0 : 1;
  }
  const datasets = await DatasetWatcher.start({
    dir: defaultDatasetsDir(),
    registry: pipeline.registry,
    onChange: (change) => {
      for (const line of describeChange(change)) console.log(line);
      for (const bad of change.invalid) for (const p of bad.problems) console.error(`  - ${p}`);
      if (change.added.length + change.changed.length + change.removed.length > 0)
        pipeline.reload(change.registry);
    },
  });
  console.log(`Watching ${lake.root} and ${defaultDatasetsDir()} (Ctrl-C to stop)`);
  watcher.start();
  await (v.until ??
    new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    }));
  console.log('Stopping: waiting for running executions...');
  await datasets.close();
  await watcher.stop();
  await pipeline.close();
  progress.stop();
  return 0;
}

/** What a change of datasets/ did, one line each (the problems of an invalid dataset follow on stderr). */
export function describeChange(change: DatasetChange): string[] {
  const lines = [
    ...change.added.map((name) => `datasets  ${name} added: its landings run from now on`),
    ...change.changed.map(
      (name) => `datasets  ${name} reloaded: new landings and runs use its new definition`,
    ),
    ...change.removed.map((name) => `datasets  ${name} removed: its landings are left alone`),
    ...change.invalid.map(
      (bad) =>
        `datasets  ${bad.folder} is invalid (${bad.file}, ${bad.problems.length} problem(s)): ${bad.kept ? 'its last valid definition keeps running' : 'left out until it is fixed'}`,
    ),
  ];
  return lines;
}
