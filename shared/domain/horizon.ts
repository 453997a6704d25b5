import type { Dataset, Stage } from './datasets';
import { STAGES } from './datasets';
import { MedallionError } from './errors';
import { SETTLE_SECONDS_PATH } from './settle';

/**
 * The worst-case horizon of a run: the longest an execution of the pipeline can take before Step
 * Functions ends it, computed from the state machine definition itself — every Task's timeout times
 * its attempts (1 + every Retry's MaxAttempts) plus every wait between attempts (IntervalSeconds ×
 * BackoffRate^n, capped by MaxDelaySeconds; full jitter only shortens them) plus every Wait state.
 * Summing every state is an upper bound on any path through an acyclic definition.
 *
 * It sizes the state machine's TimeoutSeconds (stack and local runtime), the Glue Tasks' timeouts
 * (from the dataset's stage timeouts) and can size the partition lease: a lease that outlives the
 * horizon outlives its run.
 */

/** What the horizon needs of a dataset: its stage timeouts and its settle window. */
export type HorizonDataset = Pick<Dataset, 'stages'> & {
  readonly trigger?: Pick<Dataset['trigger'], 'settleSeconds'>;
};

/** A Retry field of the ASL, with the spec's defaults when a field is absent. */
export interface Retrier {
  readonly ErrorEquals: readonly string[];
  readonly IntervalSeconds?: number;
  readonly MaxAttempts?: number;
  readonly BackoffRate?: number;
  readonly MaxDelaySeconds?: number;
}

export interface StateLike {
  readonly Type?: string;
  readonly Retry?: readonly Retrier[];
  readonly TimeoutSeconds?: number;
  readonly TimeoutSecondsPath?: string;
  readonly Seconds?: number;
  readonly SecondsPath?: string;
  readonly Timestamp?: string;
  readonly TimestampPath?: string;
  readonly States?: Record<string, StateLike>;
  readonly Branches?: ReadonlyArray<{ States: Record<string, StateLike> }>;
  readonly ItemProcessor?: { States: Record<string, StateLike> };
}

export interface DefinitionLike {
  readonly States: Record<string, StateLike>;
  readonly TimeoutSeconds?: number;
}

/** The definition cannot be bounded: a Task without a timeout, or a timeout path we cannot resolve. */
export class UnboundedStateError extends MedallionError {
  readonly retryable = false;
}

/** Glue's own run timeout ends the run first; the Task's timeout adds this for starting and polling. */
export const GLUE_TASK_MARGIN_SECONDS = 600;

/** The Task timeout of a Glue stage whose job runs at most `timeoutMinutes` (the dataset's stage timeout). */
export const glueTaskTimeoutSeconds = (timeoutMinutes: number): number =>
  timeoutMinutes * 60 + GLUE_TASK_MARGIN_SECONDS;

/** Seconds spent waiting between attempts by one retrier used to its last attempt (no jitter). */
export function retryWaitSeconds(r: Retrier): number {
  const interval = r.IntervalSeconds ?? 1;
  const rate = r.BackoffRate ?? 2;
  const cap = r.MaxDelaySeconds ?? Number.POSITIVE_INFINITY;
  let total = 0;
  for (let n = 0; n < (r.MaxAttempts ?? 3); n++) total += Math.min(interval * rate ** n, cap);
  return total;
}

/** Attempts of a Task in the worst case: the first, plus each retrier's MaxAttempts. */
export const worstAttempts = (retry: readonly Retrier[] = []): number =>
  1 + retry.reduce((n, r) => n + (r.MaxAttempts ?? 3), 0);

/** One Task in the worst case: every attempt runs to its timeout, every retry waits its longest. */
export const taskWorstSeconds = (timeoutSeconds: number, retry: readonly Retrier[] = []): number =>
  worstAttempts(retry) * timeoutSeconds + retry.reduce((s, r) => s + retryWaitSeconds(r), 0);

