import { describeError } from '../domain/errors';
import { judgeOwner } from '../domain/ledger';
import { oldestFirst, oldestWaitSeconds, slotRepair } from '../domain/run-slots';
import type { ExecutionStatusReader, Log, QueuedRun, RunSlot, RunSlots, RunStarter } from '../ports';
import { mapWithConcurrency } from './concurrency';

/**
 * Taking an execution slot (shared/domain/run-slots.ts) before starting a run, for on-landing, replay
 * and finish-run alike. When every slot is held, one taker per interval judges the holders by their
 * executions' statuses, as a lease holder is judged: the slots of runs that ended without releasing
 * (finish-run never ran for them) or never started are freed, then the slot is asked for again.
 */

export interface ExecutionBudget {
  readonly slots: RunSlots;
  /** Executions in flight at most (the stack's `executionBudget`). */
  readonly budget: number;
}

export interface SlotDeps extends ExecutionBudget {
  readonly executions: ExecutionStatusReader;
  readonly log: Log;
  readonly now?: () => Date;
}

export type TakeSlotOutcome =
  | { readonly kind: 'taken'; readonly inFlight: number }
  | { readonly kind: 'full'; readonly inFlight: number; readonly budget: number };

/** Holders asked about at once while repairing. */
const STATUS_CONCURRENCY = 5;

export async function takeRunSlot(deps: SlotDeps, executionName: string): Promise<TakeSlotOutcome> {
  const now = deps.now ?? (() => new Date());
  const ask = () => deps.slots.takeSlot({ executionName, now: now(), budget: deps.budget });
  let outcome = await ask();
  if (!outcome.taken && (await deps.slots.claimSlotRepair(now()))) {
    const freed = await repairSlots(deps, outcome.holders, now);
    if (freed > 0) outcome = await ask();
  }
  return outcome.taken
    ? { kind: 'taken', inFlight: outcome.inFlight }
    : { kind: 'full', inFlight: outcome.holders.length, budget: deps.budget };
}

/** Frees the slots of holders judged ended or never started; returns how many were freed. */
async function repairSlots(deps: SlotDeps, holders: readonly RunSlot[], now: () => Date): Promise<number> {
  const judged = await mapWithConcurrency(oldestFirst(holders), STATUS_CONCURRENCY, async (holder) => {
    try {
      const status = await deps.executions.status(holder.executionName);
      return { holder, free: slotRepair(judgeOwner(status, holder.takenAt, now())) === 'free', status };
    } catch (error) {
      // A status that cannot be read keeps its slot: a doubt never starts a run over the budget.
      deps.log.warn('Could not read the status of an execution slot holder; its slot is kept', {
        runId: holder.executionName,
        error: describeError(error).message,
      });
      return { holder, free: false, status: 'UNKNOWN' };
    }
  });
  const stale = judged.filter((j) => j.free);
  if (stale.length === 0) return 0;
  const freed = await deps.slots.freeSlots(stale.map((j) => j.holder));
  deps.log.warn('Freed the execution slots of runs that ended or never started without releasing them', {
    freed,
    holders: stale.slice(0, 10).map((j) => ({ runId: j.holder.executionName, status: j.status })),
  });
  return freed;
}

/**
 * The slot of a follow-up run: its predecessor's, handed over in one write (the count of executions
 * in flight does not change). A predecessor that held none (started before the bound existed, or its
 * slot was freed as leaked) leaves the follow-up a free slot, or, when none is free, one over the
 * budget: the follow-up must start (objects are deferred to it) and its predecessor has ended.
 */
export async function handOverRunSlot(
  deps: ExecutionBudget & { readonly log: Log; readonly now?: () => Date },
  from: string,
  to: string,
): Promise<'handed-over' | 'over-budget'> {
  const now = (deps.now ?? (() => new Date()))();
  const outcome = await deps.slots.takeSlot({
    executionName: to,
    now,
    budget: deps.budget,
    handOverFrom: from,
  });
  if (outcome.taken) return 'handed-over';
  await deps.slots.takeSlot({ executionName: to, now, budget: deps.budget, overBudget: true });
  deps.log.warn('Follow-up run started over the execution budget: its predecessor held no slot', {
    runId: from,
    followUp: to,
    inFlight: outcome.holders.length + 1,
    budget: deps.budget,
  });
  return 'over-budget';
}

/** What starts waiting runs: the slots and the queue, the starter, how long a started run's lease lasts. */
export interface DispatchDeps extends ExecutionBudget {
  readonly starter: RunStarter;
  readonly log: Log;
  /** The lease of a run that starts (shared/domain/lease.ts leaseTtlMs). */
  readonly ttlMs: number;
  readonly now?: () => Date;
}

export interface DispatchResult {
  /** Waiting runs started (or found started: a retried start). */
  readonly started: string[];
  /** Waiting runs whose start failed: they keep waiting, with their slot, and are started again later. */
  readonly failed: string[];
  /** The freed slot went to a waiting run. */
  readonly handedOver: boolean;
}

/** Waiting runs looked at per round of a dispatch. */
const DISPATCH_PAGE = 25;

/**
 * Starts the oldest waiting runs while a slot can be assigned to them: `handOverFrom`'s slot first
 * (the freer's, in the same write), then free ones. Each run's slot and "starting" mark are one
 * write, its start (by its name: a retry is refused as already started) the next, the end of its wait
 * the last; a start that fails leaves it waiting with its slot, listed, for the next dispatch.
 */
