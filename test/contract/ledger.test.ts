import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { LandedObject } from '../../shared/domain/events';
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

  it('claims a new object once: the owner may claim again, another run is told it is in flight', async () => {
    const first = await ledger.claim(['a'], 'run-1', NOW);
    const again = await ledger.claim(['a'], 'run-1', later(1000));
    const other = await ledger.claim(['a'], 'run-2', later(2000));

    expect(first).toEqual([{ objectId: 'a', outcome: 'claimed' }]);
    expect(again).toEqual([{ objectId: 'a', outcome: 'claimed' }]);
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
