import {
  CloudWatchClient,
  GetMetricDataCommand,
  PutMetricDataCommand,
  type MetricDatum,
} from '@aws-sdk/client-cloudwatch';
import { chunk } from '../domain/chunk';
import { DEFAULT_METRICS_NAMESPACE, DIMENSIONS, METRIC_NAMES, stageMetricPoints } from '../domain/metrics';
import type { MetricsReader, MetricsSink, StageMetrics } from '../ports';

/** PutMetricData accepts at most 1,000 metrics per request. */
const PUT_MAX_METRICS = 1000;
/** How far back the baseline looks; 5-minute data is kept 63 days. */
export const BASELINE_WINDOW_DAYS = 60;
/** Period of the baseline query: one data point per run unless two runs finish in the same 5 minutes. */
const BASELINE_PERIOD_S = 300;

/** Stage metrics on CloudWatch: one PutMetricData per stage; the quarantine baseline via GetMetricData. */
export class CloudWatchMetrics implements MetricsSink, MetricsReader {
  readonly namespace: string;

  constructor(
    namespace: string | undefined = undefined,
    private readonly client: CloudWatchClient = new CloudWatchClient({ maxAttempts: 5 }),
  ) {
    this.namespace = namespace && namespace.trim() !== '' ? namespace : DEFAULT_METRICS_NAMESPACE;
  }

  async publishStage(metrics: StageMetrics): Promise<void> {
    const dimensions = [
      { Name: DIMENSIONS.dataset, Value: metrics.dataset },
      { Name: DIMENSIONS.stage, Value: metrics.stage },
    ];
    const data: MetricDatum[] = stageMetricPoints(metrics).map((p) => ({
      MetricName: p.name,
      Dimensions: dimensions,
      Timestamp: metrics.timestamp,
      Value: p.value,
      Unit: p.unit,
    }));
    for (const part of chunk(data, PUT_MAX_METRICS)) {
      await this.client.send(new PutMetricDataCommand({ Namespace: this.namespace, MetricData: part }));
    }
  }

  async recentQuarantineRatios(query: {
    dataset: string;
    stage: StageMetrics['stage'];
    limit: number;
    before: Date;
  }): Promise<number[]> {
    const values: number[] = [];
    let nextToken: string | undefined;
    do {
      const out = await this.client.send(
        new GetMetricDataCommand({
          StartTime: new Date(query.before.getTime() - BASELINE_WINDOW_DAYS * 86_400_000),
          EndTime: query.before,
          ScanBy: 'TimestampDescending',
          MetricDataQueries: [
            {
              Id: 'ratio',
              MetricStat: {
                Metric: {
                  Namespace: this.namespace,
                  MetricName: METRIC_NAMES.quarantineRatio,
                  Dimensions: [
                    { Name: DIMENSIONS.dataset, Value: query.dataset },
                    { Name: DIMENSIONS.stage, Value: query.stage },
                  ],
                },
                Period: BASELINE_PERIOD_S,
                Stat: 'Average',
              },
              ReturnData: true,
            },
          ],
          ...(nextToken ? { NextToken: nextToken } : {}),
        }),
      );
      for (const r of out.MetricDataResults ?? []) values.push(...(r.Values ?? []));
      nextToken = out.NextToken;
    } while (nextToken && values.length < query.limit);
    return values.slice(0, query.limit);
  }
}
