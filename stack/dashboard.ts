import { STAGES } from '../shared/domain/datasets';
import { DIMENSIONS, METRIC_NAMES } from '../shared/domain/metrics';
import { WAITING_METRICS } from './back-pressure';
import { functionKey, lambdaLogicalId, type Cfn, type StackContext } from './context';

/**
 * The dashboard `medallion-<stage>-pipeline`: runs and durations, per dataset stage durations,
 * records per stage and quarantine, the landing queue and DLQ, function errors and throttles.
 */
export function dashboard(ctx: StackContext): Cfn {
  const ns = ctx.metricsNamespace;
  const sm = '${PipelineStateMachine}';
  const widgets: Cfn[] = [];
  const add = (title: string, series: unknown[]) => {
    widgets.push({
      type: 'metric',
      x: (widgets.length % 2) * 12,
      y: Math.floor(widgets.length / 2) * 6,
      width: 12,
      height: 6,
      properties: {
        title,
        region: '${AWS::Region}',
        metrics: series,
        period: 300,
        view: 'timeSeries',
        stacked: false,
      },
    });
  };
  const m = (name: string, dataset: string, stage: string, opts: object) => [
    ns,
    name,
    DIMENSIONS.dataset,
    dataset,
    DIMENSIONS.stage,
    stage,
    opts,
  ];
  add('Pipeline runs', [
    ['AWS/States', 'ExecutionsStarted', 'StateMachineArn', sm, { stat: 'Sum' }],
    ['.', 'ExecutionsSucceeded', '.', '.', { stat: 'Sum' }],
    ['.', 'ExecutionsFailed', '.', '.', { stat: 'Sum' }],
    ['.', 'ExecutionsTimedOut', '.', '.', { stat: 'Sum' }],
    ['.', 'ExecutionsAborted', '.', '.', { stat: 'Sum' }],
  ]);
  add('Execution budget: runs waiting for a slot', [
    [ns, WAITING_METRICS.queued, { stat: 'Maximum', label: 'runs waiting' }],
    [ns, WAITING_METRICS.waiting, { stat: 'Sum', label: 'runs that began to wait' }],
    [ns, WAITING_METRICS.inFlight, { stat: 'Maximum', label: 'in flight when one began to wait' }],
    [ns, WAITING_METRICS.oldestAge, { stat: 'Maximum', label: 'oldest wait (s)', yAxis: 'right' }],
  ]);
  add('Pipeline run duration (ms)', [
    ['AWS/States', 'ExecutionTime', 'StateMachineArn', sm, { stat: 'p50' }],
    ['...', { stat: 'p99' }],
  ]);
  for (const d of ctx.datasets) {
    add(
      `${d.name}: stage duration (s)`,
      STAGES.map((s) => m(METRIC_NAMES.duration, d.name, s, { stat: 'Average', label: s })),
    );
    add(`${d.name}: records`, [
      m(METRIC_NAMES.recordsIn, d.name, 'bronze', { stat: 'Sum', label: 'landed rows (bronze in)' }),
      ...STAGES.map((s) => m(METRIC_NAMES.recordsOut, d.name, s, { stat: 'Sum', label: `${s} out` })),
    ]);
    add(`${d.name}: quarantine`, [
      m(METRIC_NAMES.recordsQuarantined, d.name, 'silver', {
        stat: 'Sum',
        id: 'q',
        label: 'quarantined rows',
      }),
      m(METRIC_NAMES.recordsIn, d.name, 'silver', { stat: 'Sum', id: 'n', visible: false }),
      [
        {
          expression: 'IF(n > 0, q / n, 0)',
          label: METRIC_NAMES.quarantineRatio,
          id: 'ratio',
          yAxis: 'right',
        },
      ],
    ]);
  }
  add('Landing queue', [
    [
      'AWS/SQS',
      'ApproximateNumberOfMessagesVisible',
      'QueueName',
      '${LandingQueue.QueueName}',
      { stat: 'Maximum' },
    ],
    ['.', 'ApproximateAgeOfOldestMessage', '.', '.', { stat: 'Maximum', yAxis: 'right' }],
    [
      '.',
      'ApproximateNumberOfMessagesVisible',
      '.',
      '${LandingDeadLetterQueue.QueueName}',
      { stat: 'Maximum', label: 'DLQ' },
    ],
  ]);
  add(
    'Functions: errors and throttles',
    ctx.functionFolders.flatMap((folder) => [
      [
        'AWS/Lambda',
        'Errors',
        'FunctionName',
        `\${${lambdaLogicalId(functionKey(folder))}}`,
        { stat: 'Sum' },
      ],
      ['.', 'Throttles', '.', '.', { stat: 'Sum' }],
    ]),
  );
  return {
    Type: 'AWS::CloudWatch::Dashboard',
    Properties: {
      DashboardName: `${ctx.prefix}-pipeline`,
      DashboardBody: { 'Fn::Sub': JSON.stringify({ widgets }) },
    },
  };
}
