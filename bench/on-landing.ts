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
import { createHandler, handler as deployedHandler, landingDeps } from '../functions/on-landing/handler';
import { DynamoObjectLedger, SLOTS_ITEM_KEY } from '../shared/aws/dynamo-ledger';
import { SfnRunStarter } from '../shared/aws/sfn-run-starter';
import { compileRegistry, loadDeployedRegistry } from '../shared/config/deployed-registry';
import { loadRegistry } from '../shared/config/registry';
import { createLogger } from '../shared/logger';
import { s3Record, sqsEvent } from '../test/helpers/fixtures';
import { fmt, measure, type BenchRow, type Suite } from './lib';
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

/** What one handler call did: runs started, ledger calls (claims/confirmations and leases), failures. */
interface Calls {
  starts: number;
  ledgerCalls: number;
  transactCalls: number;
  leaseCalls: number;
  slotCalls: number;
  failures: number;
}

/** One handler as measured: calling it wires a fresh one (clients, mocks); `call` is what is timed. */
type Subject = () => {
  call: (event: SqsEvent) => Promise<unknown>;
  calls: (result: unknown) => Calls;
  done?: () => void;
};
type SqsEvent = ReturnType<typeof sqsEvent>;

// The deployed handler reads these on its first call (functions/on-landing defaultDeps).
process.env['STATE_MACHINE_ARN'] = STATE_MACHINE_ARN;
process.env['LEDGER_TABLE'] = TABLE;
// Executions in flight at most: enough for every run of a batch (P = 100) to find its slot free.
process.env['EXECUTION_BUDGET'] = '1000';
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

const executionArn = (name: string) =>
  `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${name}`;

/**
 * The deployed handler itself (`handler` of functions/on-landing, wired by its own defaultDeps: one
 * DynamoObjectLedger as object ledger and partition leases, the SFN starter, the Powertools logger);
 * every DynamoDB and SFN client's `send` answered by aws-sdk-client-mock.
 */
const oursMocked: Subject = () => {
  const ddbMock = mockClient(DynamoDBClient);
  const sfnMock = mockClient(SFNClient);
  ddbMock.on(TransactWriteItemsCommand).resolves({});
  ddbMock
    .on(UpdateItemCommand)
    .callsFake((input: UpdateItemCommandInput) => ({ Attributes: updatedItem(input) }));
  sfnMock.on(StartExecutionCommand).callsFake((input: { name: string }) => ({
    executionArn: executionArn(input.name),
    startDate: new Date(),
  }));
  return {
    call: (event) => swallowingStdout(() => deployedHandler(event, context)),
    calls: (result) => ({
      starts: sfnMock.commandCalls(StartExecutionCommand).length,
      ledgerCalls: ddbMock.calls().length,
      transactCalls: ddbMock.commandCalls(TransactWriteItemsCommand).length,
      ...updateCalls(ddbMock.commandCalls(UpdateItemCommand).map((c) => c.args[0].input)),
      failures: failuresOf(result),
    }),
    done: () => {
      ddbMock.restore();
      sfnMock.restore();
    },
  };
};

const isSlots = (input: UpdateItemCommandInput) => input.Key?.['pk']?.S === SLOTS_ITEM_KEY;

/**
 * What DynamoDB returns (ALL_NEW) for DynamoObjectLedger's UpdateItems: a partition lease taken
 * (acquireLease), or the execution slots item with this run's slot taken (takeSlot).
 */
function updatedItem(input: UpdateItemCommandInput): Record<string, AttributeValue> {
  const values = input.ExpressionAttributeValues ?? {};
  const s = (name: string): AttributeValue => ({ S: values[name]?.S ?? '' });
  if (isSlots(input))
    return { ...input.Key, holders: { M: { [input.ExpressionAttributeNames?.['#me'] ?? '']: s(':now') } } };
  return {
    ...(input.Key ?? {}),
    holder: s(':me'),
    acquiredAt: s(':now'),
    leaseExpiresAt: s(':until'),
    expiresAt: { N: values[':ttl']?.N ?? '0' },
  };
}

