import { Readable } from 'node:stream';
import {
  DynamoDBClient,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import {
  ExecutionAlreadyExists,
  SFNClient,
  StartExecutionCommand,
  StateMachineDoesNotExist,
} from '@aws-sdk/client-sfn';
import { HttpResponse, type HttpRequest } from '@smithy/protocol-http';
import { mockClient } from 'aws-sdk-client-mock';
import type { Context } from 'aws-lambda';
import { createHandler, LandingFailedError, REQUIRED_ENV } from '../../functions/on-landing/handler';
import { DynamoObjectLedger } from '../../shared/aws/dynamo-ledger';
import { SFN_CLIENT_CONFIG, SfnRunStarter } from '../../shared/aws/sfn-run-starter';
import type { LandingDeps } from '../../shared/core/landing';
import { loadEvent, ordersBatch, sqsEvent } from '../helpers/fixtures';
import { memoryLog, shippedRegistry } from '../helpers/registry';

const STATE_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:medallion-pipeline';
const context = { functionName: 'on-landing', awsRequestId: 'req-1' } as Context;
const sfnMock = mockClient(SFNClient);
const ddbMock = mockClient(DynamoDBClient);

function handlerWith(sfn = new SFNClient({ region: 'eu-west-1' })) {
  const deps: LandingDeps = {
    registry: shippedRegistry(),
    ledger: new DynamoObjectLedger('medallion-ledger', new DynamoDBClient({ region: 'eu-west-1' })),
    starter: new SfnRunStarter(STATE_MACHINE, sfn),
    log: memoryLog(),
  };
  return createHandler(() => deps);
}

beforeEach(() => {
  sfnMock.reset();
  ddbMock.reset();
  ddbMock.on(TransactWriteItemsCommand).resolves({});
  sfnMock.on(StartExecutionCommand).callsFake((input: { name: string }) => ({
    executionArn: `${STATE_MACHINE.replace(':stateMachine:', ':execution:')}:${input.name}`,
    startDate: new Date(),
  }));
});

describe('on-landing handler (AWS adapters)', () => {
  it('declares the environment it needs', () => {
    expect(REQUIRED_ENV).toEqual(['STATE_MACHINE_ARN', 'LEDGER_TABLE']);
  });

  it('starts a run for the SQS fixture, acknowledges the test event, and claims then confirms in DynamoDB', async () => {
    const response = await handlerWith()(loadEvent('sqs-with-s3-notifications'), context);

    expect(response).toEqual({ batchItemFailures: [] });
    const starts = sfnMock.commandCalls(StartExecutionCommand);
    expect(starts).toHaveLength(1);
    const args = starts[0]?.args[0].input;
    expect(args?.stateMachineArn).toBe(STATE_MACHINE);
    expect(args?.name).toMatch(/^orders-2024-01-15-[0-9a-f]{16}$/);
    expect(JSON.parse(args?.input ?? '{}')).toMatchObject({
      dataset: 'orders',
      partitionPath: 'year=2024/month=01/day=15',
      trigger: 'landing',
    });
    const writes = ddbMock
      .commandCalls(TransactWriteItemsCommand)
      .map((c) => c.args[0].input.TransactItems?.[0]);
    expect(writes[0]?.Put?.Item?.['state']).toEqual({ S: 'pending' });
    expect(writes[0]?.Put?.ConditionExpression).toContain('attribute_not_exists(pk)');
    expect(writes[1]?.Update?.ExpressionAttributeValues?.[':started']).toEqual({ S: 'started' });
  });

  it('claims at most 100 objects per DynamoDB transaction', async () => {
    await handlerWith()(sqsEvent(ordersBatch(250, 1)), context);

    const claimSizes = ddbMock
      .commandCalls(TransactWriteItemsCommand)
      .map((c) => c.args[0].input.TransactItems ?? [])
      .filter((items) => items[0]?.Put)
      .map((items) => items.length);
    expect(claimSizes).toEqual([100, 100, 50]);
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(1);
  });

  it('treats ExecutionAlreadyExists as already started', async () => {
    sfnMock
      .on(StartExecutionCommand)
      .rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));

    const response = await handlerWith()(loadEvent('sqs-with-s3-notifications'), context);

    expect(response).toEqual({ batchItemFailures: [] });
  });

  it('reports the message for redelivery and releases its claims when the state machine is missing', async () => {
    sfnMock
      .on(StartExecutionCommand)
      .rejects(new StateMachineDoesNotExist({ message: 'gone', $metadata: {} }));

    const response = await handlerWith()(loadEvent('sqs-with-s3-notifications'), context);

    expect(response).toEqual({
      batchItemFailures: [{ itemIdentifier: '0b8c9d2e-1111-4c6e-9a7f-000000000002' }],
    });
    const deletes = ddbMock
      .commandCalls(TransactWriteItemsCommand)
      .filter((c) => c.args[0].input.TransactItems?.[0]?.Delete);
    expect(deletes).toHaveLength(1);
  });

  it('never starts a run for objects the ledger already saw started', async () => {
    ddbMock.on(TransactWriteItemsCommand).rejects(
      new TransactionCanceledException({
        message: 'cancelled',
        $metadata: {},
        CancellationReasons: [
          {
            Code: 'ConditionalCheckFailed',
            Item: {
              pk: { S: 'x' },
              executionName: { S: 'orders-earlier' },
              state: { S: 'started' },
              claimedAt: { S: '2024-01-15T10:00:00Z' },
            },
          },
        ],
      }),
    );

    const response = await handlerWith()(loadEvent('sqs-with-s3-notifications'), context);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('returns results for an EventBridge delivery, and throws for Lambda to retry when it fails', async () => {
    const ok = await handlerWith()(loadEvent('eventbridge-object-created'), context);
    sfnMock
      .on(StartExecutionCommand)
      .rejects(new StateMachineDoesNotExist({ message: 'gone', $metadata: {} }));
    const failing = handlerWith()(loadEvent('eventbridge-object-created'), context);

    expect(ok).toMatchObject({ counts: { records: 1, started: 1 } });
    await expect(failing).rejects.toThrow(LandingFailedError);
    await expect(handlerWith()(loadEvent('eventbridge-object-created'), context)).rejects.toThrow(
      /StateMachineDoesNotExist/,
    );
  });
});

describe('StartExecution throttling', () => {
  it('is retried by the configured SDK retry strategy until the run starts', async () => {
    sfnMock.restore();
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
    sfnMock.restore();
  });
});
