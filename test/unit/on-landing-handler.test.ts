import { Readable } from 'node:stream';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  ListExecutionsCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { HttpResponse, type HttpRequest } from '@smithy/protocol-http';
import type { Context } from 'aws-lambda';
import {
  createHandler,
  landingDeps,
  LandingFailedError,
  REQUIRED_ENV,
} from '../../functions/on-landing/handler';
import { createHandler as createFinishRun, finishRunDeps } from '../../functions/finish-run/handler';
import type { DynamoObjectLedger } from '../../shared/aws/dynamo-ledger';
import { FileManifestStore } from '../../local/system-store';
import { MemoryAlerter } from '../state-machines/harness';
import { SFN_CLIENT_CONFIG, SfnRunStarter } from '../../shared/aws/sfn-run-starter';
import { toDeliveryUnits } from '../../shared/domain/events';
import { loadEvent, ordersBatch, s3Record, sqsEvent } from '../helpers/fixtures';
import { dynamoLedgerOn } from '../helpers/ledgers';
import { startMoto, type MotoServer } from '../helpers/moto';
import { memoryLog, shippedRegistry } from '../helpers/registry';

/** on-landing wired as on AWS (landingDeps), against DynamoDB and Step Functions on moto server. */

const STATE_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:medallion-pipeline';
const context = { functionName: 'on-landing', awsRequestId: 'req-1' } as Context;

let moto: MotoServer;
let sfn: SFNClient;
let stateMachineArn: string;
let ledger: DynamoObjectLedger;
beforeAll(async () => {
  moto = await startMoto();
  sfn = new SFNClient({ ...moto.clientConfig, maxAttempts: 1 });
});
afterAll(async () => {
  await moto?.stop();
});
let machines = 0;
beforeEach(async () => {
  ledger = (await dynamoLedgerOn(moto)).ledger;
  const created = await sfn.send(
    new CreateStateMachineCommand({
      name: `medallion-pipeline-${++machines}`,
      roleArn: 'arn:aws:iam::123456789012:role/medallion',
      definition: JSON.stringify({
        StartAt: 'Wait',
        States: { Wait: { Type: 'Wait', Seconds: 3600, End: true } },
      }),
    }),
  );
  stateMachineArn = created.stateMachineArn ?? '';
});

let log = memoryLog();
const handlerWith = (machine = stateMachineArn, executionBudget?: number) =>
  createHandler(() =>
    landingDeps({
      registry: shippedRegistry(),
      ledger,
      ...(executionBudget !== undefined ? { executionBudget } : {}),
      runs: new SfnRunStarter(machine, sfn),
      log,
    }),
  );
const executions = async () =>
  (await sfn.send(new ListExecutionsCommand({ stateMachineArn }))).executions ?? [];
const FIXTURE_ID =
  'example-lake/landing/shop/orders/year=2024/month=01/day=15/orders batch 001.jsonl#v:096fKKXTRTtl3on89fVO.nfljtsv6qko';

