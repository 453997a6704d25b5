import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoObjectLedger } from '../../shared/aws/dynamo-ledger';
import { processLanding } from '../../shared/core/landing';
import { StartRunError } from '../../shared/domain/errors';
import type { LandedObject } from '../../shared/domain/events';
import { followUpRunName, leaseTtlMs, mergeFollowUp } from '../../shared/domain/lease';
import { FileObjectLedger } from '../../shared/local/file-ledger';
import { s3Record, sqsEvent } from '../helpers/fixtures';
import { memoryLog, shippedRegistry } from '../helpers/registry';
import { RecordingStarter } from '../helpers/starters';

const ddbMock = mockClient(DynamoDBClient);
const NOW = new Date('2024-01-15T10:30:00Z');
const KEY = 'orders/year=2024/month=01/day=15';
const object = (name: string, at: string): LandedObject => ({
  bucket: 'lake',
  key: `landing/shop/orders/year=2024/month=01/day=15/${name}`,
  size: 100,
  eventTime: at,
  objectId: `lake/landing/shop/orders/year=2024/month=01/day=15/${name}#s:1`,
});
const fileLedger = () => new FileObjectLedger(join(mkdtempSync(join(tmpdir(), 'leases-')), 'ledger.json'));

describe('partition lease rules', () => {
  it('names the follow-up run after the holder: deterministic, readable, at most 80 characters', () => {
    const a = followUpRunName('orders-2024-01-15-0123456789abcdef');
    const long = followUpRunName(`${'d'.repeat(70)}-0123456789abcdef`);

    expect(a).toMatch(/^orders-2024-01-15-next-[0-9a-f]{12}$/);
    expect(followUpRunName('orders-2024-01-15-0123456789abcdef')).toBe(a);
    expect(followUpRunName(a)).toMatch(/^orders-2024-01-15-next-[0-9a-f]{12}$/);
    expect(followUpRunName(a)).not.toBe(a);
    expect(long.length).toBeLessThanOrEqual(80);
  });

  it('sizes the lease from the stage timeouts plus an hour', () => {
    expect(leaseTtlMs(shippedRegistry().get('orders'))).toBe((30 + 60 + 30 + 60) * 60_000);
  });

  it('summarises deferred objects like an execution input, bounded whatever their number', () => {
    const many = Array.from({ length: 25 }, (_, i) =>
      object(`f${i}.jsonl`, `2024-01-15T10:${String(10 + i)}:00Z`),
    );

    const first = mergeFollowUp(undefined, 'next', many.slice(0, 20), NOW);
    const merged = mergeFollowUp(first, 'next', many.slice(20), new Date('2024-01-15T11:00:00Z'));

    expect(merged).toMatchObject({
      executionName: 'next',
      requestedAt: NOW.toISOString(),
      objects: {
        count: 25,
        bytes: 2500,
        firstLandedAt: '2024-01-15T10:10:00Z',
        lastLandedAt: '2024-01-15T10:34:00Z',
        notListed: 15,
      },
    });
    expect(merged.objects.inline).toHaveLength(10);
  });
});

describe('file ledger leases', () => {
  it('lets one run hold a partition at a time, renews for the holder, and lets an expired lease be taken over', async () => {
    const ledger = fileLedger();

    const a = await ledger.acquireLease(KEY, 'run-a', NOW, 60_000);
    const b = await ledger.acquireLease(KEY, 'run-b', new Date(NOW.getTime() + 1000), 60_000);
    const again = await ledger.acquireLease(KEY, 'run-a', new Date(NOW.getTime() + 2000), 60_000);
    const takeover = await ledger.acquireLease(KEY, 'run-b', new Date(NOW.getTime() + 120_000), 60_000);

    expect(a.acquired).toBe(true);
    expect(b).toMatchObject({ acquired: false, lease: { holder: 'run-a' } });
    expect(again.acquired).toBe(true);
    expect(takeover).toMatchObject({ acquired: true, lease: { holder: 'run-b' } });
  });

  it('releases only when no follow-up is pending, and hands the lease over clearing the request', async () => {
    const ledger = fileLedger();
    await ledger.acquireLease(KEY, 'run-a', NOW, 60_000);
    await ledger.claim([object('x.jsonl', '2024-01-15T10:29:00Z').objectId], 'run-x', NOW);
    await ledger.deferToFollowUp({
      partitionKey: KEY,
      holder: 'run-a',
      followUpName: 'run-a-next',
      claimedBy: 'run-x',
      objects: [object('x.jsonl', '2024-01-15T10:29:00Z')],
      now: NOW,
    });

    const blocked = await ledger.releaseLease(KEY, 'run-a');
    const notMine = await ledger.releaseLease(KEY, 'run-z');
    const handed = await ledger.handOverLease(KEY, 'run-a', 'run-a-next', NOW, 60_000);
    const released = await ledger.releaseLease(KEY, 'run-a-next');

    expect([blocked, notMine, handed, released]).toEqual(['follow-up-pending', 'not-held', true, 'released']);
    expect(await ledger.lookup(object('x.jsonl', '').objectId)).toMatchObject({
      executionName: 'run-a-next',
      state: 'deferred',
    });
  });

  it('refuses to defer to a holder that no longer holds the lease', async () => {
    const ledger = fileLedger();

    const deferred = await ledger.deferToFollowUp({
      partitionKey: KEY,
      holder: 'gone',
      followUpName: 'gone-next',
      claimedBy: 'run-x',
      objects: [object('x.jsonl', '2024-01-15T10:29:00Z')],
      now: NOW,
    });

    expect(deferred).toBe(false);
  });
});

