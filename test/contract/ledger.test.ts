import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { LandedObject } from '../../shared/domain/events';
import type { RunInput } from '../../shared/domain/run';
import { FOLLOW_UP_VERSIONS_MAX, listsEveryVersion, remainingFollowUp } from '../../shared/domain/lease';
import { dynamoLedgerOn, ledgerKinds, type Ledger } from '../helpers/ledgers';
import { useMoto } from '../helpers/moto';

/**
 * The ledger contract: the same cases against the local file ledger and the DynamoDB ledger, the
 * latter over HTTP on moto server with the real SDK client (conditional writes, TransactWriteItems
 * cancellation reasons and TTL are DynamoDB's).
 */

const moto = useMoto();

const NOW = new Date('2024-01-15T10:30:00Z');
const later = (ms: number) => new Date(NOW.getTime() + ms);
const KEY = 'orders/year=2024/month=01/day=15';
const object = (name: string): LandedObject => ({
  bucket: 'lake',
  key: `landing/shop/orders/year=2024/month=01/day=15/${name}`,
  size: 100,
  eventTime: '2024-01-15T10:29:00Z',
  objectId: `lake/landing/shop/orders/year=2024/month=01/day=15/${name}#s:1`,
});
const ids = (n: number, prefix = 'o') => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

