import type { Dataset, Stage } from './datasets';
import { STAGES } from './datasets';
import { MedallionError } from './errors';
import { SETTLE_SECONDS_PATH } from './settle';

/**
 * The worst-case horizon of a run: the longest an execution of the pipeline can take before Step
 * Functions ends it, computed from the state machine definition itself — every Task's timeout times
 * its attempts (1 + every Retry's MaxAttempts) plus every wait between attempts (IntervalSeconds ×
 * BackoffRate^n, capped by MaxDelaySeconds; full jitter only shortens them) plus every Wait state.
 * Summing every state is an upper bound on any path through an acyclic definition, and a definition
 * with a cycle is refused: the one poll of the pipeline (an adopted Glue run) is a bounded Retry.
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
  readonly Branches?: ReadonlyArray<{ StartAt?: string; States: Record<string, StateLike> }>;
  readonly ItemProcessor?: { StartAt?: string; States: Record<string, StateLike> };
}

export interface DefinitionLike {
  readonly StartAt?: string;
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
 * The adopt path's poll (docs/pipeline.md, "Ambiguous Glue starts"): *Wait for <stage> run* raises
 * JobRunNotFinishedError while the adopted run runs, and its Retry on that error polls every
 * ADOPTED_RUN_POLL_SECONDS. A poll is a Retry, not a Wait → Task → Choice cycle: one transition a
 * poll, and bounded the way this module bounds every Task (attempts × timeout + waits), with
 * MaxAttempts set from the datasets: enough polls to outlast the stage's Glue Task timeout.
 */
export const ADOPTED_RUN_POLL_SECONDS = 60;
export const ADOPTED_RUN_POLL_ERROR = 'JobRunNotFinishedError';

/** Polls of an adopted run of a stage whose job runs at most `timeoutMinutes`. */
export const adoptedRunPolls = (timeoutMinutes: number): number =>
  Math.ceil(glueTaskTimeoutSeconds(timeoutMinutes) / ADOPTED_RUN_POLL_SECONDS);

type Transitions = {
  Next?: string;
  Default?: string;
  Choices?: Array<{ Next?: string }>;
  Catch?: Array<{ Next?: string }>;
};

/** The states a state can go to: Next, a Choice's rules and Default, a Catch. */
const successors = (s: StateLike): string[] => {
  const t = s as Transitions;
  return [
    t.Next,
    t.Default,
    ...(t.Choices ?? []).map((c) => c.Next),
    ...(t.Catch ?? []).map((c) => c.Next),
  ].filter((n): n is string => typeof n === 'string');
};

/** A cycle in the definition (a state that can be entered again), or undefined. */
function findCycle(states: Record<string, StateLike>): string[] | undefined {
  const color = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (name: string): string[] | undefined => {
    if (color.get(name) === 'done') return undefined;
    if (color.get(name) === 'open') return [...path.slice(path.indexOf(name)), name];
    color.set(name, 'open');
    path.push(name);
    for (const n of successors(states[name] ?? {})) {
      const cycle = visit(n);
      if (cycle) return cycle;
    }
    path.pop();
    color.set(name, 'done');
    return undefined;
  };
  for (const name of Object.keys(states)) {
    const cycle = visit(name);
    if (cycle) return cycle;
  }
  return undefined;
}

/**
 * The worst case of a whole definition, in seconds: the longest path from `StartAt` through the
 * states (the graph must have no cycle: a loop has no worst case, so a poll is written as a bounded
 * Retry), where a Task costs every attempt to its TimeoutSeconds plus every retry's longest wait
 * (and may then go on by its Catch), a Wait its fixed `Seconds` or the settle window (`SecondsPath`
 * SETTLE_SECONDS_PATH, at most `settleSeconds`: the datasets' longest window), and a Parallel or
 * Map its longest branch. Every state must be bounded, reachable or not.
 */
export function definitionHorizonSeconds(definition: DefinitionLike, settleSeconds = 0): number {
  const cost = (name: string, s: StateLike): number => {
    if (s.Type === 'Task') {
      if (s.TimeoutSeconds === undefined)
        throw new UnboundedStateError(`Task "${name}" has no TimeoutSeconds: it could run for a year`);
      return taskWorstSeconds(s.TimeoutSeconds, s.Retry);
    }
    if (s.Type === 'Wait') {
      if (s.SecondsPath === SETTLE_SECONDS_PATH) return settleSeconds;
      if (s.SecondsPath !== undefined || s.Timestamp !== undefined || s.TimestampPath !== undefined)
        throw new UnboundedStateError(
          `Wait "${name}" waits for a time the horizon cannot bound (only Seconds, or SecondsPath ${SETTLE_SECONDS_PATH})`,
        );
      return s.Seconds ?? 0;
    }
    const branches = [...(s.Branches ?? []), ...(s.ItemProcessor ? [s.ItemProcessor] : [])];
    return Math.max(0, ...branches.map((b) => longestPath(b)));
  };
  const longestPath = (graph: { States: Record<string, StateLike>; StartAt?: string }): number => {
    const states = graph.States;
    const cycle = findCycle(states);
    if (cycle)
      throw new UnboundedStateError(
        `the states loop (${cycle.join(' → ')}): a loop has no worst case; poll with a bounded Retry instead`,
      );
    const costs = new Map(Object.entries(states).map(([name, s]) => [name, cost(name, s)]));
    const fromState = new Map<string, number>();
    const from = (name: string): number => {
      const known = fromState.get(name);
      if (known !== undefined) return known;
      const s = states[name] ?? {};
      const worst = (costs.get(name) ?? 0) + Math.max(0, ...successors(s).map(from));
      fromState.set(name, worst);
      return worst;
    };
    const starts = graph.StartAt !== undefined ? [graph.StartAt] : Object.keys(states);
    return Math.max(0, ...starts.map(from));
  };
  return Math.ceil(longestPath(definition));
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
      const poll = (s.Retry ?? []).find((r) => r.ErrorEquals.includes(ADOPTED_RUN_POLL_ERROR));
      if (s.Type === 'Task' && poll) {
        const payload = (s as { Parameters?: { Payload?: { stage?: unknown } } }).Parameters?.Payload;
        const polled = payload?.stage as Stage | undefined;
        if (!polled || !STAGES.includes(polled))
          throw new UnboundedStateError(`Task "${name}" polls an adopted run but its Payload names no stage`);
        (poll as { MaxAttempts?: number }).MaxAttempts = Math.max(
          ...datasets.map((d) => adoptedRunPolls(d.stages[polled].timeoutMinutes)),
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
