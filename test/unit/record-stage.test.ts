import { recordStage, type RecordStageInput } from '../../shared/core/record-stage';
import {
  InvalidManifestError,
  JobRunNotSucceededError,
  ManifestNotFoundError,
} from '../../shared/domain/pipeline-errors';
import { memoryLog, shippedRegistry } from '../helpers/registry';
import { MemoryCatalog, MemoryManifests, MemoryMetrics } from '../state-machines/harness';

const LOCATION = 's3://lake/_manifests/orders/silver/orders-2024-01-15-abc.json';
const input: RecordStageInput = {
  stage: 'silver',
  dataset: 'orders',
  partitionPath: 'year=2024/month=01/day=15',
  partitionValues: ['2024', '01', '15'],
  runId: 'orders-2024-01-15-abc',
  manifestLocation: LOCATION,
  jobRun: { Id: 'jr_1', JobName: 'medallion-silver', JobRunState: 'SUCCEEDED' },
};
const manifest = (overrides: Record<string, unknown> = {}) => ({
  version: 1,
  dataset: 'orders',
  stage: 'silver',
  runId: 'orders-2024-01-15-abc',
  jobRunId: 'jr_1',
  startedAt: '2024-01-15T10:22:00.000Z',
  completedAt: '2024-01-15T10:24:30.000Z',
  recordsIn: 5000,
  recordsOut: 4900,
  recordsQuarantined: 100,
  outputPartitions: [
    {
      table: 'orders_silver',
      values: ['2024', '01', '15'],
      location: 's3://lake/silver/orders/year=2024/month=01/day=15/',
    },
    {
      table: 'orders_quarantine',
      values: ['2024', '01', '15'],
      location: 's3://lake/quarantine/orders/year=2024/month=01/day=15/',
    },
  ],
  quarantineLocation: 's3://lake/quarantine/orders/year=2024/month=01/day=15/',
  ...overrides,
});

function setup(text?: string) {
  const manifests = new MemoryManifests();
  if (text !== undefined) manifests.objects.set(LOCATION, text);
  const metrics = new MemoryMetrics([0.01, 0.012, 0.011]);
  const catalog = new MemoryCatalog();
  const deps = {
    registry: shippedRegistry(),
    manifests,
    catalog,
    metrics,
    baseline: metrics,
    log: memoryLog(),
  };
  return { deps, metrics, catalog };
}