describe.each(ledgerKinds(moto))('%s', (_name, make) => {
  let ledger: Ledger;
  beforeEach(async () => {
    ledger = await make();
  });

  it('claims a new object once: its own claimant (a redelivered batch) and another run alike are told it is in flight, until the claimant names itself reclaimable', async () => {
    const first = await ledger.claim(['a'], 'run-1', NOW);
    const again = await ledger.claim(['a'], 'run-1', later(1000));
    const mine = await ledger.claim(['a'], 'run-1', later(1000), new Set(['run-1']));
    const other = await ledger.claim(['a'], 'run-2', later(2000));

    expect(first).toEqual([{ objectId: 'a', outcome: 'claimed' }]);
    // Its run may have started (the confirm lost): the caller asks before taking it again.
    expect(again).toEqual([
      { objectId: 'a', outcome: 'in-flight', executionName: 'run-1', claimedAt: NOW.toISOString() },
    ]);
    expect(mine).toEqual([{ objectId: 'a', outcome: 'claimed' }]);
    expect(other).toEqual([
      { objectId: 'a', outcome: 'in-flight', executionName: 'run-1', claimedAt: later(1000).toISOString() },
    ]);
  });

  it('never lets time alone take a pending claim: only an owner named reclaimable loses it', async () => {
    await ledger.claim(['a', 'b'], 'run-1', NOW);

    const dayLater = await ledger.claim(['a'], 'run-2', later(86_400_000));
    const reclaimed = await ledger.claim(['a', 'b'], 'run-3', later(1000), new Set(['run-1']));
    const notMine = await ledger.claim(['a'], 'run-4', later(2000), new Set(['run-1']));

    expect(dayLater[0]).toMatchObject({ outcome: 'in-flight', executionName: 'run-1' });
    expect(reclaimed.map((o) => o.outcome)).toEqual(['claimed', 'claimed']);
    expect(notMine[0]).toMatchObject({ outcome: 'in-flight', executionName: 'run-3' });
  });

  it('answers a confirmed object as a duplicate naming its run, reclaimable or not', async () => {
    await ledger.claim(['a'], 'run-1', NOW);
    await ledger.confirm(['a'], 'run-1', later(1000));

    const dup = await ledger.claim(['a'], 'run-2', later(2000), new Set(['run-1']));

    expect(dup).toEqual([{ objectId: 'a', outcome: 'duplicate', executionName: 'run-1' }]);
    expect(await ledger.lookup('a')).toMatchObject({ executionName: 'run-1', state: 'started' });
  });

  it('answers an object deferred to a follow-up run as a duplicate of that follow-up, not as in flight', async () => {
    await ledger.acquireLease(KEY, 'holder', NOW, 60_000);
    await ledger.claim([object('x.jsonl').objectId], 'run-x', NOW);
    await ledger.deferToFollowUp({
      partitionKey: KEY,
      holder: 'holder',
      followUpName: 'holder-next',
      claimedBy: 'run-x',
      objects: [object('x.jsonl')],
      now: NOW,
    });

    const redelivered = await ledger.claim([object('x.jsonl').objectId], 'run-y', later(1000));

    expect(redelivered).toEqual([
      { objectId: object('x.jsonl').objectId, outcome: 'duplicate', executionName: 'holder-next' },
    ]);
  });

  it('confirms and releases only its own pending claims, leaving every other entry as it is', async () => {
    await ledger.claim(['mine', 'theirs'], 'run-1', NOW);
    await ledger.claim(['mine2'], 'run-2', NOW);
    await ledger.confirm(['theirs'], 'run-1', NOW);

    await ledger.confirm(['mine2', 'theirs', 'nobody'], 'run-2', later(1000));
    await ledger.release(['mine', 'theirs', 'mine2', 'nobody'], 'run-1');

    expect(await ledger.lookup('mine')).toBeUndefined();
    expect(await ledger.lookup('theirs')).toMatchObject({ executionName: 'run-1', state: 'started' });
    expect(await ledger.lookup('mine2')).toMatchObject({ executionName: 'run-2', state: 'started' });
    expect(await ledger.lookup('nobody')).toBeUndefined();
  });

  it('claims 250 objects past the 100-item transaction limit, reporting the ones already taken', async () => {
    const all = ids(250);
    await ledger.claim(['o-7', 'o-150'], 'run-0', NOW);
    await ledger.confirm(['o-150'], 'run-0', NOW);

    const outcomes = await ledger.claim(all, 'run-1', later(1000));

    expect(outcomes.filter((o) => o.outcome === 'claimed')).toHaveLength(248);
    expect(outcomes[7]).toEqual({
      objectId: 'o-7',
      outcome: 'in-flight',
      executionName: 'run-0',
      claimedAt: NOW.toISOString(),
    });
    expect(outcomes[150]).toEqual({ objectId: 'o-150', outcome: 'duplicate', executionName: 'run-0' });
    expect(await ledger.lookup('o-249')).toMatchObject({ executionName: 'run-1', state: 'pending' });
  });

  it('lets one run hold a partition: renews for its holder, refuses others, frees it after expiry', async () => {
    const a = await ledger.acquireLease(KEY, 'run-a', NOW, 60_000);
    const b = await ledger.acquireLease(KEY, 'run-b', later(1000), 60_000);
    const renewed = await ledger.acquireLease(KEY, 'run-a', later(2000), 60_000);
    const expired = await ledger.acquireLease(KEY, 'run-b', later(120_000), 60_000);

    expect(a).toMatchObject({
      acquired: true,
      lease: { holder: 'run-a', expiresAt: later(60_000).toISOString() },
    });
    expect(b).toMatchObject({ acquired: false, lease: { holder: 'run-a', acquiredAt: NOW.toISOString() } });
    expect(renewed).toMatchObject({ acquired: true, lease: { expiresAt: later(62_000).toISOString() } });
    expect(expired).toMatchObject({ acquired: true, lease: { holder: 'run-b' } });
  });

  it('takes over a lease from a judged-dead holder only while it is exactly as seen, keeping its follow-up', async () => {
    await ledger.acquireLease(KEY, 'phantom', NOW, 3_600_000);
    await ledger.claim([object('x.jsonl').objectId], 'run-x', NOW);
    await ledger.deferToFollowUp({
      partitionKey: KEY,
      holder: 'phantom',
      followUpName: 'phantom-next',
      claimedBy: 'run-x',
      objects: [object('x.jsonl')],
      now: NOW,
    });

    const stale = await ledger.acquireLease(KEY, 'run-b', later(1000), 60_000, {
      holder: 'phantom',
      acquiredAt: later(-5000).toISOString(),
    });
    const taken = await ledger.acquireLease(KEY, 'run-b', later(1000), 60_000, {
      holder: 'phantom',
      acquiredAt: NOW.toISOString(),
    });

    expect(stale).toMatchObject({ acquired: false, lease: { holder: 'phantom' } });
    expect(taken).toMatchObject({
      acquired: true,
      lease: { holder: 'run-b', followUp: { executionName: 'phantom-next', objects: { count: 1 } } },
    });
  });

  it('defers only to the current holder and only objects still claimed by the caller, all or nothing', async () => {
    await ledger.acquireLease(KEY, 'holder', NOW, 60_000);
    await ledger.claim([object('x.jsonl').objectId], 'run-x', NOW);
    await ledger.claim([object('y.jsonl').objectId], 'run-other', NOW);
    const request = {
      partitionKey: KEY,
      holder: 'holder',
      followUpName: 'holder-next',
      claimedBy: 'run-x',
      now: NOW,
    };

    const notHolder = await ledger.deferToFollowUp({
      ...request,
      holder: 'gone',
      objects: [object('x.jsonl')],
    });
    const notAllMine = await ledger.deferToFollowUp({
      ...request,
      objects: [object('x.jsonl'), object('y.jsonl')],
    });
    const ok = await ledger.deferToFollowUp({ ...request, objects: [object('x.jsonl')] });

    expect([notHolder, notAllMine, ok]).toEqual([false, false, true]);
    expect(await ledger.lookup(object('y.jsonl').objectId)).toMatchObject({
      state: 'pending',
      executionName: 'run-other',
    });
    expect((await ledger.readLease(KEY))?.followUp?.objects.count).toBe(1);
  });

  it('releases only without a pending follow-up, and hands the lease over clearing the request', async () => {
    await ledger.acquireLease(KEY, 'run-a', NOW, 60_000);
    await ledger.claim([object('x.jsonl').objectId], 'run-x', NOW);
    await ledger.deferToFollowUp({
      partitionKey: KEY,
      holder: 'run-a',
      followUpName: 'run-a-next',
      claimedBy: 'run-x',
      objects: [object('x.jsonl')],
      now: NOW,
    });

    const blocked = await ledger.releaseLease(KEY, 'run-a');
    const notMine = await ledger.releaseLease(KEY, 'run-z');
    const handed = await ledger.handOverLease(KEY, 'run-a', 'run-a-next', later(1000), 60_000);
    const handedAgain = await ledger.handOverLease(KEY, 'run-a', 'run-a-next', later(1000), 60_000);
    const lease = await ledger.readLease(KEY);
    const released = await ledger.releaseLease(KEY, 'run-a-next');

    expect([blocked, notMine, handed, handedAgain, released]).toEqual([
      'follow-up-pending',
      'not-held',
      true,
      false,
      'released',
    ]);
    expect(lease).toMatchObject({ holder: 'run-a-next' });
    expect(lease?.followUp).toBeUndefined();
    expect(await ledger.readLease(KEY)).toBeUndefined();
  });

  it('lists the deferred versions in the follow-up request, and only counts them past FOLLOW_UP_VERSIONS_MAX', async () => {
    await ledger.acquireLease(KEY, 'holder', NOW, 60_000);
    const few = [object('x.jsonl'), { ...object('y.jsonl'), eTag: '9b2cf535f27731c974343645a3985328' }];
    const many = ids(FOLLOW_UP_VERSIONS_MAX, 'm').map((n) => object(`${n}.jsonl`));
    await ledger.claim(
      [...few, ...many].map((o) => o.objectId),
      'run-x',
      NOW,
    );
    const defer = (objects: LandedObject[]) =>
      ledger.deferToFollowUp({
        partitionKey: KEY,
        holder: 'holder',
        followUpName: 'holder-next',
        claimedBy: 'run-x',
        objects,
        now: NOW,
      });

    await defer(few);
    const listed = (await ledger.readLease(KEY))?.followUp;
    await defer(many);
    const counted = (await ledger.readLease(KEY))?.followUp;

    expect(listed?.versions).toEqual([
      { objectId: few[0]?.objectId, key: few[0]?.key, size: 100, eventTime: '2024-01-15T10:29:00Z' },
      {
        objectId: few[1]?.objectId,
        key: few[1]?.key,
        size: 100,
        eTag: '9b2cf535f27731c974343645a3985328',
        eventTime: '2024-01-15T10:29:00Z',
      },
    ]);
    expect(listed && listsEveryVersion(listed)).toBe(true);
    expect(counted?.objects.count).toBe(FOLLOW_UP_VERSIONS_MAX + 2);
    expect(counted?.versions).toBeUndefined();
  });

  it("marks read only objects deferred to that follow-up (or already the holder's), and replaces the request only as seen", async () => {
    await ledger.acquireLease(KEY, 'holder', NOW, 60_000);
    await ledger.claim(
      [object('x.jsonl'), object('y.jsonl')].map((o) => o.objectId),
      'run-x',
      NOW,
    );
    await ledger.claim([object('z.jsonl').objectId], 'run-z', NOW);
    await ledger.deferToFollowUp({
      partitionKey: KEY,
      holder: 'holder',
      followUpName: 'holder-next',
      claimedBy: 'run-x',
      objects: [object('x.jsonl'), object('y.jsonl')],
      now: NOW,
    });
    const request = (await ledger.readLease(KEY))?.followUp;
    if (!request) throw new Error('no follow-up request');
    const remaining = remainingFollowUp(request, request.versions?.slice(1) ?? []);
    const mark = (objectIds: string[], followUpName = 'holder-next', holder = 'holder') =>
      ledger.markRead({ partitionKey: KEY, objectIds, followUpName, holder, now: later(1000) });

    const wrongFollowUp = await mark([object('x.jsonl').objectId], 'other-next');
    const notHolding = await mark([object('x.jsonl').objectId], 'holder-next', 'holder-next');
    const marked = await mark([object('x.jsonl').objectId, object('z.jsonl').objectId, 'unknown']);
    const again = await mark([object('x.jsonl').objectId]);
    const stale = await ledger.replaceFollowUp({
      partitionKey: KEY,
      holder: 'holder',
      previous: { ...request, requestedAt: later(5).toISOString() },
      next: remaining,
    });
    const notHolder = await ledger.replaceFollowUp({
      partitionKey: KEY,
      holder: 'x',
      previous: request,
      next: remaining,
    });
    const replaced = await ledger.replaceFollowUp({
      partitionKey: KEY,
      holder: 'holder',
      previous: request,
      next: remaining,
    });
    const afterReplace = (await ledger.readLease(KEY))?.followUp;
    const removed = await ledger.replaceFollowUp({
      partitionKey: KEY,
      holder: 'holder',
      previous: afterReplace ?? request,
      next: undefined,
    });

    expect([wrongFollowUp, notHolding, marked, again]).toEqual([
      [],
      [],
      [object('x.jsonl').objectId],
      [object('x.jsonl').objectId],
    ]);
    expect(await ledger.lookup(object('x.jsonl').objectId)).toMatchObject({
      state: 'started',
      executionName: 'holder',
    });
    expect(await ledger.lookup(object('y.jsonl').objectId)).toMatchObject({
      state: 'deferred',
      executionName: 'holder-next',
    });
    expect(await ledger.lookup(object('z.jsonl').objectId)).toMatchObject({
      state: 'pending',
      executionName: 'run-z',
    });
    expect([stale, notHolder, replaced, removed]).toEqual([false, false, true, true]);
    expect(afterReplace).toMatchObject({
      executionName: 'holder-next',
      requestedAt: request.requestedAt,
      objects: { count: 1, inline: [{ key: object('y.jsonl').key, size: 100 }] },
      versions: [{ objectId: object('y.jsonl').objectId }],
    });
    expect(await ledger.readLease(KEY)).toMatchObject({ holder: 'holder' });
    expect((await ledger.readLease(KEY))?.followUp).toBeUndefined();
    expect(await ledger.releaseLease(KEY, 'holder')).toBe('released');
  });
});

