import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  PACKAGE_TIMEOUT_MS,
  ROOT,
  VARIANTS,
  ensurePackaged,
  serverlessDefaults,
  ensureVariant,
  lambdaLogicalId,
  loadTemplate,
  props,
  resource,
  resourcesOfType,
  type Template,
} from './packaged';
import { WAITING_INDEX, waitingIndexDefinition } from '../../shared/aws/dynamo-ledger';
import { isSlotSweepEvent } from '../../shared/core/run-slots';

/**
 * What keeps a deployed stage safe to run and to remove: back-pressure numbers from the parameters,
 * alarms that page once and say what to do, data kept on removal but not after a failed first
 * create, lifecycle rules and log retention everywhere.
 */

// Template JSON: assertions navigate it loosely.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

const defaults = serverlessDefaults();
let templates: Array<{ name: string; template: Template; params: Record<string, number> }>;

beforeAll(() => {
  ensurePackaged();
  const numbers = (p: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(p).map(([k, v]) => [k, Number(v)]));
  templates = [
    { name: 'default', template: loadTemplate(), params: numbers(defaults) },
    {
      name: 'params',
      template: loadTemplate(ensureVariant('params')),
      params: numbers({ ...defaults, ...VARIANTS.params.params }),
    },
  ];
}, 2 * PACKAGE_TIMEOUT_MS);

const alarms = (template: Template) =>
  resourcesOfType(template, 'AWS::CloudWatch::Alarm').map(([id, a]) => [id, a.Properties as Loose] as const);

describe('back-pressure: a backfill queues instead of failing', () => {
  test('on-landing runs at most landingMaxConcurrency at once (the SQS event source)', () => {
    for (const { name, template, params } of templates) {
      const mapping = resourcesOfType(template, 'AWS::Lambda::EventSourceMapping').find(([, r]) =>
        JSON.stringify(r.Properties?.['FunctionName']).includes(lambdaLogicalId('on-landing')),
      )?.[1].Properties as Loose;

      expect({ name, max: mapping.ScalingConfig.MaximumConcurrency }).toEqual({
        name,
        max: params['landingMaxConcurrency'],
      });
    }
  });

  test('the Glue jobs together run at most glueRunBudget, below glueRunQuota; runs over a limit wait', () => {
    for (const { name, template, params } of templates) {
      const jobs = resourcesOfType(template, 'AWS::Glue::Job').map(([, j]) => j.Properties as Loose);
      const total = jobs.reduce((sum, j) => sum + j.ExecutionProperty.MaxConcurrentRuns, 0);

      expect(params['glueRunBudget']).toBeLessThan(params['glueRunQuota']!);
      expect({ name, withinBudget: total <= params['glueRunBudget']! }).toEqual({ name, withinBudget: true });
      expect({ name, perJob: jobs.map((j) => j.ExecutionProperty.MaxConcurrentRuns) }).toEqual({
        name,
        perJob: jobs.map(() => Math.floor(params['glueRunBudget']! / jobs.length)),
      });
      for (const j of jobs) expect(j.JobRunQueuingEnabled).toBe(true);
    }
  });

  test("on-landing and finish-run bound executions in flight by executionBudget, at most each job's MaxConcurrentRuns", () => {
    const budgets = templates.map(({ name, template, params }) => {
      const jobs = resourcesOfType(template, 'AWS::Glue::Job').map(([, j]) => j.Properties as Loose);
      const perJob = Math.min(...jobs.map((j) => j.ExecutionProperty.MaxConcurrentRuns));
      const env = (folder: string) =>
        (resource(template, lambdaLogicalId(folder)).Properties as Loose).Environment.Variables
          .EXECUTION_BUDGET;
      const expected =
        Number.isNaN(params['executionBudget']) || params['executionBudget'] === 0
          ? perJob
          : params['executionBudget'];
      return {
        name,
        onLanding: env('on-landing'),
        finishRun: env('finish-run'),
        expected: String(expected),
        perJob,
      };
    });

    // What an operator sees of runs waiting for a slot: on-landing's log line, counted.
    for (const { template } of templates) {
      const filters = resourcesOfType(template, 'AWS::Logs::MetricFilter')
        .map(([, f]) => f.Properties as Loose)
        .filter((f) => f.FilterPattern === '{ $.message = "Run waits for an execution slot" }');
      expect(filters.map((f) => [f.LogGroupName, f.MetricTransformations[0].MetricValue])).toEqual([
        [{ Ref: 'OnLandingLogGroup' }, '1'],
        [{ Ref: 'OnLandingLogGroup' }, '$.inFlight'],
      ]);
    }
    // The default: empty, so each job's MaxConcurrentRuns (30 / 3 jobs); the variant names 25 of 40.
    expect(budgets).toEqual([
      { name: 'default', onLanding: '10', finishRun: '10', expected: '10', perJob: 10 },
      { name: 'params', onLanding: '25', finishRun: '25', expected: '25', perJob: 40 },
    ]);
  });
});

