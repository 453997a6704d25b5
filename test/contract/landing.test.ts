import { processLanding, type LandingDeps } from '../../shared/core/landing';
import { START_GRACE_MS } from '../../shared/domain/ledger';
import { partitionKeyOf } from '../../shared/domain/lease';
import { s3Record, sqsEvent } from '../helpers/fixtures';
import { ledgerKinds, type Ledger } from '../helpers/ledgers';
import { useMoto } from '../helpers/moto';
import { memoryLog, shippedRegistry } from '../helpers/registry';
import { RecordingStarter } from '../helpers/starters';

/**
 * The landing flow over both ledgers (the file twin; DynamoDB on moto server): each case of issue
 * #11's "Why", where an object was lost, run twice or sent to the DLQ for nothing.
 */

const moto = useMoto();

const registry = shippedRegistry();
const T0 = new Date('2024-01-15T10:30:00Z');
const DAY15 = 'landing/shop/orders/year=2024/month=01/day=15';
const PARTITION = partitionKeyOf('orders', 'year=2024/month=01/day=15');
const file = (name: string, sequencer: string, opts: { versionId?: string | null; size?: number } = {}) =>
  s3Record(`${DAY15}/${name}`, { sequencer, versionId: opts.versionId ?? null, size: opts.size ?? 500 });
const idOf = (name: string, sequencer: string, size = 500) =>
  `example-lake/${DAY15}/${name}#s:${sequencer}:${size}:d41d8cd98f00b204e9800998ecf8427e`;