describe('record-stage', () => {
  it('registers the manifest partitions, publishes the metrics and judges silver quarantine', async () => {
    const { deps, metrics, catalog } = setup(JSON.stringify(manifest()));

    const result = await recordStage(input, deps);

    expect(catalog.registered.map((p) => p.table)).toEqual(['orders_silver', 'orders_quarantine']);
    expect(metrics.published).toEqual([
      {
        dataset: 'orders',
        stage: 'silver',
        timestamp: new Date('2024-01-15T10:24:30.000Z'),
        durationSeconds: 150,
        recordsIn: 5000,
        recordsOut: 4900,
        recordsQuarantined: 100,
        quarantineRatio: 0.02,
        schemaDriftColumns: 0,
      },
    ]);
    expect(result).toMatchObject({
      jobRunId: 'jr_1',
      durationSeconds: 150,
      partitions: { created: 2, updated: 0 },
      quarantine: { verdict: 'spike', action: 'alert', reasons: ['above-baseline'] },
    });
  });

  it('judges bronze schema drift: counted in SchemaDriftColumns, sampled in the result, alert action', async () => {
    // Prepare: a bronze manifest whose two files drifted (the dataset's policy is alert)
    const bronzeLocation = 's3://lake/_manifests/orders/bronze/orders-2024-01-15-abc.json';
    const { deps, metrics } = setup();
    deps.manifests.objects.set(
      bronzeLocation,
      JSON.stringify(
        manifest({
          stage: 'bronze',
          recordsOut: 5000,
          recordsQuarantined: 0,
          quarantineLocation: null,
          outputPartitions: [
            {
              table: 'orders_bronze',
              values: ['2024', '01', '15'],
              location: 's3://lake/bronze/orders/year=2024/month=01/day=15/',
            },
          ],
          schemaDrift: [
            { file: 's3://lake/landing/a.csv', undeclared: ['Coupon', 'notes'], missing: ['items'] },
            { file: 's3://lake/landing/b.jsonl', undeclared: ['coupon'], missing: [] },
          ],
        }),
      ),
    );
    const registry = shippedRegistry();
    const orders = { ...registry.get('orders'), onDrift: 'alert' as const };
    const withAlert = { ...deps, registry: { datasets: [orders], get: () => orders } };
    // Act
    const result = await recordStage(
      {
        ...input,
        stage: 'bronze',
        manifestLocation: bronzeLocation,
        jobRun: { ...input.jobRun, JobName: 'medallion-bronze' },
      },
      withAlert,
    );
    // Assess
    expect(metrics.published[0]).toMatchObject({ stage: 'bronze', schemaDriftColumns: 4 });
    expect(result.schemaDrift).toMatchObject({ action: 'alert', policy: 'alert', files: 2, columns: 4 });
    expect(result.schemaDrift?.sample[0]).toEqual({
      file: 's3://lake/landing/a.csv',
      undeclared: ['Coupon', 'notes'],
      missing: ['items'],
    });
    expect(result.schemaDrift?.summary).toContain(
      's3://lake/landing/a.csv: undeclared Coupon, notes; missing items',
    );
  });

  it('fails a STOPPED job run before reading anything', async () => {
    const { deps, metrics } = setup(JSON.stringify(manifest()));

    const attempt = recordStage({ ...input, jobRun: { ...input.jobRun, JobRunState: 'STOPPED' } }, deps);

    await expect(attempt).rejects.toThrow(JobRunNotSucceededError);
    await expect(attempt).rejects.toThrow('Glue job medallion-silver run jr_1 ended STOPPED');
    expect(metrics.published).toEqual([]);
  });

  it('names the expected location when the manifest is missing', async () => {
    const { deps } = setup();

    await expect(recordStage(input, deps)).rejects.toThrow(new ManifestNotFoundError(LOCATION));
  });

  it('names the location and every broken field of a malformed manifest', async () => {
    const cases: Array<[string, RegExp]> = [
      ['{not json', /Invalid run manifest at s3:\/\/lake\/.*: not JSON/],
      [JSON.stringify(manifest({ recordsIn: -1, extra: true })), /recordsIn: .*; .*Unrecognized key.*extra/],
      [
        JSON.stringify(manifest({ runId: 'orders-other' })),
        /runId: is "orders-other", expected "orders-2024-01-15-abc"/,
      ],
      [
        JSON.stringify(
          manifest({ outputPartitions: [{ table: 'customers', values: ['2024'], location: 's3://x/' }] }),
        ),
        /outputPartitions\[0\]\.table: "customers" is not a table of dataset "orders".*outputPartitions\[0\]\.values: has 1 value\(s\), the tables have 3/,
      ],
    ];
    for (const [text, message] of cases) {
      const { deps, metrics } = setup(text);

      const attempt = recordStage(input, deps);

      await expect(attempt).rejects.toThrow(InvalidManifestError);
      await expect(attempt).rejects.toThrow(message);
      expect(metrics.published).toEqual([]);
    }
  });

  it('does not judge bronze or gold, and does not read a baseline for a tiny silver run', async () => {
    const { deps } = setup(
      JSON.stringify(manifest({ stage: 'bronze', recordsQuarantined: 0, recordsOut: 5000 })),
    );
    const tiny = setup(JSON.stringify(manifest({ recordsIn: 10, recordsOut: 1, recordsQuarantined: 9 })));
    const readBaseline = jest.spyOn(tiny.metrics, 'recentQuarantineRatios');

    const bronze = await recordStage({ ...input, stage: 'bronze' }, deps);
    const small = await recordStage(input, tiny.deps);

    expect(bronze.quarantine.verdict).toBe('not-judged');
    expect(small.quarantine).toMatchObject({ verdict: 'too-few-records', action: 'continue' });
    expect(readBaseline).not.toHaveBeenCalled();
  });
});
