import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { DynamoObjectLedger } from '../../shared/aws/dynamo-ledger';
import { requireEnv } from '../../shared/config/env';
import { loadDeployedRegistry } from '../../shared/config/deployed-registry';
import {
  prepareRun,
  type PreparedState,
  type PrepareRunDeps,
  type PrepareRunInput,
} from '../../shared/core/run-lease';
import { createLogger } from '../../shared/logger';

/**
 * prepare-run: "Take partition lease", the first state of every run.
 *
 * Input: { executionName: $$.Execution.Name, input: $ (the RunInput) }
 * Output (becomes the whole state): the RunInput plus
 *   run: { runId, fromStage, partitionKey, leaseExpiresAt,
 *          jobs: { bronze|silver|gold: { jobName, timeoutMinutes, arguments, manifestLocation } } },
 *   jobRuns: {}, results: {}
 * Errors: PartitionBusyError (retryable: another run holds the lease), InvalidRunInputError,
 * DatasetConfigError (unknown dataset).
 */

const logger = createLogger('prepare-run');

/** Env: LAKE_BUCKET (the lake's bucket name), PLANS_LOCATION (s3://…/plans/), LEDGER_TABLE. */
export const REQUIRED_ENV = ['LAKE_BUCKET', 'PLANS_LOCATION', 'LEDGER_TABLE'] as const;

let awsDeps: PrepareRunDeps | undefined;
const defaultDeps = (): PrepareRunDeps =>
  (awsDeps ??= {
    registry: loadDeployedRegistry(),
    leases: new DynamoObjectLedger(requireEnv('LEDGER_TABLE')),
    lakeRoot: `s3://${requireEnv('LAKE_BUCKET')}/`,
    plansLocation: requireEnv('PLANS_LOCATION'),
    log: logger,
  });

export const createHandler = (deps: () => PrepareRunDeps = defaultDeps) =>
  middy(async (event: PrepareRunInput): Promise<PreparedState> => prepareRun(event, deps())).use(
    injectLambdaContext(logger, { resetKeys: true }),
  );

export const handler = createHandler();
