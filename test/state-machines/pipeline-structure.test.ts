import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { functionFolderOf } from '../../shared/domain/asl-placeholders';
import { join } from 'node:path';
import {
  GLUE_AMBIGUOUS_ERRORS,
  GLUE_TRANSIENT_ERRORS,
  KNOWN_ERROR_NAMES,
  LAMBDA_SERVICE_ERRORS,
  PIPELINE_ERRORS,
  STATES_ERRORS,
} from '../../shared/domain/error-names';
import { ADOPTED_RUN_POLL_SECONDS } from '../../shared/domain/horizon';
import { LeaseContentionError, PartitionBusyError } from '../../shared/domain/pipeline-errors';
import { loadAsl } from './harness';

const aslValidator = require('asl-validator') as (definition: unknown) => {
  isValid: boolean;
  errors: unknown[];
};

interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
  JitterStrategy?: string;
}
interface Catcher {
  ErrorEquals: string[];
  Next: string;
  ResultPath?: string;
}
interface State {
  Type: string;
  Next?: string;
  End?: boolean;
  Default?: string;
  Choices?: Array<{ Next: string }>;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  ResultSelector?: Record<string, unknown>;
  ResultPath?: string | null;
  OutputPath?: string;
  Retry?: Retrier[];
  Catch?: Catcher[];
  ErrorPath?: string;
  TimeoutSeconds?: number;
  CausePath?: string;
}

const asl = loadAsl() as unknown as { StartAt: string; States: Record<string, State> };
const states = Object.entries(asl.States);
const tasks = states.filter(([, s]) => s.Type === 'Task');
const glueTasks = tasks.filter(([, s]) => s.Resource === 'arn:aws:states:::glue:startJobRun.sync');
const lambdaTasks = tasks.filter(([, s]) => s.Resource === 'arn:aws:states:::lambda:invoke');
const FAILURE_PATH = "Keep the run's error";
/** States on the failure path itself: they catch into the next step of that path, never back. */
const FAILURE_PATH_STATES = [
  FAILURE_PATH,
  'Release partition lease after failure',
  'Alert on-call of failure',
];

const nextsOf = (s: State): string[] => [
  ...(s.Next ? [s.Next] : []),
  ...(s.Default ? [s.Default] : []),
  ...(s.Choices ?? []).map((c) => c.Next),
  ...(s.Catch ?? []).map((c) => c.Next),
];