describe('runs waiting for an execution slot wait in the ledger, and an operator sees them', () => {
  test("the ledger table has the adapter's waiting-runs index, and finish-run may query it and read run statuses", () => {
    for (const { name, template } of templates) {
      const table = props(template, 'LedgerTable');
      const index = waitingIndexDefinition();
      expect({ name, indexes: table.GlobalSecondaryIndexes }).toEqual({ name, indexes: [index] });
      for (const key of index.KeySchema)
        expect(table.AttributeDefinitions).toContainEqual({
          AttributeName: key.AttributeName,
          AttributeType: 'S',
        });
      const policy = JSON.stringify(props(template, 'FinishRunRole').Policies);
      expect(policy).toContain(`/index/${WAITING_INDEX.IndexName}`);
      expect(policy).toContain('dynamodb:Query');
      expect(policy).toContain('states:DescribeExecution');
    }
  });

  test('finish-run sweeps the slots every minute, told which state machine to start', () => {
    for (const { name, template } of templates) {
      const rule = props(template, 'SlotSweepRule');
      const target = rule.Targets[0];
      const [, parts] = target.Input['Fn::Join'];
      const input = JSON.parse(parts.map((p: Loose) => (typeof p === 'string' ? p : 'ARN')).join(''));

      expect({ name, rate: rule.ScheduleExpression }).toEqual({ name, rate: 'rate(1 minute)' });
      expect(target.Arn).toEqual({ 'Fn::GetAtt': [lambdaLogicalId('finish-run'), 'Arn'] });
      expect(isSlotSweepEvent(input)).toBe(true);
      expect(JSON.stringify(parts)).toContain('stateMachine:medallion-dev-pipeline');
      expect(props(template, 'SlotSweepPermission')).toMatchObject({
        Principal: 'events.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': ['SlotSweepRule', 'Arn'] },
      });
    }
  });

  test("the sweep's line becomes the queue's length and oldest age, which pages past waitingRunAlarmMinutes", () => {
    for (const { name, template, params } of templates) {
      const swept = resourcesOfType(template, 'AWS::Logs::MetricFilter')
        .map(([, f]) => f.Properties as Loose)
        .filter((f) => f.FilterPattern === '{ $.message = "Execution slots swept" }');
      const alarm = props(template, 'WaitingRunTooOldAlarm');

      expect(
        swept.map((f) => [
          f.LogGroupName,
          f.MetricTransformations[0].MetricName,
          f.MetricTransformations[0].MetricValue,
        ]),
      ).toEqual([
        [{ Ref: 'FinishRunLogGroup' }, 'RunsWaiting', '$.waiting'],
        [{ Ref: 'FinishRunLogGroup' }, 'OldestWaitingRunSeconds', '$.oldestWaitingSeconds'],
      ]);
      expect({ name, metric: alarm.MetricName, threshold: alarm.Threshold, ns: alarm.Namespace }).toEqual({
        name,
        metric: 'OldestWaitingRunSeconds',
        threshold: params['waitingRunAlarmMinutes']! * 60,
        ns: swept[0].MetricTransformations[0].MetricNamespace,
      });
      const widget = JSON.stringify(props(template, 'Dashboard'));
      expect(widget).toContain('OldestWaitingRunSeconds');
      expect(widget).toContain('RunsWaiting');
    }
  });
});

