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

/**
 * on-landing: S3 object events (via SQS, EventBridge or S3 directly) → one Step Functions execution
 * per (dataset, partition). With SQS, failed messages are reported as partial batch failures and
 * nothing is acknowledged before its run has started.
 */

const logger = createLogger('on-landing');

/** Env: STATE_MACHINE_ARN, LEDGER_TABLE; optional DATASETS_FILE, MAX_CONCURRENT_STARTS. */
export const REQUIRED_ENV = ['STATE_MACHINE_ARN', 'LEDGER_TABLE'] as const;

let awsDeps: LandingDeps | undefined;
const defaultDeps = (): LandingDeps => {
  if (awsDeps) return awsDeps;
  // One table holds the object claims and the partition leases.
  const ledger = new DynamoObjectLedger(requireEnv('LEDGER_TABLE'));
  return (awsDeps = {
    registry: loadDeployedRegistry(),
    ledger,
    leases: ledger,
    starter: new SfnRunStarter(requireEnv('STATE_MACHINE_ARN')),
    log: logger,
    maxConcurrentStarts: intEnv('MAX_CONCURRENT_STARTS', 8),
  });
};

/** A direct (non-SQS) delivery failed: thrown so Lambda's async retries and DLQ take over. */
export class LandingFailedError extends MedallionError {
  readonly retryable = true;
}

export type OnLandingResponse =
  SQSBatchResponse | { counts: LandingResult['counts']; runs: LandingResult['runs'] };

export const createHandler = (deps: () => LandingDeps = defaultDeps) =>
  middy(async (event: unknown): Promise<OnLandingResponse> => {
    const result = await processLanding(event, deps());
    if (result.shape === 'sqs') {
      return { batchItemFailures: result.failedUnits.map((itemIdentifier) => ({ itemIdentifier })) };
    }
    if (result.failures.length > 0) {
      throw new LandingFailedError(
        `${result.counts.failed} record(s) failed: ${result.failures.map((f) => `${f.key ?? f.unit}: ${f.error}: ${f.message}`).join('; ')}`,
      );
    }
    return { counts: result.counts, runs: result.runs };
  }).use(injectLambdaContext(logger, { resetKeys: true }));

export const handler = createHandler();
