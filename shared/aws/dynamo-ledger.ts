import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type AttributeValue,
  type TransactWriteItem,
} from '@aws-sdk/client-dynamodb';
import { chunk } from '../domain/chunk';
import type { LandedObject } from '../domain/events';
import { mergeFollowUp } from '../domain/lease';
import { decideClaim, DEFAULT_LEDGER_TTL_DAYS } from '../domain/ledger';
import { LedgerContentionError } from '../domain/errors';
import { joinWaiting, SLOT_REPAIR_INTERVAL_MS } from '../domain/run-slots';
import type {
  AssignOutcome,
  ClaimOutcome,
  FollowUpRequest,
  LeaseOutcome,
  LedgerEntry,
  MarkReadRequest,
  ObjectLedger,
  PartitionKey,
  PartitionLease,
  PartitionLeases,
  QueuedRun,
  RunSlot,
  RunSlots,
  RunSlotState,
  SlotOutcome,
  WaitingRun,
} from '../ports';

/**
 * The `claimed` branch of decideClaim (shared/domain/ledger.ts) as a condition: a new object, or a
 * pending claim of an owner named reclaimable (`:r0`, `:r1`...; the claimant itself included).
 */
const claimCondition = (reclaimable: number): string =>
  reclaimable === 0
    ? 'attribute_not_exists(pk)'
    : `attribute_not_exists(pk) OR (#state = :pending AND executionName IN (${Array.from({ length: reclaimable }, (_, i) => `:r${i}`).join(', ')}))`;
/** mayConfirm / mayRelease: the owner's own pending claim. */
const OWN_PENDING = 'executionName = :me AND #state = :pending';

/** TransactWriteItems accepts at most 100 actions. */
const TRANSACTION_MAX = 100;
/** Rounds of re-trying a cancelled transaction without its failed items. */
const TRANSACTION_ROUNDS = 4;
/** The IN operator takes at most 100 operands. */
const RECLAIMABLE_MAX = 100;

/** Rounds of optimistic re-reads when a follow-up request races another writer. */
const DEFER_ROUNDS = 5;
/** Lease items live in the same table, keyed apart from object ids (bucket names cannot hold `#`). */
export const leaseItemKey = (partitionKey: PartitionKey): string => `lease#${partitionKey}`;
/** The execution slots' item (shared/domain/run-slots.ts): `holders` maps execution name → taken at. */
export const SLOTS_ITEM_KEY = 'slots#executions';

/**
 * The waiting queue: a sparse global secondary index over the lease items of runs waiting for a slot
 * (only they carry its keys), ordered by `waitOrder` = `<since>#<execution name>`, oldest first. The
 * stack's table and the tests' tables declare it from these names.
 */
export const WAITING_INDEX = {
  IndexName: 'waiting-runs',
  partitionKey: 'waitQueue',
  sortKey: 'waitOrder',
  /** The one value of `waitQueue`: the queue is one ordered list. */
  queue: 'executions',
  /** Projected beside the keys: the waiting run's name. */
  projected: ['holder'],
} as const;

/** The index as CreateTable / CloudFormation declare it. */
export const waitingIndexDefinition = () => ({
  IndexName: WAITING_INDEX.IndexName,
  KeySchema: [
    { AttributeName: WAITING_INDEX.partitionKey, KeyType: 'HASH' as const },
    { AttributeName: WAITING_INDEX.sortKey, KeyType: 'RANGE' as const },
  ],
  Projection: { ProjectionType: 'INCLUDE' as const, NonKeyAttributes: [...WAITING_INDEX.projected] },
});

/** The lease attributes of a waiting run, removed together when it starts or its lease moves on. */
const WAITING_ATTRIBUTES = `waitingRun, waitingStartingAt, ${WAITING_INDEX.partitionKey}, ${WAITING_INDEX.sortKey}`;

const isConditionFailure = (error: unknown): boolean =>
  error instanceof ConditionalCheckFailedException ||
  (error as Error).name === 'ConditionalCheckFailedException';
const isCancelled = (error: unknown): error is TransactionCanceledException =>
  error instanceof TransactionCanceledException || (error as Error).name === 'TransactionCanceledException';