describe.each(ledgerKinds(moto))('landing on the %s', (_name, make) => {
  let ledger: Ledger;
  let starter: RecordingStarter;
  let clock: Date;
  let deps: LandingDeps;
  beforeEach(async () => {
    ledger = await make();
    starter = new RecordingStarter();
    clock = T0;
    deps = {
      registry,
      ledger,
      leases: ledger,
      starter,
      executions: starter,
      log: memoryLog(),
      now: () => clock,
    };
  });

  it('acknowledges a redelivered notification of an object deferred to a follow-up run as a duplicate', async () => {
    await processLanding(sqsEvent([file('a.jsonl', '01')], 'first'), deps);
    const late = sqsEvent([file('b.jsonl', '02')], 'late');
    const deferred = await processLanding(late, deps);

    const redelivered = await processLanding(late, deps);

    expect(deferred.counts).toMatchObject({ deferred: 1 });
    expect(redelivered.failedUnits).toEqual([]);
    expect(redelivered.counts).toMatchObject({ duplicates: 1, failed: 0, started: 0 });
  });

  it('takes over the lease of a run that never started (crash before StartExecution), so later objects run', async () => {
    // A landing claimed a.jsonl and took the lease, then died before StartExecution.
    await ledger.claim([idOf('a.jsonl', '01')], 'orders-2024-01-15-phantom0000000', T0);
    await ledger.acquireLease(PARTITION, 'orders-2024-01-15-phantom0000000', T0, 3 * 3600_000);
    clock = new Date(T0.getTime() + 30_000);

    const tooSoon = await processLanding(sqsEvent([file('b.jsonl', '02')], 'soon'), deps);
    clock = new Date(T0.getTime() + START_GRACE_MS + 1000);
    const later = await processLanding(sqsEvent([file('b.jsonl', '02')], 'later'), deps);
    // SQS redelivers the dead landing's own message, alone.
    const redelivery = await processLanding(sqsEvent([file('a.jsonl', '01')], 'again'), deps);

    expect(tooSoon.failedUnits).toEqual(['soon-0']);
    expect(tooSoon.counts).toMatchObject({ deferred: 0, started: 0 });
    expect(later.counts).toMatchObject({ started: 1, deferred: 0 });
    expect((await ledger.readLease(PARTITION))?.holder).toBe(later.runs[0]?.executionName);
    expect(redelivery.failedUnits).toEqual([]);
    expect(redelivery.counts).toMatchObject({ deferred: 1 });
    expect((await ledger.lookup(idOf('a.jsonl', '01')))?.state).toBe('deferred');
  });

  it('takes over the lease of a run that ended without releasing it, keeping its follow-up request', async () => {
    await processLanding(sqsEvent([file('a.jsonl', '01')], 'first'), deps);
    const holder = starter.started[0]?.name ?? '';
    await processLanding(sqsEvent([file('b.jsonl', '02')], 'second'), deps);
    starter.end(holder, 'ABORTED');

    const third = await processLanding(sqsEvent([file('c.jsonl', '03')], 'third'), deps);

    expect(third.counts).toMatchObject({ started: 1, deferred: 0 });
    expect(await ledger.readLease(PARTITION)).toMatchObject({
      holder: third.runs[0]?.executionName,
      followUp: { objects: { count: 1 } },
    });
  });

  it('returns only the message of the object in flight; the rest of its partition group starts', async () => {
    await ledger.claim([idOf('a.jsonl', '01')], 'orders-2024-01-15-starting0000000', T0);

    const result = await processLanding(
      sqsEvent([file('a.jsonl', '01'), file('b.jsonl', '02'), file('c.jsonl', '03')]),
      deps,
    );

    expect(result.failedUnits).toEqual(['msg-0']);
    expect(result.counts).toMatchObject({ started: 2, failed: 1 });
    expect(starter.started[0]?.input.objects.count).toBe(2);
  });

  it('never runs an object twice when its run started but the confirm write failed', async () => {
    const confirm = ledger.confirm.bind(ledger);
    let throttled = 0;
    ledger.confirm = async (...args) => {
      if (throttled++ === 0) throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      return confirm(...args);
    };
    const first = await processLanding(sqsEvent([file('a.jsonl', '01'), file('b.jsonl', '02')]), deps);
    clock = new Date(T0.getTime() + 3600_000);

    // Redelivered in another grouping (one object alone): a different run name.
    const again = await processLanding(sqsEvent([file('a.jsonl', '01')], 'again'), deps);

    expect(first.failedUnits).toEqual([]);
    expect(starter.started).toHaveLength(1);
    expect(again.counts).toMatchObject({ duplicates: 1, started: 0, deferred: 0 });
    expect(await ledger.lookup(idOf('a.jsonl', '01'))).toMatchObject({
      state: 'started',
      executionName: starter.started[0]?.name,
    });
  });

  describe('a batch redelivered after its run started, its confirm write lost (the same group: the same run name)', () => {
    let first: ReturnType<typeof sqsEvent>;
    let run: string;
    beforeEach(async () => {
      const confirm = ledger.confirm.bind(ledger);
      let throttled = 0;
      ledger.confirm = async (...args) => {
        if (throttled++ === 0)
          throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
        return confirm(...args);
      };
      first = sqsEvent([file('a.jsonl', '01')], 'first');
      await processLanding(first, deps);
      run = starter.started[0]?.name ?? '';
      // Its run read a.jsonl and ended; the claim still reads pending.
      starter.end(run);
      await ledger.releaseLease(PARTITION, run);
    });

    it('is a duplicate of that run, never deferred to the run that holds the partition now', async () => {
      await processLanding(sqsEvent([file('b.jsonl', '02')], 'second'), deps);

      const again = await processLanding(first, deps);

      expect(again.failedUnits).toEqual([]);
      expect(again.counts).toMatchObject({ duplicates: 1, deferred: 0, started: 0 });
      expect(await ledger.lookup(idOf('a.jsonl', '01'))).toMatchObject({
        state: 'started',
        executionName: run,
      });
      expect((await ledger.readLease(PARTITION))?.followUp).toBeUndefined();
    });

    it('takes no lease for that ended run when the partition is free', async () => {
      const again = await processLanding(first, deps);

      expect(again.counts).toMatchObject({ duplicates: 1, started: 0 });
      expect(await ledger.readLease(PARTITION)).toBeUndefined();
      expect(starter.started.map((s) => s.name)).toEqual([run]);
    });
  });

  it('runs a re-upload into a versioning-suspended bucket (versionId "null"), not a redelivery', async () => {
    const v1 = s3Record(`${DAY15}/a.jsonl`, { versionId: 'null', sequencer: '0065A5063318B4F4A1' });
    const v2 = s3Record(`${DAY15}/a.jsonl`, {
      versionId: 'null',
      sequencer: '0065A5063318B4F4B7',
      size: 700,
    });

    await processLanding(sqsEvent([v1]), deps);
    starter.end(starter.started[0]?.name ?? '');
    await ledger.releaseLease(PARTITION, starter.started[0]?.name ?? '');
    const redelivered = await processLanding(sqsEvent([v1]), deps);
    const overwrite = await processLanding(sqsEvent([v2]), deps);

    expect(redelivered.counts).toMatchObject({ duplicates: 1, started: 0 });
    expect(overwrite.counts).toMatchObject({ started: 1 });
    expect(starter.started).toHaveLength(2);
  });

  it('skips and counts folder markers, removals and keys of no dataset (even with ".." or control characters)', async () => {
    const marker = s3Record(`${DAY15}/`, { size: 0 });
    const removed = { ...file('a.jsonl', '01'), eventName: 'ObjectRemoved:Delete' };
    const outside = s3Record('exports/../tmp/x.csv');
    const control = s3Record('scratch/a\u0001b.csv');

    const result = await processLanding(sqsEvent([marker, removed, outside, control]), deps);

    expect(result.failedUnits).toEqual([]);
    expect(result.counts).toMatchObject({ records: 4, skipped: 4, failed: 0, started: 0 });
  });

  it('starts no run for an impossible calendar date, naming the error', async () => {
    const result = await processLanding(
      sqsEvent([
        s3Record('landing/shop/orders/year=2023/month=02/day=29/a.jsonl'),
        s3Record('landing/shop/orders/year=2024/month=02/day=30/a.jsonl'),
      ]),
      deps,
    );

    expect(starter.started).toHaveLength(0);
    expect(result.failures.map((f) => [f.error, f.retryable])).toEqual([
      ['InvalidPartitionDateError', false],
      ['InvalidPartitionDateError', false],
    ]);
  });
});
