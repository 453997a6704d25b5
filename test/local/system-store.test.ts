import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StageMetrics } from '../../shared/ports';
import { FileAlerter, FileCatalog, FileManifestStore, FileMetrics } from '../../local/system-store';
import { fileUri } from '../../local/glue-runner';
import { writeFile } from '../../local/sample';

const dir = mkdtempSync(join(tmpdir(), 'system-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const point = (timestamp: string, ratio: number, over: Partial<StageMetrics> = {}): StageMetrics => ({
  dataset: 'orders',
  stage: 'silver',
  timestamp: new Date(timestamp),
  durationSeconds: 1,
  recordsIn: 100,
  recordsOut: 100 - ratio * 100,
  recordsQuarantined: ratio * 100,
  schemaDriftColumns: 0,
  quarantineRatio: ratio,
  ...over,
});

describe('local twins of the catalog, metrics, alerts and manifests', () => {
  test('the catalog creates a partition once, then updates its location', async () => {
    const catalog = new FileCatalog(join(dir, 'catalog.json'));
    const request = (location: string) => ({
      database: 'shop_lake',
      table: 'orders_silver',
      partitions: [{ values: ['2024', '01', '15'], location }],
    });

    const first = await catalog.registerPartitions(request('file:///a/'));
    const again = await catalog.registerPartitions(request('file:///b/'));

    expect([first, again]).toEqual([
      { created: 1, updated: 0 },
      { created: 0, updated: 1 },
    ]);
    expect(catalog.all()).toEqual([
      expect.objectContaining({
        table: 'orders_silver',
        values: ['2024', '01', '15'],
        location: 'file:///b/',
      }),
    ]);
  });

  test('the baseline reader returns the latest ratios of the stage before the given time, newest first', async () => {
    const metrics = new FileMetrics(join(dir, 'metrics.jsonl'));
    await metrics.publishStage(point('2024-01-01T00:00:00Z', 0.01));
    await metrics.publishStage(point('2024-01-03T00:00:00Z', 0.03));
    await metrics.publishStage(point('2024-01-02T00:00:00Z', 0.02));
    await metrics.publishStage(point('2024-01-02T12:00:00Z', 0.9, { stage: 'bronze' }));
    await metrics.publishStage(point('2024-01-05T00:00:00Z', 0.05));

    const ratios = await metrics.recentQuarantineRatios({
      dataset: 'orders',
      stage: 'silver',
      limit: 2,
      before: new Date('2024-01-04T00:00:00Z'),
    });

    expect(ratios).toEqual([0.03, 0.02]);
  });

  test('alerts are appended with an id and handed to the listener', async () => {
    const heard: string[] = [];
    const alerter = new FileAlerter(join(dir, 'alerts.jsonl'), (a) => heard.push(a.subject));
    const { messageId } = await alerter.publish({
      subject: '[CRITICAL] orders failed',
      body: 'details',
      attributes: { severity: 'critical', kind: 'run-failed', dataset: 'orders', stage: 'bronze' },
    });

    expect(heard).toEqual(['[CRITICAL] orders failed']);
    expect(JSON.parse(readFileSync(join(dir, 'alerts.jsonl'), 'utf8'))).toMatchObject({ messageId });
  });

  test('manifests are read from file:// locations; a missing one is undefined', async () => {
    const store = new FileManifestStore();
    writeFile(join(dir, 'm', 'run 1.json'), '{"ok":true}');

    expect(await store.read(fileUri(join(dir, 'm', 'run 1.json'), false))).toBe('{"ok":true}');
    expect(await store.read(fileUri(join(dir, 'm', 'missing.json'), false))).toBeUndefined();
  });
});
