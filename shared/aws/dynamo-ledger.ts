import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type AttributeValue,
  type TransactWriteItem,
} from '@aws-sdk/client-dynamodb';
import { chunk } from '../core/concurrency';
import type { LandedObject } from '../domain/events';
import { mergeFollowUp } from '../domain/lease';
import { DEFAULT_LEDGER_TTL_DAYS, DEFAULT_STALE_CLAIM_MS } from '../domain/ledger';
import type {
  ClaimOutcome,
  FollowUpRequest,
  LeaseOutcome,
  LedgerEntry,
  ObjectLedger,
  PartitionKey,
  PartitionLease,
  PartitionLeases,
} from '../ports';

/** A claim succeeds on a new object, on our own pending claim, or on a stale pending claim. */
const CLAIM_CONDITION =
  'attribute_not_exists(pk) OR (#state = :pending AND (executionName = :me OR claimedAt < :staleBefore))';

/** TransactWriteItems accepts at most 100 actions. */
const TRANSACTION_MAX = 100;
/** Rounds of re-claiming after a cancelled transaction before giving the rest up as in-flight. */
const CLAIM_ROUNDS = 4;

/** Rounds of optimistic re-reads when a follow-up request races another writer. */
const DEFER_ROUNDS = 5;
/** Lease items live in the same table, keyed apart from object ids (bucket names cannot hold `#`). */
export const leaseItemKey = (partitionKey: PartitionKey): string => `lease#${partitionKey}`;

const isConditionFailure = (error: unknown): boolean =>
  error instanceof ConditionalCheckFailedException ||
  (error as Error).name === 'ConditionalCheckFailedException';

/**
 * The object ledger on DynamoDB: one item per object version, key `pk` = object id; attribute
 * `executionName` answers "which execution processed this object?". Claims are conditional writes
 * batched 100 per TransactWriteItems; `expiresAt` drives the table's TTL.
 *
 * Partition leases are items `pk = lease#<dataset>/<partition>` with `holder`, `leaseExpiresAt`
 * (ISO) and `followUp` (JSON of the follow-up request); every change is a conditional write on the
 * holder, so two runs can never both hold one.
 */
export class DynamoObjectLedger implements ObjectLedger, PartitionLeases {
  constructor(
    private readonly tableName: string,
    private readonly client: DynamoDBClient = new DynamoDBClient({ maxAttempts: 6 }),
    private readonly options: { staleAfterMs?: number; ttlDays?: number } = {},
  ) {}

