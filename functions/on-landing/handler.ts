import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { SQSBatchResponse } from 'aws-lambda';
import { processLanding, type LandingDeps, type LandingResult } from '../../shared/core/landing';
import { DynamoObjectLedger } from '../../shared/aws/dynamo-ledger';
import { SfnRunStarter } from '../../shared/aws/sfn-run-starter';
import { intEnv, requireEnv } from '../../shared/config/env';
import { loadDeployedRegistry } from '../../shared/config/deployed-registry';
import { MedallionError } from '../../shared/domain/errors';
import { createLogger } from '../../shared/logger';
import { checkExecutionBudget } from '../../shared/domain/run-slots';
import type {
  ExecutionStatusReader,
  ObjectLedger,
  PartitionLeases,
  RunSlots,
  RunStarter,
} from '../../shared/ports';

/**
 * on-landing: S3 object events (via SQS, EventBridge or S3 directly) → one Step Functions execution
 * per (dataset, partition). With SQS, failed messages are reported as partial batch failures and
 * nothing is acknowledged before its run has started.
 */

const logger = createLogger('on-landing');

/**
 * Env: STATE_MACHINE_ARN, LEDGER_TABLE, EXECUTION_BUDGET (executions in flight at most); optional
 * DATASETS_FILE, MAX_CONCURRENT_STARTS.
 */
export const REQUIRED_ENV = ['STATE_MACHINE_ARN', 'LEDGER_TABLE', 'EXECUTION_BUDGET'] as const;

/** What on-landing runs against: the AWS services, or their local twins. */
export interface LandingWorld {
  readonly registry: LandingDeps['registry'];
  /** One store holds the object claims, the partition leases and the execution slots (DynamoDB table / ledger file). */
  readonly ledger: ObjectLedger & PartitionLeases & RunSlots;
  /** Executions in flight at most (none: unbounded). */
  readonly executionBudget?: number;
  /** Starts runs and reads their statuses (Step Functions / the local runtime). */
  readonly runs: RunStarter & ExecutionStatusReader;
  readonly log: LandingDeps['log'];
  readonly maxConcurrentStarts?: number;
}

/** The one wiring of on-landing, used by the Lambda entry and by the local runtime. */
export const landingDeps = (world: LandingWorld): LandingDeps => ({
  registry: world.registry,
  ledger: world.ledger,
  leases: world.ledger,
  ...(world.executionBudget !== undefined
    ? { executionBudget: { slots: world.ledger, budget: world.executionBudget } }
    : {}),
  starter: world.runs,
  executions: world.runs,
  log: world.log,
  ...(world.maxConcurrentStarts !== undefined ? { maxConcurrentStarts: world.maxConcurrentStarts } : {}),
});

let awsDeps: LandingDeps | undefined;
const defaultDeps = (): LandingDeps =>
  (awsDeps ??= landingDeps({
    registry: loadDeployedRegistry(),
    ledger: new DynamoObjectLedger(requireEnv('LEDGER_TABLE')),
    runs: new SfnRunStarter(requireEnv('STATE_MACHINE_ARN')),
    log: logger,
    executionBudget: checkExecutionBudget(requireEnv('EXECUTION_BUDGET'), 'EXECUTION_BUDGET'),
    maxConcurrentStarts: intEnv('MAX_CONCURRENT_STARTS', 8),
  }));

/** A direct (non-SQS) delivery failed: thrown so Lambda's async retries and DLQ take over. */
export class LandingFailedError extends MedallionError {
  readonly retryable = true;
}

export type OnLandingResponse =
  | SQSBatchResponse
  | { counts: LandingResult['counts']; runs: LandingResult['runs']; failures: LandingResult['failures'] };

export const createHandler = (deps: () => LandingDeps = defaultDeps) =>
  middy(async (event: unknown): Promise<OnLandingResponse> => {
    const result = await processLanding(event, deps());
    if (result.shape === 'sqs') {
      return { batchItemFailures: result.failedUnits.map((itemIdentifier) => ({ itemIdentifier })) };
    }
    // A direct event is retried by Lambda as a whole: worth it only if some failure can heal.
    // Permanent failures are logged by name (and counted) and not retried for nothing.
    if (result.failures.some((f) => f.retryable)) {
      throw new LandingFailedError(
        `${result.counts.failed} record(s) failed: ${result.failures.map((f) => `${f.key ?? f.unit}: ${f.error}: ${f.message}`).join('; ')}`,
      );
    }
    return { counts: result.counts, runs: result.runs, failures: result.failures };
  }).use(injectLambdaContext(logger, { resetKeys: true }));

export const handler = createHandler();
