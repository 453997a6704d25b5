import {
  DynamoDBClient,
  GetItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  type AttributeValue,
  type TransactWriteItem,
} from '@aws-sdk/client-dynamodb';
import { chunk } from '../core/concurrency';
import { DEFAULT_LEDGER_TTL_DAYS, DEFAULT_STALE_CLAIM_MS } from '../domain/ledger';
import type { ClaimOutcome, LedgerEntry, ObjectLedger } from '../ports';

/** TransactWriteItems accepts at most 100 actions. */
const TRANSACTION_MAX = 100;
/** Rounds of re-claiming after a cancelled transaction before giving the rest up as in-flight. */
const CLAIM_ROUNDS = 4;

/**
 * The object ledger on DynamoDB: one item per object version, key `pk` = object id; attribute
 * `executionName` answers "which execution processed this object?". Claims are conditional writes
 * batched 100 per TransactWriteItems; `expiresAt` drives the table's TTL.
 */
export class DynamoObjectLedger implements ObjectLedger {
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

    for (const ids of chunk([...new Set(objectIds)], TRANSACTION_MAX)) {
      let pending = ids;
      for (let round = 0; round < CLAIM_ROUNDS && pending.length > 0; round++) {
        const items: TransactWriteItem[] = pending.map((id) => ({
          Put: {
            TableName: this.tableName,
            Item: {
              pk: { S: id },
              executionName: { S: executionName },
              state: { S: 'pending' },
              claimedAt: { S: now.toISOString() },
              expiresAt: { N: String(expiresAt) },
            },
            ConditionExpression:
              'attribute_not_exists(pk) OR (#state = :pending AND (executionName = :me OR claimedAt < :staleBefore))',
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: {
              ':pending': { S: 'pending' },
              ':me': { S: executionName },
              ':staleBefore': { S: staleBefore },
            },
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
    for (const ids of chunk([...new Set(objectIds)], TRANSACTION_MAX)) {
      await this.client.send(
        new TransactWriteItemsCommand({
          TransactItems: ids.map((id) => ({
            Update: {
              TableName: this.tableName,
              Key: { pk: { S: id } },
              UpdateExpression: 'SET #state = :started, startedAt = :now',
              ConditionExpression: 'executionName = :me',
              ExpressionAttributeNames: { '#state': 'state' },
              ExpressionAttributeValues: {
                ':started': { S: 'started' },
                ':now': { S: now.toISOString() },
                ':me': { S: executionName },
              },
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
}

function toEntry(item: Record<string, AttributeValue> | undefined): LedgerEntry | undefined {
  const objectId = item?.['pk']?.S;
  const executionName = item?.['executionName']?.S;
  const state = item?.['state']?.S;
  const claimedAt = item?.['claimedAt']?.S;
  if (!objectId || !executionName || (state !== 'pending' && state !== 'started') || !claimedAt)
    return undefined;
  const startedAt = item['startedAt']?.S;
  return { objectId, executionName, state, claimedAt, ...(startedAt ? { startedAt } : {}) };
}