/** A Glue Task's `Timeout.$` (Glue's own run timeout, planned by prepare-run from the dataset). */
export const GLUE_TIMEOUT_PARAMETER = /^\$\.run\.jobs\.(bronze|silver|gold)\.timeoutMinutes$/;

/**
 * The worst case of a whole definition, in seconds: every Task must have TimeoutSeconds, and a Wait
 * must wait a fixed `Seconds` or the settle window (`SecondsPath` SETTLE_SECONDS_PATH, at most
 * `settleSeconds`: the datasets' longest window).
 */
export function definitionHorizonSeconds(definition: DefinitionLike, settleSeconds = 0): number {
  let total = 0;
  const visit = (states: Record<string, StateLike>) => {
    for (const [name, s] of Object.entries(states)) {
      if (s.Type === 'Task') {
        if (s.TimeoutSeconds === undefined)
          throw new UnboundedStateError(`Task "${name}" has no TimeoutSeconds: it could run for a year`);
        total += taskWorstSeconds(s.TimeoutSeconds, s.Retry);
      } else if (s.Type === 'Wait') {
        if (s.SecondsPath === SETTLE_SECONDS_PATH) total += settleSeconds;
        else if (s.SecondsPath !== undefined || s.Timestamp !== undefined || s.TimestampPath !== undefined)
          throw new UnboundedStateError(
            `Wait "${name}" waits for a time the horizon cannot bound (only Seconds, or SecondsPath ${SETTLE_SECONDS_PATH})`,
          );
        else total += s.Seconds ?? 0;
      }
      for (const b of s.Branches ?? []) visit(b.States);
      if (s.ItemProcessor) visit(s.ItemProcessor.States);
    }
  };
  visit(definition.States);
  return Math.ceil(total);
}

/**
 * The definition as it is deployed for these datasets (the stack) and run locally (the ASL runner):
 * each Glue Task's TimeoutSeconds is its stage's longest run timeout among the datasets plus
 * GLUE_TASK_MARGIN_SECONDS (each run is bounded tighter by Glue's own `Timeout`, its dataset's), and
 * the state machine's TimeoutSeconds is the worst case of the result. The ASL file sets the Lambda
 * Tasks' TimeoutSeconds itself. Returns a copy.
 */
export function boundDefinition<D extends object>(
  definition: D,
  datasets: ReadonlyArray<HorizonDataset>,
): D & { TimeoutSeconds: number } {
  if (datasets.length === 0) throw new UnboundedStateError('no dataset: cannot bound the Glue Tasks');
  const bound = structuredClone(definition) as D & DefinitionLike & { TimeoutSeconds: number };
  const visit = (states: Record<string, StateLike>) => {
    for (const [name, s] of Object.entries(states)) {
      const timeout = (s as { Parameters?: Record<string, unknown> }).Parameters?.['Timeout.$'];
      const stage =
        typeof timeout === 'string' ? (GLUE_TIMEOUT_PARAMETER.exec(timeout)?.[1] as Stage) : undefined;
      if (s.Type === 'Task' && /:glue:startJobRun/.test(String((s as { Resource?: string }).Resource))) {
        if (!stage || !STAGES.includes(stage))
          throw new UnboundedStateError(`Glue Task "${name}": its Timeout.$ names no stage's timeoutMinutes`);
        (s as { TimeoutSeconds?: number }).TimeoutSeconds = Math.max(
          ...datasets.map((d) => glueTaskTimeoutSeconds(d.stages[stage].timeoutMinutes)),
        );
      }
      for (const b of s.Branches ?? []) visit(b.States);
      if (s.ItemProcessor) visit(s.ItemProcessor.States);
    }
  };
  visit(bound.States);
  bound.TimeoutSeconds = definitionHorizonSeconds(
    bound,
    Math.max(...datasets.map((d) => d.trigger?.settleSeconds ?? 0)),
  );
  return bound;
}

/** The worst case of a run of `dataset` through `definition` (the ASL file), in seconds. */
export const runHorizonSeconds = (dataset: HorizonDataset, definition: object): number =>
  boundDefinition(definition, [dataset]).TimeoutSeconds;
