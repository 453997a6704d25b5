import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { SfnRunStarter } from '../../shared/aws/sfn-run-starter';
import type { RunInput } from '../../shared/domain/run';
import { LocalLake } from '../../local/lake';
import { LocalPipeline } from '../../local/pipeline';
import { datePartitions, startReplays } from '../../local/replay';
import { sampleOrders, toCsv, toJsonLines, writeFile } from '../../local/sample';
import { LandingWatcher, type WatchEvent } from '../../local/watcher';

const DAY = 'landing/shop/orders/year=2024/month=01/day=15/';

describe('watch and replay on the local lake', () => {
  const root = mkdtempSync(join(tmpdir(), 'watch-lake-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const pipeline = new LocalPipeline({ lake: new LocalLake(root) });

  test('watch delivers landed files in one batch, reports files it leaves alone, and never re-runs them', async () => {
    writeFile(
      pipeline.lake.path(`${DAY}a.jsonl`),
      toJsonLines(sampleOrders({ date: '2024-01-15', records: 150 })),
    );
    writeFile(
      pipeline.lake.path(`${DAY}b.csv`),
      toCsv(sampleOrders({ date: '2024-01-15', records: 50, seed: 7, firstId: 150 })),
    );
    writeFile(pipeline.lake.path('landing/crm/contacts/export.csv'), 'id\n1\n');
    writeFile(pipeline.lake.path('landing/shop/orders/year=2024/month=13/day=01/x.jsonl'), '{}\n');
    const events: WatchEvent[] = [];

    await new LandingWatcher(pipeline, { onEvent: (e) => events.push(e) }).once();
    await new LandingWatcher(pipeline).once();

    expect(events.filter((e) => e.kind === 'delivered')).toEqual([
      { kind: 'delivered', keys: [`${DAY}a.jsonl`, `${DAY}b.csv`], failed: 0 },
    ]);
    const ignored = events.flatMap((e) => (e.kind === 'ignored' ? [[e.key, e.reason]] : []));
    expect(ignored).toEqual([
      ['landing/crm/contacts/export.csv', 'matches no dataset landing prefix; left alone'],
      [
        'landing/shop/orders/year=2024/month=13/day=01/x.jsonl',
        expect.stringContaining('invalid-partition-value'),
      ],
    ]);
    const history = pipeline.history.list();
    expect(history.map((h) => [h.partition, h.status])).toEqual([['year=2024/month=01/day=15', 'SUCCEEDED']]);
  }, 30_000);

  test('watching: a file that lands later is delivered once it holds still, after the batch window', async () => {
    const events: WatchEvent[] = [];
    const watcher = new LandingWatcher(pipeline, {
      intervalMs: 20,
      batchWindowMs: 100,
      onEvent: (e) => events.push(e),
    });
    watcher.start();
    await new Promise((resolve) => setTimeout(resolve, 100));
    writeFile(
      pipeline.lake.path('landing/shop/orders/year=2024/month=01/day=20/late.jsonl'),
      toJsonLines(sampleOrders({ date: '2024-01-20', records: 120, seed: 3 })),
    );

    const deadline = Date.now() + 15_000;
    const lateDelivered = () =>
      events.some((e) => e.kind === 'delivered' && e.keys.some((k) => k.endsWith('late.jsonl')));
    while (!lateDelivered() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    await watcher.stop();

    const delivered = events.flatMap((e) => (e.kind === 'delivered' ? e.keys : []));
    expect(delivered).toContain('landing/shop/orders/year=2024/month=01/day=20/late.jsonl');
    // files delivered by the earlier watcher are known to the ledger: they start nothing new
    expect(pipeline.history.list().filter((h) => h.partition.endsWith('day=15'))).toHaveLength(1);
    expect(pipeline.history.list().find((h) => h.partition.endsWith('day=20'))?.status).toBe('SUCCEEDED');
  }, 30_000);

  test('a local replay from silver re-runs silver and gold only and leaves bronze as it was', async () => {
    const bronze = pipeline.lake.path('bronze/orders/year=2024/month=01/day=15/part-00000.parquet');
    const bronzeWritten = statSync(bronze).mtimeMs;
    const dataset = pipeline.registry.get('orders');

    const [started] = await startReplays({
      starter: pipeline.starter,
      dataset,
      partitions: datePartitions(pipeline.registry, dataset, '2024-01-15', '2024-01-15'),
      fromStage: 'silver',
    });
    await pipeline.idle();

    const run = pipeline.history.get(started?.name ?? '');
    expect(run?.status).toBe('SUCCEEDED');
    expect(run?.trigger).toBe('replay');
    expect(run?.states.map((s) => s.name)).not.toContain('Run bronze job');
    expect(run?.states.map((s) => s.name)).toEqual(
      expect.arrayContaining(['Run silver job', 'Run gold job']),
    );
    expect(statSync(bronze).mtimeMs).toBe(bronzeWritten);
  }, 30_000);

  test('an AWS replay starts one execution per day with the replay input, spaced to the rate', async () => {
    const sfn = mockClient(SFNClient);
    sfn.on(StartExecutionCommand).callsFake((input: { name: string }) => ({
      executionArn: `arn:aws:states:eu-west-1:1:execution:p:${input.name}`,
    }));
    const dataset = pipeline.registry.get('orders');
    const started = Date.now();

    const result = await startReplays({
      starter: new SfnRunStarter('arn:aws:states:eu-west-1:1:stateMachine:p', new SFNClient({})),
      dataset,
      partitions: datePartitions(pipeline.registry, dataset, '2024-02-28', '2024-03-01'),
      fromStage: 'gold',
      ratePerSecond: 20,
      now: () => new Date('2024-03-02T08:00:00Z'),
    });

    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
    const calls = sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.name)).toEqual([
      'orders-2024-02-28-replay-gold-20240302T080000Z',
      'orders-2024-02-29-replay-gold-20240302T080000Z',
      'orders-2024-03-01-replay-gold-20240302T080000Z',
    ]);
    const input = JSON.parse(calls[0]?.input ?? '{}') as RunInput;
    expect(input).toMatchObject({
      trigger: 'replay',
      fromStage: 'gold',
      partitionPath: 'year=2024/month=02/day=28',
    });
    expect(result.every((r) => r.outcome === 'started')).toBe(true);
    sfn.restore();
  });
});