describe('medallion pipeline state machine (structure)', () => {
  it('is valid Amazon States Language (asl-validator)', () => {
    const result = aslValidator(asl);

    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
  });

  it('only points to states that exist, and reaches every state from StartAt', () => {
    const names = new Set(Object.keys(asl.States));
    const reached = new Set<string>();
    const queue = [asl.StartAt];
    while (queue.length > 0) {
      const name = queue.shift() as string;
      if (reached.has(name)) continue;
      reached.add(name);
      const state = asl.States[name];
      expect(state).toBeDefined();
      queue.push(...nextsOf(state as State));
    }

    for (const [, s] of states) for (const next of nextsOf(s)) expect(names).toContain(next);
    expect([...reached].sort()).toEqual([...names].sort());
  });

  it('uses only error names exported by shared/domain/error-names.ts, States.ALL alone and last', () => {
    for (const [name, s] of states) {
      const lists = [...(s.Retry ?? []), ...(s.Catch ?? [])].map((r) => r.ErrorEquals);
      for (const list of lists) {
        for (const error of list)
          expect({ state: name, error, known: KNOWN_ERROR_NAMES.has(error) }).toMatchObject({ known: true });
        if (list.includes(STATES_ERRORS.all)) expect(list).toEqual([STATES_ERRORS.all]);
      }
      const catchers = s.Catch ?? [];
      catchers.slice(0, -1).forEach((c) => expect(c.ErrorEquals).not.toContain(STATES_ERRORS.all));
    }
    expect(new PartitionBusyError('p', 'h', 'e').name).toBe(PIPELINE_ERRORS.partitionBusy);
    expect(new LeaseContentionError('x').name).toBe(PIPELINE_ERRORS.leaseContention);
  });

  it('catches every failure of every task into the one notification path, keeping the input', () => {
    for (const [name, s] of tasks) {
      const last = s.Catch?.[s.Catch.length - 1];
      expect({ name, errors: last?.ErrorEquals }).toEqual({ name, errors: [STATES_ERRORS.all] });
      expect(last?.ResultPath).toMatch(/^\$\.[a-zA-Z]+$/);
      const bestEffortPages = ['Alert on-call of quarantine spike', 'Alert on-call of schema drift'];
      if (!FAILURE_PATH_STATES.includes(name) && !bestEffortPages.includes(name)) {
        expect({ name, next: last?.Next }).toEqual({ name, next: FAILURE_PATH });
        expect(last?.ResultPath).toBe('$.error');
      }
    }
    expect(asl.States['Halt before gold']).toMatchObject({ ResultPath: '$.error', Next: FAILURE_PATH });
  });

  it('ends every failure failed, with the original error and cause', () => {
    const fails = states.filter(([, s]) => s.Type === 'Fail');
    const path = [FAILURE_PATH];
    for (let s = asl.States[FAILURE_PATH]; s?.Next; s = asl.States[s.Next]) path.push(s.Next);

    expect(fails.map(([n]) => n)).toEqual(['Run failed']);
    expect(path).toEqual([
      FAILURE_PATH,
      'Release partition lease after failure',
      'Alert on-call of failure',
      'Run failed',
    ]);
    expect(asl.States['Run failed']).toMatchObject({
      ErrorPath: '$.failure.error.Error',
      CausePath: '$.failure.error.Cause',
    });
    // The failure path reads no field of the state it has not made itself (or the context object).
    for (const name of path.slice(1, -1)) {
      const payload = JSON.stringify(asl.States[name]?.Parameters ?? {});
      const fromState = [...payload.matchAll(/"(\$(?:\.[^"]*)?)"/g)].map((m) => m[1]);
      expect({ name, fromState }).toEqual({
        name,
        fromState: name === 'Alert on-call of failure' ? ['$'] : [],
      });
    }
    expect(states.filter(([, s]) => s.Type === 'Succeed')).toEqual([]);
  });

  it("cannot raise an uncaught error (States.Runtime) at the failure path's Tasks, so a run that failed otherwise was paged by it", () => {
    // finish-run pages only for executions that failed on an error no Catch handles
    // (shared/domain/execution-end.ts); that is exact only if the failure path cannot end on one.
    // Its Tasks keep the function's payload whole (always present in a lambda:invoke result) or
    // nothing, so no output of finish-run or notify can miss a selected field.
    expect(asl.States['Release partition lease after failure']).toMatchObject({
      ResultSelector: { 'Payload.$': '$.Payload' },
      ResultPath: '$.release',
    });
    expect(asl.States['Alert on-call of failure']?.ResultPath).toBeNull();
    for (const name of ['Release partition lease after failure', 'Alert on-call of failure']) {
      expect({ name, OutputPath: asl.States[name]?.OutputPath }).toEqual({ name, OutputPath: undefined });
      expect(asl.States[name]?.Catch?.map((c) => c.ErrorEquals)).toEqual([[STATES_ERRORS.all]]);
    }
    // Every way into the one Fail state goes through the page.
    const into = states.filter(
      ([, s]) => s.Next === 'Run failed' || (s.Catch ?? []).some((c) => c.Next === 'Run failed'),
    );
    expect(into.map(([n]) => n)).toEqual(['Alert on-call of failure']);
  });

  it('after an ambiguous Glue start, looks for the run to adopt it, else starts the stage once more, never a third time', () => {
    for (const stage of ['bronze', 'silver', 'gold']) {
      const run = asl.States[`Run ${stage} job`];
      expect(run?.Catch?.[0]).toEqual({
        ErrorEquals: [...GLUE_AMBIGUOUS_ERRORS],
        ResultPath: '$.ambiguousStart',
        Next: `Find ${stage} run`,
      });
      expect(asl.States[`Find ${stage} run`]?.Next).toBe(`Adopt ${stage} run?`);
      expect(asl.States[`Adopt ${stage} run?`]).toMatchObject({
        Choices: [{ Next: `Wait for ${stage} run` }],
        Default: `Start ${stage} job again`,
      });
      expect(asl.States[`Wait for ${stage} run`]?.Next).toBe(`Record ${stage} results`);
      // The poll is the Wait Task's Retry, every ADOPTED_RUN_POLL_SECONDS (bounded by horizon.ts).
      expect(asl.States[`Wait for ${stage} run`]?.Retry?.[0]).toMatchObject({
        ErrorEquals: [PIPELINE_ERRORS.jobRunNotFinished],
        IntervalSeconds: ADOPTED_RUN_POLL_SECONDS,
        BackoffRate: 1,
      });
      const again = asl.States[`Start ${stage} job again`];
      expect(again?.Parameters).toEqual(run?.Parameters);
      expect(again?.Catch?.map((c) => c.ErrorEquals)).toEqual([[STATES_ERRORS.all]]);
      expect(again?.Next).toBe(`Record ${stage} results`);
    }
  });

  it('retries Glue errors that surely started no run, with backoff and full jitter; never an ambiguous one', () => {
    expect(glueTasks.map(([n]) => n)).toEqual([
      'Run bronze job',
      'Start bronze job again',
      'Run silver job',
      'Start silver job again',
      'Run gold job',
      'Start gold job again',
    ]);
    for (const [, s] of glueTasks) {
      const retry = s.Retry ?? [];
      expect(retry).toHaveLength(1);
      expect([...(retry[0]?.ErrorEquals ?? [])].sort()).toEqual([...GLUE_TRANSIENT_ERRORS].sort());
      expect(retry[0]).toMatchObject({ JitterStrategy: 'FULL' });
      expect(retry[0]?.BackoffRate).toBeGreaterThan(1);
      expect(retry.flatMap((r) => r.ErrorEquals)).not.toContain(STATES_ERRORS.taskFailed);
      expect(retry.flatMap((r) => r.ErrorEquals)).not.toContain(STATES_ERRORS.all);
      for (const ambiguous of GLUE_AMBIGUOUS_ERRORS)
        expect(retry.flatMap((r) => r.ErrorEquals)).not.toContain(ambiguous);
    }
  });

  it('retries Lambda service errors on every function call, with backoff and full jitter', () => {
    for (const [, s] of lambdaTasks) {
      const retrier = (s.Retry ?? []).find((r) => r.ErrorEquals.includes('Lambda.ServiceException'));
      expect([...(retrier?.ErrorEquals ?? [])].sort()).toEqual([...LAMBDA_SERVICE_ERRORS].sort());
      expect(retrier).toMatchObject({ JitterStrategy: 'FULL' });
      expect(retrier?.BackoffRate).toBeGreaterThan(1);
    }
  });

  it('bounds every Lambda Task beyond its function’s own timeout (serverless.yml), so Lambda ends it first', () => {
    const functions = (
      parse(readFileSync('serverless.yml', 'utf8'), { logLevel: 'silent' }) as {
        functions: Record<string, { handler: string; timeout: number }>;
      }
    ).functions;
    const timeoutOf = (folder: string) =>
      Object.values(functions).find((f) => f.handler === `functions/${folder}/handler.handler`)?.timeout;
    for (const [name, s] of lambdaTasks) {
      const folder = functionFolderOf(String(s.Parameters?.['FunctionName']).slice(2, -1)) ?? '';
      const fnTimeout = timeoutOf(folder);
      expect({ name, fnTimeout }).toEqual({ name, fnTimeout: expect.any(Number) });
      expect({ name, bounded: (s.TimeoutSeconds ?? 0) > (fnTimeout ?? Infinity) }).toEqual({
        name,
        bounded: true,
      });
    }
    expect(glueTasks.every(([, s]) => s.Parameters?.['Timeout.$'] !== undefined)).toBe(true);
  });

  it('invokes only functions that exist, through deploy-time placeholders', () => {
    for (const [, s] of lambdaTasks) {
      const fn = String(s.Parameters?.['FunctionName']);
      const match = /^\$\{([A-Za-z]+)FunctionArn\}$/.exec(fn);
      expect(match).not.toBeNull();
      const folder = (match?.[1] ?? '').replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
      expect(existsSync(join(process.cwd(), 'functions', folder, 'handler.ts'))).toBe(true);
    }
  });

  it('shapes every task output so the state cannot grow without bound', () => {
    for (const [name, s] of tasks) {
      // Either a selected result merged at a named path, or (the first state) the function's payload.
      // Or the result discarded (ResultPath null: the notify Tasks, whose result nothing reads).
      const shaped =
        (s.ResultSelector !== undefined && s.ResultPath?.startsWith('$.')) ||
        s.OutputPath === '$.Payload' ||
        s.ResultPath === null;
      expect({ name, shaped }).toEqual({ name, shaped: true });
    }
  });
});