describe('DynamoDB ledger leases', () => {
  const ledger = () =>
    new DynamoObjectLedger('medallion-ledger', new DynamoDBClient({ region: 'eu-west-1' }));
  const leaseItem = (holder: string, followUp?: unknown) => ({
    pk: { S: `lease#${KEY}` },
    holder: { S: holder },
    acquiredAt: { S: NOW.toISOString() },
    leaseExpiresAt: { S: '2024-01-15T13:30:00.000Z' },
    ...(followUp ? { followUp: { S: JSON.stringify(followUp) } } : {}),
  });

  beforeEach(() => ddbMock.reset());

  it('takes the lease with one conditional update, and reports the holder when it is busy', async () => {
    ddbMock
      .on(UpdateItemCommand)
      .resolvesOnce({ Attributes: leaseItem('run-a') })
      .rejectsOnce(
        new ConditionalCheckFailedException({ message: 'held', $metadata: {}, Item: leaseItem('run-a') }),
      );

    const mine = await ledger().acquireLease(KEY, 'run-a', NOW, 3_600_000);
    const busy = await ledger().acquireLease(KEY, 'run-b', NOW, 3_600_000);

    const update = ddbMock.commandCalls(UpdateItemCommand)[0]?.args[0].input;
    expect(update?.Key).toEqual({ pk: { S: `lease#${KEY}` } });
    expect(update?.ConditionExpression).toBe(
      'attribute_not_exists(pk) OR holder = :me OR leaseExpiresAt <= :now',
    );
    expect(update?.ExpressionAttributeValues?.[':until']).toEqual({ S: '2024-01-15T11:30:00.000Z' });
    expect(mine).toMatchObject({ acquired: true, lease: { holder: 'run-a', partitionKey: KEY } });
    expect(busy).toMatchObject({ acquired: false, lease: { holder: 'run-a' } });
  });

  it('defers objects in one transaction with the follow-up request, conditional on holder and request', async () => {
    ddbMock.on(GetItemCommand).resolves({ Item: leaseItem('run-a') });
    ddbMock.on(TransactWriteItemsCommand).resolves({});
    const objects = Array.from({ length: 150 }, (_, i) => object(`f${i}.jsonl`, '2024-01-15T10:29:00Z'));

    const ok = await ledger().deferToFollowUp({
      partitionKey: KEY,
      holder: 'run-a',
      followUpName: 'run-a-next',
      claimedBy: 'run-x',
      objects,
      now: NOW,
    });

    const writes = ddbMock
      .commandCalls(TransactWriteItemsCommand)
      .map((c) => c.args[0].input.TransactItems ?? []);
    expect(ok).toBe(true);
    expect(writes.map((w) => w.length)).toEqual([100, 51]);
    expect(writes[0]?.[0]?.Update?.ConditionExpression).toBe(
      'holder = :holder AND attribute_not_exists(followUp)',
    );
    expect(
      JSON.parse(writes[0]?.[0]?.Update?.ExpressionAttributeValues?.[':merged']?.S ?? '{}'),
    ).toMatchObject({
      executionName: 'run-a-next',
      objects: { count: 150 },
    });
    expect(writes[0]?.[1]?.Update?.ExpressionAttributeValues).toMatchObject({
      ':next': { S: 'run-a-next' },
      ':deferred': { S: 'deferred' },
      ':claimedBy': { S: 'run-x' },
    });
  });

  it('re-reads and merges again when another arrival changed the request first', async () => {
    const earlier = mergeFollowUp(undefined, 'run-a-next', [object('a.jsonl', '2024-01-15T10:20:00Z')], NOW);
    ddbMock
      .on(GetItemCommand)
      .resolvesOnce({ Item: leaseItem('run-a') })
      .resolves({ Item: leaseItem('run-a', earlier) });
    ddbMock
      .on(TransactWriteItemsCommand)
      .rejectsOnce(
        new TransactionCanceledException({
          message: 'cancelled',
          $metadata: {},
          CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }],
        }),
      )
      .resolves({});

    const ok = await ledger().deferToFollowUp({
      partitionKey: KEY,
      holder: 'run-a',
      followUpName: 'run-a-next',
      claimedBy: 'run-x',
      objects: [object('b.jsonl', '2024-01-15T10:29:00Z')],
      now: NOW,
    });

    const second =
      ddbMock.commandCalls(TransactWriteItemsCommand)[1]?.args[0].input.TransactItems?.[0]?.Update;
    expect(ok).toBe(true);
    expect(second?.ConditionExpression).toBe('holder = :holder AND followUp = :previous');
    expect(JSON.parse(second?.ExpressionAttributeValues?.[':merged']?.S ?? '{}').objects.count).toBe(2);
  });

  it('releases with a conditional delete, and reports a pending follow-up instead of dropping it', async () => {
    ddbMock
      .on(DeleteItemCommand)
      .resolvesOnce({})
      .rejectsOnce(
        new ConditionalCheckFailedException({
          message: 'pending',
          $metadata: {},
          Item: leaseItem('run-a', mergeFollowUp(undefined, 'n', [], NOW)),
        }),
      );

    const released = await ledger().releaseLease(KEY, 'run-a');
    const pending = await ledger().releaseLease(KEY, 'run-a');

    expect(ddbMock.commandCalls(DeleteItemCommand)[0]?.args[0].input.ConditionExpression).toBe(
      'holder = :me AND attribute_not_exists(followUp)',
    );
    expect([released, pending]).toEqual(['released', 'follow-up-pending']);
  });
});

