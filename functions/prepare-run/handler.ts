import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoObjectLedger } from '../../shared/aws/dynamo-ledger';
import { SFN_CLIENT_CONFIG, SfnRunStarter } from '../../shared/aws/sfn-run-starter';
import { requireEnv } from '../../shared/config/env';
import { loadDeployedRegistry } from '../../shared/config/deployed-registry';
import {
  prepareRun,
  type PreparedState,
  type PrepareRunDeps,
  type PrepareRunInput,
} from '../../shared/core/run-lease';
import { createLogger } from '../../shared/logger';
import type { ExecutionStatusReader, PartitionLeases } from '../../shared/ports';

/**
 * prepare-run: "Take partition lease", the first state of every run.
 *
 * Input: { executionName: $$.Execution.Name, stateMachineArn: $$.StateMachine.Id, input: $ (the RunInput) }
 * Output (becomes the whole state): the RunInput plus
 *   run: { runId, fromStage, partitionKey, leaseExpiresAt,
 *          jobs: { bronze|silver|gold: { jobName, timeoutMinutes, arguments, manifestLocation } } },
 *   jobRuns: {}, results: {}
 * A lease held by a run that ended or never started (DescribeExecution) is taken over.
 * Errors: PartitionBusyError (retryable: another running run holds the lease), InvalidRunInputError
 * (every problem of the input, by field, unknown dataset included: shared/domain/run-input.ts).
 */

const logger = createLogger('prepare-run');

/** Env: LAKE_BUCKET (the lake's bucket name), PLANS_LOCATION (s3://…/plans/), LEDGER_TABLE. */
export const REQUIRED_ENV = ['LAKE_BUCKET', 'PLANS_LOCATION', 'LEDGER_TABLE'] as const;

/** What prepare-run runs against: the AWS services, or their local twins. */
export interface PrepareRunWorld {
  readonly registry: PrepareRunDeps['registry'];
  readonly ledger: PartitionLeases;
  /** Statuses of runs (Step Functions / the local runtime): a dead holder's lease is taken over. */
  readonly runs?: ExecutionStatusReader;
  readonly lakeRoot: string;
  readonly plansLocation: string;
  readonly log: PrepareRunDeps['log'];
}

/** The one wiring of prepare-run, used by the Lambda entry and by the local runtime. */
export const prepareRunDeps = (world: PrepareRunWorld): PrepareRunDeps => ({
  registry: world.registry,
  leases: world.ledger,
  ...(world.runs ? { executions: world.runs } : {}),
  lakeRoot: world.lakeRoot,
  plansLocation: world.plansLocation,
  log: world.log,
});

let shared:
  | { ledger: DynamoObjectLedger; sfn: SFNClient; registry: ReturnType<typeof loadDeployedRegistry> }
  | undefined;
const defaultDeps = (event: PrepareRunInput): PrepareRunDeps => {
  shared ??= {
    ledger: new DynamoObjectLedger(requireEnv('LEDGER_TABLE')),
    sfn: new SFNClient(SFN_CLIENT_CONFIG),
    registry: loadDeployedRegistry(),
  };
  return prepareRunDeps({
    registry: shared.registry,
    ledger: shared.ledger,
    // The lease holder's execution is looked up in this run's own state machine ($$.StateMachine.Id).
    ...(event.stateMachineArn ? { runs: new SfnRunStarter(event.stateMachineArn, shared.sfn) } : {}),
    lakeRoot: `s3://${requireEnv('LAKE_BUCKET')}/`,
    plansLocation: requireEnv('PLANS_LOCATION'),
    log: logger,
  });
};

export const createHandler = (deps: (event: PrepareRunInput) => PrepareRunDeps = defaultDeps) =>
  middy(async (event: PrepareRunInput): Promise<PreparedState> => prepareRun(event, deps(event))).use(
    injectLambdaContext(logger, { resetKeys: true }),
  );

export const handler = createHandler();