describe('DynamoDB ledger storage', () => {
  it('gives every entry and lease an expiresAt (epoch seconds) for the table TTL, 120 days out', async () => {
    const { ledger, table, client } = await dynamoLedgerOn(moto());
    await ledger.claim(['a'], 'run-1', NOW);
    await ledger.acquireLease(KEY, 'run-1', NOW, 60_000);

    const entry = await client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: 'a' } } }));
    const lease = await client.send(
      new GetItemCommand({ TableName: table, Key: { pk: { S: `lease#${KEY}` } } }),
    );

    const day = 86_400;
    expect(Number(entry.Item?.['expiresAt']?.N)).toBe(NOW.getTime() / 1000 + 120 * day);
    expect(Number(lease.Item?.['expiresAt']?.N)).toBe(NOW.getTime() / 1000 + 60 + 120 * day);
  });
});

describe.each(ledgerKinds(moto))('execution slots, %s', (_name, make) => {
  let ledger: Ledger;
  beforeEach(async () => {
    ledger = await make();
  });
  const take = (
    executionName: string,
    at = NOW,
    extra: { handOverFrom?: string; overBudget?: boolean } = {},
  ) => ledger.takeSlot({ executionName, now: at, budget: 2, ...extra });

  it('gives at most the budget of slots; a holder taking again keeps its slot; a release frees one once', async () => {
    const outcomes = [
      await take('run-1'),
      await take('run-2'),
      await take('run-3'),
      await take('run-1', later(5)),
    ];

    expect(outcomes.map((o) => o.taken)).toEqual([true, true, false, true]);
    expect(outcomes[2]).toEqual({
      taken: false,
      holders: expect.arrayContaining([
        { executionName: 'run-1', takenAt: NOW.toISOString() },
        { executionName: 'run-2', takenAt: NOW.toISOString() },
      ]),
    });
    expect(await ledger.releaseSlot('run-2')).toBe(true);
    expect(await ledger.releaseSlot('run-2')).toBe(false);
    expect(await take('run-3')).toEqual({ taken: true, inFlight: 2 });
    const state = await ledger.readSlots();
    expect(state.budget).toBe(2);
    expect(state.holders.map((h) => h.executionName).sort()).toEqual(['run-1', 'run-3']);
    expect(state.holders.find((h) => h.executionName === 'run-1')?.takenAt).toBe(later(5).toISOString());
  });

  it('hands a slot to a follow-up run in one write, even when every slot is held; over budget only when asked', async () => {
    await take('run-1');
    await take('run-2');

    const stranger = await take('run-3', NOW, { handOverFrom: 'nobody' });
    const handed = await take('run-1-next', later(1), { handOverFrom: 'run-1' });
    const forced = await take('orphan-next', later(2), { overBudget: true });

    expect(stranger.taken).toBe(false);
    expect(handed).toEqual({ taken: true, inFlight: 2 });
    expect(forced).toEqual({ taken: true, inFlight: 3 });
    expect((await ledger.readSlots()).holders.map((h) => h.executionName).sort()).toEqual([
      'orphan-next',
      'run-1-next',
      'run-2',
    ]);
    expect(await ledger.releaseSlot('run-1')).toBe(false);
  });

  it('frees only slots still held as seen, and lets one taker check the holders per interval', async () => {
    await take('run-1');
    await take('run-2');
    const seen = (await ledger.readSlots()).holders;
    await take('run-2', later(10)); // taken again since it was seen

    const freed = await ledger.freeSlots(seen);
    const turns = [
      await ledger.claimSlotRepair(later(0)),
      await ledger.claimSlotRepair(later(59_999)),
      await ledger.claimSlotRepair(later(60_000)),
    ];

    expect(freed).toBe(1);
    expect((await ledger.readSlots()).holders).toEqual([
      { executionName: 'run-2', takenAt: later(10).toISOString() },
    ]);
    expect(turns).toEqual([true, false, true]);
    expect((await ledger.readSlots()).repairedAt).toBe(later(60_000).toISOString());
  });

  it('gives exactly the budget to concurrent first takers, and a refusal lists the holders that filled it', async () => {
    const outcomes = await Promise.all(['run-1', 'run-2', 'run-3', 'run-4'].map((n) => take(n)));

    expect(outcomes.filter((o) => o.taken)).toHaveLength(2);
    for (const o of outcomes) if (!o.taken) expect(o.holders).toHaveLength(2);
  });

  it('reads an empty semaphore before any slot was taken, and releases nothing from it', async () => {
    expect(await ledger.readSlots()).toEqual({ holders: [] });
    expect(await ledger.releaseSlot('run-1')).toBe(false);
    expect(await ledger.freeSlots([{ executionName: 'run-1', takenAt: NOW.toISOString() }])).toBe(0);
  });
});