  async claim(objectIds: readonly string[], executionName: string, now: Date): Promise<ClaimOutcome[]> {
    const outcomes = new Map<string, ClaimOutcome>();
    const staleBefore = new Date(
      now.getTime() - (this.options.staleAfterMs ?? DEFAULT_STALE_CLAIM_MS),
    ).toISOString();
    const expiresAt =
      Math.floor(now.getTime() / 1000) + (this.options.ttlDays ?? DEFAULT_LEDGER_TTL_DAYS) * 86400;

    // One set of attribute values shared by every item: a claim of 10,000 objects builds 10,000
    // items, and these are identical across them (the SDK only reads them).
    const shared = {
      executionName: { S: executionName },
      state: { S: 'pending' },
      claimedAt: { S: now.toISOString() },
      expiresAt: { N: String(expiresAt) },
    };
    const names = { '#state': 'state' };
    const values = {
      ':pending': shared.state,
      ':me': shared.executionName,
      ':staleBefore': { S: staleBefore },
    };

    for (const ids of chunk([...new Set(objectIds)], TRANSACTION_MAX)) {
      let pending = ids;
      for (let round = 0; round < CLAIM_ROUNDS && pending.length > 0; round++) {
        const items: TransactWriteItem[] = pending.map((id) => ({
          Put: {
            TableName: this.tableName,
            Item: { pk: { S: id }, ...shared },
            ConditionExpression: CLAIM_CONDITION,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        }));
        try {
          await this.client.send(new TransactWriteItemsCommand({ TransactItems: items }));
          for (const id of pending) outcomes.set(id, { objectId: id, outcome: 'claimed' });
          pending = [];
        } catch (error) {
          if (
            !(error instanceof TransactionCanceledException) &&
            (error as Error).name !== 'TransactionCanceledException'
          )
            throw error;
          const reasons = (error as TransactionCanceledException).CancellationReasons ?? [];
          const retry: string[] = [];
          pending.forEach((id, i) => {
            const reason = reasons[i];
            if (reason?.Code === 'ConditionalCheckFailed') {
              const old = toEntry(reason.Item);
              const owner = old?.executionName ?? 'unknown';
              outcomes.set(
                id,
                old?.state === 'started'
                  ? { objectId: id, outcome: 'duplicate', executionName: owner }
                  : { objectId: id, outcome: 'in-flight', executionName: owner },
              );
            } else {
              // Cancelled only because another item failed, or a transient conflict: try again.
              retry.push(id);
            }
          });
          pending = retry;
        }
      }
      for (const id of pending)
        outcomes.set(id, { objectId: id, outcome: 'in-flight', executionName: 'concurrent-claim' });
    }
    return objectIds.map(
      (id) => outcomes.get(id) ?? { objectId: id, outcome: 'in-flight', executionName: 'unknown' },
    );
  }

  async confirm(objectIds: readonly string[], executionName: string, now: Date): Promise<void> {
    const names = { '#state': 'state' };
    const values = {
      ':started': { S: 'started' },
      ':now': { S: now.toISOString() },
      ':me': { S: executionName },
    };
    for (const ids of chunk([...new Set(objectIds)], TRANSACTION_MAX)) {
      await this.client.send(
        new TransactWriteItemsCommand({
          TransactItems: ids.map((id) => ({
            Update: {
              TableName: this.tableName,
              Key: { pk: { S: id } },
              UpdateExpression: 'SET #state = :started, startedAt = :now',
              ConditionExpression: 'executionName = :me',
              ExpressionAttributeNames: names,
              ExpressionAttributeValues: values,
            },
          })),
        }),
      );
    }
  }

  async release(objectIds: readonly string[], executionName: string): Promise<void> {
    for (const ids of chunk([...new Set(objectIds)], TRANSACTION_MAX)) {
      await this.client.send(
        new TransactWriteItemsCommand({
          TransactItems: ids.map((id) => ({
            Delete: {
              TableName: this.tableName,
              Key: { pk: { S: id } },
              ConditionExpression: 'executionName = :me AND #state = :pending',
              ExpressionAttributeNames: { '#state': 'state' },
              ExpressionAttributeValues: { ':me': { S: executionName }, ':pending': { S: 'pending' } },
            },
          })),
        }),
      );
    }
  }

  async lookup(objectId: string): Promise<LedgerEntry | undefined> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: { pk: { S: objectId } }, ConsistentRead: true }),
    );
    return toEntry(out.Item);
  }

  private ttlEpoch(untilMs: number): string {
    return String(Math.floor(untilMs / 1000) + (this.options.ttlDays ?? DEFAULT_LEDGER_TTL_DAYS) * 86400);
  }

  async acquireLease(
    partitionKey: PartitionKey,
    executionName: string,
    now: Date,
    ttlMs: number,
  ): Promise<LeaseOutcome> {
    const until = new Date(now.getTime() + ttlMs).toISOString();
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: leaseItemKey(partitionKey) } },
          UpdateExpression: 'SET holder = :me, acquiredAt = :now, leaseExpiresAt = :until, expiresAt = :ttl',
          // Free, ours already (a retry, or on-landing took it for us), or abandoned past its expiry.
          ConditionExpression: 'attribute_not_exists(pk) OR holder = :me OR leaseExpiresAt <= :now',
          ExpressionAttributeValues: {
            ':me': { S: executionName },
            ':now': { S: now.toISOString() },
            ':until': { S: until },
            ':ttl': { N: this.ttlEpoch(now.getTime() + ttlMs) },
          },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      const lease = toLease(out.Attributes);
      if (!lease) throw new Error(`Lease item of ${partitionKey} is malformed after update`);
      return { acquired: true, lease };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const old = toLease((error as ConditionalCheckFailedException).Item);
      if (old) return { acquired: false, lease: old };
      // No item returned (older SDKs): read it.
      const current = await this.readLease(partitionKey);
      if (!current) throw error;
      return { acquired: false, lease: current };
    }
  }

  async deferToFollowUp(request: {
    partitionKey: PartitionKey;
    holder: string;
    followUpName: string;
    claimedBy: string;
    objects: readonly LandedObject[];
    now: Date;
  }): Promise<boolean> {
    const { partitionKey, holder, followUpName, claimedBy, objects, now } = request;
    const [first = [], ...rest] = chunk(objects, TRANSACTION_MAX - 1);
    const deferItem = (o: LandedObject): TransactWriteItem => ({
      Update: {
        TableName: this.tableName,
        Key: { pk: { S: o.objectId } },
        UpdateExpression: 'SET executionName = :next, #state = :deferred',
        ConditionExpression: 'executionName = :claimedBy',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: {
          ':next': { S: followUpName },
          ':deferred': { S: 'deferred' },
          ':claimedBy': { S: claimedBy },
        },
      },
    });
    for (let round = 0; round < DEFER_ROUNDS; round++) {
      const lease = await this.readLease(partitionKey);
      if (!lease || lease.holder !== holder) return false;
      // The request summarises every deferred object; all of them are in it, or none (one transaction
      // for the lease and the first 99 objects, conditional on the request not having changed).
      const merged = mergeFollowUp(lease.followUp, followUpName, objects, now);
      const leaseUpdate: TransactWriteItem = {
        Update: {
          TableName: this.tableName,
          Key: { pk: { S: leaseItemKey(partitionKey) } },
          UpdateExpression: 'SET followUp = :merged',
          ConditionExpression: lease.followUp
            ? 'holder = :holder AND followUp = :previous'
            : 'holder = :holder AND attribute_not_exists(followUp)',
          ExpressionAttributeValues: {
            ':merged': { S: JSON.stringify(merged) },
            ':holder': { S: holder },
            ...(lease.followUp ? { ':previous': { S: JSON.stringify(lease.followUp) } } : {}),
          },
        },
      };
      try {
        await this.client.send(
          new TransactWriteItemsCommand({ TransactItems: [leaseUpdate, ...first.map(deferItem)] }),
        );
      } catch (error) {
        if ((error as Error).name !== 'TransactionCanceledException') throw error;
        const reasons = (error as TransactionCanceledException).CancellationReasons ?? [];
        // Only the lease changed under us: re-read and merge again. An object condition failing
        // means its claim is no longer ours: give up, the caller retries the whole group.
        if (reasons.slice(1).some((r) => r?.Code === 'ConditionalCheckFailed')) return false;
        continue;
      }
      for (const part of rest) {
        await this.client.send(new TransactWriteItemsCommand({ TransactItems: part.map(deferItem) }));
      }
      return true;
    }
    return false;
  }

  async readLease(partitionKey: PartitionKey): Promise<PartitionLease | undefined> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: leaseItemKey(partitionKey) } },
        ConsistentRead: true,
      }),
    );
    return toLease(out.Item);
  }

  async handOverLease(
    partitionKey: PartitionKey,
    from: string,
    to: string,
    now: Date,
    ttlMs: number,
  ): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: leaseItemKey(partitionKey) } },
          UpdateExpression:
            'SET holder = :to, acquiredAt = :now, leaseExpiresAt = :until, expiresAt = :ttl REMOVE followUp',
          ConditionExpression: 'holder = :from',
          ExpressionAttributeValues: {
            ':to': { S: to },
            ':from': { S: from },
            ':now': { S: now.toISOString() },
            ':until': { S: new Date(now.getTime() + ttlMs).toISOString() },
            ':ttl': { N: this.ttlEpoch(now.getTime() + ttlMs) },
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async releaseLease(
    partitionKey: PartitionKey,
    executionName: string,
  ): Promise<'released' | 'follow-up-pending' | 'not-held'> {
    try {
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: leaseItemKey(partitionKey) } },
          ConditionExpression: 'holder = :me AND attribute_not_exists(followUp)',
          ExpressionAttributeValues: { ':me': { S: executionName } },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return 'released';
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const old = toLease((error as ConditionalCheckFailedException).Item);
      return old?.holder === executionName && old.followUp ? 'follow-up-pending' : 'not-held';
    }
  }
}

