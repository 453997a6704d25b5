import { SfnRunStarter } from '../shared/aws/sfn-run-starter';
import { loadRegistry } from '../shared/config/registry';
import { STAGES, type Stage } from '../shared/domain/datasets';
import type { Partition } from '../shared/domain/object-key';
import { LocalLake } from '../shared/local/lake';
import { LocalPipeline } from '../shared/local/pipeline';
import { dailyPartitions, partitionFromPath, startReplays } from '../shared/local/replay';
import type { RunStarter } from '../shared/ports';
import { ENGINE_OPTION, parseCommand, parseEngine, usageError } from './args';
import { ms } from './format';

const HELP = `medallion replay — re-run partitions of a dataset from a stage on (trigger "replay").

Usage:
  medallion replay --dataset D --from YYYY-MM-DD --to YYYY-MM-DD [--stage S] [options]
  medallion replay --dataset D --partition year=2024/month=01/day=15 [--partition ...] [options]

Runs locally (the local lake, the real state machine) unless --state-machine-arn is given: then it
starts Step Functions executions on AWS (credentials and region from the usual AWS environment),
spaced to --rate per second, and does not wait for them.

Options:
  --dataset D              the dataset
  --from, --to DATE        daily partitions, both ends included (datasets partitioned year/month/day)
  --partition PATH         a partition by its hive path; repeatable
  --stage S                first stage to run: bronze (default), silver or gold
  --state-machine-arn ARN  replay on AWS
  --rate N                 StartExecution calls per second (default 5)
  --dry-run                list the executions that would start, start nothing
  --lake DIR               lake folder (local; default: $MEDALLION_LAKE or .lake)
  --engine E               local Glue engine: duckdb (default) or spark (the real Glue scripts on Spark)
  --json                   print the result as JSON
  -h, --help               show this help

Exit codes: 0 every replay started (AWS) or succeeded (local), 1 otherwise, 2 usage error.`;

export async function replay(args: string[]): Promise<number> {
  const parsed = parseCommand(args, HELP, {
    dataset: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    partition: { type: 'string', multiple: true },
    stage: { type: 'string', default: 'bronze' },
    'state-machine-arn': { type: 'string' },
    rate: { type: 'string', default: '5' },
    'dry-run': { type: 'boolean', default: false },
    lake: { type: 'string' },
    json: { type: 'boolean', default: false },
    ...ENGINE_OPTION,
  });
  if (typeof parsed === 'number') return parsed;
  const v = parsed.values;
  const usage = (message: string) => usageError(message, HELP);
  if (!v.dataset) return usage('--dataset is required');
  if (!STAGES.includes(v.stage as Stage)) return usage(`--stage must be one of ${STAGES.join(', ')}`);
  const rate = Number(v.rate);
  if (!(rate > 0)) return usage('--rate must be a positive number');
  const byDates = v.from !== undefined || v.to !== undefined;
  if (byDates && (!v.from || !v.to)) return usage('--from and --to go together');
  if (!byDates && !v.partition?.length) return usage('give --from/--to or --partition');
  const engine = parseEngine(v.engine);
  if (!engine) return usage(`--engine must be duckdb or spark, got "${v.engine}"`);

  const registry = loadRegistry();
  const dataset = registry.get(v.dataset);
  const partitions: Partition[] = [
    ...(byDates ? dailyPartitions(registry, dataset, v.from as string, v.to as string) : []),
    ...(v.partition ?? []).map((p) => partitionFromPath(registry, dataset, p)),
  ];
  const fromStage = v.stage as Stage;
  const arn = v['state-machine-arn'];
  const log = (line: string) => {
    if (!v.json) console.log(line);
  };

  if (v['dry-run']) {
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
