import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalLake } from '../../local/lake';
import { LocalPipeline, quietLog } from '../../local/pipeline';
import { datePartitions, startReplays } from '../../local/replay';
import { sampleOrders, toJsonLines, writeFile } from '../../local/sample';
import { ExecutionHistoryStore, type ExecutionHistory } from '../../local/history';
import { FileObjectLedger } from '../../local/file-ledger';
import { runCliCaptured } from '../helpers/cli';

/**
 * A backfill under an execution budget of 3, through the real on-landing and finish-run handlers, the
 * real ASL run by the local runtime (which could run 8 at once) and DuckDB's Glue: runs that find every
 * slot held wait in the ledger (their landings are acknowledged: nothing comes back, nothing reaches a
 * DLQ), a file landing for a partition whose run waits joins that run, each run that ends hands its
 * slot to the oldest waiting run, and at the end every partition ran exactly once, read every landed
 * object, and no slot is held and no run waits.
 */

const BUDGET = 3;
const DAYS = 12;
const dayKey = (day: number, file: string) =>
  `landing/shop/orders/year=2024/month=02/day=${String(day).padStart(2, '0')}/${file}`;

describe('a backfill with an execution budget', () => {
  const root = mkdtempSync(join(tmpdir(), 'budget-lake-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  test(`of ${DAYS} partitions runs each exactly once, never more than ${BUDGET} at once, with nothing redelivered`, async () => {
    const running = new Set<string>();
    let most = 0;
    const onUpdate = (h: ExecutionHistory) => {
      // In flight: from its start until its release state (finish-run frees or hands over its slot
      // there; what follows is the failure page or the end, no Glue run).
      if (h.status === 'RUNNING' && !h.states.some((s) => s.name.startsWith('Release partition lease')))
        running.add(h.name);
      else running.delete(h.name);
      most = Math.max(most, running.size);
    };
    const pipeline = new LocalPipeline({
      lake: new LocalLake(root),
      executionBudget: BUDGET,
      concurrency: 8,
      onUpdate,
    });
    const records = new Map<string, number>();
    const land = (day: number, file: string, count: number, seed: number) => {
      const key = dayKey(day, file);
      const date = `2024-02-${String(day).padStart(2, '0')}`;
      writeFile(
        pipeline.lake.path(key),
        toJsonLines(sampleOrders({ date, records: count, seed, firstId: seed * 1000 })),
      );
      records.set(key, count);
      return key;
    };
    const keys = Array.from({ length: DAYS }, (_, i) => [
      land(i + 1, 'a.jsonl', 20 + i, 2 * i + 1),
      land(i + 1, 'b.jsonl', 10, 2 * i + 2),
    ]).flat();

    // The SQS event source, batches of 10: every message is acknowledged the first time.
    const responses = [];
    for (let i = 0; i < keys.length; i += 10) responses.push(await pipeline.land(keys.slice(i, i + 10)));
    const queued = await pipeline.ledger.waitingRuns(100);
    // A file lands for a partition whose run waits: it joins that run (no second run of the partition).
    const joining = queued[queued.length - 1];
    const day = Number(/day=(\d\d)/.exec(joining?.partitionKey ?? '')?.[1]);
    const late = land(day, 'late.jsonl', 7, 100);
    responses.push(await pipeline.land([late]));
    await pipeline.idle();
    await pipeline.close();

    const history = pipeline.history.list();
    expect(responses.map((r) => ('batchItemFailures' in r ? r.batchItemFailures : r))).toEqual(
      responses.map(() => []),
    );
    expect(queued.length).toBeGreaterThanOrEqual(DAYS - BUDGET - 1);
    expect(most).toBe(BUDGET);
    expect(history.filter((h) => h.status !== 'SUCCEEDED').map((h) => [h.name, h.status, h.error])).toEqual(
      [],
    );
    // Exactly one run per partition, the waiting ones among them, and no follow-up run.
    expect(history).toHaveLength(DAYS);
    expect(new Set(history.map((h) => h.partition)).size).toBe(DAYS);
    expect(history.map((h) => h.name)).toEqual(expect.arrayContaining(queued.map((q) => q.executionName)));
    // Every landed object version is the run's that read it (`started` by it, or `deferred` to it
    // while it waited), the late file the waiting run's it joined...
    const ran = new Set(history.map((h) => h.name));
    const entries = await pipeline.ledger.all();
    expect(entries).toHaveLength(records.size);
    expect(entries.filter((e) => e.state === 'pending' || !ran.has(e.executionName))).toEqual([]);
    expect(entries.find((e) => e.objectId.includes('late.jsonl'))?.executionName).toBe(
      joining?.executionName,
    );
    // ...and every record reached bronze: per partition, its run's bronze read every file landed.
    const bronzeIn = new Map<string, number>();
    for (const h of history) {
      const out = h.output as { results?: { bronze?: { recordsOut?: number } } } | undefined;
      if (out?.results?.bronze?.recordsOut !== undefined)
        bronzeIn.set(h.partition, out.results.bronze.recordsOut);
    }
    const expected = new Map<string, number>();
    for (const [key, n] of records) {
      const partition = key.split('/').slice(3, 6).join('/');
      expected.set(partition, (expected.get(partition) ?? 0) + n);
    }
    expect(Object.fromEntries(bronzeIn)).toEqual(Object.fromEntries(expected));
    // Nothing is held, nothing waits, no alert was sent.
    expect((await pipeline.ledger.readSlots()).holders).toEqual([]);
    expect(await pipeline.ledger.countWaitingRuns()).toBe(0);
    expect(await pipeline.ledger.allLeases()).toEqual([]);
    expect(pipeline.alerts.all()).toEqual([]);
  }, 120_000);

  test('a replay of the same partitions waits for slots (and says so) and never has more than its budget in flight', async () => {
    const running = new Set<string>();
    let most = 0;
    const pipeline = new LocalPipeline({
      lake: new LocalLake(root),
      executionBudget: 2,
      concurrency: 8,
      onUpdate: (h) => {
        if (h.status === 'RUNNING' && !h.states.some((s) => s.name.startsWith('Release partition lease')))
          running.add(h.name);
        else running.delete(h.name);
        most = Math.max(most, running.size);
      },
    });
    const dataset = pipeline.registry.get('orders');
    const waits: string[] = [];

    const started = await startReplays({
      starter: pipeline.starter,
      dataset,
      partitions: datePartitions(pipeline.registry, dataset, '2024-02-01', '2024-02-06'),
      fromStage: 'silver',
      ratePerSecond: 1000,
      executionBudget: {
        slots: pipeline.ledger,
        budget: 2,
        executions: pipeline.starter,
        log: quietLog,
        pollMs: 20,
      },
      onWaiting: (w) => waits.push(`${w.inFlight}/${w.budget}`),
    });
    await pipeline.idle();
    await pipeline.close();

    const replayed = new Set(started.map((s) => s.name));
    const history = pipeline.history.list().filter((h) => replayed.has(h.name));
    expect(history.map((h) => h.status)).toEqual(Array.from({ length: 6 }, () => 'SUCCEEDED'));
    expect(most).toBe(2);
    expect(waits.length).toBeGreaterThan(0);
    expect(new Set(waits)).toEqual(new Set(['2/2']));
    expect((await pipeline.ledger.readSlots()).holders).toEqual([]);
  }, 120_000);
});

