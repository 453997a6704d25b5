import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { createHandler } from '../../functions/notify/handler';
import { SnsAlerter } from '../../shared/aws/sns-alerter';
import {
  BODY_MAX_BYTES,
  failureAlert,
  parseCause,
  driftAlert,
  spikeAlert,
  SUBJECT_MAX,
} from '../../shared/domain/alert-text';
import { judgeSchemaDrift } from '../../shared/domain/schema-drift';
import type { PipelineState } from '../../shared/domain/pipeline';
import { AlertPublishError } from '../../shared/domain/pipeline-errors';
import { judgeQuarantine } from '../../shared/domain/quarantine';
import { memoryLog, shippedRegistry } from '../helpers/registry';
import { ordersInput } from '../state-machines/harness';

const snsMock = mockClient(SNSClient);
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:medallion-alerts';
const execution = {
  id: 'arn:aws:states:eu-west-1:123456789012:execution:medallion-pipeline:orders-2024-01-15-0123456789abcdef',
  name: 'orders-2024-01-15-0123456789abcdef',
  stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:medallion-pipeline',
};
const orders = shippedRegistry().get('orders');

function plannedState(overrides: Partial<PipelineState> = {}): PipelineState {
  const job = (name: string) => ({ jobName: name, timeoutMinutes: 30, arguments: {}, manifestLocation: '' });
  return {
    ...ordersInput(),
    run: {
      runId: execution.name,
      fromStage: 'bronze',
      settleSeconds: 0,
      partitionKey: 'orders/year=2024/month=01/day=15',
      leaseExpiresAt: '2024-01-15T13:21:09.000Z',
      jobs: { bronze: job('medallion-bronze'), silver: job('medallion-silver'), gold: job('medallion-gold') },
    },
    jobRuns: {},
    results: {},
    ...overrides,
  };
}

const silverResult = (quarantined: number) => ({
  stage: 'silver' as const,
  jobName: 'medallion-silver',
  jobRunId: 'jr_5f1e',
  durationSeconds: 151,
  recordsIn: 2000,
  recordsOut: 2000 - quarantined,
  recordsQuarantined: quarantined,
  quarantineRatio: quarantined / 2000,
  quarantineLocation: 's3://lake/quarantine/orders/year=2024/month=01/day=15/',
  partitions: { created: 2, updated: 0, sample: [] },
  quarantine: judgeQuarantine({
    policy: orders.quarantine,
    recordsIn: 2000,
    recordsQuarantined: quarantined,
    recent: [0.01, 0.012, 0.009, 0.011],
  }),
});

beforeEach(() => {
  snsMock.reset();
  snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
});

describe('schema drift pages', () => {
  const drift = judgeSchemaDrift(
    [
      {
        file: 's3://lake/landing/shop/orders/year=2024/month=01/day=15/feed.csv',
        undeclared: ['Coupon'],
        missing: ['items'],
      },
      ...Array.from({ length: 7 }, (_, i) => ({
        file: `s3://lake/x/${i}.jsonl`,
        undeclared: [`k${i}`],
        missing: [],
      })),
    ],
    'alert',
  );
  const bronze = {
    ...silverResult(0),
    stage: 'bronze' as const,
    jobName: 'medallion-bronze',
    jobRunId: 'jr_b',
    schemaDrift: drift,
  };

  it('a drift page: a warning naming files and columns, what to do, and the replay from bronze', () => {
    const alert = driftAlert(plannedState({ results: { bronze } }), execution);

    expect(alert.attributes).toEqual({
      severity: 'warning',
      kind: 'schema-drift',
      dataset: 'orders',
      stage: 'bronze',
    });
    expect(alert.subject).toBe(
      '[WARNING] orders year=2024/month=01/day=15 bronze schema drift: 9 column(s) in 8 file(s)',
    );
    expect(alert.body).toContain('day=15/feed.csv: undeclared Coupon; missing items');
    expect(alert.body).toContain('+3 more file(s)');
    expect(alert.body).toContain('set onDrift: halt in datasets/orders/dataset.yml');
    expect(alert.body).toContain('--partition year=2024/month=01/day=15 --stage bronze');
  });

  it("a run's spike page and failure page name the drift too (one page per run)", () => {
    const spike = spikeAlert(plannedState({ results: { bronze, silver: silverResult(600) } }), execution);
    const failed = failureAlert(
      plannedState({ results: { bronze }, error: { Error: 'States.TaskFailed', Cause: 'boom' } }),
      execution,
    );

    for (const alert of [spike, failed])
      expect(alert.body).toMatch(/Schema drift: +9 column\(s\) in 8 landed file\(s\)/);
  });
});