describe('landing with partition leases', () => {
  it('releases the lease it took when the run cannot start, so the redelivery can take it again', async () => {
    const ledger = fileLedger();
    const starter = new RecordingStarter();
    starter.failWhen = () => new StartRunError('StartExecution failed: ServiceUnavailable', true);
    const deps = {
      registry: shippedRegistry(),
      ledger,
      leases: ledger,
      starter,
      log: memoryLog(),
      now: () => NOW,
    };
    const event = sqsEvent([
      s3Record('landing/shop/orders/year=2024/month=01/day=15/a.jsonl', { versionId: 'v1' }),
    ]);

    const failed = await processLanding(event, deps);
    starter.failWhen = () => undefined;
    const retried = await processLanding(event, deps);

    expect(failed.failedUnits).toEqual(['msg-0']);
    expect(failed.counts).toMatchObject({ records: 1, failed: 1, started: 0, deferred: 0 });
    expect(retried.counts).toMatchObject({ records: 1, started: 1 });
    expect((await ledger.allLeases()).map((l) => l.holder)).toEqual([retried.runs[0]?.executionName]);
  });

  it('keeps the lease of a run that started even when recording its start failed', async () => {
    const ledger = fileLedger();
    jest.spyOn(ledger, 'confirm').mockRejectedValueOnce(new Error('ProvisionedThroughputExceeded'));
    const starter = new RecordingStarter();
    const deps = {
      registry: shippedRegistry(),
      ledger,
      leases: ledger,
      starter,
      log: memoryLog(),
      now: () => NOW,
    };
    const event = sqsEvent([
      s3Record('landing/shop/orders/year=2024/month=01/day=15/a.jsonl', { versionId: 'v1' }),
    ]);

    const result = await processLanding(event, deps);

    expect(result.failedUnits).toEqual(['msg-0']);
    expect(starter.started).toHaveLength(1);
    expect((await ledger.allLeases()).map((l) => l.holder)).toEqual([starter.started[0]?.name]);
  });
});