describe('on-landing handler (DynamoDB and Step Functions on moto server)', () => {
  it('declares the environment it needs', () => {
    expect(REQUIRED_ENV).toEqual(['STATE_MACHINE_ARN', 'LEDGER_TABLE', 'EXECUTION_BUDGET']);
  });

  it('starts a run for the SQS fixture, acknowledges the test event, and records the object as started', async () => {
    const response = await handlerWith()(loadEvent('sqs-with-s3-notifications'), context);

    expect(response).toEqual({ batchItemFailures: [] });
    const runs = await executions();
    expect(runs).toHaveLength(1);
    expect(runs[0]?.name).toMatch(/^orders-2024-01-15-[0-9a-f]{16}$/);
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: runs[0]?.executionArn }));
    expect(JSON.parse(described.input ?? '{}')).toMatchObject({
      dataset: 'orders',
      partitionPath: 'year=2024/month=01/day=15',
      trigger: 'landing',
    });
    expect(await ledger.lookup(FIXTURE_ID)).toMatchObject({ state: 'started', executionName: runs[0]?.name });
  });

  it('starts one run for 120 objects of one partition (two transactions each way), and none when the batch is delivered again', async () => {
    const event = sqsEvent(ordersBatch(120, 1));
    await handlerWith()(event, context);
    const again = await handlerWith()(event, context);

    expect(again).toEqual({ batchItemFailures: [] });
    expect(await executions()).toHaveLength(1);
  });

  it('reports the message for redelivery and releases its claims when the state machine is missing', async () => {
    const response = await handlerWith(`${STATE_MACHINE}-missing`)(
      loadEvent('sqs-with-s3-notifications'),
      context,
    );

    expect(response).toEqual({
      batchItemFailures: [{ itemIdentifier: '0b8c9d2e-1111-4c6e-9a7f-000000000002' }],
    });
    expect(await ledger.lookup(FIXTURE_ID)).toBeUndefined();
  });

  it('with a budget of 2, starts two partitions of three; the third waits in the ledger (its message acknowledged) until finish-run hands it a slot and starts it', async () => {
    const event = sqsEvent(ordersBatch(3, 3), 'budget');
    log = memoryLog();

    const first = await handlerWith(stateMachineArn, 2)(event, context);
    const started = (await executions()).map((e) => e.name ?? '');
    const held = (await ledger.readSlots()).holders.map((h) => h.executionName).sort();
    const queue = await ledger.waitingRuns(10);
    const again = await handlerWith(stateMachineArn, 2)(event, context);
    // The first run ends: finish-run, wired as on AWS, hands its slot to the waiting run and starts it.
    const ended = started[0] ?? '';
    const described = await sfn.send(
      new DescribeExecutionCommand({
        executionArn: `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${ended}`,
      }),
    );
    const finished = await createFinishRun(() =>
      finishRunDeps({
        registry: shippedRegistry(),
        ledger,
        executionBudget: 2,
        runs: new SfnRunStarter(stateMachineArn, sfn),
        alerts: new MemoryAlerter(),
        manifests: new FileManifestStore(),
        log,
      }),
    )(
      {
        executionName: ended,
        stateMachineArn,
        outcome: 'succeeded',
        input: JSON.parse(described.input ?? 'null') as unknown,
      },
      context,
    );

    expect(started).toHaveLength(2);
    expect(held).toEqual([...started].sort());
    expect(first).toEqual({ batchItemFailures: [] });
    expect(queue).toHaveLength(1);
    const waiting = queue[0]?.executionName ?? '';
    // The line the stack's metric filters count (stack/back-pressure.ts), at info: waiting is no error.
    expect(log.lines.filter((l) => l.message === 'Run waits for an execution slot')).toEqual([
      expect.objectContaining({
        level: 'info',
        attributes: expect.objectContaining({ inFlight: 2, budget: 2, executionName: waiting }),
      }),
    ]);
    expect(log.lines.filter((l) => l.level === 'error')).toEqual([]);
    // The same batch delivered again: its objects are the waiting run's (deferred to it), nothing starts.
    expect(again).toEqual({ batchItemFailures: [] });
    expect(finished).toMatchObject({ lease: 'released', waitingStarted: [waiting] });
    expect((await executions()).map((e) => e.name).sort()).toEqual([...started, waiting].sort());
    expect((await ledger.readSlots()).holders.map((h) => h.executionName).sort()).toEqual(
      [started[1] ?? '', waiting].sort(),
    );
    expect(await ledger.countWaitingRuns()).toBe(0);
  });

  it('never starts a run for objects the ledger already saw started', async () => {
    await ledger.claim([FIXTURE_ID], 'orders-earlier', new Date());
    await ledger.confirm([FIXTURE_ID], 'orders-earlier', new Date());

    const response = await handlerWith()(loadEvent('sqs-with-s3-notifications'), context);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(await executions()).toHaveLength(0);
  });

  it('returns results for an EventBridge delivery, and throws for Lambda to retry when it can heal', async () => {
    const ok = await handlerWith()(loadEvent('eventbridge-object-created'), context);
    const other = loadEvent<{ detail: { object: { key: string; sequencer: string } } }>(
      'eventbridge-object-created',
    );
    other.detail.object.key = 'landing/shop/orders/year=2024/month=01/day=16/b.jsonl';
    // Claimed a moment ago by a landing that has not started its run yet: in flight, retryable.
    const [unit] = toDeliveryUnits(other).units;
    const record = unit?.records[0];
    await ledger.claim(
      [record?.kind === 'object' ? record.object.objectId : ''],
      'orders-2024-01-16-starting',
      new Date(),
    );
    const failing = handlerWith()(other, context);

    expect(ok).toMatchObject({ counts: { records: 1, started: 1 } });
    await expect(failing).rejects.toThrow(LandingFailedError);
  });

  it('does not throw a direct event whose failures are all permanent (a retry cannot heal them)', async () => {
    const bad = loadEvent<{ detail: { object: { key: string } } }>('eventbridge-object-created');
    bad.detail.object.key = 'landing/shop/orders/year=2023/month=02/day=29/a.jsonl';

    const result = await handlerWith()(bad, context);

    expect(result).toMatchObject({
      counts: { records: 1, failed: 1, started: 0 },
      failures: [{ error: 'InvalidPartitionDateError', retryable: false }],
    });
  });

  it('starts the run of an object whose claim is held by a run that never started', async () => {
    const id = `example-lake/landing/shop/orders/year=2024/month=01/day=15/a.jsonl#v:v1`;
    await ledger.claim([id], 'orders-2024-01-15-crashed', new Date(Date.now() - 3600_000));

    const response = await handlerWith()(
      sqsEvent([s3Record('landing/shop/orders/year=2024/month=01/day=15/a.jsonl', { versionId: 'v1' })]),
      context,
    );

    expect(response).toEqual({ batchItemFailures: [] });
    expect(await executions()).toHaveLength(1);
  });
});

describe('StartExecution throttling', () => {
  it('is retried by the configured SDK retry strategy until the run starts', async () => {
    const requests: HttpRequest[] = [];
    const body = (json: unknown) => Readable.from([Buffer.from(JSON.stringify(json))]);
    const client = new SFNClient({
      ...SFN_CLIENT_CONFIG,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      requestHandler: {
        handle: async (request: HttpRequest) => {
          requests.push(request);
          const throttled = requests.length <= 2;
          return {
            response: new HttpResponse({
              statusCode: throttled ? 400 : 200,
              headers: { 'content-type': 'application/x-amz-json-1.0' },
              body: throttled
                ? body({
                    __type: 'com.amazonaws.swf.base.model#ThrottlingException',
                    message: 'Rate exceeded',
                  })
                : body({ executionArn: `${STATE_MACHINE}:x`, startDate: 1705314067 }),
            }),
          };
        },
      },
    });

    const result = await new SfnRunStarter(STATE_MACHINE, client).start({
      name: 'orders-2024-01-15-abc',
      input: JSON.parse('{}'),
    });

    expect(requests).toHaveLength(3);
    expect(result.outcome).toBe('started');
  });
});
