import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudWatchMetrics } from '../../shared/aws/cloudwatch-metrics';

const cwMock = mockClient(CloudWatchClient);
const client = () => new CloudWatchClient({ region: 'eu-west-1' });
const SILVER = {
  dataset: 'orders',
  stage: 'silver' as const,
  timestamp: new Date('2024-01-15T10:24:30Z'),
  durationSeconds: 150,
  recordsIn: 1000,
  recordsOut: 990,
  recordsQuarantined: 10,
  schemaDriftColumns: 0,
  quarantineRatio: 0.01,
};

beforeEach(() => {
  cwMock.reset();
  cwMock.on(PutMetricDataCommand).resolves({});
});

describe('CloudWatch stage metrics', () => {
  it('publishes the five stage metrics in one PutMetricData, with Dataset and Stage dimensions', async () => {
    await new CloudWatchMetrics(undefined, client()).publishStage(SILVER);

    const calls = cwMock.commandCalls(PutMetricDataCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.Namespace).toBe('MedallionLake');
    const dims = [
      { Name: 'Dataset', Value: 'orders' },
      { Name: 'Stage', Value: 'silver' },
    ];
    const at = new Date('2024-01-15T10:24:30Z');
    expect(calls[0]?.MetricData).toEqual([
      { MetricName: 'StageDurationSeconds', Dimensions: dims, Timestamp: at, Value: 150, Unit: 'Seconds' },
      { MetricName: 'RecordsIn', Dimensions: dims, Timestamp: at, Value: 1000, Unit: 'Count' },
      { MetricName: 'RecordsOut', Dimensions: dims, Timestamp: at, Value: 990, Unit: 'Count' },
      { MetricName: 'RecordsQuarantined', Dimensions: dims, Timestamp: at, Value: 10, Unit: 'Count' },
      { MetricName: 'QuarantineRatio', Dimensions: dims, Timestamp: at, Value: 0.01, Unit: 'None' },
    ]);
  });

  it('adds SchemaDriftColumns to the bronze stage metrics (0 when nothing drifted)', async () => {
    await new CloudWatchMetrics(undefined, client()).publishStage({
      ...SILVER,
      stage: 'bronze',
      recordsQuarantined: 0,
      quarantineRatio: 0,
      schemaDriftColumns: 3,
    });

    const data = cwMock.commandCalls(PutMetricDataCommand)[0]?.args[0].input.MetricData ?? [];
    expect(data.map((d) => d.MetricName)).toEqual([
      'StageDurationSeconds',
      'RecordsIn',
      'RecordsOut',
      'RecordsQuarantined',
      'QuarantineRatio',
      'SchemaDriftColumns',
    ]);
    expect(data[5]).toMatchObject({
      Value: 3,
      Unit: 'Count',
      Dimensions: [
        { Name: 'Dataset', Value: 'orders' },
        { Name: 'Stage', Value: 'bronze' },
      ],
    });
  });

  it('uses the configured namespace and never sends NaN or Infinity', async () => {
    await new CloudWatchMetrics('ShopLake', client()).publishStage({
      ...SILVER,
      durationSeconds: Number.NaN,
      quarantineRatio: Number.POSITIVE_INFINITY,
    });

    const input = cwMock.commandCalls(PutMetricDataCommand)[0]?.args[0].input;
    expect(input?.Namespace).toBe('ShopLake');
    expect(input?.MetricData?.every((d) => Number.isFinite(d.Value))).toBe(true);
  });
});
