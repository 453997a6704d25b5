import { functionPlaceholder } from '../shared/domain/asl-placeholders';
import { functionKey, lambdaLogicalId, logGroupLogicalId, pascal } from './context';

/**
 * The errors and throttles alarms of each function. An error the state machine retries by design
 * (prepare-run's PartitionBusyError while another run holds the partition, finish-run's
 * LeaseContentionError) is not a page: a log metric filter counts those invocation errors and the
 * alarm watches Lambda's Errors minus them. If the retries run out, the execution fails and pages.
 */

type Cfn = Record<string, unknown>;
interface AslState {
  Type?: string;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  Retry?: Array<{ ErrorEquals: string[] }>;
  Branches?: Array<{ States: Record<string, AslState> }>;
  ItemProcessor?: { States: Record<string, AslState> };
  Iterator?: { States: Record<string, AslState> };
}

/** Per function folder, the error names its Lambda tasks retry that are the function's own errors. */
export function retriedErrors(
  asl: { States: Record<string, AslState> },
  folders: readonly string[],
): Map<string, string[]> {
  const out = new Map<string, Set<string>>(folders.map((f) => [f, new Set<string>()]));
  const visit = (states: Record<string, AslState>): void => {
    for (const state of Object.values(states)) {
      if (state.Type === 'Task' && String(state.Resource).includes(':lambda:invoke')) {
        const target = String(state.Parameters?.['FunctionName'] ?? '');
        const folder = folders.find((f) => target.includes(`\${${functionPlaceholder(f)}}`));
        for (const retry of state.Retry ?? [])
          for (const name of retry.ErrorEquals)
            if (folder && !name.startsWith('Lambda.') && !name.startsWith('States.'))
              out.get(folder)!.add(name);
      }
      for (const branch of state.Branches ?? []) visit(branch.States);
      if (state.ItemProcessor) visit(state.ItemProcessor.States);
      if (state.Iterator) visit(state.Iterator.States);
    }
  };
  visit(asl.States);
  return new Map([...out].map(([f, names]) => [f, [...names].sort()]));
}

export interface FunctionAlarmsInput {
  folders: readonly string[];
  asl: { States: Record<string, AslState> };
  /** `medallion-<stage>`: alarm names. */
  prefix: string;
  /** The stage's metrics namespace (the retried-errors metrics go there). */
  namespace: string;
}

/** The metric a function's retried-by-design errors are counted in. */
export const retriedErrorsMetric = (folder: string): string => `RetriedErrors-${folder}`;

export function functionAlarms(p: FunctionAlarmsInput): Record<string, Cfn> {
  const resources: Record<string, Cfn> = {};
  const retried = retriedErrors(p.asl, p.folders);
  const common = {
    EvaluationPeriods: 1,
    Threshold: 1,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    TreatMissingData: 'notBreaching',
    AlarmActions: [{ Ref: 'AlertTopic' }],
  };
  for (const folder of p.folders) {
    const id = pascal(folder);
    const fn = { Ref: lambdaLogicalId(functionKey(folder)) };
    const names = retried.get(folder) ?? [];
    const lambdaMetric = (metric: string) => ({
      Namespace: 'AWS/Lambda',
      MetricName: metric,
      Dimensions: [{ Name: 'FunctionName', Value: fn }],
    });
    names.forEach((name, i) => {
      resources[`${id}RetriedErrorsFilter${i + 1}`] = {
        Type: 'AWS::Logs::MetricFilter',
        Properties: {
          LogGroupName: { Ref: logGroupLogicalId(folder) },
          // The Node.js runtime logs a thrown error as `ERROR Invoke Error {"errorType":"<name>",...}`.
          FilterPattern: `"Invoke Error" "${name}"`,
          MetricTransformations: [
            { MetricNamespace: p.namespace, MetricName: retriedErrorsMetric(folder), MetricValue: '1' },
          ],
        },
      };
    });
    const errors =
      names.length === 0
        ? { ...lambdaMetric('Errors'), Statistic: 'Sum', Period: 300 }
        : {
            Metrics: [
              {
                Id: 'errors',
                ReturnData: false,
                MetricStat: { Metric: lambdaMetric('Errors'), Period: 300, Stat: 'Sum' },
              },
              {
                Id: 'retried',
                ReturnData: false,
                MetricStat: {
                  Metric: { Namespace: p.namespace, MetricName: retriedErrorsMetric(folder) },
                  Period: 300,
                  Stat: 'Sum',
                },
              },
              {
                Id: 'unexpected',
                Label: 'errors not retried by design',
                Expression: 'errors - FILL(retried, 0)',
                ReturnData: true,
              },
            ],
          };
    const retriedNote = names.length
      ? ` ${names.join(', ')} (retried by the state machine by design) are not counted.`
      : '';
    resources[`${id}ErrorsAlarm`] = {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmName: `${p.prefix}-${folder}-errors`,
        AlarmDescription:
          `${folder} failed invocations.${retriedNote} Runbook: search its log group for "Invoke Error"; ` +
          `a pipeline task's failure also failed its execution, which paged with the dataset, partition ` +
          `and error; fix the cause, then replay the partition (npx medallion replay).`,
        ...errors,
        ...common,
      },
    };
    resources[`${id}ThrottlesAlarm`] = {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmName: `${p.prefix}-${folder}-throttles`,
        AlarmDescription:
          `${folder} invocations were throttled (the account's Lambda concurrency is used up). Runbook: ` +
          `find the function using the concurrency (Lambda console, ConcurrentExecutions), lower ` +
          `landingMaxConcurrency, or ask for a higher Lambda concurrency quota.`,
        ...lambdaMetric('Throttles'),
        Statistic: 'Sum',
        Period: 300,
        ...common,
      },
    };
  }
  return resources;
}
