import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { SnsAlerter } from '../../shared/aws/sns-alerter';
import { requireEnv } from '../../shared/config/env';
import { notify, type NotifyDeps, type NotifyInput, type NotifyResult } from '../../shared/core/notify';
import { createLogger } from '../../shared/logger';
import type { Alerter } from '../../shared/ports';

/**
 * notify: the one notification path, for run failures, quarantine spikes and schema drift (SNS Publish).
 *
 * Input: { kind: 'run-failed' | 'quarantine-spike' | 'schema-drift',
 *          execution: { id: $$.Execution.Id, name: $$.Execution.Name, stateMachineArn: $$.StateMachine.Id },
 *          state: $ (the execution input plus run, jobRuns, results and, on failure, error {Error, Cause}) }
 * Output: { published: true, messageId, subject, kind, severity }
 * Errors: AlertPublishError when SNS refuses; the state machine catches it, so the run still fails
 * with its own error.
 */

const logger = createLogger('notify');

/** Env: ALERT_TOPIC_ARN. */
export const REQUIRED_ENV = ['ALERT_TOPIC_ARN'] as const;

/** What notify runs against: SNS, or its local twin (the alerts file). */
export interface NotifyWorld {
  readonly alerter: Alerter;
  readonly log: NotifyDeps['log'];
}

/** The one wiring of notify, used by the Lambda entry and by the local runtime. */
export const notifyDeps = (world: NotifyWorld): NotifyDeps => ({ alerter: world.alerter, log: world.log });

let awsDeps: NotifyDeps | undefined;
const defaultDeps = (): NotifyDeps =>
  (awsDeps ??= notifyDeps({ alerter: new SnsAlerter(requireEnv('ALERT_TOPIC_ARN')), log: logger }));

export const createHandler = (deps: () => NotifyDeps = defaultDeps) =>
  middy(async (event: NotifyInput): Promise<NotifyResult> => notify(event, deps())).use(
    injectLambdaContext(logger, { resetKeys: true }),
  );

export const handler = createHandler();
