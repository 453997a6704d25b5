import { SfnRunStarter } from '../shared/aws/sfn-run-starter';
import type { Stage } from '../shared/domain/datasets';
import type { Partition } from '../shared/domain/object-key';
import { LocalLake } from '../shared/local/lake';
import { LocalPipeline } from '../shared/local/pipeline';
import { dailyPartitions, partitionFromPath, startReplays } from '../shared/local/replay';
import type { RunStarter } from '../shared/ports';
import { datasetNamed, registry } from './datasets';
import { UsageError, type Engine } from './options';
import { ms } from './format';

export interface ReplayOptions {
  readonly dataset: string;
  readonly from?: string;
  readonly to?: string;
  readonly partition?: string[];
  readonly stage: Stage;
  readonly stateMachineArn?: string;
  readonly rate: number;
  readonly dryRun: boolean;
  readonly lake?: string;
  readonly engine: Engine;
  readonly json: boolean;
}

/** `medallion replay`: re-run partitions from a stage on, locally or on AWS. */
export async function replay(v: ReplayOptions): Promise<number> {
  const byDates = v.from !== undefined || v.to !== undefined;
  if (byDates && (!v.from || !v.to)) throw new UsageError('--from and --to go together');
  if (!byDates && !v.partition?.length) throw new UsageError('give --from/--to or --partition');
  const { engine, rate } = v;

  const reg = registry();
  const dataset = datasetNamed(reg, v.dataset);
  const partitions: Partition[] = [
    ...(byDates ? dailyPartitions(reg, dataset, v.from as string, v.to as string) : []),
    ...(v.partition ?? []).map((p) => partitionFromPath(reg, dataset, p)),
  ];
  const fromStage = v.stage as Stage;
  const arn = v.stateMachineArn;
  const log = (line: string) => {
    if (!v.json) console.log(line);
  };

  if (v.dryRun) {
    const list = partitions.map((p) => ({ dataset: dataset.name, partition: p.path, fromStage }));
    if (v.json) console.log(JSON.stringify(list, null, 2));
    else for (const p of list) console.log(`would replay ${p.dataset} ${p.partition} from ${fromStage}`);
    return 0;
  }

  let pipeline: LocalPipeline | undefined;
  let starter: RunStarter;
  if (arn) starter = new SfnRunStarter(arn);
  else {
    pipeline = new LocalPipeline({ lake: new LocalLake(v.lake), engine });
    starter = pipeline.starter;
  }
  const startedAt = Date.now();
  const started = await startReplays({
    starter,
    dataset,
    partitions,
    fromStage,
    ratePerSecond: rate,
    onStarted: (s, i) => log(`[${i + 1}/${partitions.length}] ${s.outcome} ${s.name}`),
  });
  if (!pipeline) {
    if (v.json) console.log(JSON.stringify({ started }, null, 2));
    return 0;
  }
  await pipeline.idle();
  await pipeline.close();
  const results = started.map((s) => {
    const h = pipeline.history.get(s.name);
    return {
      name: s.name,
      partition: s.partition,
      status: h?.status ?? 'UNKNOWN',
      error: h?.error ?? null,
      durationMs: h?.durationMs,
    };
  });
  if (v.json) console.log(JSON.stringify({ results }, null, 2));
  else {
    for (const r of results)
      log(`${r.status.padEnd(9)} ${r.name}  ${ms(r.durationMs)}${r.error ? `  ${r.error}` : ''}`);
    log(
      `${results.length} replay(s) in ${ms(Date.now() - startedAt)}; details: npx medallion runs show <name>`,
    );
  }
  return results.every((r) => r.status === 'SUCCEEDED') ? 0 : 1;
}
