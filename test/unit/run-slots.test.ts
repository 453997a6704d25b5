import { takeRunSlot } from '../../shared/core/run-slots';
import { InvalidExecutionBudgetError } from '../../shared/domain/errors';
import { START_GRACE_MS } from '../../shared/domain/ledger';
import {
  checkExecutionBudget,
  EXECUTION_BUDGET_MAX,
  SLOT_REPAIR_INTERVAL_MS,
} from '../../shared/domain/run-slots';
import type { RunInput } from '../../shared/domain/run';
import { FileObjectLedger } from '../../local/file-ledger';
import { memoryLog } from '../helpers/registry';
import { RecordingStarter } from '../helpers/starters';

/** Taking a slot when every one is held: leaked slots are freed by judging their holders, once per interval. */

const NOW = new Date('2024-01-15T10:30:00Z');
const at = (ms: number) => new Date(NOW.getTime() + ms);

async function world(budget: number) {
  const slots = FileObjectLedger.inMemory();
  const runs = new RecordingStarter();
  const log = memoryLog();
  const take = (name: string, now: Date) =>
    takeRunSlot({ slots, budget, executions: runs, log, now: () => now }, name);
  const holders = async () => (await slots.readSlots()).holders.map((h) => h.executionName).sort();
  const start = (name: string) => runs.start({ name, input: {} as RunInput });
  return { slots, runs, log, take, holders, start };
}

describe('execution slots', () => {
  it('frees the slot of a run that ended without releasing it, and of one that never started, but not of a running one or one starting', async () => {
    const { runs, take, holders, start } = await world(4);
    await take('ended', NOW);
    await start('ended');
    runs.end('ended', 'ABORTED');
    await take('never-started', NOW);
    await take('running', NOW);
    await start('running');
    await take('starting', at(START_GRACE_MS));

    const outcome = await take('new', at(START_GRACE_MS + 1000));

    expect(outcome).toEqual({ kind: 'taken', inFlight: 3 });
    expect(await holders()).toEqual(['new', 'running', 'starting']);
  });

  it('checks the holders once per interval, however many takers find every slot held', async () => {
    const { take, holders, log } = await world(1);
    // Within its grace at the first check; past it at the second, which comes too soon to check.
    await take('never-started', at(10_000 - START_GRACE_MS));

    const first = await take('a', at(1000));
    const second = await take('b', at(30_000));
    const third = await take('c', at(1000 + SLOT_REPAIR_INTERVAL_MS));

    expect(first).toEqual({ kind: 'full', inFlight: 1, budget: 1 });
    expect(second).toEqual({ kind: 'full', inFlight: 1, budget: 1 });
    expect(third).toEqual({ kind: 'taken', inFlight: 1 });
    expect(await holders()).toEqual(['c']);
    expect(log.lines.filter((l) => l.message.startsWith('Freed the execution slots'))).toHaveLength(1);
  });

  it('refuses a budget that is not a whole number of slots from 1 to the maximum, naming the field', () => {
    expect(checkExecutionBudget('10')).toBe(10);
    for (const bad of ['0', '-1', '2.5', 'ten', EXECUTION_BUDGET_MAX + 1])
      expect(() => checkExecutionBudget(bad, 'EXECUTION_BUDGET')).toThrow(InvalidExecutionBudgetError);
    expect(() => checkExecutionBudget('0', 'EXECUTION_BUDGET')).toThrow(/^EXECUTION_BUDGET: must be/);
  });
});
