import { failureAlert } from '../domain/alert-text';
import { failurePathSkipped, stateNamedByCause } from '../domain/execution-end';
import { normalizeState, type PipelineState } from '../domain/pipeline';
import type { Alerter, ExecutionStatusReader } from '../ports';
import { publishAlert, type NotifyResult } from './notify';
import {
  finishExecution,
  finishExecutionOf,
  isExecutionStatusChange,
  type ExecutionStatusChange,
  type FinishExecution,
  type FinishRunDeps,
  type FinishRunResult,
} from './run-lease';

/**
 * finish-run's whole job, for both of its callers: the state machine's release states, and the rule
 * on ended executions (EventBridge "Step Functions Execution Status Change"; the local runtime's twin).
 * It releases the lease (idempotent), then, for an execution that failed on an error no Catch
 * handles (shared/domain/execution-end.ts), sends the page its failure path never sent: the same
 * alert text notify renders, with the real error and cause and what became of the lease.
 *
 * Release first, page last: a release that throws is retried by the rule (a day, then its
 * dead-letter queue, whose alarm pages) before any page, and a page that fails to publish throws
 * (AlertPublishError) so the rule retries it; the retry finds the lease released and pages once.
 */

export interface FinishEventDeps extends FinishRunDeps {
  /** Pages for an execution that skipped its failure path. */
  readonly alerter: Alerter;
  /** Executions' statuses: the periodic sweep judges slot holders by them (shared/core/run-slots.ts). */
  readonly executions?: ExecutionStatusReader;
}

export type FinishEventResult = FinishRunResult & {
  /** The page sent for an execution that skipped its failure path. */
  readonly paged?: Pick<NotifyResult, 'messageId' | 'subject'>;
};

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export async function finishEvent(
  event: FinishExecution | ExecutionStatusChange,
  deps: FinishEventDeps,
): Promise<FinishEventResult> {
  const call = finishExecutionOf(event);
  const result = await finishExecution(call, deps);
  if (!isExecutionStatusChange(event) || !failurePathSkipped(event.detail.status, event.detail.error))
    return result;
  const { detail } = event;
  const state: PipelineState = normalizeState({
    ...(isObject(call.input) ? (call.input as Partial<PipelineState>) : {}),
    error: { Error: detail.error ?? 'States.Runtime', ...(detail.cause ? { Cause: detail.cause } : {}) },
    release: { Payload: result },
  });
  const execution = {
    id:
      detail.executionArn ??
      `${detail.stateMachineArn.replace(':stateMachine:', ':execution:')}:${detail.name}`,
    name: detail.name,
    stateMachineArn: detail.stateMachineArn,
  };
  const alert = failureAlert(state, execution, { failedState: stateNamedByCause(detail.cause) });
  deps.log.warn('Execution failed without running its failure path: paging for it', {
    runId: detail.name,
    error: detail.error,
    lease: result.lease,
  });
  const { messageId, subject } = await publishAlert(alert, detail.name, {
    alerter: deps.alerter,
    log: deps.log,
  });
  return { ...result, paged: { messageId, subject } };
}
