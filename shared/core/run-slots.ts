import { describeError } from '../domain/errors';
import { judgeOwner } from '../domain/ledger';
import { oldestFirst, slotRepair } from '../domain/run-slots';
import type { ExecutionStatusReader, Log, RunSlot, RunSlots } from '../ports';
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