/**
 * The object ledger on DynamoDB: one item per object version, key `pk` = object id; attribute
 * `executionName` answers "which execution processed this object?". Every write is conditional on
 * the rules of shared/domain/ledger.ts, batched 100 per TransactWriteItems; `expiresAt` drives the
 * table's TTL.
 *
 * Partition leases are items `pk = lease#<dataset>/<partition>` with `holder`, `leaseExpiresAt`
 * (ISO) and `followUp` (JSON of the follow-up request); every change is a conditional write on the
 * holder, so two runs can never both hold one.
 */
export class DynamoObjectLedger implements ObjectLedger, PartitionLeases, RunSlots {
  constructor(
    private readonly tableName: string,
    private readonly client: DynamoDBClient = new DynamoDBClient({ maxAttempts: 6 }),
    private readonly options: { ttlDays?: number } = {},
  ) {}

  /**
   * Writes each item conditionally, 100 per transaction. A cancelled transaction is retried without
   * the items whose condition failed (each is reported to `onFailed` with the item as it is); an item
   * cancelled only because of another is retried. Returns the ids that could not be settled.
   */
  private async transactEach(
    ids: readonly string[],
    item: (id: string) => TransactWriteItem,
    onFailed: (id: string, current: Record<string, AttributeValue> | undefined) => void,
    onWritten: (id: string) => void = () => undefined,
  ): Promise<string[]> {
    const unsettled: string[] = [];
    for (const part of chunk([...new Set(ids)], TRANSACTION_MAX)) {
      let pending = part;
      for (let round = 0; round < TRANSACTION_ROUNDS && pending.length > 0; round++) {
        try {
          await this.client.send(new TransactWriteItemsCommand({ TransactItems: pending.map(item) }));
          pending.forEach(onWritten);
          pending = [];
        } catch (error) {
          if (!isCancelled(error)) throw error;
          const reasons = error.CancellationReasons ?? [];
          const retry: string[] = [];
          pending.forEach((id, i) => {
            const reason = reasons[i];
            if (reason?.Code === 'ConditionalCheckFailed') onFailed(id, reason.Item);
            else retry.push(id);
          });
          pending = retry;
        }
      }
      unsettled.push(...pending);
    }
    return unsettled;
  }