describe('alert text', () => {
  it('names severity, dataset, partition and stage in a short one-line subject', () => {
    const alert = failureAlert(
      plannedState({
        error: {
          Error: 'States.TaskFailed',
          Cause: '{"JobName":"medallion-silver","Id":"jr_1","JobRunState":"FAILED","ErrorMessage":"boom"}',
        },
      }),
      execution,
    );

    expect(alert.subject).toBe(
      '[CRITICAL] orders year=2024/month=01/day=15 bronze run failed: States.TaskFailed',
    );
    expect(alert.subject.length).toBeLessThan(100);
  });

  it('keeps the subject under 100 printable ASCII characters whatever the names and error', () => {
    const state = plannedState({
      dataset: `orders_${'x'.repeat(200)}`,
      partitionPath: `year=2024/month=01/day=15/région=${'é'.repeat(80)}`,
      error: { Error: `Very.Long.Error.Name\n${'y'.repeat(300)}`, Cause: 'c' },
    });

    const alert = failureAlert(state, execution);

    expect(alert.subject.length).toBeLessThanOrEqual(SUBJECT_MAX);
    expect(alert.subject).toMatch(/^\[CRITICAL\] orders_x+\.\.\. year=2024/);
    expect(alert.subject).toMatch(/^[\x20-\x7e]+$/);
  });

  it('lets on-call act: error, trimmed cause, Glue run, console links and the replay command', () => {
    const cause = JSON.stringify({
      Id: 'jr_9a8b',
      JobName: 'medallion-silver',
      JobRunState: 'FAILED',
      ErrorMessage: `AnalysisException: cannot resolve 'amount' ${'trace '.repeat(5000)}`,
    });
    const state = plannedState({
      results: {
        bronze: { ...silverResult(0), stage: 'bronze', jobName: 'medallion-bronze', jobRunId: 'jr_b' },
      },
      error: { Error: 'States.TaskFailed', Cause: cause },
    });

    const alert = failureAlert(state, execution);

    expect(alert.attributes).toEqual({
      severity: 'critical',
      kind: 'run-failed',
      dataset: 'orders',
      stage: 'silver',
    });
    expect(alert.body).toContain('The silver Glue job failed: medallion-silver run jr_9a8b ended FAILED.');
    expect(alert.body).toContain("AnalysisException: cannot resolve 'amount'");
    expect(alert.body).toContain('characters trimmed');
    expect(alert.body.length).toBeLessThan(6000);
    expect(alert.body).toContain(
      `https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/${execution.id}`,
    );
    expect(alert.body).toContain(
      'https://eu-west-1.console.aws.amazon.com/gluestudio/home?region=eu-west-1#/job/medallion-silver/run/jr_9a8b',
    );
    expect(alert.body).toContain('log-group/$252Faws-glue$252Fjobs$252Ferror/log-events/jr_9a8b');
    expect(alert.body).toContain(
      `npx medallion replay --dataset orders --partition year=2024/month=01/day=15 --stage silver --state-machine-arn ${execution.stateMachineArn}`,
    );
  });

  it('reads Lambda error causes, Glue JobRun causes and plain text', () => {
    expect(
      parseCause('{"errorType":"ManifestNotFoundError","errorMessage":"Run manifest not found","trace":[]}'),
    ).toEqual({
      message: 'Run manifest not found',
      errorType: 'ManifestNotFoundError',
    });
    expect(parseCause('{"Id":"jr_1","JobName":"j","JobRunState":"TIMEOUT"}')).toEqual({
      message: 'Glue job run ended TIMEOUT',
      glueRun: { id: 'jr_1', jobName: 'j', state: 'TIMEOUT' },
    });
    expect(parseCause('Concurrent runs exceeded')).toEqual({ message: 'Concurrent runs exceeded' });
    expect(parseCause(undefined)).toEqual({ message: '(no cause given)' });
  });

  it('shows ratio against threshold and baseline, counts and quarantine location for a spike', () => {
    const alert = spikeAlert(plannedState({ results: { silver: silverResult(400) } }), execution);

    expect(alert.subject).toBe(
      '[WARNING] orders year=2024/month=01/day=15 silver quarantine spike 20% (max 5%)',
    );
    expect(alert.attributes).toEqual({
      severity: 'warning',
      kind: 'quarantine-spike',
      dataset: 'orders',
      stage: 'silver',
    });
    expect(alert.body).toContain('Quarantine ratio:   20% (400 of 2000 records)');
    expect(alert.body).toContain('Max ratio:          5%  <- exceeded');
    expect(alert.body).toMatch(
      /Baseline: +1\.\d+% = mean 1\.05% \+ 3·σ 0\.13% over the last 4 runs {2}<- exceeded/,
    );
    expect(alert.body).toContain('400 at s3://lake/quarantine/orders/year=2024/month=01/day=15/');
    expect(alert.body).toContain('--stage silver');
  });

  it('stays within the SNS message limit whatever the size of the cause', () => {
    const alert = failureAlert(
      plannedState({ error: { Error: 'Lambda.Unknown', Cause: '€'.repeat(400_000) } }),
      execution,
    );

    expect(Buffer.byteLength(alert.body)).toBeLessThanOrEqual(BODY_MAX_BYTES);
  });
});

