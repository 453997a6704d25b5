import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoObjectLedger } from '../../shared/aws/dynamo-ledger';
import { S3ManifestStore } from '../../shared/aws/s3-manifests';
import { SFN_CLIENT_CONFIG, SfnRunStarter } from '../../shared/aws/sfn-run-starter';
import { SnsAlerter } from '../../shared/aws/sns-alerter';
import { requireEnv } from '../../shared/config/env';
import { loadDeployedRegistry } from '../../shared/config/deployed-registry';
import { finishEvent, type FinishEventDeps, type FinishEventResult } from '../../shared/core/ended-execution';
import {
  finishExecutionOf,
  type ExecutionStatusChange,
  type FinishExecution,
  type FinishRunDeps,
} from '../../shared/core/run-lease';
import { createLogger } from '../../shared/logger';
import { checkExecutionBudget } from '../../shared/domain/run-slots';
import { leaseTtlMs } from '../../shared/domain/lease';
import { MedallionError } from '../../shared/domain/errors';
import {
  isSlotSweepEvent,
  sweepWaitingRuns,
  type SlotSweepEvent,
  type SweepResult,
} from '../../shared/core/run-slots';
import type {
  Alerter,
  ExecutionStatusReader,
  ManifestStore,
  PartitionLeases,
  RunSlots,
  RunStarter,
} from '../../shared/ports';

/**
 * finish-run: "Release partition lease", the last state of every run (success and failure paths).
 *
 * Input: { executionName: $$.Execution.Name, stateMachineArn: $$.StateMachine.Id,
 *          input: $$.Execution.Input, outcome: 'succeeded' | 'failed',
 *          bronzeManifest?: $.run.jobs.bronze.manifestLocation (success path only) }
 * Output: { lease: 'released' | 'handed-over' | 'not-held',
 *           followUp: { executionName, objects, outcome: 'started' | 'already-started' } | null,
 *           deferredRead: number }
 * When objects landed during the run, those its bronze did not read (its manifest's sourceFiles) get
 * one follow-up run, started here, and the lease is handed to it; those it read become its own.
 * The state machine ARN comes from the context object, not the environment: the state machine
 * already depends on this function, so an env reference back would be circular.
 *
 * Also accepts EventBridge "Step Functions Execution Status Change" events (FAILED, ABORTED,
 * TIMED_OUT): an execution stopped from outside never reaches its last state, and one whose release
 * failed (finish-run down) still holds its lease; either would hold the partition (and any deferred
 * objects) until the lease expires. Idempotent: the second release of an execution is a no-op.
 * For an execution that FAILED on an error no Catch handles (States.Runtime, States.DataLimitExceeded)
 * its failure path never ran: finish-run then also sends the page (output `paged`), through the
 * alert text notify uses (shared/core/ended-execution.ts).
 *
 * The slot an ended execution held goes to the oldest run waiting for one, which finish-run starts
 * (output `waitingStarted`). Every minute an EventBridge schedule also calls it with a sweep event
 * ({ sweep: 'execution-slots', stateMachineArn }): leaked slots are freed, waiting runs that free slots
 * allow (or whose start failed) are started, and the queue's length and age are logged.
 */

const logger = createLogger('finish-run');

/** Env: LEDGER_TABLE, ALERT_TOPIC_ARN, EXECUTION_BUDGET (executions in flight at most). */
export const REQUIRED_ENV = ['LEDGER_TABLE', 'ALERT_TOPIC_ARN', 'EXECUTION_BUDGET'] as const;

export type FinishRunEvent = FinishExecution;

/** What finish-run runs against: the AWS services, or their local twins. */
export interface FinishRunWorld {
  readonly registry: FinishRunDeps['registry'];
  readonly ledger: PartitionLeases & RunSlots;
  /** Executions in flight at most (none: unbounded): the run's slot is handed to its follow-up or released. */
  readonly executionBudget?: number;
  /** Starts the follow-up run and waiting runs (Step Functions / the local runtime). */
  readonly runs: RunStarter;
  /** Reads executions' statuses (the sweep's leak repair); the sweep needs it. */
  readonly executions?: ExecutionStatusReader;
  /** Pages for an execution that skipped its failure path (SNS / the local alerts file). */
  readonly alerts: Alerter;
  /** Where the run's bronze manifest is read (S3 / the lake folder). */
  readonly manifests: ManifestStore;
  readonly log: FinishRunDeps['log'];
}

/** The one wiring of finish-run, used by the Lambda entry and by the local runtime. */
export const finishRunDeps = (world: FinishRunWorld): FinishEventDeps => ({
  registry: world.registry,
  leases: world.ledger,
  ...(world.executionBudget !== undefined
    ? { executionBudget: { slots: world.ledger, budget: world.executionBudget } }
    : {}),
  starter: world.runs,
  ...(world.executions ? { executions: world.executions } : {}),
  alerter: world.alerts,
  manifests: world.manifests,
  log: world.log,
});

let shared:
  | {
      ledger: DynamoObjectLedger;
      sfn: SFNClient;
      alerts: SnsAlerter;
      manifests: S3ManifestStore;
      registry: ReturnType<typeof loadDeployedRegistry>;
      budget: number;
    }
  | undefined;
const defaultDeps = (event: { readonly stateMachineArn: string }): FinishEventDeps => {
  shared ??= {
    ledger: new DynamoObjectLedger(requireEnv('LEDGER_TABLE')),
    sfn: new SFNClient(SFN_CLIENT_CONFIG),
    alerts: new SnsAlerter(requireEnv('ALERT_TOPIC_ARN')),
    manifests: new S3ManifestStore(),
    registry: loadDeployedRegistry(),
    budget: checkExecutionBudget(requireEnv('EXECUTION_BUDGET'), 'EXECUTION_BUDGET'),
  };
  const { ledger, sfn, alerts, manifests, registry, budget } = shared;
  const runs = new SfnRunStarter(event.stateMachineArn, sfn);
  return finishRunDeps({
    registry,
    ledger,
    executionBudget: budget,
    runs,
    executions: runs,
    alerts,
    manifests,
    log: logger,
  });
};

/** A sweep event reached a finish-run wired without an execution budget or a status reader. */
export class SweepUnavailableError extends MedallionError {
  readonly retryable = false;
}

export const createHandler = (
  deps: (call: { readonly stateMachineArn: string }) => FinishEventDeps = defaultDeps,
) =>
  middy(
    async (
      event: FinishRunEvent | ExecutionStatusChange | SlotSweepEvent,
    ): Promise<FinishEventResult | SweepResult> => {
      if (!isSlotSweepEvent(event)) return finishEvent(event, deps(finishExecutionOf(event)));
      const d = deps(event);
      if (!d.executionBudget || !d.executions)
        throw new SweepUnavailableError(
          'sweep: finish-run has no execution budget (EXECUTION_BUDGET) or execution status reader',
        );
      return sweepWaitingRuns({
        ...d.executionBudget,
        executions: d.executions,
        starter: d.starter,
        log: d.log,
        ttlMs: leaseTtlMs(d.registry.datasets),
        ...(d.now ? { now: d.now } : {}),
      });
    },
  ).use(injectLambdaContext(logger, { resetKeys: true }));

export const handler = createHandler();