  async claim(
    objectIds: readonly string[],
    executionName: string,
    now: Date,
    reclaimable: ReadonlySet<string> = new Set(),
  ): Promise<ClaimOutcome[]> {
    const outcomes = new Map<string, ClaimOutcome>();
    const expiresAt =
      Math.floor(now.getTime() / 1000) + (this.options.ttlDays ?? DEFAULT_LEDGER_TTL_DAYS) * 86400;
    const others = [...reclaimable].slice(0, RECLAIMABLE_MAX);

    // One set of attribute values shared by every item: a claim of 10,000 objects builds 10,000
    // items, and these are identical across them (the SDK only reads them).
    const shared = {
      executionName: { S: executionName },
      state: { S: 'pending' },
      claimedAt: { S: now.toISOString() },
      expiresAt: { N: String(expiresAt) },
    };
    const condition = claimCondition(others.length);
    const values: Record<string, AttributeValue> = { ':pending': shared.state };
    others.forEach((r, i) => (values[`:r${i}`] = { S: r }));
    // DynamoDB refuses names and values the condition does not use.
    const placeholders =
      others.length > 0
        ? { ExpressionAttributeNames: { '#state': 'state' }, ExpressionAttributeValues: values }
        : {};
    const allowed = new Set(others);

    const unsettled = await this.transactEach(
      objectIds,
      (id) => ({
        Put: {
          TableName: this.tableName,
          Item: { pk: { S: id }, ...shared },
          ConditionExpression: condition,
          ...placeholders,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      }),
      (id, item) => {
        const old = toEntry(item);
        const owner = old?.executionName ?? 'unknown';
        const outcome = decideClaim(old ?? { state: 'pending', executionName: owner }, allowed);
        outcomes.set(
          id,
          outcome === 'duplicate'
            ? { objectId: id, outcome, executionName: owner }
            : {
                objectId: id,
                outcome: 'in-flight',
                executionName: owner,
                claimedAt: old?.claimedAt ?? now.toISOString(),
              },
        );
      },
      (id) => outcomes.set(id, { objectId: id, outcome: 'claimed' }),
    );
    for (const id of unsettled)
      outcomes.set(id, {
        objectId: id,
        outcome: 'in-flight',
        executionName: 'concurrent-claim',
        claimedAt: now.toISOString(),
      });
    return objectIds.map(
      (id) =>
        outcomes.get(id) ?? {
          objectId: id,
          outcome: 'in-flight',
          executionName: 'unknown',
          claimedAt: now.toISOString(),
        },
    );
  }

  async confirm(objectIds: readonly string[], executionName: string, now: Date): Promise<void> {
    const names = { '#state': 'state' };
    const values = {
      ':started': { S: 'started' },
      ':pending': { S: 'pending' },
      ':now': { S: now.toISOString() },
      ':me': { S: executionName },
    };
    // Entries that are not our pending claims are left as they are.
    const unsettled = await this.transactEach(
      objectIds,
      (id) => ({
        Update: {
          TableName: this.tableName,
          Key: { pk: { S: id } },
          UpdateExpression: 'SET #state = :started, startedAt = :now',
          ConditionExpression: OWN_PENDING,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        },
      }),
      () => undefined,
    );
    if (unsettled.length > 0)
      throw new LedgerContentionError(`confirm of ${unsettled.length} object(s) kept being cancelled`);
  }

  async release(objectIds: readonly string[], executionName: string): Promise<void> {
    const unsettled = await this.transactEach(
      objectIds,
      (id) => ({
        Delete: {
          TableName: this.tableName,
          Key: { pk: { S: id } },
          ConditionExpression: OWN_PENDING,
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':me': { S: executionName }, ':pending': { S: 'pending' } },
        },
      }),
      () => undefined,
    );
    if (unsettled.length > 0)
      throw new LedgerContentionError(`release of ${unsettled.length} object(s) kept being cancelled`);
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
    takeOver?: { readonly holder: string; readonly acquiredAt: string },
  ): Promise<LeaseOutcome> {
    const until = new Date(now.getTime() + ttlMs).toISOString();
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: leaseItemKey(partitionKey) } },
          // A take-over drops the previous holder's waiting mark; the holder's own (a retried delivery
          // of a waiting run's batch) stays: without a take-over only a free lease or ours is written.
          UpdateExpression:
            'SET holder = :me, acquiredAt = :now, leaseExpiresAt = :until, expiresAt = :ttl' +
            (takeOver ? ` REMOVE ${WAITING_ATTRIBUTES}` : ''),
          // mayAcquireLease: free, ours already (a retry, or on-landing took it for us), past its
          // expiry unless its holder waits for a slot, or still held as seen by a caller that judged
          // its holder ended / never started (and not a waiting run the queue has yet to start).
          ConditionExpression:
            'attribute_not_exists(pk) OR holder = :me OR (attribute_not_exists(waitingRun) AND leaseExpiresAt <= :now)' +
            (takeOver
              ? ' OR (holder = :dead AND acquiredAt = :seen AND (attribute_not_exists(waitingRun) OR attribute_exists(waitingStartingAt)))'
              : ''),
          ExpressionAttributeValues: {
            ':me': { S: executionName },
            ':now': { S: now.toISOString() },
            ':until': { S: until },
            ':ttl': { N: this.ttlEpoch(now.getTime() + ttlMs) },
            ...(takeOver ? { ':dead': { S: takeOver.holder }, ':seen': { S: takeOver.acquiredAt } } : {}),
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

  async markRead(request: MarkReadRequest): Promise<string[]> {
    // mayMarkRead's lease condition, checked in every transaction with the entries.
    const leaseHeld: TransactWriteItem = {
      ConditionCheck: {
        TableName: this.tableName,
        Key: { pk: { S: leaseItemKey(request.partitionKey) } },
        ConditionExpression: 'holder = :holder',
        ExpressionAttributeValues: { ':holder': { S: request.holder } },
      },
    };
    const values = {
      ':holder': { S: request.holder },
      ':next': { S: request.followUpName },
      ':started': { S: 'started' },
      ':deferred': { S: 'deferred' },
      ':now': { S: request.now.toISOString() },
    };
    const update = (id: string): TransactWriteItem => ({
      Update: {
        TableName: this.tableName,
        Key: { pk: { S: id } },
        UpdateExpression:
          'SET executionName = :holder, #state = :started, startedAt = if_not_exists(startedAt, :now)',
        // mayMarkRead: deferred to the follow-up, or already the holder's (a retry).
        ConditionExpression:
          '(#state = :deferred AND executionName = :next) OR (#state = :started AND executionName = :holder)',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: values,
      },
    });
    const read = new Set<string>();
    for (const part of chunk([...new Set(request.objectIds)], TRANSACTION_MAX - 1)) {
      let pending = part;
      for (let round = 0; round < TRANSACTION_ROUNDS && pending.length > 0; round++) {
        try {
          await this.client.send(
            new TransactWriteItemsCommand({ TransactItems: [leaseHeld, ...pending.map(update)] }),
          );
          pending.forEach((id) => read.add(id));
          pending = [];
        } catch (error) {
          if (!isCancelled(error)) throw error;
          const reasons = error.CancellationReasons ?? [];
          // The lease moved on: nothing more is this run's to mark.
          if (reasons[0]?.Code === 'ConditionalCheckFailed')
            return request.objectIds.filter((id) => read.has(id));
          // Entries in another state are left as they are; the rest were cancelled with them.
          pending = pending.filter((_, i) => reasons[i + 1]?.Code !== 'ConditionalCheckFailed');
        }
      }
      if (pending.length > 0)
        throw new LedgerContentionError(`marking ${pending.length} object(s) read kept being cancelled`);
    }
    return request.objectIds.filter((id) => read.has(id));
  }

  async replaceFollowUp(request: {
    partitionKey: PartitionKey;
    holder: string;
    previous: FollowUpRequest;
    next: FollowUpRequest | undefined;
  }): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: leaseItemKey(request.partitionKey) } },
          UpdateExpression: request.next ? 'SET followUp = :next' : 'REMOVE followUp',
          ConditionExpression: 'holder = :holder AND followUp = :previous',
          ExpressionAttributeValues: {
            ':holder': { S: request.holder },
            ':previous': { S: JSON.stringify(request.previous) },
            ...(request.next ? { ':next': { S: JSON.stringify(request.next) } } : {}),
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
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
          UpdateExpression: `SET holder = :to, acquiredAt = :now, leaseExpiresAt = :until, expiresAt = :ttl REMOVE followUp, ${WAITING_ATTRIBUTES}`,
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
  private slotsKey() {
    return { pk: { S: SLOTS_ITEM_KEY } };
  }

  /** The item with an empty `holders` map, if there is none yet (a map key can only be SET in an existing map). */
  private async createSlotsItem(): Promise<void> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: { ...this.slotsKey(), holders: { M: {} } },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  async takeSlot(request: {
    executionName: string;
    now: Date;
    budget: number;
    handOverFrom?: string;
    overBudget?: boolean;
  }): Promise<SlotOutcome> {
    const { executionName, handOverFrom, overBudget } = request;
    const from = handOverFrom !== undefined && handOverFrom !== executionName ? handOverFrom : undefined;
    // mayTakeSlot as a condition: already held, inherited, or fewer than the budget held.
    const allowed =
      'attribute_exists(holders.#me) OR size(holders) < :budget' +
      (from !== undefined ? ' OR attribute_exists(holders.#from)' : '');
    for (let round = 0; round < 3; round++) {
      try {
        const out = await this.client.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: this.slotsKey(),
            UpdateExpression:
              (overBudget ? 'SET holders.#me = :now' : 'SET holders.#me = :now, budget = :budget') +
              (from !== undefined ? ' REMOVE holders.#from' : ''),
            ConditionExpression: overBudget
              ? 'attribute_exists(holders)'
              : `attribute_exists(holders) AND (${allowed})`,
            ExpressionAttributeNames: {
              '#me': executionName,
              ...(from !== undefined ? { '#from': from } : {}),
            },
            ExpressionAttributeValues: {
              ':now': { S: request.now.toISOString() },
              ...(overBudget ? {} : { ':budget': { N: String(request.budget) } }),
            },
            ReturnValues: 'ALL_NEW',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return { taken: true, inFlight: toSlots(out.Attributes).holders.length };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        // The item as the condition saw it. None: there was no item yet (a read now could find the
        // one another taker just created, empty, and wrongly answer "full"): create it, ask again.
        const old =
          (error as ConditionalCheckFailedException).Item ??
          (round > 0 ? await this.readSlotsItem() : undefined);
        if (old?.['holders']?.M === undefined) {
          await this.createSlotsItem();
          continue;
        }
        return { taken: false, holders: toSlots(old).holders };
      }
    }
    throw new LedgerContentionError('the execution slots item could not be created');
  }

  async releaseSlot(executionName: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: this.slotsKey(),
          UpdateExpression: 'REMOVE holders.#me',
          ConditionExpression: 'attribute_exists(holders.#me)',
          ExpressionAttributeNames: { '#me': executionName },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  private async readSlotsItem(): Promise<Record<string, AttributeValue> | undefined> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: this.slotsKey(), ConsistentRead: true }),
    );
    return out.Item;
  }

  async readSlots(): Promise<RunSlotState> {
    return toSlots(await this.readSlotsItem());
  }

  async freeSlots(seen: readonly RunSlot[]): Promise<number> {
    let freed = 0;
    for (const { executionName, takenAt } of seen) {
      try {
        await this.client.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: this.slotsKey(),
            UpdateExpression: 'REMOVE holders.#n',
            // Still held as seen: a slot taken again since (a retried start) is not freed.
            ConditionExpression: 'holders.#n = :seen',
            ExpressionAttributeNames: { '#n': executionName },
            ExpressionAttributeValues: { ':seen': { S: takenAt } },
          }),
        );
        freed++;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    }
    return freed;
  }

  async claimSlotRepair(now: Date): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: this.slotsKey(),
          UpdateExpression: 'SET repairedAt = :now',
          // mayRepairSlots: never checked, or not within the interval.
          ConditionExpression:
            'attribute_exists(holders) AND (attribute_not_exists(repairedAt) OR repairedAt <= :cutoff)',
          ExpressionAttributeValues: {
            ':now': { S: now.toISOString() },
            ':cutoff': { S: new Date(now.getTime() - SLOT_REPAIR_INTERVAL_MS).toISOString() },
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
  private waitingValues(executionName: string, waiting: WaitingRun): Record<string, AttributeValue> {
    return {
      ':run': { S: JSON.stringify({ since: waiting.since, input: waiting.input }) },
      ':queue': { S: WAITING_INDEX.queue },
      ':order': { S: `${waiting.since}#${executionName}` },
    };
  }

  /** mayJoinWaiting for entries: `claimedBy`'s pending claims become `deferred` to `holder`. */
  private joinItem(id: string, holder: string, claimedBy: string): TransactWriteItem {
    return {
      Update: {
        TableName: this.tableName,
        Key: { pk: { S: id } },
        UpdateExpression: 'SET executionName = :holder, #state = :deferred',
        ConditionExpression: 'executionName = :claimedBy AND #state = :pending',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: {
          ':holder': { S: holder },
          ':deferred': { S: 'deferred' },
          ':claimedBy': { S: claimedBy },
          ':pending': { S: 'pending' },
        },
      },
    };
  }

  async waitForSlot(request: {
    partitionKey: PartitionKey;
    executionName: string;
    waiting: WaitingRun;
    objectIds: readonly string[];
  }): Promise<boolean> {
    const { partitionKey, executionName } = request;
    // The lease first: from then on the run is in the queue, and a crash before its claims are
    // deferred leaves them pending to it (a retried delivery or the queue's start settles them).
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: leaseItemKey(partitionKey) } },
          UpdateExpression: `SET waitingRun = if_not_exists(waitingRun, :run), ${WAITING_INDEX.partitionKey} = :queue, ${WAITING_INDEX.sortKey} = if_not_exists(${WAITING_INDEX.sortKey}, :order)`,
          // mayWait: the lease's own holder.
          ConditionExpression: 'holder = :me',
          ExpressionAttributeValues: {
            ':me': { S: executionName },
            ...this.waitingValues(executionName, request.waiting),
          },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
    // Entries already deferred (a retry) or no longer pending are left as they are.
    await this.transactEach(
      request.objectIds,
      (id) => this.joinItem(id, executionName, executionName),
      () => undefined,
    );
    return true;
  }

  async joinWaitingRun(request: {
    partitionKey: PartitionKey;
    holder: string;
    claimedBy: string;
    objects: readonly LandedObject[];
    now: Date;
  }): Promise<boolean> {
    const { partitionKey, holder, claimedBy, objects, now } = request;
    const [first = [], ...rest] = chunk(objects, TRANSACTION_MAX - 1);
    for (let round = 0; round < DEFER_ROUNDS; round++) {
      const lease = await this.readLease(partitionKey);
      if (!lease?.waiting || lease.holder !== holder) return false;
      if (claimedBy !== holder && lease.waiting.startingAt !== undefined) return false;
      const self = claimedBy === holder;
      // Its own claims (a retried delivery) are in its input already; another's are added to it, in
      // one transaction with the first 99 entries, conditional on the input not having changed.
      const leaseWrite: TransactWriteItem = self
        ? {
            ConditionCheck: {
              TableName: this.tableName,
              Key: { pk: { S: leaseItemKey(partitionKey) } },
              ConditionExpression: 'holder = :holder AND attribute_exists(waitingRun)',
              ExpressionAttributeValues: { ':holder': { S: holder } },
            },
          }
        : {
            Update: {
              TableName: this.tableName,
              Key: { pk: { S: leaseItemKey(partitionKey) } },
              UpdateExpression: 'SET waitingRun = :merged',
              ConditionExpression:
                'holder = :holder AND waitingRun = :previous AND attribute_not_exists(waitingStartingAt)',
              ExpressionAttributeValues: {
                ':holder': { S: holder },
                ':previous': {
                  S: JSON.stringify({ since: lease.waiting.since, input: lease.waiting.input }),
                },
                ':merged': {
                  S: JSON.stringify(
                    (({ since, input }) => ({ since, input }))(joinWaiting(lease.waiting, objects, now)),
                  ),
                },
              },
            },
          };
      try {
        await this.client.send(
          new TransactWriteItemsCommand({
            TransactItems: [leaseWrite, ...first.map((o) => this.joinItem(o.objectId, holder, claimedBy))],
          }),
        );
      } catch (error) {
        if (!isCancelled(error)) throw error;
        const reasons = error.CancellationReasons ?? [];
        // An entry no longer ours: give up, the caller retries the whole group. The lease changed:
        // read it again.
        if (reasons.slice(1).some((r) => r?.Code === 'ConditionalCheckFailed')) return false;
        continue;
      }
      for (const part of rest)
        await this.transactEach(
          part.map((o) => o.objectId),
          (id) => this.joinItem(id, holder, claimedBy),
          () => undefined,
        );
      return true;
    }
    return false;
  }

  async waitingRuns(limit: number): Promise<QueuedRun[]> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: WAITING_INDEX.IndexName,
        KeyConditionExpression: '#q = :queue',
        ExpressionAttributeNames: { '#q': WAITING_INDEX.partitionKey },
        ExpressionAttributeValues: { ':queue': { S: WAITING_INDEX.queue } },
        ScanIndexForward: true,
        Limit: limit,
      }),
    );
    return (out.Items ?? []).flatMap((item) => {
      const pk = item['pk']?.S;
      const holder = item['holder']?.S;
      const order = item[WAITING_INDEX.sortKey]?.S;
      if (!pk?.startsWith('lease#') || !holder || !order) return [];
      return [
        { executionName: holder, partitionKey: pk.slice('lease#'.length), since: order.split('#')[0] ?? '' },
      ];
    });
  }

  async countWaitingRuns(): Promise<number> {
    let count = 0;
    let start: Record<string, AttributeValue> | undefined;
    do {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: WAITING_INDEX.IndexName,
          KeyConditionExpression: '#q = :queue',
          ExpressionAttributeNames: { '#q': WAITING_INDEX.partitionKey },
          ExpressionAttributeValues: { ':queue': { S: WAITING_INDEX.queue } },
          Select: 'COUNT',
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      count += out.Count ?? 0;
      start = out.LastEvaluatedKey;
    } while (start);
    return count;
  }

  async assignSlot(request: {
    executionName: string;
    partitionKey: PartitionKey;
    now: Date;
    budget: number;
    handOverFrom?: string;
  }): Promise<AssignOutcome> {
    const { executionName, partitionKey, now, budget } = request;
    const from =
      request.handOverFrom !== undefined && request.handOverFrom !== executionName
        ? request.handOverFrom
        : undefined;
    // mayAssignWaiting, and the "starting" mark, written with the slot.
    const markStarting: TransactWriteItem = {
      Update: {
        TableName: this.tableName,
        Key: { pk: { S: leaseItemKey(partitionKey) } },
        UpdateExpression: 'SET waitingStartingAt = if_not_exists(waitingStartingAt, :now)',
        ConditionExpression: 'holder = :w AND attribute_exists(waitingRun)',
        ExpressionAttributeValues: { ':w': { S: executionName }, ':now': { S: now.toISOString() } },
      },
    };
    const names = { '#w': executionName, ...(from !== undefined ? { '#from': from } : {}) };
    for (let round = 0; round < 4; round++) {
      // The slot it holds already (a retried start), or one taken / handed over (mayTakeSlot).
      const slotWrite: TransactWriteItem =
        round % 2 === 0
          ? {
              ConditionCheck: {
                TableName: this.tableName,
                Key: this.slotsKey(),
                ConditionExpression: 'attribute_exists(holders.#w)',
                ExpressionAttributeNames: { '#w': executionName },
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            }
          : {
              Update: {
                TableName: this.tableName,
                Key: this.slotsKey(),
                UpdateExpression:
                  'SET holders.#w = :now, budget = :budget' +
                  (from !== undefined ? ' REMOVE holders.#from' : ''),
                ConditionExpression:
                  'attribute_exists(holders) AND attribute_not_exists(holders.#w) AND (size(holders) < :budget' +
                  (from !== undefined ? ' OR attribute_exists(holders.#from))' : ')'),
                ExpressionAttributeNames: names,
                ExpressionAttributeValues: {
                  ':now': { S: now.toISOString() },
                  ':budget': { N: String(budget) },
                },
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            };
      try {
        await this.client.send(new TransactWriteItemsCommand({ TransactItems: [slotWrite, markStarting] }));
      } catch (error) {
        if (!isCancelled(error)) throw error;
        const [slot, lease] = error.CancellationReasons ?? [];
        if (lease?.Code === 'ConditionalCheckFailed') return { kind: 'not-waiting' };
        if (slot?.Code !== 'ConditionalCheckFailed') continue;
        if (slot.Item?.['holders']?.M === undefined) {
          await this.createSlotsItem();
          round = -1; // ask again from the start, now that the item exists
          continue;
        }
        const holds = Object.hasOwn(slot.Item['holders'].M, executionName);
        // Round 0 found no slot of its own: take one next. Round 1 found one taken meanwhile: use it.
        if (round % 2 === 0 ? !holds : holds) continue;
        return { kind: 'full' };
      }
      const lease = await this.readLease(partitionKey);
      if (!lease?.waiting || lease.holder !== executionName) return { kind: 'not-waiting' };
      return { kind: 'assigned', input: lease.waiting.input, since: lease.waiting.since };
    }
    return { kind: 'full' };
  }

  async endWait(request: {
    partitionKey: PartitionKey;
    executionName: string;
    now: Date;
    ttlMs: number;
  }): Promise<boolean> {
    const { partitionKey, executionName, now, ttlMs } = request;
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: leaseItemKey(partitionKey) } },
          UpdateExpression: `SET acquiredAt = :now, leaseExpiresAt = :until, expiresAt = :ttl REMOVE ${WAITING_ATTRIBUTES}`,
          ConditionExpression: 'holder = :me',
          ExpressionAttributeValues: {
            ':me': { S: executionName },
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
}

function toWaiting(item: Record<string, AttributeValue>): WaitingRun | undefined {
  const raw = item['waitingRun']?.S;
  if (!raw) return undefined;
  const stored = JSON.parse(raw) as Omit<WaitingRun, 'startingAt'>;
  const startingAt = item['waitingStartingAt']?.S;
  return { since: stored.since, input: stored.input, ...(startingAt ? { startingAt } : {}) };
}

function toSlots(item: Record<string, AttributeValue> | undefined): RunSlotState {
  const map = item?.['holders']?.M ?? {};
  const holders = Object.entries(map)
    .map(([executionName, v]) => ({ executionName, takenAt: v.S ?? '' }))
    .filter((h) => h.takenAt !== '');
  const budget = item?.['budget']?.N;
  const repairedAt = item?.['repairedAt']?.S;
  return {
    holders,
    ...(budget !== undefined ? { budget: Number(budget) } : {}),
    ...(repairedAt !== undefined ? { repairedAt } : {}),
  };
}

function toLease(item: Record<string, AttributeValue> | undefined): PartitionLease | undefined {
  const pk = item?.['pk']?.S;
  const holder = item?.['holder']?.S;
  const acquiredAt = item?.['acquiredAt']?.S;
  const expiresAt = item?.['leaseExpiresAt']?.S;
  if (!pk?.startsWith('lease#') || !holder || !acquiredAt || !expiresAt) return undefined;
  const raw = item['followUp']?.S;
  const followUp = raw ? (JSON.parse(raw) as FollowUpRequest) : undefined;
  const waiting = toWaiting(item);
  return {
    partitionKey: pk.slice('lease#'.length),
    holder,
    acquiredAt,
    expiresAt,
    ...(followUp ? { followUp } : {}),
    ...(waiting ? { waiting } : {}),
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