/**
 * The waiting queue (shared/domain/run-slots.ts): a run that found every slot held waits on its
 * partition's lease; landings join it; whoever frees a slot assigns it to the oldest and starts it.
 * One case per transition, against both ledgers.
 */
describe.each(ledgerKinds(moto))('runs waiting for a slot, %s', (_name, make) => {
  let ledger: Ledger;
  beforeEach(async () => {
    ledger = await make();
  });
  const KEY2 = 'orders/year=2024/month=01/day=16';
  const input = (count: number): RunInput => ({
    dataset: 'orders',
    partition: { year: '2024', month: '01', day: '15' },
    partitionValues: ['2024', '01', '15'],
    partitionPath: 'year=2024/month=01/day=15',
    trigger: 'landing',
    fromStage: 'bronze',
    requestedAt: NOW.toISOString(),
    objects: {
      count,
      bytes: 100 * count,
      firstLandedAt: null,
      lastLandedAt: null,
      inline: [],
      notListed: count,
    },
  });
  /** `name` claims `objs`, takes `key`'s lease and waits (at `at`). */
  const wait = async (name: string, key: string, objs: readonly string[], at = NOW) => {
    await ledger.claim(objs, name, at);
    await ledger.acquireLease(key, name, at, 60_000);
    return ledger.waitForSlot({
      partitionKey: key,
      executionName: name,
      waiting: { since: at.toISOString(), input: input(objs.length) },
      objectIds: objs,
    });
  };
  const fill = async () => {
    await ledger.takeSlot({ executionName: 'busy-1', now: NOW, budget: 2 });
    await ledger.takeSlot({ executionName: 'busy-2', now: NOW, budget: 2 });
  };

  it('records a waiting run on its lease, defers its claims to it, and lists it; only the lease holder may wait', async () => {
    const recorded = await wait('run-a', KEY, ['a1', 'a2']);
    const stranger = await ledger.waitForSlot({
      partitionKey: KEY,
      executionName: 'run-x',
      waiting: { since: NOW.toISOString(), input: input(1) },
      objectIds: ['a1'],
    });

    expect([recorded, stranger]).toEqual([true, false]);
    expect((await ledger.readLease(KEY))?.waiting).toEqual({ since: NOW.toISOString(), input: input(2) });
    expect((await ledger.lookup('a1'))?.state).toBe('deferred');
    expect((await ledger.lookup('a2'))?.executionName).toBe('run-a');
    expect(await ledger.waitingRuns(10)).toEqual([
      { executionName: 'run-a', partitionKey: KEY, since: NOW.toISOString() },
    ]);
    expect(await ledger.countWaitingRuns()).toBe(1);
    // Another claim of a deferred object is a duplicate: the waiting run will read it.
    expect((await ledger.claim(['a1'], 'run-b', later(1)))[0]?.outcome).toBe('duplicate');
  });

  it('keeps a waiting run in its place when it waits again (a redelivered batch), deferring its late claims', async () => {
    await wait('run-a', KEY, ['a1']);
    await ledger.claim(['a2'], 'run-a', later(5));
    const again = await ledger.waitForSlot({
      partitionKey: KEY,
      executionName: 'run-a',
      waiting: { since: later(5).toISOString(), input: input(2) },
      objectIds: ['a1', 'a2'],
    });

    expect(again).toBe(true);
    expect((await ledger.readLease(KEY))?.waiting?.since).toBe(NOW.toISOString());
    expect((await ledger.lookup('a2'))?.state).toBe('deferred');
    expect(await ledger.countWaitingRuns()).toBe(1);
  });

  it('never expires a waiting lease, never lets it be taken over, and lets its own holder renew it without leaving the queue', async () => {
    await wait('run-a', KEY, ['a1']);
    const expired = await ledger.acquireLease(KEY, 'run-b', later(3_600_000), 60_000);
    const takeOver = await ledger.acquireLease(KEY, 'run-b', later(3_600_000), 60_000, {
      holder: 'run-a',
      acquiredAt: NOW.toISOString(),
    });
    const own = await ledger.acquireLease(KEY, 'run-a', later(1), 60_000);

    expect([expired.acquired, takeOver.acquired, own.acquired]).toEqual([false, false, true]);
    expect(expired.lease.waiting?.since).toBe(NOW.toISOString());
    expect((await ledger.readLease(KEY))?.waiting).toBeDefined();
    expect(await ledger.countWaitingRuns()).toBe(1);
  });

  it("lets a later landing join the waiting run: its claims deferred to it, its objects added to the run's input", async () => {
    await wait('run-a', KEY, ['a1']);
    await ledger.claim([object('late.jsonl').objectId], 'run-b', later(1));

    const joined = await ledger.joinWaitingRun({
      partitionKey: KEY,
      holder: 'run-a',
      claimedBy: 'run-b',
      objects: [object('late.jsonl')],
      now: later(1),
    });
    const notOurs = await ledger.joinWaitingRun({
      partitionKey: KEY,
      holder: 'run-a',
      claimedBy: 'run-c',
      objects: [object('late.jsonl')],
      now: later(2),
    });

    expect([joined, notOurs]).toEqual([true, false]);
    expect(await ledger.lookup(object('late.jsonl').objectId)).toMatchObject({
      executionName: 'run-a',
      state: 'deferred',
    });
    const waiting = (await ledger.readLease(KEY))?.waiting;
    expect(waiting?.input.objects.count).toBe(2);
    expect(waiting?.input.objects.inline).toEqual([{ key: object('late.jsonl').key, size: 100 }]);
    expect(await ledger.countWaitingRuns()).toBe(1);
  });

  it('lists the oldest first and assigns a free slot to a waiting run, marking it starting (no landing joins it then)', async () => {
    await wait('run-new', KEY2, ['b1'], later(10));
    await wait('run-old', KEY, ['a1'], NOW);
    await ledger.takeSlot({ executionName: 'busy-1', now: NOW, budget: 2 });

    const queue = await ledger.waitingRuns(10);
    const assigned = await ledger.assignSlot({
      executionName: 'run-old',
      partitionKey: KEY,
      now: later(20),
      budget: 2,
    });
    const full = await ledger.assignSlot({
      executionName: 'run-new',
      partitionKey: KEY2,
      now: later(20),
      budget: 2,
    });
    await ledger.claim([object('late.jsonl').objectId], 'run-b', later(21));
    const join = await ledger.joinWaitingRun({
      partitionKey: KEY,
      holder: 'run-old',
      claimedBy: 'run-b',
      objects: [object('late.jsonl')],
      now: later(21),
    });

    expect(queue.map((r) => r.executionName)).toEqual(['run-old', 'run-new']);
    expect(assigned).toEqual({ kind: 'assigned', input: input(1), since: NOW.toISOString() });
    expect(full).toEqual({ kind: 'full' });
    expect(join).toBe(false);
    expect((await ledger.readLease(KEY))?.waiting?.startingAt).toBe(later(20).toISOString());
    expect((await ledger.readSlots()).holders.map((h) => h.executionName).sort()).toEqual([
      'busy-1',
      'run-old',
    ]);
  });

  it('hands a freed slot to a waiting run in one write, even when every slot is held; a retried assignment keeps the slot it has', async () => {
    await fill();
    await wait('run-a', KEY, ['a1']);

    const handed = await ledger.assignSlot({
      executionName: 'run-a',
      partitionKey: KEY,
      now: later(1),
      budget: 2,
      handOverFrom: 'busy-1',
    });
    const retried = await ledger.assignSlot({
      executionName: 'run-a',
      partitionKey: KEY,
      now: later(2),
      budget: 2,
      handOverFrom: 'busy-2',
    });

    expect(handed.kind).toBe('assigned');
    expect(retried.kind).toBe('assigned');
    const holders = (await ledger.readSlots()).holders;
    expect(holders.map((h) => h.executionName).sort()).toEqual(['busy-2', 'run-a']);
    expect(holders.find((h) => h.executionName === 'run-a')?.takenAt).toBe(later(1).toISOString());
    expect((await ledger.readLease(KEY))?.waiting?.startingAt).toBe(later(1).toISOString());
  });

  it("ends the wait once started: the lease is a running run's, out of the queue; a run not waiting gets no slot", async () => {
    await wait('run-a', KEY, ['a1']);
    await ledger.assignSlot({ executionName: 'run-a', partitionKey: KEY, now: later(1), budget: 2 });

    const ended = await ledger.endWait({
      partitionKey: KEY,
      executionName: 'run-a',
      now: later(2),
      ttlMs: 60_000,
    });
    const stranger = await ledger.endWait({
      partitionKey: KEY,
      executionName: 'run-x',
      now: later(2),
      ttlMs: 60_000,
    });
    const again = await ledger.assignSlot({
      executionName: 'run-a',
      partitionKey: KEY,
      now: later(3),
      budget: 2,
    });

    expect([ended, stranger]).toEqual([true, false]);
    expect(again).toEqual({ kind: 'not-waiting' });
    const lease = await ledger.readLease(KEY);
    expect(lease).toMatchObject({ holder: 'run-a', acquiredAt: later(2).toISOString() });
    expect(lease?.waiting).toBeUndefined();
    expect(await ledger.waitingRuns(10)).toEqual([]);
    expect(await ledger.countWaitingRuns()).toBe(0);
  });

  it('lets a run whose waiting run was assigned a slot and ended be taken over, and a hand-over or release clears the waiting mark', async () => {
    await wait('run-a', KEY, ['a1']);
    await ledger.assignSlot({ executionName: 'run-a', partitionKey: KEY, now: later(1), budget: 2 });
    const takeOver = await ledger.acquireLease(KEY, 'run-b', later(2), 60_000, {
      holder: 'run-a',
      acquiredAt: NOW.toISOString(),
    });
    expect(takeOver.acquired).toBe(true);
    expect(takeOver.lease.waiting).toBeUndefined();
    expect(await ledger.countWaitingRuns()).toBe(0);

    await wait('run-c', KEY2, ['c1']);
    expect(await ledger.handOverLease(KEY2, 'run-c', 'run-c-next', later(3), 60_000)).toBe(true);
    expect((await ledger.readLease(KEY2))?.waiting).toBeUndefined();
    expect(await ledger.waitingRuns(10)).toEqual([]);
  });
});
