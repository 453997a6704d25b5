import { readFileSync } from 'node:fs';
import {
  ADOPTED_RUN_POLL_SECONDS,
  adoptedRunPolls,
  boundDefinition,
  definitionHorizonSeconds,
  GLUE_TASK_MARGIN_SECONDS,
  glueTaskTimeoutSeconds,
  retryWaitSeconds,
  runHorizonSeconds,
  taskWorstSeconds,
  UnboundedStateError,
  worstAttempts,
} from '../../shared/domain/horizon';
import { leaseTtlMs } from '../../shared/domain/lease';
import { START_GRACE_MS } from '../../shared/domain/ledger';
import { SETTLE_SECONDS_PATH } from '../../shared/domain/settle';
import { shippedRegistry } from '../helpers/registry';

const asl = JSON.parse(readFileSync('state-machines/medallion-pipeline.asl.json', 'utf8')) as {
  States: Record<string, { Type: string; Resource?: string; TimeoutSeconds?: number }>;
};
const stages = (bronze: number, silver: number, gold: number) => ({
  stages: {
    bronze: { glueJob: 'b', arguments: {}, timeoutMinutes: bronze, executionClass: 'standard' as const },
    silver: { glueJob: 's', arguments: {}, timeoutMinutes: silver, executionClass: 'standard' as const },
    gold: { glueJob: 'g', arguments: {}, timeoutMinutes: gold, executionClass: 'standard' as const },
  },
});

