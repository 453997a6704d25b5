import { driftAlert, failureAlert, spikeAlert } from '../domain/alert-text';
import { describeError } from '../domain/errors';
import { AlertPublishError } from '../domain/pipeline-errors';
import { normalizeState, type ExecutionContext, type PipelineState } from '../domain/pipeline';
import type { Alert, Alerter, Log } from '../ports';

/**
 * The one notification path: renders the page for a failed run, a quarantine spike or a schema drift and publishes
 * it. A publish failure is reported as AlertPublishError; the state machine catches it and still
 * fails the run with the run's own error.
 */

export interface NotifyInput {
  /**
   * `run-failed` on the failure path (a halting spike is rendered as a spike); `quarantine-spike` and
   * `schema-drift` on the alert paths (the run goes on).
   */
  readonly kind: 'run-failed' | 'quarantine-spike' | 'schema-drift';
  readonly execution: ExecutionContext;
  /** The execution's state (`$`). */
  readonly state: PipelineState;
}

export interface NotifyResult {
  readonly published: true;
  readonly messageId: string;
  readonly subject: string;
  readonly kind: Alert['attributes']['kind'];
  readonly severity: Alert['attributes']['severity'];
}

export interface NotifyDeps {
  readonly alerter: Alerter;
  readonly log: Log;
}

export function renderNotification(input: NotifyInput): Alert {
  const state = normalizeState(input.state);
  if (input.kind === 'quarantine-spike' && state.results?.silver) return spikeAlert(state, input.execution);
  if (input.kind === 'schema-drift' && state.results?.bronze?.schemaDrift)
    return driftAlert(state, input.execution);
  return failureAlert(state, input.execution);
}

export async function notify(input: NotifyInput, deps: NotifyDeps): Promise<NotifyResult> {
  return publishAlert(renderNotification(input), input.execution.name, deps);
}

/**
 * Publishes one page (notify's, and finish-run's for a run that skipped its failure path). A publish
 * failure is logged with the whole text and reported as AlertPublishError.
 */
export async function publishAlert(alert: Alert, runId: string, deps: NotifyDeps): Promise<NotifyResult> {
  const context = { ...alert.attributes, runId, subject: alert.subject };
  try {
    const { messageId } = await deps.alerter.publish(alert);
    deps.log.info('Alert published', { ...context, messageId });
    return {
      published: true,
      messageId,
      subject: alert.subject,
      kind: alert.attributes.kind,
      severity: alert.attributes.severity,
    };
  } catch (error) {
    const { name, message } = describeError(error);
    // The page did not go out: the log line is the last trace of it, so it carries the whole text.
    deps.log.error('Alert could not be published', {
      ...context,
      error: name,
      reason: message,
      body: alert.body,
    });
    throw new AlertPublishError(`Publishing the alert "${alert.subject}" failed: ${name}: ${message}`, {
      cause: error,
    });
  }
}
