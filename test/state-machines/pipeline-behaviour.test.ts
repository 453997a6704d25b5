import { PIPELINE_ERRORS } from '../../shared/domain/error-names';
import { makeRegistry } from '../../shared/domain/datasets';
import { partitionKeyOf } from '../../shared/domain/lease';
import { shippedRegistry } from '../helpers/registry';
import { createHarness, ordersInput, runPipeline } from './harness';

const HAPPY_PATH = [
  'Take partition lease',
  'Start at requested stage',
  'Run bronze job',
  'Record bronze results',
  'Run silver job',
  'Record silver results',
  'Check quarantine',
  'Run gold job',
  'Record gold results',
  'Release partition lease',
];

describe('medallion pipeline state machine (aws-local-stepfunctions, real handlers)', () => {
  it('runs bronze, silver, gold in order within 10 state transitions, and records each stage', async () => {
    const h = createHarness();

    const run = await runPipeline(h, ordersInput());

    expect(run.status).toBe('SUCCEEDED');
    expect(run.path).toEqual(HAPPY_PATH);
    expect(run.path.length).toBeLessThanOrEqual(10);
    expect(h.glueCalls.map((c) => [c.stage, c.jobName])).toEqual([
      ['bronze', 'medallion-bronze'],
      ['silver', 'medallion-silver'],
      ['gold', 'medallion-gold'],
    ]);
    expect(h.glueCalls[1]?.args).toMatchObject({
      '--run_id': 'orders-2024-01-15-0123456789abcdef',
      '--partition_values': '["2024","01","15"]',
      '--source_location': 's3://example-lake/bronze/orders/year=2024/month=01/day=15/',
      '--target_location': 's3://example-lake/silver/orders/year=2024/month=01/day=15/',
      '--manifest_location':
        's3://example-lake/_manifests/orders/silver/orders-2024-01-15-0123456789abcdef.json',
      '--dataset_plan': 's3://example-artifacts/plans/orders.json',
      '--catalog_database': 'shop_lake',
    });
    expect(h.glueCalls[2]?.args['--enable-auto-scaling']).toBe('true');
    expect(h.metrics.published.map((m) => m.stage)).toEqual(['bronze', 'silver', 'gold']);
    expect(h.catalog.registered.map((p) => p.table)).toEqual([
      'orders_bronze',
      'orders_silver',
      'orders_quarantine',
      'orders_daily_revenue',
    ]);
    expect(h.alerter.alerts).toEqual([]);
    expect(await h.ledger.readLease(partitionKeyOf('orders', 'year=2024/month=01/day=15'))).toBeUndefined();
    const output = run.output as { results: Record<string, { recordsOut: number }>; finish: unknown };
    expect(output.results['silver']?.recordsOut).toBe(990);
    expect(output.finish).toEqual({ lease: 'released', followUp: null });
    expect(Buffer.byteLength(JSON.stringify(run.output))).toBeLessThan(32 * 1024);
  });

  it('retries a Glue ConcurrentRunsExceededException and succeeds on the third attempt', async () => {
    const h = createHarness();
    h.glue.silver = { kind: 'concurrent-runs', times: 2 };

    const run = await runPipeline(h, ordersInput());

    expect(run.status).toBe('SUCCEEDED');
    expect(run.retries).toEqual(['Run silver job', 'Run silver job']);
    expect(h.glueCalls.filter((c) => c.stage === 'silver')).toHaveLength(3);
    expect(h.alerter.alerts).toEqual([]);
  });

  it('alerts once and ends failed with the Glue error when the silver job FAILS; gold never runs', async () => {
    const h = createHarness();
    h.glue.silver = { kind: 'fail', message: 'AnalysisException: cannot resolve column amount' };

    const run = await runPipeline(h, ordersInput());

    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('States.TaskFailed');
    expect(run.cause).toContain('cannot resolve column amount');
    expect(run.path.slice(-4)).toEqual([
      "Keep the run's error",
      'Release partition lease after failure',
      'Alert on-call of failure',
      'Run failed',
    ]);
    expect(h.glueCalls.map((c) => c.stage)).toEqual(['bronze', 'silver']);
    expect(h.alerter.alerts).toHaveLength(1);
    const alert = h.alerter.alerts[0];
    expect(alert?.subject).toBe(
      '[CRITICAL] orders year=2024/month=01/day=15 silver run failed: States.TaskFailed',
    );
    expect(alert?.attributes).toEqual({
      severity: 'critical',
      kind: 'run-failed',
      dataset: 'orders',
      stage: 'silver',
    });
    expect(alert?.body).toContain('medallion-silver run jr_silver_1 ended FAILED');
    expect(alert?.body).toContain(
      'npx medallion replay --dataset orders --partition year=2024/month=01/day=15 --stage silver',
    );
    expect(await h.ledger.readLease(partitionKeyOf('orders', 'year=2024/month=01/day=15'))).toBeUndefined();
  });

  it('treats a STOPPED job run (returned as success by .sync) as a failure', async () => {
    const h = createHarness();
    h.glue.bronze = { kind: 'stop' };

    const run = await runPipeline(h, ordersInput());

    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('JobRunNotSucceededError');
    expect(run.cause).toContain('ended STOPPED');
    expect(h.glueCalls.map((c) => c.stage)).toEqual(['bronze']);
    expect(h.alerter.alerts[0]?.body).toContain(
      'The bronze Glue job ran (medallion-bronze run jr_bronze_1, STOPPED)',
    );
  });

  it('alerts on a quarantine spike with policy alert, and still builds gold', async () => {
    const h = createHarness();
    h.glue.silver = { kind: 'succeed', counts: { in: 1000, out: 700, quarantined: 300 } };

    const run = await runPipeline(h, ordersInput());

    expect(run.status).toBe('SUCCEEDED');
    expect(run.path).toContain('Alert on-call of quarantine spike');
    expect(h.glueCalls.map((c) => c.stage)).toEqual(['bronze', 'silver', 'gold']);
    expect(h.alerter.alerts).toHaveLength(1);
    expect(h.alerter.alerts[0]?.subject).toBe(
      '[WARNING] orders year=2024/month=01/day=15 silver quarantine spike 30% (max 5%)',
    );
    expect(h.alerter.alerts[0]?.attributes.kind).toBe('quarantine-spike');
  });

  it('halts before gold on a quarantine spike with policy halt, and ends failed', async () => {
    const base = createHarness().registry;
    const orders = base.get('orders');
    const halting = { ...orders, quarantine: { ...orders.quarantine, onSpike: 'halt' as const } };
    const h = createHarness({ datasets: [halting], get: () => halting });
    h.glue.silver = { kind: 'succeed', counts: { in: 1000, out: 700, quarantined: 300 } };

    const run = await runPipeline(h, ordersInput());

    expect(run.status).toBe('FAILED');
    expect(run.error).toBe(PIPELINE_ERRORS.quarantineSpike);
    expect(run.cause).toContain('300 of 1000 records quarantined (30%)');
    expect(run.path).toContain('Halt before gold');
    expect(run.path).not.toContain('Run gold job');
    expect(h.glueCalls.map((c) => c.stage)).toEqual(['bronze', 'silver']);
    expect(h.alerter.alerts).toHaveLength(1);
    expect(h.alerter.alerts[0]?.subject).toContain('[CRITICAL] orders');
    expect(h.alerter.alerts[0]?.subject).toContain('halted');
    expect(h.alerter.alerts[0]?.body).toContain('Policy halt: the run stopped before gold');
  });

  it('fails with the expected manifest location when a job writes no manifest', async () => {
    const h = createHarness();
    h.glue.bronze = { kind: 'no-manifest' };

    const run = await runPipeline(h, ordersInput());

    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('ManifestNotFoundError');
    expect(run.cause).toContain(
      's3://example-lake/_manifests/orders/bronze/orders-2024-01-15-0123456789abcdef.json',
    );
    expect(h.alerter.alerts[0]?.body).toContain('_manifests/orders/bronze/');
  });

  it('still fails with the run error, not the SNS error, when the alert cannot be published', async () => {
    const h = createHarness();
    h.glue.silver = { kind: 'fail', message: 'OutOfMemoryError' };
    h.alerter.failWith = Object.assign(new Error('Topic does not exist'), { name: 'NotFoundException' });

    const run = await runPipeline(h, ordersInput());

    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('States.TaskFailed');
    expect(run.cause).toContain('OutOfMemoryError');
    expect(run.path).toContain('Release partition lease after failure');
  });

  it('waits the dataset’s settle window before bronze (one more transition), and never without one', async () => {
    // Prepare: orders with a 60-second settle window; a landing whose first file arrived 58.5 s ago
    const settling = makeRegistry(
      shippedRegistry().datasets.map((d) =>
        d.name === 'orders' ? { ...d, trigger: { settleSeconds: 60 } } : d,
      ),
    );
    // prepare-run's clock reads 58.5 s after the arrival whatever the machine's load, so the plan is 2 s
    const arrivedMs = Date.now() - 58_500;
    const harness = createHarness(settling, { now: () => new Date(arrivedMs + 58_500) });
    const arrived = new Date(arrivedMs).toISOString();
    const fresh = ordersInput({
      objects: { ...ordersInput().objects, firstLandedAt: arrived, lastLandedAt: arrived },
    });

    // Act: the wait is real (the seconds the execution names), here 2 s
    const waited = await runPipeline(harness, fresh);
    const old = await runPipeline(createHarness(settling), ordersInput());
    const replay = await runPipeline(createHarness(settling), { ...fresh, trigger: 'replay' });
    const none = await runPipeline(createHarness(), fresh);

    // Assess
    expect(waited.status).toBe('SUCCEEDED');
    expect(waited.path).toEqual([...HAPPY_PATH.slice(0, 2), 'Settle partition', ...HAPPY_PATH.slice(2)]);
    expect(waited.transitions).toBe(11);
    expect((waited.output as { run: { settleSeconds: number } }).run.settleSeconds).toBe(2);
    // Its first file landed long ago, a replay reads nothing new, a dataset without a window: no wait
    for (const run of [old, replay, none]) {
      expect(run.path).toEqual(HAPPY_PATH);
      expect(run.transitions).toBe(10);
    }
  });

  it('starts a replay at the requested stage', async () => {
    const h = createHarness();

    const run = await runPipeline(h, ordersInput({ trigger: 'replay', fromStage: 'gold' }));

    expect(run.status).toBe('SUCCEEDED');
    expect(h.glueCalls.map((c) => c.stage)).toEqual(['gold']);
  });
});
