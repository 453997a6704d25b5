import type { Dataset } from '../shared/domain/datasets';
import { DIMENSIONS, METRIC_NAMES } from '../shared/domain/metrics';
import { pascal, type Resources, type StackContext } from './context';

/**
 * Quarantine ratio per dataset: quarantined / records in at the silver stage over one hour, as
 * metric math on the counts the stage functions publish (shared/domain/metrics.ts); alarms above
 * the dataset's declared quarantine.maxRatio. (The per-run spike judgement is the pipeline's own.)
 * The other alarms: static ones in serverless.yml, the functions' in function-alarms.ts, the
 * executions' by serverless-step-functions.
 */
export function quarantineAlarms(ctx: StackContext): Resources {
  const out: Resources = {};
  for (const d of ctx.datasets) out[`QuarantineRatioAlarm${pascal(d.name)}`] = quarantineAlarm(ctx, d);
  return out;
}

function quarantineAlarm(ctx: StackContext, d: Dataset) {
  const dims = [
    { Name: DIMENSIONS.dataset, Value: d.name },
    { Name: DIMENSIONS.stage, Value: 'silver' },
  ];
  const metric = (id: string, name: string) => ({
    Id: id,
    ReturnData: false,
    MetricStat: {
      Metric: { Namespace: ctx.metricsNamespace, MetricName: name, Dimensions: dims },
      Period: 3600,
      Stat: 'Sum',
    },
  });
  return {
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmName: `${ctx.prefix}-quarantine-ratio-${d.name}`,
      AlarmDescription:
        `${d.name}: more than ${d.quarantine.maxRatio * 100}% of silver input rows quarantined in an hour (quarantine.maxRatio). ` +
        `Runbook: see why (npx medallion query "SELECT _quarantine_reasons, count(*) FROM ${d.catalog.tables.quarantine} GROUP BY ALL", or Athena on the stage's database); ` +
        `fix the producer or the dataset's rules, then replay the partitions from silver.`,
      Metrics: [
        metric('quarantined', METRIC_NAMES.recordsQuarantined),
        metric('records', METRIC_NAMES.recordsIn),
        {
          Id: 'ratio',
          Label: METRIC_NAMES.quarantineRatio,
          Expression: 'IF(records > 0, quarantined / records, 0)',
          ReturnData: true,
        },
      ],
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: d.quarantine.maxRatio,
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: 'AlertTopic' }],
      OKActions: [{ Ref: 'AlertTopic' }],
    },
  };
}
