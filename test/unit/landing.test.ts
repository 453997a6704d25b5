import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processLanding, type LandingDeps } from '../../shared/core/landing';
import { StartRunError } from '../../shared/domain/errors';
import { FileObjectLedger } from '../../local/file-ledger';
import { ordersBatch, s3Record, sqsEvent } from '../helpers/fixtures';
import { memoryLog, shippedRegistry } from '../helpers/registry';
import { RecordingStarter } from '../helpers/starters';

const registry = shippedRegistry();
const NOW = new Date('2024-01-15T10:30:00Z');

function setup() {
  const ledger = new FileObjectLedger(join(mkdtempSync(join(tmpdir(), 'ledger-')), 'ledger.json'));
  const starter = new RecordingStarter();
  const log = memoryLog();
  const deps: LandingDeps = { registry, ledger, starter, executions: starter, log, now: () => NOW };
  return { ledger, starter, log, deps };
}

const expectAccounted = (counts: {
  records: number;
  started: number;
  duplicates: number;
  skipped: number;
  failed: number;
}) => expect(counts.started + counts.duplicates + counts.skipped + counts.failed).toBe(counts.records);

describe('landing flow', () => {
  it('starts exactly one run per partition for a 10,000-record batch over 7 partitions, and none on redelivery', async () => {
    const { deps, starter } = setup();
    const event = sqsEvent(ordersBatch(10_000, 7));

    const first = await processLanding(event, deps);
    const again = await processLanding(event, deps);

    expect(starter.started).toHaveLength(7);
    expect(first.counts).toEqual({ records: 10_000, started: 10_000, duplicates: 0, skipped: 0, failed: 0 });
    expect(first.failedUnits).toEqual([]);
    expect(again.runs).toEqual([]);
    expect(again.counts).toEqual({ records: 10_000, started: 0, duplicates: 10_000, skipped: 0, failed: 0 });
  });

  it('keeps the execution input small and documented whatever the batch size', async () => {
    const { deps, starter } = setup();

    await processLanding(sqsEvent(ordersBatch(10_000, 1)), deps);

    const { name, input } = starter.started[0] ?? { name: '', input: undefined };
    expect(name).toMatch(/^orders-2024-01-01-[0-9a-f]{16}$/);
    expect(input).toMatchObject({
      dataset: 'orders',
      partition: { year: '2024', month: '01', day: '01' },
      partitionValues: ['2024', '01', '01'],
      partitionPath: 'year=2024/month=01/day=01',
      trigger: 'landing',
      fromStage: 'bronze',
      objects: { count: 10_000, bytes: 1_000_000, notListed: 9_990 },
    });
    expect(input?.objects.inline).toHaveLength(10);
    expect(input?.objects.firstLandedAt).toBe('2024-01-15T10:21:07.412Z');
    expect(Buffer.byteLength(JSON.stringify(input))).toBeLessThan(16 * 1024);
  });

  it('records which execution processed each object', async () => {
    const { deps, ledger, starter } = setup();
    const event = sqsEvent([
      s3Record('landing/shop/orders/year=2024/month=01/day=15/a.jsonl', { versionId: 'v1' }),
    ]);

    await processLanding(event, deps);

    expect(
      await ledger.lookup('example-lake/landing/shop/orders/year=2024/month=01/day=15/a.jsonl#v:v1'),
    ).toMatchObject({
      executionName: starter.started[0]?.name,
      state: 'started',
    });
  });

  it('counts the same object version delivered twice in one batch once', async () => {
    const { deps, starter } = setup();
    const record = s3Record('landing/shop/orders/year=2024/month=01/day=15/a.jsonl');

    const result = await processLanding(
      sqsEvent([record, record, s3Record('landing/shop/orders/year=2024/month=01/day=15/b.csv')]),
      deps,
    );

    expect(starter.started).toHaveLength(1);
    expect(starter.started[0]?.input.objects.count).toBe(2);
    expect(result.counts).toEqual({ records: 3, started: 2, duplicates: 1, skipped: 0, failed: 0 });
  });

  it('starts a new run when a key is overwritten (a new version of the object)', async () => {
    const { deps, starter } = setup();
    const key = 'landing/shop/orders/year=2024/month=01/day=15/a.jsonl';

    await processLanding(sqsEvent([s3Record(key, { versionId: 'v1' })]), deps);
    await processLanding(sqsEvent([s3Record(key, { versionId: 'v2' })]), deps);

    expect(starter.started.map((s) => s.name)).toHaveLength(2);
    expect(new Set(starter.started.map((s) => s.name)).size).toBe(2);
  });

  it('returns only the messages of the partition that failed to start, and redelivery then starts it', async () => {
    const { deps, starter } = setup();
    const event = sqsEvent(ordersBatch(21, 3));
    starter.failWhen = (name) =>
      name.startsWith('orders-2024-01-02-') ? new StartRunError('throttled for good', true) : undefined;

    const first = await processLanding(event, deps);
    starter.failWhen = () => undefined;
    const retry = await processLanding(
      { Records: event.Records.filter((m) => first.failedUnits.includes(m['messageId'] as string)) },
      deps,
    );

    expect(first.runs.map((r) => r.partition).sort()).toEqual([
      'year=2024/month=01/day=01',
      'year=2024/month=01/day=03',
    ]);
    expect(first.failedUnits).toHaveLength(7);
    expect(first.counts).toEqual({ records: 21, started: 14, duplicates: 0, skipped: 0, failed: 7 });
    expect(retry.runs.map((r) => r.partition)).toEqual(['year=2024/month=01/day=02']);
    expect(retry.counts).toMatchObject({ started: 7, failed: 0 });
  });

  it('skips keys outside every dataset, fails keys that break the layout, and accounts for every record', async () => {
    const { deps, log } = setup();
    const event = sqsEvent([
      s3Record('landing/shop/orders/year=2024/month=01/day=15/ok.jsonl'),
      s3Record('landing/crm/contacts/export.csv'),
      s3Record('landing/shop/orders/year=2024/month=13/day=15/bad.jsonl'),
      s3Record('landing/shop/orders/year=2024/month=01/day=15/../../../etc/passwd.csv'),
    ]);
    event.Records.push({ ...event.Records[0], messageId: 'garbage', body: 'not json' });
    event.Records.push({
      ...event.Records[0],
      messageId: 'test',
      body: '{"Service":"Amazon S3","Event":"s3:TestEvent"}',
    });

    const result = await processLanding(event, deps);

    expect(result.counts).toEqual({ records: 6, started: 1, duplicates: 0, skipped: 2, failed: 3 });
    expectAccounted(result.counts);
    expect(result.failedUnits.sort()).toEqual(['garbage', 'msg-2', 'msg-3']);
    expect(result.failures.map((f) => f.error).sort()).toEqual([
      'InvalidObjectKeyError',
      'InvalidObjectKeyError',
      'MalformedEventError',
    ]);
    expect(result.failures.every((f) => !f.retryable)).toBe(true);
    const errorLines = log.lines.filter((l) => l.level === 'error');
    expect(errorLines.map((l) => l.attributes['key'])).toEqual(
      expect.arrayContaining(['landing/shop/orders/year=2024/month=13/day=15/bad.jsonl']),
    );
    expect(log.lines.at(-1)).toMatchObject({
      message: 'Landing batch processed',
      attributes: { records: 6, started: 1, skipped: 2, failed: 3 },
    });
  });

  it('does not acknowledge objects claimed by another run that has not started yet', async () => {
    const { deps, ledger, starter } = setup();
    const record = s3Record('landing/shop/orders/year=2024/month=01/day=15/a.jsonl', { versionId: 'v1' });
    await ledger.claim(
      ['example-lake/landing/shop/orders/year=2024/month=01/day=15/a.jsonl#v:v1'],
      'orders-other-run',
      NOW,
    );

    const result = await processLanding(sqsEvent([record]), deps);

    expect(starter.started).toHaveLength(0);
    expect(result.failedUnits).toEqual(['msg-0']);
    expect(result.failures[0]).toMatchObject({ error: 'ObjectsInFlightError', retryable: true });
    expect(result.failures[0]?.message).toContain('orders-other-run');
  });

  it('re-claims objects whose claim went stale (its owner died before starting)', async () => {
    const { deps, ledger, starter } = setup();
    const id = 'example-lake/landing/shop/orders/year=2024/month=01/day=15/a.jsonl#v:v1';
    await ledger.claim([id], 'orders-crashed-run', new Date(NOW.getTime() - 60 * 60 * 1000));

    const result = await processLanding(
      sqsEvent([s3Record('landing/shop/orders/year=2024/month=01/day=15/a.jsonl', { versionId: 'v1' })]),
      deps,
    );

    expect(result.counts.started).toBe(1);
    expect((await ledger.lookup(id))?.executionName).toBe(starter.started[0]?.name);
  });

  it('releases its claims when the run cannot start, so the retry can claim them again', async () => {
    const { deps, ledger, starter } = setup();
    starter.failWhen = () => new StartRunError('StateMachineDoesNotExist', false);
    const event = sqsEvent([
      s3Record('landing/shop/orders/year=2024/month=01/day=15/a.jsonl', { versionId: 'v1' }),
    ]);

    const result = await processLanding(event, deps);

    expect(result.failures[0]).toMatchObject({ error: 'StartRunError', retryable: false });
    expect(
      await ledger.lookup('example-lake/landing/shop/orders/year=2024/month=01/day=15/a.jsonl#v:v1'),
    ).toBeUndefined();
  });
});
