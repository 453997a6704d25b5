import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { replayRunInput } from '../../shared/domain/run';
import { ExecutionHistoryStore } from '../../local/history';
import { LocalRuntime, LocalRuntimeError, functionFolder } from '../../local/runtime';
import type { LocalExecutionRecord } from '../../local/run-starter';

/** A small pipeline shaped like the real one: a Lambda, a Glue .sync job, a Catch to a notifier. */
const definition = {
  StartAt: 'Prepare',
  States: {
    Prepare: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: '${PrepareRunFunctionArn}', 'Payload.$': '$' },
      ResultSelector: { 'bucket.$': '$.Payload.bucket' },
      ResultPath: '$.prepared',
      Next: 'Bronze',
    },
    Bronze: {
      Type: 'Task',
      Resource: 'arn:aws:states:::glue:startJobRun.sync',
      Parameters: {
        JobName: 'medallion-bronze',
        Arguments: { '--target_location.$': "States.Format('s3://{}/bronze/', $.prepared.bucket)" },
      },
      ResultSelector: { 'Id.$': '$.Id', 'JobRunState.$': '$.JobRunState' },
      ResultPath: '$.bronze',
      Retry: [{ ErrorEquals: ['Glue.ConcurrentRunsExceededException'], IntervalSeconds: 30, MaxAttempts: 2 }],
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Notify' }],
      End: true,
    },
    Notify: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: '${NotifyFunctionArn}', 'Payload.$': '$' },
      Next: 'Failed',
    },
    Failed: { Type: 'Fail', Error: 'PipelineFailed', Cause: 'see the alert' },
  },
};

const record = (name: string): LocalExecutionRecord => ({
  name,
  executionArn: `arn:aws:states:local:000000000000:execution:medallion-pipeline:${name}`,
  input: replayRunInput(
    'orders',
    {
      values: [
        ['year', '2024'],
        ['month', '01'],
        ['day', '15'],
      ],
      path: 'year=2024/month=01/day=15',
    },
    'bronze',
    new Date('2024-01-16T00:00:00Z'),
  ),
  startedAt: '2024-01-16T00:00:00.000Z',
});

function setup(glueFails: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'history-'));
  const notified: unknown[] = [];
  const glueCalls: Array<Record<string, string>> = [];
  const runtime = new LocalRuntime({
    definition,
    placeholders: {},
    history: new ExecutionHistoryStore(dir),
    lambdas: {
      PrepareRunFunctionArn: async () => ({ bucket: 'local-lake' }),
      NotifyFunctionArn: async (event) => {
        notified.push(event);
        return { sent: true };
      },
    },
    glue: async (_job, args) => {
      glueCalls.push(args);
      if (glueFails) throw new Error('Landed file x.jsonl cannot be read');
      return { jobRunId: 'jr_1', manifest: {} as never };
    },
  });
  return { runtime, notified, glueCalls, dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

describe('local runtime (aws-local-stepfunctions)', () => {
  test('maps tasks by resource and placeholder, and records the path with durations', async () => {
    const t = setup(false);

    const history = await t.runtime.start(record('ok-run'));

    expect(history.status).toBe('SUCCEEDED');
    expect(history.states.map((s) => [s.name, s.status])).toEqual([
      ['Prepare', 'succeeded'],
      ['Bronze', 'succeeded'],
    ]);
    expect(history.states.every((s) => typeof s.durationMs === 'number')).toBe(true);
    expect(t.glueCalls).toEqual([{ '--target_location': 's3://local-lake/bronze/' }]);
    expect(history.output).toMatchObject({ bronze: { Id: 'jr_1', JobRunState: 'SUCCEEDED' } });
    expect(new ExecutionHistoryStore(t.dir).get('ok-run')?.status).toBe('SUCCEEDED');
    t.cleanup();
  });

  test('a failing Glue job raises States.TaskFailed with the JobRun JSON as cause', async () => {
    const t = setup(true);

    const history = await t.runtime.start(record('bad-run'));

    expect(history.status).toBe('FAILED');
    expect(history.error).toBe('PipelineFailed');
    const bronze = history.states.find((s) => s.name === 'Bronze');
    expect(bronze).toMatchObject({ status: 'caught', error: 'States.TaskFailed' });
    const jobRun = JSON.parse(bronze?.cause ?? '{}') as Record<string, unknown>;
    expect(jobRun).toMatchObject({
      JobName: 'medallion-bronze',
      JobRunState: 'FAILED',
      ErrorMessage: 'Error: Landed file x.jsonl cannot be read',
    });
    expect(Object.keys(jobRun)).toEqual(
      expect.arrayContaining(['Id', 'StartedOn', 'CompletedOn', 'ExecutionTime']),
    );
    expect(t.notified).toEqual([
      expect.objectContaining({ error: expect.objectContaining({ Error: 'States.TaskFailed' }) }),
    ]);
    t.cleanup();
  });

  test('a Lambda error keeps its name for Retry; retries are counted and not waited for locally', async () => {
    const retrying = structuredClone(definition) as typeof definition & {
      States: { Prepare: { Retry?: unknown } };
    };
    retrying.States.Prepare.Retry = [
      { ErrorEquals: ['PartitionBusyError'], IntervalSeconds: 30, MaxAttempts: 3 },
    ];
    let calls = 0;
    const runtime = new LocalRuntime({
      definition: retrying,
      placeholders: {},
      history: new ExecutionHistoryStore(mkdtempSync(join(tmpdir(), 'history-'))),
      lambdas: {
        PrepareRunFunctionArn: async () => {
          calls++;
          if (calls < 3)
            throw Object.assign(new Error('held by another run'), { name: 'PartitionBusyError' });
          return { bucket: 'local-lake' };
        },
        NotifyFunctionArn: async () => ({}),
      },
      glue: async () => ({ jobRunId: 'jr_1', manifest: {} as never }),
    });
    const started = Date.now();

    const history = await runtime.start(record('busy-run'));

    expect(history.status).toBe('SUCCEEDED');
    expect(calls).toBe(3);
    expect(history.states.filter((s) => s.name === 'Prepare').reduce((n, s) => n + s.retries, 0)).toBe(2);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  test('honours a Task’s TimeoutSeconds as AWS does: States.Timeout, caught like any failure', async () => {
    const bounded = structuredClone(definition) as typeof definition & {
      States: { Bronze: { TimeoutSeconds?: number } };
    };
    bounded.States.Bronze.TimeoutSeconds = 1;
    const runtime = new LocalRuntime({
      definition: bounded,
      placeholders: {},
      history: new ExecutionHistoryStore(mkdtempSync(join(tmpdir(), 'history-'))),
      lambdas: { PrepareRunFunctionArn: async () => ({ bucket: 'b' }), NotifyFunctionArn: async () => ({}) },
      glue: () => new Promise((resolve) => setTimeout(() => resolve({ jobRunId: 'late' }), 1500)),
    });

    const history = await runtime.start(record('slow-run'));

    expect(history.status).toBe('FAILED');
    expect(history.states.find((s) => s.name === 'Bronze')).toMatchObject({
      status: 'caught',
      error: 'States.Timeout',
    });
  });

  test('a task without a local handler is refused up front, naming it', () => {
    expect(
      () =>
        new LocalRuntime({
          definition,
          placeholders: {},
          history: new ExecutionHistoryStore(tmpdir()),
          lambdas: { PrepareRunFunctionArn: async () => ({}) },
          glue: async () => ({ jobRunId: 'x', manifest: {} as never }),
        }),
    ).toThrow(LocalRuntimeError);
    expect(functionFolder('RecordStageFunctionArn')).toBe('record-stage');
  });
});