describe('medallion watch with an execution budget', () => {
  const root = mkdtempSync(join(tmpdir(), 'budget-watch-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  test('watch --once --execution-budget 2 delivers every landing once (nothing to retry) and runs each partition once', async () => {
    const lake = new LocalLake(root);
    for (let day = 1; day <= 5; day++)
      writeFile(
        lake.path(dayKey(day, 'a.jsonl')),
        toJsonLines(sampleOrders({ date: `2024-02-0${day}`, records: 10, seed: day, firstId: day * 100 })),
      );

    const result = await runCliCaptured(['watch', '--once', '--execution-budget', '2', '--lake', root]);

    expect(result.code).toBe(0);
    expect(result.out).toContain('delivered 5 file(s): ');
    expect(result.out).not.toContain('to retry');
    const history = new ExecutionHistoryStore(lake.system('executions')).list();
    expect(history.map((h) => [h.partition, h.status]).sort()).toEqual(
      [1, 2, 3, 4, 5].map((d) => [`year=2024/month=02/day=0${d}`, 'SUCCEEDED']),
    );
    const ledger = new FileObjectLedger(lake.system('ledger.json'));
    // Runs took slots of the budget, and those that found both held waited (their objects deferred to them).
    expect(await ledger.readSlots()).toMatchObject({ budget: 2, holders: [] });
    expect((await ledger.all()).filter((e) => e.state === 'deferred').length).toBeGreaterThanOrEqual(1);
    expect(await ledger.countWaitingRuns()).toBe(0);
  }, 120_000);
});
