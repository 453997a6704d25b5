import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  DynamoDBClient,
  PutItemCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type AttributeValue,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { createHandler, handler as deployedHandler } from '../functions/on-landing/handler';
import { DynamoObjectLedger } from '../shared/aws/dynamo-ledger';
import { SfnRunStarter } from '../shared/aws/sfn-run-starter';
import { compileRegistry, loadDeployedRegistry } from '../shared/config/deployed-registry';
import { loadRegistry } from '../shared/config/registry';
import type { LandingDeps } from '../shared/core/landing';
import { createLogger } from '../shared/logger';
import { s3Record, sqsEvent } from '../test/helpers/fixtures';
import { fmt, medianOf, repeat, timed, type BenchRow, type Suite } from './lib';
import { createNaiveHandler } from './naive-on-landing';
import { STUB_CLIENT_CONFIG, StubHttpHandler } from './sdk-stub';

const RECORDS = 10_000;
const PARTITIONS = [1, 7, 100] as const;
const RUNS = 7;
const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:medallion-pipeline';
const TABLE = 'medallion-ledger';
const CPU_TARGET_MS = 150;

const sdkLogger = createLogger('on-landing');
const context = { awsRequestId: 'bench', functionName: 'on-landing' } as never;

interface Sample {
  wallMs: number;
  cpuMs: number;
  starts: number;
  ledgerCalls: number;
  /** Of the ledger calls: TransactWriteItems (claims, confirmations) and UpdateItem (partition leases). */
  transactCalls?: number;
  leaseCalls?: number;
  failures: number;
}

// The deployed handler reads these on its first call (functions/on-landing defaultDeps).
process.env['STATE_MACHINE_ARN'] = STATE_MACHINE_ARN;
process.env['LEDGER_TABLE'] = TABLE;
process.env['AWS_REGION'] ??= 'eu-west-1';
// The Lambdas read the dataset registry compiled at package time; compile it the same way here, so
// the benchmark needs no `npm run package` first.
const COMPILED_REGISTRY = join(process.cwd(), 'node_modules', '.cache', 'medallion-bench', 'datasets.json');
mkdirSync(dirname(COMPILED_REGISTRY), { recursive: true });
// Write-then-rename: the suite and its per-P processes may write it one after the other.
writeFileSync(`${COMPILED_REGISTRY}.${process.pid}.tmp`, compileRegistry(loadRegistry()));
renameSync(`${COMPILED_REGISTRY}.${process.pid}.tmp`, COMPILED_REGISTRY);
process.env['DATASETS_FILE'] = COMPILED_REGISTRY;
const registry = loadDeployedRegistry(COMPILED_REGISTRY);

/**
 * Runs `work` with stdout swallowed: the handlers log as deployed (Powertools JSON at INFO, one line
 * per started run) and pay for building those lines, but the lines do not interleave with the table.
 */
async function swallowingStdout<T>(work: () => Promise<T>): Promise<T> {
  const write = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    return await work();
  } finally {
    process.stdout.write = write;
  }
}

const failuresOf = (result: unknown): number =>
  result && typeof result === 'object' && 'batchItemFailures' in result
    ? (result as { batchItemFailures: unknown[] }).batchItemFailures.length
    : -1;

/**
 * The deployed handler itself (`handler` of functions/on-landing, wired by its own defaultDeps: one
 * DynamoObjectLedger as object ledger and partition leases, the SFN starter, the Powertools logger);
 * every DynamoDB and SFN client's `send` answered by aws-sdk-client-mock.
 */
async function ourHandlerMocked(event: unknown): Promise<Sample> {
  const ddbMock = mockClient(DynamoDBClient);
  const sfnMock = mockClient(SFNClient);
  ddbMock.on(TransactWriteItemsCommand).resolves({});
  ddbMock
    .on(UpdateItemCommand)
    .callsFake((input: UpdateItemCommandInput) => ({ Attributes: leaseItem(input) }));
  sfnMock.on(StartExecutionCommand).callsFake((input: { name: string }) => ({
    executionArn: `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${input.name}`,
    startDate: new Date(),
  }));
  try {
    const { result, wallMs, cpuMs } = await swallowingStdout(() =>
      timed(() => deployedHandler(event, context)),
    );
    return {
      wallMs,
      cpuMs,
      starts: sfnMock.commandCalls(StartExecutionCommand).length,
      ledgerCalls: ddbMock.calls().length,
      transactCalls: ddbMock.commandCalls(TransactWriteItemsCommand).length,
      leaseCalls: ddbMock.commandCalls(UpdateItemCommand).length,
      failures: failuresOf(result),
    };
  } finally {
    ddbMock.restore();
    sfnMock.restore();
  }
}

/** What DynamoDB returns (ALL_NEW) for the lease UpdateItem of DynamoObjectLedger.acquireLease. */
function leaseItem(input: UpdateItemCommandInput): Record<string, AttributeValue> {
  const values = input.ExpressionAttributeValues ?? {};
  const s = (name: string): AttributeValue => ({ S: values[name]?.S ?? '' });
  return {
    ...(input.Key ?? {}),
    holder: s(':me'),
    acquiredAt: s(':now'),
    leaseExpiresAt: s(':until'),
    expiresAt: { N: values[':ttl']?.N ?? '0' },
  };
}

