import type { Stage } from '../../shared/domain/datasets';
import { boundDefinition } from '../../shared/domain/horizon';
import { PIPELINE_ERRORS } from '../../shared/domain/error-names';
import { partitionKeyOf } from '../../shared/domain/lease';
import { AslRunner, StatesError, type GlueJobRun, type LocalLambda } from '../../local/asl-runner';
import { createHarness, loadAsl, ordersInput, runPipeline, type Harness, type RunOutcome } from './harness';

/**
 * Every Task of the pipeline under every fault, on the real ASL and the real handlers (one ASL
 * runner, real aws-local-stepfunctions timeouts, and its twin of the rule routing ended executions to
 * finish-run). For each: the execution ends (SUCCEEDED or FAILED), FAILED with the injected error
 * unless it healed, at most one run per Glue stage, the partition lease released, exactly one
 * run-failed page per failed execution (none when it healed).
 */

type Fault =
  'retryable-then-success' | 'retries-exhausted' | 'non-retryable' | 'timeout' | 'malformed-output';
const FAULTS: Fault[] = [
  'retryable-then-success',
  'retries-exhausted',
  'non-retryable',
  'timeout',
  'malformed-output',
];

interface LambdaTask {
  readonly state: string;
  readonly placeholder: string;
  /** Which call of the shared function is this Task's. */
  readonly matches: (event: Record<string, unknown>) => boolean;
  /** A failure of this Task does not fail the run (the spike page is best effort). */
  readonly bestEffort?: boolean;
}

const LAMBDA_TASKS: LambdaTask[] = [
  { state: 'Take partition lease', placeholder: 'PrepareRunFunctionArn', matches: () => true },
  ...(['bronze', 'silver', 'gold'] as const).map((stage) => ({
    state: `Record ${stage} results`,
    placeholder: 'RecordStageFunctionArn',
    matches: (e: Record<string, unknown>) => e['stage'] === stage,
  })),
  {
    state: 'Alert on-call of quarantine spike',
    placeholder: 'NotifyFunctionArn',
    matches: (e) => e['kind'] === 'quarantine-spike',
    bestEffort: true,
  },
  {
    state: 'Release partition lease',
    placeholder: 'FinishRunFunctionArn',
    matches: (e) => e['outcome'] === 'succeeded',
  },
];

/** The failure path's Tasks: reached after a run's own error (here a failed silver job). */
const FAILURE_PATH_TASKS: LambdaTask[] = [
  {
    state: 'Release partition lease after failure',
    placeholder: 'FinishRunFunctionArn',
    matches: (e) => e['outcome'] === 'failed',
  },
  {
    state: 'Alert on-call of failure',
    placeholder: 'NotifyFunctionArn',
    matches: (e) => e['kind'] === 'run-failed',
  },
];
const GLUE_STAGES: Stage[] = ['bronze', 'silver', 'gold'];

const INJECTED = 'InjectedFaultError';
const PARTITION = partitionKeyOf('orders', 'year=2024/month=01/day=15');
const named = (name: string, message: string) => Object.assign(new Error(message), { name });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs starts per stage that really started a Glue run (start errors start none). */
function countRuns(h: Harness, stage: Stage) {
  return h.glueCalls.filter((c) => c.stage === stage && c.started).length;
}

interface Scenario {
  readonly h: Harness;
  readonly run: RunOutcome;
}

/** A silver spike with policy alert, so "Alert on-call of quarantine spike" runs on the happy path. */
function spiking(h: Harness) {
  h.glue.silver = { kind: 'succeed', counts: { in: 1000, out: 700, quarantined: 300 } };
}

async function runWith(
  setup: (h: Harness, lambdas: Record<string, LocalLambda>) => void,
  timeoutState?: string,
): Promise<Scenario> {
  const h = createHarness();
  spiking(h);
  const lambdas = { ...h.lambdas };
  setup(h, lambdas);
  const definition = boundDefinition(loadAsl(), h.registry.datasets) as unknown as {
    States: Record<string, { TimeoutSeconds?: number }>;
  };
  const timed = definition.States[timeoutState ?? ''];
  if (timed) timed.TimeoutSeconds = 1;
  const runner = new AslRunner({ definition, lambdas, glue: h.glueTask });
  const run = await runPipeline(h, ordersInput(), undefined, runner);
  return { h, run };
}