describe('notify function (SNS)', () => {
  const handler = (client = new SNSClient({ region: 'eu-west-1' })) => {
    const log = memoryLog();
    return { log, handle: createHandler(() => ({ alerter: new SnsAlerter(TOPIC, client), log })) };
  };

  it('publishes subject, body and the four message attributes for filter policies', async () => {
    const { handle } = handler();

    const result = await handle(
      {
        kind: 'quarantine-spike',
        execution,
        state: plannedState({ results: { silver: silverResult(400) } }),
      },
      {} as never,
    );

    const input = snsMock.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(result).toMatchObject({ published: true, messageId: 'm-1', kind: 'quarantine-spike' });
    expect(input?.TopicArn).toBe(TOPIC);
    expect(input?.Subject?.length).toBeLessThan(100);
    expect(input?.Subject).not.toMatch(/[\r\n]/);
    expect(input?.MessageStructure).toBeUndefined();
    expect(input?.MessageAttributes).toEqual({
      severity: { DataType: 'String', StringValue: 'warning' },
      kind: { DataType: 'String', StringValue: 'quarantine-spike' },
      dataset: { DataType: 'String', StringValue: 'orders' },
      stage: { DataType: 'String', StringValue: 'silver' },
    });
    expect(Buffer.byteLength(input?.Message ?? '')).toBeLessThan(256 * 1024);
  });

  it('still pages readably for an execution started with a broken input', async () => {
    const { handle } = handler();

    const result = await handle(
      {
        kind: 'run-failed',
        execution,
        state: { error: { Error: 'InvalidRunInputError', Cause: 'partitionPath: missing' } } as never,
      },
      {} as never,
    );

    const input = snsMock.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(result.published).toBe(true);
    expect(input?.Subject).toBe(
      '[CRITICAL] unknown-dataset unknown-partition bronze run failed: InvalidRunInputError',
    );
    expect(input?.Message).toContain(
      'Taking the partition lease / planning the run failed, before any stage ran.',
    );
  });

  it('reports a publish failure as AlertPublishError and logs the alert it could not send', async () => {
    snsMock.on(PublishCommand).rejects(Object.assign(new Error('Topic gone'), { name: 'NotFoundException' }));
    const { handle, log } = handler();

    const attempt = handle(
      {
        kind: 'run-failed',
        execution,
        state: plannedState({ error: { Error: 'States.TaskFailed', Cause: 'x' } }),
      },
      {} as never,
    );

    await expect(attempt).rejects.toThrow(AlertPublishError);
    expect(log.lines.find((l) => l.level === 'error')?.attributes['body']).toContain('RUN FAILED');
  });
});
