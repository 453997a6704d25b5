import { checkExecutionBudget } from '../shared/domain/run-slots';
import {
  functionKey,
  lambdaLogicalId,
  logGroupLogicalId,
  type BuildParams,
  type Cfn,
  type Resources,
  type StackContext,
} from './context';

/**
 * Back-pressure parameters checked at packaging (docs/deploy.md "Back-pressure"): the Glue jobs'
 * MaxConcurrentRuns add up to at most `glueRunBudget`, which must stay below `glueRunQuota`, the
 * account's concurrent job runs. Runs over a limit wait in Glue's queue (job run queuing). The
 * landing side is bounded by the SQS event source's MaximumConcurrency (serverless.yml), and the
 * executions in flight by `executionBudget` (shared/domain/run-slots.ts): at most each job's
 * MaxConcurrentRuns, its default, since an execution runs one Glue stage at a time, so no run of a
 * stage within the budget ever waits on its job's limit.
 */

/** MaxConcurrentRuns of each of `jobCount` Glue jobs. */
export function runsPerJob(p: Pick<BuildParams, 'glueRunBudget' | 'glueRunQuota'>, jobCount: number): number {
  const runs = Math.floor(p.glueRunBudget / Math.max(1, jobCount));
  if (!(p.glueRunBudget < p.glueRunQuota) || runs < 1) {
    throw new Error(
      `glueRunBudget ${p.glueRunBudget}: must be below glueRunQuota ${p.glueRunQuota} (the account's concurrent Glue job runs) and at least the number of Glue jobs (${jobCount})`,
    );
  }
  return runs;
}

/**
 * The executions in flight at most (on-landing's and finish-run's EXECUTION_BUDGET): the parameter,
 * or, when it is empty, each Glue job's MaxConcurrentRuns; never above it.
 */
export function executionBudget(
  p: Pick<BuildParams, 'glueRunBudget' | 'glueRunQuota' | 'executionBudget'>,
  jobCount: number,
): number {
  const perJob = runsPerJob(p, jobCount);
  if (p.executionBudget.trim() === '') return perJob;
  const budget = checkExecutionBudget(p.executionBudget);
  if (budget > perJob)
    throw new Error(
      `executionBudget ${budget}: must be at most each Glue job's MaxConcurrentRuns (${perJob} = glueRunBudget ${p.glueRunBudget} / ${jobCount} jobs), or executions would wait in Glue's queue past their Task timeouts`,
    );
  return budget;
}

/** The metrics of runs waiting for an execution slot, in the stage's namespace. */
export const WAITING_METRICS = {
  /** Runs that found every slot held and began to wait in the ledger (on-landing's log line). */
  waiting: 'RunsWaitingForSlot',
  /** Executions in flight when a run had to wait (Maximum: the budget while a backlog waits). */
  inFlight: 'ExecutionsInFlightWhenWaiting',
  /** Runs waiting in the ledger, as the sweep counts them every minute (finish-run's log line). */
  queued: 'RunsWaiting',
  /** How long the oldest waiting run has waited, in seconds (the sweep's line; the alarm's metric). */
  oldestAge: 'OldestWaitingRunSeconds',
} as const;

/** How often finish-run sweeps the execution slots (shared/core/run-slots.ts sweepWaitingRuns). */
export const SLOT_SWEEP_RATE = 'rate(1 minute)';

/**
 * Metric filters turning on-landing's "Run waits for an execution slot" lines (shared/core/landing.ts)
 * and the sweep's "Execution slots swept" lines (shared/core/run-slots.ts) into the WAITING_METRICS,
 * shown on the dashboard; the schedule that runs the sweep; and the alarm on the oldest waiting run's
 * age (`waitingRunAlarmMinutes`): an operator sees a backlog waiting for slots, how full the budget
 * is, and is paged when a run waits too long.
 */
export function waitingRunResources(ctx: StackContext): Resources {
  const namespace = ctx.metricsNamespace;
  const filter = (folder: string, message: string, name: string, value: string): Cfn => ({
    Type: 'AWS::Logs::MetricFilter',
    Properties: {
      LogGroupName: { Ref: logGroupLogicalId(folder) },
      FilterPattern: `{ $.message = "${message}" }`,
      MetricTransformations: [{ MetricNamespace: namespace, MetricName: name, MetricValue: value }],
    },
  });
  const finishRun = lambdaLogicalId(functionKey('finish-run'));
  const minutes = checkWaitingRunAlarmMinutes(ctx.params.waitingRunAlarmMinutes);
  return {
    RunsWaitingForSlotFilter: filter(
      'on-landing',
      'Run waits for an execution slot',
      WAITING_METRICS.waiting,
      '1',
    ),
    ExecutionsInFlightWhenWaitingFilter: filter(
      'on-landing',
      'Run waits for an execution slot',
      WAITING_METRICS.inFlight,
      '$.inFlight',
    ),
    RunsWaitingFilter: filter('finish-run', 'Execution slots swept', WAITING_METRICS.queued, '$.waiting'),
    OldestWaitingRunFilter: filter(
      'finish-run',
      'Execution slots swept',
      WAITING_METRICS.oldestAge,
      '$.oldestWaitingSeconds',
    ),
    // The sweep's schedule, with the state machine's ARN as its input (serverless' schedule event
    // would write an intrinsic function into the input as text).
    SlotSweepRule: {
      Type: 'AWS::Events::Rule',
      Properties: {
        Name: `${ctx.prefix}-slot-sweep`,
        Description: 'Every minute: finish-run frees leaked execution slots and starts runs waiting for one',
        ScheduleExpression: SLOT_SWEEP_RATE,
        State: 'ENABLED',
        Targets: [
          {
            Id: 'finish-run',
            Arn: { 'Fn::GetAtt': [finishRun, 'Arn'] },
            Input: {
              'Fn::Join': ['', ['{"sweep":"execution-slots","stateMachineArn":"', ctx.stateMachineArn, '"}']],
            },
          },
        ],
      },
    },
    SlotSweepPermission: {
      Type: 'AWS::Lambda::Permission',
      Properties: {
        Action: 'lambda:InvokeFunction',
        FunctionName: { 'Fn::GetAtt': [finishRun, 'Arn'] },
        Principal: 'events.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': ['SlotSweepRule', 'Arn'] },
      },
    },
    WaitingRunTooOldAlarm: {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmName: `${ctx.prefix}-waiting-run-too-old`,
        AlarmDescription:
          `A run has waited more than ${minutes} minutes for an execution slot (waitingRunAlarmMinutes). ` +
          'Runbook: if every slot is held by running executions, the backlog is just long (raise executionBudget within glueRunBudget, or wait); ' +
          `if runs wait while slots are free, read finish-run's log for "A waiting run could not be started" (its error) and the sweep's "Execution slots swept" lines; ` +
          `the queue is the ledger's lease items with a waitingRun (the ledger table's index waiting-runs).`,
        Namespace: namespace,
        MetricName: WAITING_METRICS.oldestAge,
        Statistic: 'Maximum',
        Period: 300,
        EvaluationPeriods: 1,
        DatapointsToAlarm: 1,
        Threshold: minutes * 60,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: 'AlertTopic' }],
        OKActions: [{ Ref: 'AlertTopic' }],
      },
    },
  };
}

/** The alarm's threshold: a whole number of minutes, at least 5 (the alarm's period). */
export function checkWaitingRunAlarmMinutes(value: number): number {
  if (!Number.isInteger(value) || value < 5)
    throw new Error(
      `waitingRunAlarmMinutes: must be a whole number of minutes, at least 5, got ${String(value)}`,
    );
  return value;
}