const updateCalls = (inputs: readonly UpdateItemCommandInput[]) => ({
  leaseCalls: inputs.filter((i) => !isSlots(i)).length,
  slotCalls: inputs.filter(isSlots).length,
});

/**
 * The same flow with the whole SDK stack (serialise, SigV4-sign, parse) and only the HTTP hop stubbed;
 * wired as functions/on-landing's defaultDeps wires it (one DynamoObjectLedger as ledger and leases).
 */
const oursFullSdk: Subject = () => {
  const updates: UpdateItemCommandInput[] = [];
  const ddbHttp = new StubHttpHandler((operation, body) => {
    if (operation !== 'UpdateItem') return {};
    updates.push(JSON.parse(body) as UpdateItemCommandInput);
    return { Attributes: updatedItem(updates[updates.length - 1] as UpdateItemCommandInput) };
  });
  const sfnHttp = new StubHttpHandler((_op, body) => ({
    executionArn: executionArn((JSON.parse(body) as { name: string }).name),
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
  const deps = landingDeps({
    registry,
    ledger,
    runs,
    log: sdkLogger,
    executionBudget: Number(process.env['EXECUTION_BUDGET']),
    maxConcurrentStarts: 8,
  });
  const handler = createHandler(() => deps);
  return {
    call: (event) => swallowingStdout(() => handler(event, context)),
    calls: (result) => ({
      starts: sfnHttp.count('StartExecution'),
      ledgerCalls: [...ddbHttp.calls.values()].reduce((a, b) => a + b, 0),
      transactCalls: ddbHttp.count('TransactWriteItems'),
      ...updateCalls(updates),
      failures: failuresOf(result),
    }),
  };
};

const naiveMocked: Subject = () => {
  const ddb = new DynamoDBClient(STUB_CLIENT_CONFIG);
  const sfn = new SFNClient(STUB_CLIENT_CONFIG);
  const ddbMock = mockClient(ddb);
  const sfnMock = mockClient(sfn);
  ddbMock.on(PutItemCommand).resolves({});
  sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn', startDate: new Date() });
  const handler = createNaiveHandler({ ddb, sfn, table: TABLE, stateMachineArn: STATE_MACHINE_ARN });
  return {
    call: (event) => handler(event),
    calls: (result) => ({
      starts: sfnMock.commandCalls(StartExecutionCommand).length,
      ledgerCalls: ddbMock.calls().length,
      transactCalls: 0,
      leaseCalls: 0,
      slotCalls: 0,
      failures: failuresOf(result),
    }),
    done: () => {
      ddbMock.restore();
      sfnMock.restore();
    },
  };
};

const naiveFullSdk: Subject = () => {
  const ddbHttp = new StubHttpHandler();
  const sfnHttp = new StubHttpHandler(() => ({ executionArn: 'arn', startDate: Date.now() / 1000 }));
  const handler = createNaiveHandler({
    ddb: new DynamoDBClient({ ...STUB_CLIENT_CONFIG, requestHandler: ddbHttp }),
    sfn: new SFNClient({ ...STUB_CLIENT_CONFIG, requestHandler: sfnHttp }),
    table: TABLE,
    stateMachineArn: STATE_MACHINE_ARN,
  });
  return {
    call: (event) => handler(event),
    calls: (result) => ({
      starts: sfnHttp.count('StartExecution'),
      ledgerCalls: ddbHttp.count('PutItem'),
      transactCalls: 0,
      leaseCalls: 0,
      slotCalls: 0,
      failures: failuresOf(result),
    }),
  };
};

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

interface Summary extends Calls {
  /** Median of the measured runs; the wall time is not taken where only the CPU time is shown. */
  wallMs?: number;
  cpuMs: number;
}

/**
 * tinybench over fresh handlers (each call on a new subject and a fresh copy of the event, neither
 * timed), once per clock; the call counts must come out the same in every measured run.
 */
async function summarise(
  subject: Subject,
  event: SqsEvent,
  runs: { iterations: number; warmup: number },
  clocks: ReadonlyArray<'wall' | 'cpu'>,
): Promise<Summary> {
  let calls: Calls | undefined;
  let current: ReturnType<Subject> | undefined;
  let input = event;
  const workload = {
    setup: () => {
      current = subject();
      input = structuredClone(event);
    },
    run: () => (current as ReturnType<Subject>).call(input),
    after: (result: unknown, measured: boolean) => {
      const seen = current?.calls(result);
      current?.done?.();
      if (!measured || !seen) return;
      if (calls && JSON.stringify(calls) !== JSON.stringify(seen))
        throw new Error(
          `call counts differ between runs: ${JSON.stringify(calls)} then ${JSON.stringify(seen)}`,
        );
      calls = seen;
    },
  };
  const times: Partial<Record<'wall' | 'cpu', number>> = {};
  for (const clock of clocks) times[clock] = (await measure(workload, { ...runs, clock })).medianMs;
  if (!calls) throw new Error('no measured run');
  return { ...(times.wall === undefined ? {} : { wallMs: times.wall }), cpuMs: times.cpu ?? NaN, ...calls };
}

/**
 * The measured workload alone, for bench/profile-workload.ts: subjects and events are made before
 * `around` starts, so a profiler sees only handler calls. Returns the mean CPU ms per call.
 */
export async function onLandingWorkload(
  p: number,
  mode: 'mocked' | 'sdk',
  iterations: number,
  around: <T>(work: () => Promise<T>) => Promise<T> = (work) => work(),
): Promise<number> {
  const event = sqsEvent(ordersOverDays(RECORDS, p));
  const subject = mode === 'sdk' ? oursFullSdk : oursMocked;
  const warm = subject();
  await warm.call(structuredClone(event));
  warm.done?.();
  const events = Array.from({ length: iterations }, () => structuredClone(event));
  let cpuMs = 0;
  await around(async () => {
    // aws-sdk-client-mock stubs the client classes: one mocked subject at a time.
    for (const e of events) {
      const s = subject();
      const cpu0 = process.cpuUsage();
      await s.call(e);
      const cpu = process.cpuUsage(cpu0);
      cpuMs += (cpu.user + cpu.system) / 1000;
      s.done?.();
    }
  });
  return cpuMs / iterations;
}

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
  const both = ['wall', 'cpu'] as const;
  const ours = await summarise(oursMocked, event, { iterations: RUNS, warmup: 1 }, both);
  const oursSdk = await summarise(oursFullSdk, event, { iterations: RUNS, warmup: 1 }, both);
  const naive = await summarise(naiveMocked, event, { iterations: RUNS, warmup: 1 }, both);
  // Seconds a run, and independent of P: measured for one P only, and only its CPU time is shown.
  const naiveSdk = withNaiveSdk
    ? await summarise(naiveFullSdk, event, { iterations: 3, warmup: 0 }, ['cpu'])
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
          `wall ${fmt(ours.wallMs ?? NaN)} ms, CPU ${fmt(ours.cpuMs)} ms; ${fmt(ours.starts)} StartExecution, ` +
          `${fmt(ours.ledgerCalls)} ledger calls (${fmt(ours.transactCalls)} TransactWriteItems + ${fmt(ours.leaseCalls)} lease UpdateItem + ${fmt(ours.slotCalls)} execution-slot UpdateItem); ` +
          `full SDK stack: wall ${fmt(oursSdk.wallMs ?? NaN)} ms, CPU ${fmt(oursSdk.cpuMs)} ms`,
        baseline:
          `naive per-object: wall ${fmt(naive.wallMs ?? NaN)} ms, CPU ${fmt(naive.cpuMs)} ms; ${fmt(naive.starts)} StartExecution, ` +
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