/**
 * The same flow with the whole SDK stack (serialise, SigV4-sign, parse) and only the HTTP hop stubbed;
 * wired as functions/on-landing's defaultDeps wires it (one DynamoObjectLedger as ledger and leases).
 */
async function ourHandlerFullSdk(event: unknown): Promise<Sample> {
  const ddbHttp = new StubHttpHandler((operation, body) =>
    operation === 'UpdateItem' ? { Attributes: leaseItem(JSON.parse(body) as UpdateItemCommandInput) } : {},
  );
  const sfnHttp = new StubHttpHandler((_op, body) => ({
    executionArn: `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${(JSON.parse(body) as { name: string }).name}`,
    startDate: Date.now() / 1000,
  }));
  const ledger = new DynamoObjectLedger(
    TABLE,
    new DynamoDBClient({ ...STUB_CLIENT_CONFIG, requestHandler: ddbHttp }),
  );
  const runs = new SfnRunStarter(
    STATE_MACHINE_ARN,
    new SFNClient({ ...STUB_CLIENT_CONFIG, requestHandler: sfnHttp }),
  );
  const deps: LandingDeps = {
    registry,
    ledger,
    leases: ledger,
    starter: runs,
    executions: runs,
    log: sdkLogger,
  };
  const handler = createHandler(() => deps);
  const { result, wallMs, cpuMs } = await swallowingStdout(() => timed(() => handler(event, context)));
  return {
    wallMs,
    cpuMs,
    starts: sfnHttp.count('StartExecution'),
    ledgerCalls: [...ddbHttp.calls.values()].reduce((a, b) => a + b, 0),
    transactCalls: ddbHttp.count('TransactWriteItems'),
    leaseCalls: ddbHttp.count('UpdateItem'),
    failures: failuresOf(result),
  };
}

async function naiveMocked(event: { Records: Array<Record<string, unknown>> }): Promise<Sample> {
  const ddb = new DynamoDBClient(STUB_CLIENT_CONFIG);
  const sfn = new SFNClient(STUB_CLIENT_CONFIG);
  const ddbMock = mockClient(ddb);
  const sfnMock = mockClient(sfn);
  ddbMock.on(PutItemCommand).resolves({});
  sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn', startDate: new Date() });
  const handler = createNaiveHandler({ ddb, sfn, table: TABLE, stateMachineArn: STATE_MACHINE_ARN });
  const { result, wallMs, cpuMs } = await timed(() => handler(event));
  const sample = {
    wallMs,
    cpuMs,
    starts: sfnMock.commandCalls(StartExecutionCommand).length,
    ledgerCalls: ddbMock.calls().length,
    failures: result.batchItemFailures.length,
  };
  ddbMock.restore();
  sfnMock.restore();
  return sample;
}

async function naiveFullSdk(event: { Records: Array<Record<string, unknown>> }): Promise<Sample> {
  const ddbHttp = new StubHttpHandler();
  const sfnHttp = new StubHttpHandler(() => ({ executionArn: 'arn', startDate: Date.now() / 1000 }));
  const handler = createNaiveHandler({
    ddb: new DynamoDBClient({ ...STUB_CLIENT_CONFIG, requestHandler: ddbHttp }),
    sfn: new SFNClient({ ...STUB_CLIENT_CONFIG, requestHandler: sfnHttp }),
    table: TABLE,
    stateMachineArn: STATE_MACHINE_ARN,
  });
  const { result, wallMs, cpuMs } = await timed(() => handler(event));
  return {
    wallMs,
    cpuMs,
    starts: sfnHttp.count('StartExecution'),
    ledgerCalls: ddbHttp.count('PutItem'),
    failures: result.batchItemFailures.length,
  };
}

/**
 * `n` distinct orders objects spread round-robin over `partitions` consecutive days from 2024-01-01
 * (test/helpers' ordersBatch stays inside January, so it cannot make 100 valid partitions).
 */
function ordersOverDays(n: number, partitions: number) {
  const day0 = Date.UTC(2024, 0, 1);
  return Array.from({ length: n }, (_, i) => {
    const [year, month, day] = new Date(day0 + (i % partitions) * 86_400_000)
      .toISOString()
      .slice(0, 10)
      .split('-');
    return s3Record(`landing/shop/orders/year=${year}/month=${month}/day=${day}/part ${i}.jsonl`, {
      sequencer: i.toString(16).toUpperCase().padStart(18, '0'),
      size: 100,
      versionId: null,
    });
  });
}

const summarise = (samples: readonly Sample[]) => ({
  wallMs: medianOf(samples, (s) => s.wallMs),
  cpuMs: medianOf(samples, (s) => s.cpuMs),
  starts: medianOf(samples, (s) => s.starts),
  ledgerCalls: medianOf(samples, (s) => s.ledgerCalls),
  transactCalls: medianOf(samples, (s) => s.transactCalls ?? 0),
  leaseCalls: medianOf(samples, (s) => s.leaseCalls ?? 0),
  failures: Math.max(...samples.map((s) => s.failures)),
});