/** Wraps one Task's calls of a shared function with a fault; other Tasks' calls pass through. */
function injectLambda(lambdas: Record<string, LocalLambda>, task: LambdaTask, fault: Fault) {
  const real = lambdas[task.placeholder] as LocalLambda;
  let calls = 0;
  lambdas[task.placeholder] = async (event) => {
    if (!task.matches(event as Record<string, unknown>)) return real(event);
    calls++;
    switch (fault) {
      case 'retryable-then-success':
        if (calls === 1) throw named('Lambda.ServiceException', 'Lambda was unable to serve the request');
        return real(event);
      case 'retries-exhausted':
        throw named('Lambda.ServiceException', `Lambda was unable to serve the request (call ${calls})`);
      case 'non-retryable':
        throw named(INJECTED, `${task.state} broke`);
      case 'timeout':
        await sleep(1500);
        return null;
      case 'malformed-output':
        // The function did its work (a lease taken, a stage recorded), then its output is off-contract.
        await real(event);
        return { unexpected: true };
    }
  };
}

function injectGlue(h: Harness, stage: Stage, fault: Fault) {
  const real = h.glueTask;
  let calls = 0;
  (h as { glueTask: typeof real }).glueTask = async (params): Promise<GlueJobRun> => {
    if (params.Arguments['--stage'] !== stage) return real(params);
    calls++;
    switch (fault) {
      case 'retryable-then-success':
        if (calls === 1) throw new StatesError('Glue.ThrottlingException', 'Rate exceeded (Service: Glue)');
        return real(params);
      case 'retries-exhausted':
        throw new StatesError('Glue.ConcurrentRunsExceededException', `Concurrent runs exceeded (${calls})`);
      case 'non-retryable':
        h.glue[stage] = { kind: 'fail', message: `${INJECTED}: the ${stage} job broke` };
        return real(params);
      case 'timeout':
        h.glue[stage] = { kind: 'hang', ms: 1500 };
        return real(params);
      case 'malformed-output':
        h.glue[stage] = { kind: 'bad-manifest' };
        return real(params);
    }
  };
}

function expectEnded(s: Scenario, expected: { healed: boolean; error?: string; pages?: number }) {
  const { h, run } = s;
  const failedPages = h.alerter.alerts.filter((a) => a.attributes.kind === 'run-failed');
  expect(['SUCCEEDED', 'FAILED']).toContain(run.status);
  if (expected.healed) {
    expect({ status: run.status, error: run.error }).toEqual({ status: 'SUCCEEDED', error: undefined });
    expect(failedPages).toHaveLength(0);
  } else {
    expect({ status: run.status, error: run.error }).toEqual({ status: 'FAILED', error: expected.error });
    expect(failedPages).toHaveLength(expected.pages ?? 1);
  }
  for (const stage of GLUE_STAGES)
    expect({ stage, runs: countRuns(h, stage) <= 1 }).toEqual({ stage, runs: true });
  return h.ledger.readLease(PARTITION).then((lease) => expect(lease).toBeUndefined());
}