describe('alarms that mean something', () => {
  test('a failed execution pages once: through its failure path (notify), not also through an ExecutionsFailed alarm', () => {
    for (const { template } of templates) {
      expect(alarms(template).filter(([, a]) => a.MetricName === 'ExecutionsFailed')).toEqual([]);
    }
  });

  test('timed-out, aborted and throttled executions, the stuck landing queue and StartExecution throttling page', () => {
    const { template } = templates[0]!;
    const on = (metric: string) => alarms(template).filter(([, a]) => a.MetricName === metric);

    for (const metric of ['ExecutionsTimedOut', 'ExecutionsAborted', 'ExecutionThrottled']) {
      expect({ metric, dims: on(metric).map(([, a]) => a.Dimensions) }).toEqual({
        metric,
        dims: [[{ Name: 'StateMachineArn', Value: { Ref: 'PipelineStateMachine' } }]],
      });
    }
    const age = on('ApproximateAgeOfOldestMessage');
    expect(age.map(([, a]) => a.Dimensions)).toEqual([
      [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['LandingQueue', 'QueueName'] } }],
    ]);
    expect(age[0]![1].Threshold).toBeLessThan(props(template, 'LandingQueue').MessageRetentionPeriod);
    expect(on('ThrottledEvents').map(([, a]) => a.Dimensions)).toEqual([
      [{ Name: 'APIName', Value: 'StartExecution' }],
    ]);
  });

  test("a function's errors alarm leaves out the errors the state machine retries by design", () => {
    const { template } = templates[0]!;
    const asl = JSON.stringify(
      JSON.parse(readFileSync(join(ROOT, 'state-machines', 'medallion-pipeline.asl.json'), 'utf8')),
    );
    const errors = props(template, 'PrepareRunErrorsAlarm');
    const filters = resourcesOfType(template, 'AWS::Logs::MetricFilter')
      .map(([, f]) => f.Properties as Loose)
      .filter((f) => f.LogGroupName.Ref === 'PrepareRunLogGroup');

    expect(asl).toContain('"PartitionBusyError"');
    expect(filters.map((f) => f.FilterPattern)).toEqual(['"Invoke Error" "PartitionBusyError"']);
    const retried = errors.Metrics.find((m: Loose) => m.Id === 'retried').MetricStat.Metric;
    expect(retried).toEqual({
      Namespace: filters[0].MetricTransformations[0].MetricNamespace,
      MetricName: filters[0].MetricTransformations[0].MetricName,
    });
    expect(errors.Metrics.find((m: Loose) => m.ReturnData).Expression).toBe('errors - FILL(retried, 0)');
    expect(errors.Metrics.find((m: Loose) => m.Id === 'errors').MetricStat.Metric.Dimensions).toEqual([
      { Name: 'FunctionName', Value: { Ref: lambdaLogicalId('prepare-run') } },
    ]);
    // A function without retried errors keeps the plain Errors alarm.
    expect(props(template, 'RecordStageErrorsAlarm').MetricName).toBe('Errors');
  });

  test('every alarm pages the alert topic and says what to do (its runbook)', () => {
    for (const { template } of templates) {
      for (const [id, a] of alarms(template)) {
        expect({ id, actions: a.AlarmActions }).toEqual({ id, actions: [{ Ref: 'AlertTopic' }] });
        expect({ id, runbook: /Runbook: \S/.test(String(a.AlarmDescription)) }).toEqual({
          id,
          runbook: true,
        });
      }
    }
  });
});

describe('safe first deploy and removal', () => {
  test('the lake and the ledger survive removal but not a rolled-back first create', () => {
    const { template } = templates[0]!;
    for (const id of ['LakeBucket', 'LedgerTable']) {
      expect({ id, deletion: (resource(template, id) as Loose).DeletionPolicy }).toEqual({
        id,
        deletion: 'RetainExceptOnCreate',
      });
    }
  });

  test('every bucket expires old versions and unfinished uploads; every log group has a retention', () => {
    for (const { name, template, params } of templates) {
      for (const [id, b] of resourcesOfType(template, 'AWS::S3::Bucket')) {
        const rules = ((b.Properties as Loose).LifecycleConfiguration?.Rules ?? []) as Loose[];
        expect({ name, id, abort: rules.some((r) => r.AbortIncompleteMultipartUpload) }).toEqual({
          name,
          id,
          abort: true,
        });
        expect({ name, id, versions: rules.some((r) => r.NoncurrentVersionExpiration) }).toEqual({
          name,
          id,
          versions: true,
        });
      }
      for (const [id, g] of resourcesOfType(template, 'AWS::Logs::LogGroup')) {
        // A --param value reaches the template as text ("90"), which CloudFormation reads as a number.
        expect({ name, id, days: Number((g.Properties as Loose).RetentionInDays) }).toEqual({
          name,
          id,
          days: params['logRetentionDays'],
        });
      }
    }
  });
});
