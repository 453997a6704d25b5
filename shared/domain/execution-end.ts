/**
 * How an execution of the pipeline ended, as EventBridge's "Step Functions Execution Status Change"
 * tells it, and who pages for it. One rule for AWS (the rule routing ended executions to finish-run)
 * and the local runtime (its twin of that rule).
 *
 * Every failure the state machine can catch goes through its failure path, which pages (notify) and
 * ends in its one Fail state with the run's error. Two errors are never caught (`States.ALL` does
 * not match them, AWS-FACTS): `States.Runtime` (a JSONPath that does not exist, e.g. a Task's
 * off-contract output under its ResultSelector) and `States.DataLimitExceeded`. An execution that
 * fails on one of them skipped its failure path, so nobody paged: finish-run pages for it. Nothing
 * after the failure path's page can raise them (its Tasks keep no selected fields:
 * `test/state-machines/pipeline-structure.test.ts`), so a failure that did page never ends on one,
 * and each failed execution pages exactly once. Executions that TIMED_OUT or were ABORTED page
 * through their CloudWatch alarms (docs/deploy.md).
 */

/** Errors no Retry or Catch handles. */
export const UNCATCHABLE_ERRORS = ['States.Runtime', 'States.DataLimitExceeded'] as const;

/** The function the rule on ended executions invokes (functions/<folder>). */
export const ENDED_EXECUTION_TARGET = 'finish-run';

/** The statuses the rule routes to finish-run (it releases their lease). */
export const ROUTED_END_STATUSES = ['FAILED', 'ABORTED', 'TIMED_OUT'] as const;
export type RoutedEndStatus = (typeof ROUTED_END_STATUSES)[number];

/** The execution failed without running its failure path: finish-run must page for it. */
export const failurePathSkipped = (status: string, error: string | null | undefined): boolean =>
  status === 'FAILED' && (UNCATCHABLE_ERRORS as readonly string[]).includes(error ?? '');

/**
 * The state a Step Functions error cause names: "An error occurred while executing the state
 * 'Record bronze results' (entered at the event id #12). The JSONPath ..." on AWS; "... the state
 * 'Record bronze results'. Path expression ..." from the local ASL runner.
 */
export function stateNamedByCause(cause: string | null | undefined): string | undefined {
  const match = /executing the state '(.+?)'(?: \(entered|\.)/.exec(cause ?? '');
  return match?.[1];
}