describe('worst-case horizon of a run (one module for the state machine timeout and the lease)', () => {
  it('sums each retrier’s waits with backoff, capped by MaxDelaySeconds, with the spec defaults', () => {
    // The Glue policy: 30 s ×2, 8 attempts, at most 900 s apart.
    expect(
      retryWaitSeconds({
        ErrorEquals: ['x'],
        IntervalSeconds: 30,
        MaxAttempts: 8,
        BackoffRate: 2,
        MaxDelaySeconds: 900,
      }),
    ).toBe(30 + 60 + 120 + 240 + 480 + 900 + 900 + 900);
    // Defaults: 1 s, 3 attempts, ×2.
    expect(retryWaitSeconds({ ErrorEquals: ['x'] })).toBe(1 + 2 + 4);
    expect(retryWaitSeconds({ ErrorEquals: ['x'], MaxAttempts: 0 })).toBe(0);
  });

  it('lets every attempt of every retrier run to the Task timeout', () => {
    const retry = [
      { ErrorEquals: ['a'], IntervalSeconds: 2, MaxAttempts: 2, BackoffRate: 1 },
      { ErrorEquals: ['b'], IntervalSeconds: 10, MaxAttempts: 1 },
    ];
    expect(worstAttempts(retry)).toBe(4);
    expect(taskWorstSeconds(100, retry)).toBe(4 * 100 + (2 + 2) + 10);
  });

  it('bounds each Glue Task by its stage’s longest run timeout plus a margin, and the execution by its longest path', () => {
    const bound = boundDefinition(asl, [stages(30, 60, 30), stages(10, 120, 5)]);

    const glue = (name: string) => (bound.States[name] as { TimeoutSeconds: number }).TimeoutSeconds;
    expect(glue('Run bronze job')).toBe(30 * 60 + GLUE_TASK_MARGIN_SECONDS);
    expect(glue('Run silver job')).toBe(glueTaskTimeoutSeconds(120));
    expect(glue('Run gold job')).toBe(30 * 60 + GLUE_TASK_MARGIN_SECONDS);
    expect(bound.TimeoutSeconds).toBe(definitionHorizonSeconds(bound));
    expect(asl).not.toHaveProperty('TimeoutSeconds');
    // A longer stage timeout lengthens the horizon by its attempts' worth, twice: the worst path runs
    // Run silver job, finds no run after an ambiguous start and runs Start silver job again (9
    // attempts each); adopting a found run (Wait for silver run) is the other, shorter, way.
    expect(runHorizonSeconds(stages(30, 61, 30), asl) - runHorizonSeconds(stages(30, 60, 30), asl)).toBe(
      2 * 9 * 60,
    );
  });

  it('takes the longest way through the states, not the sum of every state', () => {
    const task = (seconds: number, next?: string) => ({
      Type: 'Task',
      TimeoutSeconds: seconds,
      ...(next ? { Next: next } : { End: true }),
    });
    const definition = {
      StartAt: 'First',
      States: {
        First: {
          Type: 'Task',
          TimeoutSeconds: 10,
          Next: 'Which?',
          Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Slow' }],
        },
        'Which?': {
          Type: 'Choice',
          Choices: [{ Variable: '$.a', IsPresent: true, Next: 'Fast' }],
          Default: 'Slow',
        },
        Fast: task(100, 'Last'),
        Slow: task(300, 'Last'),
        Last: task(5),
      },
    };
    expect(definitionHorizonSeconds(definition)).toBe(10 + 300 + 5);
  });

  it('bounds the poll of an adopted run (a Retry, not a loop) to outlast its stage’s Glue Task', () => {
    const bound = boundDefinition(asl, [stages(30, 60, 30), stages(10, 120, 5)]) as unknown as {
      States: Record<string, { Retry: Array<{ ErrorEquals: string[]; MaxAttempts: number }> }>;
    };
    const polls = (stage: string) =>
      bound.States[`Wait for ${stage} run`]?.Retry.find((r) =>
        r.ErrorEquals.includes('JobRunNotFinishedError'),
      )?.MaxAttempts ?? 0;

    expect(polls('silver')).toBe(adoptedRunPolls(120));
    expect(polls('silver') * ADOPTED_RUN_POLL_SECONDS).toBeGreaterThanOrEqual(glueTaskTimeoutSeconds(120));
    expect(polls('bronze')).toBe(Math.ceil((30 * 60 + GLUE_TASK_MARGIN_SECONDS) / 60));
  });

  it('refuses a definition that loops: summing states bounds no cycle', () => {
    const loop = {
      States: {
        Poll: { Type: 'Task', TimeoutSeconds: 10, Next: 'Done?' },
        'Done?': { Type: 'Choice', Choices: [{ Next: 'Poll' }], Default: 'End' },
        End: { Type: 'Succeed' },
      },
    };
    expect(() => definitionHorizonSeconds(loop)).toThrow(
      new UnboundedStateError(
        'the states loop (Poll → Done? → Poll): a loop has no worst case; poll with a bounded Retry instead',
      ),
    );
  });

  it('gives the shipped datasets a horizon within Step Functions’ one-year limit and above any stage timeout', () => {
    for (const d of shippedRegistry().datasets) {
      const horizon = runHorizonSeconds(d, asl);
      const stagesSeconds =
        (d.stages.bronze.timeoutMinutes + d.stages.silver.timeoutMinutes + d.stages.gold.timeoutMinutes) * 60;
      expect(horizon).toBeGreaterThan(stagesSeconds);
      expect(horizon).toBeLessThan(365 * 24 * 3600);
      expect(Number.isInteger(horizon)).toBe(true);
    }
  });

  it('counts the longest settle window of the datasets once, in the horizon and in the lease', () => {
    const settling = { ...stages(30, 60, 30), trigger: { settleSeconds: 900 } };
    const still = { ...stages(30, 60, 30), trigger: { settleSeconds: 0 } };

    const horizon = runHorizonSeconds(settling, asl);
    const both = boundDefinition(asl, [still, settling, { ...still, trigger: { settleSeconds: 120 } }]);

    expect(horizon - runHorizonSeconds(still, asl)).toBe(900);
    expect(both.TimeoutSeconds).toBe(horizon);
    expect(leaseTtlMs([settling], asl)).toBe(horizon * 1000 + START_GRACE_MS);
    // The ASL's settle Wait reads the path the horizon bounds.
    expect(Object.values(asl.States).filter((st) => st.Type === 'Wait')).toEqual([
      expect.objectContaining({ SecondsPath: SETTLE_SECONDS_PATH }),
    ]);
  });

  it('refuses a Wait whose time it cannot bound, naming it', () => {
    const waits = (wait: object) => ({ States: { Later: { Type: 'Wait', ...wait } } });

    expect(definitionHorizonSeconds(waits({ Seconds: 30 }))).toBe(30);
    expect(definitionHorizonSeconds(waits({ SecondsPath: SETTLE_SECONDS_PATH }), 60)).toBe(60);
    expect(() => definitionHorizonSeconds(waits({ SecondsPath: '$.somewhere' }))).toThrow(
      new UnboundedStateError(
        `Wait "Later" waits for a time the horizon cannot bound (only Seconds, or SecondsPath ${SETTLE_SECONDS_PATH})`,
      ),
    );
    expect(() => definitionHorizonSeconds(waits({ TimestampPath: '$.until' }))).toThrow(UnboundedStateError);
  });

  it('refuses a definition with an unbounded Task, naming it', () => {
    expect(() => definitionHorizonSeconds({ States: { Forever: { Type: 'Task' } } })).toThrow(
      new UnboundedStateError('Task "Forever" has no TimeoutSeconds: it could run for a year'),
    );
    expect(() => boundDefinition(asl, [])).toThrow(UnboundedStateError);
  });
});
