import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processLanding } from '../../shared/core/landing';
import { StartRunError } from '../../shared/domain/errors';
import type { LandedObject } from '../../shared/domain/events';
import { readFileSync } from 'node:fs';
import { boundDefinition } from '../../shared/domain/horizon';
import { followUpRunName, leaseTtlMs, mergeFollowUp } from '../../shared/domain/lease';
import { START_GRACE_MS } from '../../shared/domain/ledger';
import { FileObjectLedger } from '../../local/file-ledger';
import { s3Record, sqsEvent } from '../helpers/fixtures';
import { memoryLog, shippedRegistry } from '../helpers/registry';
import { RecordingStarter } from '../helpers/starters';

const NOW = new Date('2024-01-15T10:30:00Z');
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

  it('sizes the lease from the state machine’s worst-case horizon, so a run never outlives it', () => {
    const datasets = shippedRegistry().datasets;
    const asl = JSON.parse(readFileSync('state-machines/medallion-pipeline.asl.json', 'utf8')) as {
      States: Record<string, { Retry?: Array<{ MaxAttempts?: number }> }>;
    };
    const deployedTimeout = boundDefinition(asl, datasets).TimeoutSeconds;
    // One more Glue retry attempt in the ASL: the lease grows with it (no second formula to forget).
    const moreRetries = structuredClone(asl);
    const glueRetry = moreRetries.States['Run bronze job']?.Retry?.[0];
    if (!glueRetry) throw new Error('Run bronze job has no Retry');
    glueRetry.MaxAttempts = (glueRetry.MaxAttempts ?? 3) + 1;

    expect(leaseTtlMs(datasets)).toBe(deployedTimeout * 1000 + START_GRACE_MS);
    expect(leaseTtlMs(datasets, moreRetries)).toBeGreaterThan(leaseTtlMs(datasets));
    expect(leaseTtlMs(datasets)).toBeGreaterThan(24 * 3600_000);
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
      executions: starter,
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

  it('keeps the lease and the claims of a run that started even when recording its start failed', async () => {
    const ledger = fileLedger();
    jest.spyOn(ledger, 'confirm').mockRejectedValueOnce(new Error('ProvisionedThroughputExceeded'));
    const starter = new RecordingStarter();
    const deps = {
      registry: shippedRegistry(),
      ledger,
      leases: ledger,
      starter,
      executions: starter,
      log: memoryLog(),
      now: () => NOW,
    };
    const event = sqsEvent([
      s3Record('landing/shop/orders/year=2024/month=01/day=15/a.jsonl', { versionId: 'v1' }),
    ]);

    const result = await processLanding(event, deps);

    // Acknowledged: the run started; a later sighting finds it through the status reader.
    expect(result.failedUnits).toEqual([]);
    expect(result.counts).toMatchObject({ started: 1 });
    expect(starter.started).toHaveLength(1);
    expect((await ledger.all()).map((e) => [e.executionName, e.state])).toEqual([
      [starter.started[0]?.name, 'pending'],
    ]);
    expect((await ledger.allLeases()).map((l) => l.holder)).toEqual([starter.started[0]?.name]);
  });
});