export async function startWaitingRuns(
  deps: DispatchDeps,
  options: { readonly handOverFrom?: string } = {},
): Promise<DispatchResult> {
  const now = deps.now ?? (() => new Date());
  const started: string[] = [];
  const failed: string[] = [];
  let from = options.handOverFrom;
  let handedOver = false;
  const seen = new Set<string>();
  for (;;) {
    const page = (await deps.slots.waitingRuns(DISPATCH_PAGE + seen.size)).filter(
      (r) => !seen.has(r.executionName),
    );
    if (page.length === 0) break;
    for (const run of page) {
      seen.add(run.executionName);
      const outcome = await deps.slots.assignSlot({
        executionName: run.executionName,
        partitionKey: run.partitionKey,
        now: now(),
        budget: deps.budget,
        ...(from !== undefined ? { handOverFrom: from } : {}),
      });
      if (outcome.kind === 'not-waiting') continue;
      if (outcome.kind === 'full') return { started, failed, handedOver };
      if (from !== undefined && !(await holds(deps.slots, from))) {
        handedOver = true;
        from = undefined;
      }
      if (await startOne(deps, run, outcome.input, now)) started.push(run.executionName);
      else failed.push(run.executionName);
    }
  }
  return { started, failed, handedOver };
}

const holds = async (slots: RunSlots, name: string): Promise<boolean> =>
  (await slots.readSlots()).holders.some((h) => h.executionName === name);

async function startOne(
  deps: DispatchDeps,
  run: QueuedRun,
  input: Parameters<RunStarter['start']>[0]['input'],
  now: () => Date,
): Promise<boolean> {
  const context = { runId: run.executionName, partition: run.partitionKey, waitingSince: run.since };
  try {
    const result = await deps.starter.start({ name: run.executionName, input });
    await deps.slots.endWait({
      partitionKey: run.partitionKey,
      executionName: run.executionName,
      now: now(),
      ttlMs: deps.ttlMs,
    });
    deps.log.info('Started a run that waited for an execution slot', {
      ...context,
      start: result.outcome,
      executionArn: result.executionArn,
      waitedSeconds: oldestWaitSeconds(run, now()),
    });
    return true;
  } catch (error) {
    const { name, message } = describeError(error);
    deps.log.error(
      'A waiting run could not be started: it keeps waiting, with its slot, and is started again by the next dispatch',
      {
        ...context,
        error: name,
        reason: message,
      },
    );
    return false;
  }
}

/**
 * An ended execution's slot: handed to the oldest waiting run (one write), or, with none waiting,
 * released. Idempotent: a second call finds the slot gone and only starts runs a free slot allows.
 */
export async function freeRunSlot(
  deps: DispatchDeps,
  executionName: string,
): Promise<DispatchResult & { released: boolean }> {
  const result = await startWaitingRuns(deps, { handOverFrom: executionName });
  const released = await deps.slots.releaseSlot(executionName);
  return { ...result, released };
}

export interface SweepResult extends DispatchResult {
  /** Runs still waiting after the sweep. */
  readonly waiting: number;
  readonly oldestWaitingSeconds: number;
  readonly inFlight: number;
  readonly budget: number;
}

/**
 * The periodic sweep (finish-run, every minute on AWS; the local watcher's tick): frees leaked slots
 * (once per interval, as a taker would), starts waiting runs that free slots allow (and retries those
 * whose start failed), and logs the queue: the line the stack's metric filters and alarm read.
 */
export async function sweepWaitingRuns(
  deps: DispatchDeps & Omit<SlotDeps, 'log' | 'now'>,
): Promise<SweepResult> {
  const now = deps.now ?? (() => new Date());
  if (await deps.slots.claimSlotRepair(now())) {
    const { holders } = await deps.slots.readSlots();
    if (holders.length > 0) await repairSlots(deps, holders, now);
  }
  const dispatched = await startWaitingRuns(deps);
  const [waiting, oldest, slots] = await Promise.all([
    deps.slots.countWaitingRuns(),
    deps.slots.waitingRuns(1),
    deps.slots.readSlots(),
  ]);
  const summary = {
    waiting,
    oldestWaitingSeconds: oldestWaitSeconds(oldest[0], now()),
    inFlight: slots.holders.length,
    budget: deps.budget,
  };
  // The line the stack turns into RunsWaiting / OldestWaitingRunSeconds (stack/back-pressure.ts).
  deps.log.info('Execution slots swept', {
    ...summary,
    started: dispatched.started.length,
    startFailed: dispatched.failed.length,
    ...(oldest[0] ? { oldestWaiting: oldest[0].executionName } : {}),
  });
  return { ...dispatched, ...summary };
}

/**
 * The scheduled event that runs the sweep (an EventBridge schedule's constant input on AWS): the
 * state machine whose waiting runs it starts (finish-run cannot name it in its environment: the state
 * machine depends on finish-run).
 */
export interface SlotSweepEvent {
  readonly sweep: 'execution-slots';
  readonly stateMachineArn: string;
}

export const isSlotSweepEvent = (event: unknown): event is SlotSweepEvent =>
  typeof event === 'object' &&
  event !== null &&
  (event as Record<string, unknown>)['sweep'] === 'execution-slots' &&
  typeof (event as Record<string, unknown>)['stateMachineArn'] === 'string';