describe('fault matrix: every Task × every fault ends in a defined state with its real error', () => {
  describe.each(LAMBDA_TASKS)('$state', (task) => {
    const errorOf: Record<Exclude<Fault, 'retryable-then-success'>, string> = {
      'retries-exhausted': 'Lambda.ServiceException',
      'non-retryable': INJECTED,
      timeout: 'States.Timeout',
      'malformed-output': 'States.Runtime',
    };
    it.each(FAULTS.filter((f) => f !== 'malformed-output'))('%s', async (fault) => {
      const s = await runWith(
        (_, lambdas) => injectLambda(lambdas, task, fault),
        fault === 'timeout' ? task.state : undefined,
      );

      const healed = fault === 'retryable-then-success' || task.bestEffort === true;
      await expectEnded(s, healed ? { healed } : { healed, error: errorOf[fault as keyof typeof errorOf] });
      if (task.bestEffort && fault !== 'retryable-then-success')
        expect(s.run.output?.['spikeAlertError']).toMatchObject({
          Error: errorOf[fault as keyof typeof errorOf],
        });
    });
  });

  /**
   * Take partition lease's output replaces the state: the next state (Start at requested stage) checks
   * every field the run reads is present before anything reads it, and routes a malformed one to the
   * failure path with a named error.
   */
  it('Take partition lease malformed output: FAILED with MalformedTaskOutputError, lease released, one page, no Glue run', async () => {
    const task = LAMBDA_TASKS.find((t) => t.state === 'Take partition lease') as LambdaTask;
    const s = await runWith((_h, lambdas) => injectLambda(lambdas, task, 'malformed-output'));

    await expectEnded(s, { healed: false, error: PIPELINE_ERRORS.malformedTaskOutput });
    expect(s.run.cause).toContain('Take partition lease (prepare-run) returned output without one of');
    expect(s.h.glueCalls).toEqual([]);
    expect(s.run.states.map((v) => v.name)).toEqual([
      'Take partition lease',
      'Start at requested stage',
      'Reject prepare-run output',
      "Keep the run's error",
      'Release partition lease after failure',
      'Alert on-call of failure',
      'Run failed',
    ]);
  });

  /**
   * The other Lambda Tasks whose function returns off-contract output: the ResultSelector's path is
   * missing, which Step Functions raises as States.Runtime, and no Catch handles it: the failure path
   * never runs. The rule on FAILED executions calls finish-run, which releases the lease and, seeing
   * an error no Catch handles, sends the one page with the real error, the cause and the state.
   */
  it.each(
    LAMBDA_TASKS.filter((t) => t.state !== 'Take partition lease' && !t.bestEffort).map(
      (t) => [t.state, t] as const,
    ),
  )(
    '%s malformed output: FAILED with States.Runtime naming the state, lease released, one page from finish-run',
    async (_, task) => {
      const s = await runWith((_h, lambdas) => injectLambda(lambdas, task, 'malformed-output'));

      await expectEnded(s, { healed: false, error: 'States.Runtime' });
      expect(s.run.cause).toContain(`An error occurred while executing the state '${task.state}'`);
      expect(s.run.path).not.toContain('Alert on-call of failure');
      expect(s.run.endedRule).toMatchObject({
        result: { paged: { subject: expect.stringMatching(/run failed: States\.Runtime$/) } },
      });
      const page = s.h.alerter.alerts.find((a) => a.attributes.kind === 'run-failed');
      expect(page?.subject).toMatch(/run failed: States\.Runtime$/);
      expect(page?.body).toContain(`The execution failed in the state "${task.state}" on States.Runtime`);
      expect(page?.body).toContain('does not point to a value');
      expect(page?.body).toMatch(/Partition lease: {4}(released|not held by this run)/);
    },
  );

  it('Alert on-call of quarantine spike malformed output: the page went out, the run goes on (best effort)', async () => {
    const task = LAMBDA_TASKS.find((t) => t.bestEffort) as LambdaTask;
    const s = await runWith((_h, lambdas) => injectLambda(lambdas, task, 'malformed-output'));

    await expectEnded(s, { healed: true });
    expect(s.h.alerter.alerts.map((a) => a.attributes.kind)).toEqual(['quarantine-spike']);
  });

  describe.each(FAILURE_PATH_TASKS)('$state (after a failed silver job)', (task) => {
    const notify = task.placeholder === 'NotifyFunctionArn';
    it.each(FAULTS)('%s', async (fault) => {
      const s = await runWith(
        (h, lambdas) => {
          h.glue.silver = { kind: 'fail', message: 'AnalysisException: silver broke' };
          injectLambda(lambdas, task, fault);
        },
        fault === 'timeout' ? task.state : undefined,
      );

      // The run's own error whatever the failure path's Tasks do. A page that notify could not send
      // is paged by notify's errors alarm (docs/deploy.md), not here.
      const paged = !notify || fault === 'retryable-then-success' || fault === 'malformed-output';
      await expectEnded(s, { healed: false, error: 'States.TaskFailed', pages: paged ? 1 : 0 });
      expect(s.run.cause).toContain('AnalysisException: silver broke');
      expect(s.run.states.filter((v) => v.error === 'States.Runtime')).toEqual([]);
      const body = s.h.alerter.alerts[0]?.body ?? '';
      if (!notify && fault === 'malformed-output')
        expect(body).toContain('Partition lease:    UNKNOWN: finish-run returned {"unexpected":true}');
      if (!notify && ['retries-exhausted', 'non-retryable', 'timeout'].includes(fault)) {
        expect(s.h.alerter.alerts[0]?.subject).toContain('partition locked');
        // ...and the rule on FAILED executions released it.
        expect(s.run.endedRule).toMatchObject({ result: { lease: 'released' } });
      }
      if (notify && !paged) expect(s.run.states.at(-1)?.name).toBe('Run failed');
    });
  });

  describe.each(GLUE_STAGES)('Run %s job', (stage) => {
    const errorOf: Record<Exclude<Fault, 'retryable-then-success'>, string> = {
      'retries-exhausted': 'Glue.ConcurrentRunsExceededException',
      'non-retryable': 'States.TaskFailed',
      timeout: 'States.Timeout',
      'malformed-output': 'InvalidManifestError',
    };
    it.each(FAULTS)('%s', async (fault) => {
      const s = await runWith(
        (h) => injectGlue(h, stage, fault),
        fault === 'timeout' ? `Run ${stage} job` : undefined,
      );

      if (fault === 'retryable-then-success') await expectEnded(s, { healed: true });
      else await expectEnded(s, { healed: false, error: errorOf[fault] });
      if (fault === 'non-retryable') expect(s.run.cause).toContain(`${INJECTED}: the ${stage} job broke`);
      if (fault !== 'retries-exhausted') expect(countRuns(s.h, stage)).toBe(1);
    });
  });

  /** A start that fails with `error` after (or without) starting the stage's run. */
  const ambiguousStart =
    (stage: Stage, error: string, opts: { startsRun: boolean; times?: number }) => (h: Harness) => {
      const real = h.glueTask;
      let calls = 0;
      (h as { glueTask: typeof real }).glueTask = async (params) => {
        if (params.Arguments['--stage'] !== stage || ++calls > (opts.times ?? 1)) return real(params);
        if (opts.startsRun) {
          h.glue[stage] = { kind: 'hang', ms: 20 };
          void real(params).then(() => delete h.glue[stage]); // the run starts...
        }
        throw new StatesError(error, `${error.replace('Glue.', '')}: the call failed (Service: Glue)`); // ...the call fails
      };
    };
  const transitionsOnSuccess = 10;

  describe.each(GLUE_STAGES)('an ambiguous %s start', (stage) => {
    it('that started a run: the run is adopted and followed to its end, not started again; SUCCEEDED, no page', async () => {
      const s = await runWith(ambiguousStart(stage, 'Glue.OperationTimeoutException', { startsRun: true }));

      await expectEnded(s, { healed: true });
      expect(countRuns(s.h, stage)).toBe(1);
      expect(s.run.path).toEqual(
        expect.arrayContaining([`Find ${stage} run`, `Adopt ${stage} run?`, `Wait for ${stage} run`]),
      );
      expect(s.run.path).not.toContain(`Start ${stage} job again`);
      expect(s.run.output?.['jobRuns']).toMatchObject({
        [stage]: { Id: `jr_${stage}_1`, JobRunState: 'SUCCEEDED' },
      });
      // The success path's transitions (and the spike page these runs send) plus Find, Adopt? and
      // Wait for, plus one per poll of the run.
      const polls = s.run.retries.filter((r) => r === `Wait for ${stage} run`).length;
      const spikePage = s.run.path.includes('Alert on-call of quarantine spike') ? 1 : 0;
      expect(s.run.transitions).toBe(transitionsOnSuccess + spikePage + 3 + polls);
    });

    it('that started no run: the stage is started once more; SUCCEEDED, one run', async () => {
      const s = await runWith(ambiguousStart(stage, 'Glue.InternalServiceException', { startsRun: false }));

      await expectEnded(s, { healed: true });
      expect(countRuns(s.h, stage)).toBe(1);
      expect(s.h.glueCalls.filter((c) => c.stage === stage)).toHaveLength(1);
      expect(s.run.path).toEqual(expect.arrayContaining([`Find ${stage} run`, `Start ${stage} job again`]));
      expect(s.run.path).not.toContain(`Wait for ${stage} run`);
    });
  });

  it('an adopted run that fails: FAILED with JobRunFailedError naming the run, lease released, one page', async () => {
    const s = await runWith((h) => {
      const real = h.glueTask;
      (h as { glueTask: typeof real }).glueTask = async (params) => {
        if (params.Arguments['--stage'] !== 'silver') return real(params);
        h.glue.silver = { kind: 'fail', message: 'AnalysisException: silver broke' };
        void real(params).catch(() => undefined);
        throw new StatesError('Glue.OperationTimeoutException', 'Operation timed out (Service: Glue)');
      };
    });

    await expectEnded(s, { healed: false, error: PIPELINE_ERRORS.jobRunFailed });
    expect(s.run.cause).toContain('Glue job medallion-silver run jr_silver_1 ended FAILED');
    expect(countRuns(s.h, 'silver')).toBe(1);
    expect(s.h.alerter.alerts[0]?.body).toContain('adopted after an ambiguous start');
  });

  it('a second ambiguous start after none was found is not retried: the real error, one run at most, one page', async () => {
    const s = await runWith(
      ambiguousStart('gold', 'Glue.OperationTimeoutException', { startsRun: false, times: 2 }),
    );

    await expectEnded(s, { healed: false, error: 'Glue.OperationTimeoutException' });
    expect(s.run.path).toContain('Start gold job again');
    expect(s.h.alerter.alerts.find((a) => a.attributes.kind === 'run-failed')?.body).toContain(
      `look for a run with --run_id orders-2024-01-15-0123456789abcdef before replaying`,
    );
  });

  it('malformed input: FAILED with the validation error naming each field, one page, nothing run', async () => {
    const h = createHarness();
    const inputs: unknown[] = [
      {},
      { ...ordersInput(), partition: undefined },
      { ...ordersInput(), partitionPath: undefined },
      { ...ordersInput(), dataset: undefined },
      { ...ordersInput(), partitionValues: undefined },
      { ...ordersInput(), dataset: 'nope', fromStage: 'platinum' },
      { dataset: 'orders' },
    ];
    for (const [i, input] of inputs.entries()) {
      const run = await runPipeline(h, input, `bad-input-${i}`);

      expect({ i, status: run.status, error: run.error }).toEqual({
        i,
        status: 'FAILED',
        error: 'InvalidRunInputError',
      });
      expect(run.cause).toContain('Invalid execution input: ');
      expect(run.states.filter((v) => v.error === 'States.Runtime')).toEqual([]);
    }
    expect(h.glueCalls).toEqual([]);
    expect(h.alerter.alerts.map((a) => a.attributes.kind)).toEqual(inputs.map(() => 'run-failed'));
    expect(h.alerter.alerts[1]?.body).toContain('partition: missing');
    expect(await h.ledger.allLeases()).toEqual([]);
  });

  it('notify down for good: FAILED with the run’s own error, lease released, the page error kept', async () => {
    const s = await runWith((h, lambdas) => {
      h.glue.silver = { kind: 'fail', message: 'AnalysisException: boom' };
      lambdas['NotifyFunctionArn'] = async () => {
        throw named('Lambda.ServiceException', 'notify is down');
      };
    });

    expect({ status: s.run.status, error: s.run.error }).toEqual({
      status: 'FAILED',
      error: 'States.TaskFailed',
    });
    expect(s.run.cause).toContain('AnalysisException: boom');
    expect(s.run.retries.filter((r) => r === 'Alert on-call of failure')).toHaveLength(6);
    expect(await s.h.ledger.readLease(PARTITION)).toBeUndefined();
    expect(s.h.alerter.alerts).toEqual([]);
  });

  it('notify down for a while: the retried page goes out once', async () => {
    const s = await runWith((h, lambdas) => {
      h.glue.silver = { kind: 'fail', message: 'AnalysisException: boom' };
      const real = lambdas['NotifyFunctionArn'] as LocalLambda;
      let calls = 0;
      lambdas['NotifyFunctionArn'] = async (event) => {
        if (++calls <= 3) throw named('Lambda.TooManyRequestsException', 'Rate exceeded');
        return real(event);
      };
    });

    await expectEnded(s, { healed: false, error: 'States.TaskFailed' });
  });

  it('finish-run down: FAILED with the run’s own error, one page saying the partition is still locked', async () => {
    const s = await runWith((h, lambdas) => {
      h.glue.gold = { kind: 'fail', message: 'AnalysisException: gold broke' };
      lambdas['FinishRunFunctionArn'] = async () => {
        throw named('Lambda.ServiceException', 'finish-run is down');
      };
    });

    expect({ status: s.run.status, error: s.run.error }).toEqual({
      status: 'FAILED',
      error: 'States.TaskFailed',
    });
    const pages = s.h.alerter.alerts.filter((a) => a.attributes.kind === 'run-failed');
    expect(pages).toHaveLength(1);
    expect(pages[0]?.subject).toBe(
      '[CRITICAL] orders year=2024/month=01/day=15 gold run failed, partition locked: States.TaskFailed',
    );
    expect(pages[0]?.body).toContain(
      'Partition lease:    NOT RELEASED: Lambda.ServiceException: finish-run is down',
    );
    // The lease is held until finish-run comes back: the rule on FAILED executions calls it (and
    // retries it for a day on AWS); it pages nothing more, the failure path did.
    expect(s.run.endedRule).toMatchObject({ error: 'Lambda.ServiceException' });
    expect((await s.h.ledger.readLease(PARTITION))?.holder).toBe('orders-2024-01-15-0123456789abcdef');
    const finish = s.h.lambdas['FinishRunFunctionArn'] as LocalLambda;
    await finish({
      'detail-type': 'Step Functions Execution Status Change',
      detail: {
        name: 'orders-2024-01-15-0123456789abcdef',
        stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:medallion-pipeline',
        status: 'FAILED',
        input: JSON.stringify(ordersInput()),
        error: s.run.error,
        cause: s.run.cause,
      },
    });
    expect(await s.h.ledger.readLease(PARTITION)).toBeUndefined();
    expect(s.h.alerter.alerts.filter((a) => a.attributes.kind === 'run-failed')).toHaveLength(1);
  });

  it('a Glue cause cut at 32,768 characters still gives job name, run id and state in the page', async () => {
    const h = createHarness();
    const long = `AnalysisException: ${'x'.repeat(40_000)}`;
    const real = h.glueTask;
    (h as { glueTask: typeof real }).glueTask = async (params) => {
      if (params.Arguments['--stage'] !== 'silver') return real(params);
      const cause = JSON.stringify({
        Id: 'jr_cut',
        JobName: params.JobName,
        JobRunState: 'FAILED',
        ErrorMessage: long,
      });
      throw new StatesError('States.TaskFailed', cause.slice(0, 32_768));
    };

    const run = await runPipeline(
      h,
      ordersInput(),
      undefined,
      new AslRunner({
        definition: boundDefinition(loadAsl(), h.registry.datasets),
        lambdas: h.lambdas,
        glue: h.glueTask,
      }),
    );

    expect({ status: run.status, error: run.error }).toEqual({
      status: 'FAILED',
      error: 'States.TaskFailed',
    });
    const body = h.alerter.alerts[0]?.body ?? '';
    expect(body).toContain('The silver Glue job failed: medallion-silver run jr_cut ended FAILED.');
    expect(body).toContain('[cause cut at 32768 characters]');
    expect(body.length).toBeLessThan(10_000);
  });
});