function toLease(item: Record<string, AttributeValue> | undefined): PartitionLease | undefined {
  const pk = item?.['pk']?.S;
  const holder = item?.['holder']?.S;
  const acquiredAt = item?.['acquiredAt']?.S;
  const expiresAt = item?.['leaseExpiresAt']?.S;
  if (!pk?.startsWith('lease#') || !holder || !acquiredAt || !expiresAt) return undefined;
  const raw = item['followUp']?.S;
  const followUp = raw ? (JSON.parse(raw) as FollowUpRequest) : undefined;
  return {
    partitionKey: pk.slice('lease#'.length),
    holder,
    acquiredAt,
    expiresAt,
    ...(followUp ? { followUp } : {}),
  };
}

function toEntry(item: Record<string, AttributeValue> | undefined): LedgerEntry | undefined {
  const objectId = item?.['pk']?.S;
  const executionName = item?.['executionName']?.S;
  const state = item?.['state']?.S;
  const claimedAt = item?.['claimedAt']?.S;
  if (
    !objectId ||
    !executionName ||
    (state !== 'pending' && state !== 'started' && state !== 'deferred') ||
    !claimedAt
  )
    return undefined;
  const startedAt = item['startedAt']?.S;
  return { objectId, executionName, state, claimedAt, ...(startedAt ? { startedAt } : {}) };
}
