import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoObjectLedger } from '../shared/aws/dynamo-ledger';
import { SFN_CLIENT_CONFIG, SfnRunStarter } from '../shared/aws/sfn-run-starter';
import type { SlotDeps } from '../shared/core/run-slots';
import type { Stage } from '../shared/domain/datasets';
import type { Partition } from '../shared/domain/object-key';
import { LocalLake } from '../local/lake';
import { LocalPipeline, quietLog } from '../local/pipeline';
import { datePartitions, partitionFromPath, startReplays } from '../local/replay';
import type { RunStarter } from '../shared/ports';
import { failureOf, skippedFilesOf } from '../local/history';
import { datasetNamed, registry } from './datasets';
import { endedLines } from './runs';
import { UsageError, type Engine } from './options';
import { ms } from './format';
import { RunProgress } from './progress';

export interface ReplayOptions {
  readonly dataset: string;
  readonly from?: string;
  readonly to?: string;
  readonly partition?: string[];
  readonly where?: string[];
  readonly stage: Stage;
  readonly stateMachineArn?: string;
  readonly rate: number;
  readonly executionBudget?: number;
  readonly ledgerTable?: string;
  readonly dryRun: boolean;
  readonly lake?: string;
  readonly engine: Engine;
  readonly json: boolean;
}

const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:([a-z0-9-]+):\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/;

/** The region of a state machine ARN: where its executions start (not the shell's AWS_REGION). */
function regionOfStateMachine(arn: string): string {
  const m = STATE_MACHINE_ARN.exec(arn);
  if (!m?.[1])
    throw new UsageError(
      `--state-machine-arn ${arn} is not a state machine ARN (arn:aws:states:REGION:ACCOUNT:stateMachine:NAME)`,
    );
  if (m[1] === 'local')
    throw new UsageError(
      `--state-machine-arn ${arn} is the local pipeline's: leave it out to replay on the local lake`,
    );
  return m[1];
}

/** The stack's ledger table: `--ledger-table`, or `medallion-<stage>-ledger` beside `medallion-<stage>-pipeline`. */
function ledgerTableOf(arn: string, given: string | undefined): string {
  if (given) return given;
  const name = arn.slice(arn.lastIndexOf(':') + 1);
  const m = /^(.+)-pipeline$/.exec(name);
  if (!m?.[1])
    throw new UsageError(
      `--state-machine-arn ${arn}: its name is not medallion-<stage>-pipeline, so its ledger table is unknown: give --ledger-table`,
    );
  return `${m[1]}-ledger`;
}

/** `medallion replay`: re-run partitions from a stage on, locally or on AWS. */
export async function replay(v: ReplayOptions): Promise<number> {
  const byDates = v.from !== undefined || v.to !== undefined;
  if (byDates && (!v.from || !v.to)) throw new UsageError('--from and --to go together');
  if (!byDates && !v.partition?.length) throw new UsageError('give --from/--to or --partition');
  if (!byDates && v.where?.length) throw new UsageError('--where goes with --from/--to');
  const { engine, rate } = v;

  const reg = registry();
  const dataset = datasetNamed(reg, v.dataset);
  const listed: Partition[] = [
    ...(byDates ? datePartitions(reg, dataset, v.from as string, v.to as string, v.where ?? []) : []),
    ...(v.partition ?? []).map((p) => partitionFromPath(reg, dataset, p)),
  ];
  // A partition named twice (by a date and by --partition) is replayed once.
  const partitions = [...new Map(listed.map((p) => [p.path, p])).values()];
  const fromStage = v.stage;
  const arn = v.stateMachineArn;
  const region = arn === undefined ? undefined : regionOfStateMachine(arn);
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
  let progress: RunProgress | undefined;
  let starter: RunStarter;
  let executionBudget: (SlotDeps & { pollMs: number }) | undefined;
  if (arn && region) {
    const sfn = new SfnRunStarter(arn, new SFNClient({ ...SFN_CLIENT_CONFIG, region }));
    starter = sfn;
    const table = ledgerTableOf(arn, v.ledgerTable);
    const ledger = new DynamoObjectLedger(table, new DynamoDBClient({ region, maxAttempts: 6 }));
    // The budget the stack's functions record with every slot they take, unless one is given.
    const budget = v.executionBudget ?? (await ledger.readSlots()).budget;
    if (budget === undefined)
      throw new UsageError(
        `no execution budget is recorded in ${table} yet (no run has taken a slot): give --execution-budget (the stack's executionBudget)`,
      );
    executionBudget = { slots: ledger, budget, executions: sfn, log: quietLog, pollMs: 10_000 };
  } else {
    const lake = new LocalLake(v.lake).existing();
    // Stage progress: stdout beside the other lines, stderr under --json (stdout is the JSON).
    progress = await RunProgress.create(
      v.json ? (line) => process.stderr.write(`${line}\n`) : (line) => console.log(line),
      v.json ? undefined : process.stdout,
    );
    const shown = progress;
    pipeline = new LocalPipeline({
      lake,
      engine,
      registry: reg,
      onUpdate: (h) => shown.update(h),
      ...(v.executionBudget !== undefined ? { executionBudget: v.executionBudget } : {}),
    });
    starter = pipeline.starter;
    if (v.executionBudget !== undefined)
      executionBudget = {
        slots: pipeline.ledger,
        budget: v.executionBudget,
        executions: pipeline.starter,
        log: quietLog,
        pollMs: 100,
      };
  }
  const startedAt = Date.now();
  const started = await startReplays({
    starter,
    dataset,
    partitions,
    fromStage,
    ratePerSecond: rate,
    ...(executionBudget ? { executionBudget } : {}),
    // Shown under --json too (on stderr): a replay that waits must say why.
    onWaiting: (w) =>
      (v.json ? (line: string) => process.stderr.write(`${line}\n`) : log)(
        `waiting for an execution slot: ${w.inFlight} of ${w.budget} executions in flight (${w.name})`,
      ),
    onStarted: (s, i) => log(`[${i + 1}/${partitions.length}] ${s.outcome} ${s.name}`),
  });
  if (!pipeline) {
    if (v.json) console.log(JSON.stringify({ started }, null, 2));
    return 0;
  }
  await pipeline.idle();
  await pipeline.close();
  progress?.stop();
  const histories = started.map((s) => pipeline.history.get(s.name));
  const results = started.map((s, i) => {
    const h = histories[i];
    return {
      name: s.name,
      partition: s.partition,
      status: h?.status ?? 'UNKNOWN',
      error: h?.error ?? null,
      errorClass: (h && failureOf(h)?.errorClass) ?? null,
      durationMs: h?.durationMs,
      skippedFiles: h ? skippedFilesOf(h) : [],
    };
  });
  if (v.json) console.log(JSON.stringify({ results }, null, 2));
  else {
    for (const [i, r] of results.entries()) {
      const h = histories[i];
      for (const line of h ? endedLines(h, false) : [`${r.status.padEnd(9)} ${r.name}`]) log(line);
    }
    log(
      `${results.length} replay(s) in ${ms(Date.now() - startedAt)}; details: npx medallion runs show <name>`,
    );
  }
  return results.every((r) => r.status === 'SUCCEEDED') ? 0 : 1;
}