/**
 * The measured workload alone, for bench/profile-workload.ts: events are cloned before `around`
 * starts so a profiler sees only handler calls. Returns the median CPU ms.
 */
export async function onLandingWorkload(
  p: number,
  mode: 'mocked' | 'sdk',
  iterations: number,
  around: <T>(work: () => Promise<T>) => Promise<T> = (work) => work(),
): Promise<number> {
  const event = sqsEvent(ordersOverDays(RECORDS, p));
  const run = mode === 'sdk' ? ourHandlerFullSdk : ourHandlerMocked;
  await run(structuredClone(event));
  const events = Array.from({ length: iterations }, () => structuredClone(event));
  const samples = await around(async () => {
    const out: Sample[] = [];
    for (const e of events) out.push(await run(e));
    return out;
  });
  return medianOf(samples, (s) => s.cpuMs);
}

type Summary = ReturnType<typeof summarise>;

export interface CaseResult {
  readonly p: number;
  readonly ours: Summary;
  readonly oursSdk: Summary;
  readonly naive: Summary;
  readonly naiveSdk?: Summary;
}

/** Every measurement of one P, in this process (bench/on-landing-case.ts runs it in a fresh one). */
export async function measureCase(p: number, withNaiveSdk: boolean): Promise<CaseResult> {
  const event = sqsEvent(ordersOverDays(RECORDS, p));
  // Fresh clone per call: the handler must not see a parsed/cached event from the previous run.
  const ours = summarise(await repeat(RUNS, () => ourHandlerMocked(structuredClone(event))));
  const oursSdk = summarise(await repeat(RUNS, () => ourHandlerFullSdk(structuredClone(event))));
  const naive = summarise(await repeat(RUNS, () => naiveMocked(structuredClone(event))));
  // Seconds a run, and independent of P: measured for one P only.
  const naiveSdk = withNaiveSdk
    ? summarise(await repeat(3, () => naiveFullSdk(structuredClone(event)), 0))
    : undefined;
  return { p, ours, oursSdk, naive, ...(naiveSdk ? { naiveSdk } : {}) };
}

/** Each P in a fresh node process: no heap or JIT state carried over from another P or suite. */
function runCase(p: number, withNaiveSdk: boolean): CaseResult {
  const out = spawnSync(
    process.execPath,
    ['--import', 'tsx', join('bench', 'on-landing-case.ts'), String(p), withNaiveSdk ? 'naive-sdk' : ''],
    { cwd: process.cwd(), encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
  );
  if (out.status !== 0) throw new Error(`on-landing case P = ${p} failed: ${out.stderr.trim().slice(-1000)}`);
  return JSON.parse(out.stdout.trim().split('\n').pop() ?? '') as CaseResult;
}

export const onLandingSuite: Suite = {
  name: 'on-landing',
  async run(): Promise<BenchRow[]> {
    const rows: BenchRow[] = [];
    let naiveSdk: Summary | undefined;
    for (const p of PARTITIONS) {
      const result = runCase(p, naiveSdk === undefined);
      const { ours, oursSdk, naive } = result;
      naiveSdk ??= result.naiveSdk;
      if (!naiveSdk) throw new Error('the naive handler was not measured through the full SDK stack');
      const cpuPer10k = (ours.cpuMs * 10_000) / RECORDS;
      const met =
        ours.ledgerCalls === oursSdk.ledgerCalls &&
        ours.failures === 0 &&
        oursSdk.failures === 0 &&
        ours.starts === p &&
        oursSdk.starts === p &&
        cpuPer10k <= CPU_TARGET_MS;
      rows.push({
        benchmark: 'on-landing',
        case: `${fmt(RECORDS)}-record SQS batch, P = ${p}`,
        measured:
          `wall ${fmt(ours.wallMs)} ms, CPU ${fmt(ours.cpuMs)} ms; ${fmt(ours.starts)} StartExecution, ` +
          `${fmt(ours.ledgerCalls)} ledger calls (${fmt(ours.transactCalls)} TransactWriteItems + ${fmt(ours.leaseCalls)} lease UpdateItem); ` +
          `full SDK stack: wall ${fmt(oursSdk.wallMs)} ms, CPU ${fmt(oursSdk.cpuMs)} ms`,
        baseline:
          `naive per-object: wall ${fmt(naive.wallMs)} ms, CPU ${fmt(naive.cpuMs)} ms; ${fmt(naive.starts)} StartExecution, ` +
          `${fmt(naive.ledgerCalls)} ledger calls (full SDK stack: CPU ${fmt(naiveSdk.cpuMs)} ms${p === PARTITIONS[0] ? '' : `, measured at P = ${PARTITIONS[0]}`})`,
        target: `StartExecution = ${p}; CPU ≤ ${CPU_TARGET_MS} ms per 10k records`,
        met,
        values: { records: RECORDS, partitions: p, mockedSend: ours, fullSdkStack: oursSdk },
        baselineValues: { mockedSend: naive, fullSdkStack: naiveSdk },
        runs: RUNS,
      });
    }
    return rows;
  },
};
