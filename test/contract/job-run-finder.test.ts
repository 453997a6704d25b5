import { CreateJobCommand, GlueClient, StartJobRunCommand } from '@aws-sdk/client-glue';
import { GlueJobRunFinder } from '../../shared/aws/glue-job-runs';
import { GLUE_ARGS } from '../../shared/domain/glue-args';
import { isTerminalJobRunState } from '../../shared/domain/job-runs';
import { glueEngineTask, LocalJobRuns } from '../../local/asl-runner';
import type { JobRunFinder } from '../../shared/ports';
import { useMoto } from '../helpers/moto';

/**
 * The adopt path's lookup (docs/pipeline.md, "Ambiguous Glue starts"): after an ambiguous StartJobRun error, the
 * run this execution started for a stage is found among the job's runs by `--run_id` and `--stage`.
 * The AWS adapter runs against GetJobRuns on moto server (real SDK v3 client, several pages); the
 * local twin against the runs the local Glue started. One suite for both.
 */

const moto = useMoto();
let n = 0;
const unique = (prefix: string) => `${prefix}-${process.pid}-${++n}`;

const args = (runId: string, stage: string) => ({
  [GLUE_ARGS.runId]: runId,
  [GLUE_ARGS.stage]: stage,
  [GLUE_ARGS.dataset]: 'orders',
});

interface Fixture {
  readonly finder: JobRunFinder;
  /** Starts a run of `jobName` with these arguments; resolves with its id. */
  readonly start: (jobName: string, runArgs: Record<string, string>) => Promise<string>;
}

async function aws(): Promise<Fixture> {
  const glue = new GlueClient(moto().clientConfig);
  const created = new Set<string>();
  return {
    finder: new GlueJobRunFinder(glue),
    start: async (jobName, runArgs) => {
      if (!created.has(jobName)) {
        await glue.send(
          new CreateJobCommand({
            Name: jobName,
            Role: 'arn:aws:iam::123456789012:role/glue',
            Command: { Name: 'glueetl', ScriptLocation: 's3://artifacts/job.py' },
            // moto refuses a run above the job's MaxConcurrentRuns (default 1).
            ExecutionProperty: { MaxConcurrentRuns: 1000 },
          }),
        );
        created.add(jobName);
      }
      const out = await glue.send(new StartJobRunCommand({ JobName: jobName, Arguments: runArgs }));
      return out.JobRunId ?? '';
    },
  };
}

function local(): Fixture {
  const runs = new LocalJobRuns();
  let id = 0;
  return {
    finder: runs,
    start: async (jobName, runArgs) => {
      const jobRun = await glueEngineTask(
        async () => ({ jobRunId: `jr_engine_${++id}` }),
        runs,
      )({
        JobName: jobName,
        Arguments: runArgs,
      });
      // The local registry keys runs by the id it gave at the start.
      const found = await runs.findStageRun({
        jobName,
        runId: runArgs[GLUE_ARGS.runId] ?? '',
        stage: (runArgs[GLUE_ARGS.stage] ?? 'bronze') as 'bronze',
      });
      expect(found?.JobRunState).toBe(jobRun.JobRunState);
      return found?.Id ?? '';
    },
  };
}

describe.each([
  ['GlueJobRunFinder on moto server', aws],
  ['LocalJobRuns', async () => local()],
] as const)('%s', (_, make) => {
  it("finds this execution's run of the stage among other executions' and stages' runs", async () => {
    const f = await make();
    const job = unique('orders-silver');
    await f.start(job, args('orders-2024-01-14-aaaa', 'silver'));
    const ours = await f.start(job, args('orders-2024-01-15-bbbb', 'silver'));
    await f.start(job, args('orders-2024-01-16-cccc', 'silver'));

    const found = await f.finder.findStageRun({
      jobName: job,
      runId: 'orders-2024-01-15-bbbb',
      stage: 'silver',
    });
    expect(found).toMatchObject({ Id: ours, JobName: job });
    expect(found?.Arguments?.[GLUE_ARGS.runId]).toBe('orders-2024-01-15-bbbb');
    expect(typeof found?.JobRunState).toBe('string');
  });

  it('finds nothing when the ambiguous start started no run, or only another stage', async () => {
    const f = await make();
    const job = unique('orders-any');
    await f.start(job, args('orders-2024-01-15-bbbb', 'bronze'));
    expect(
      await f.finder.findStageRun({ jobName: job, runId: 'orders-2024-01-15-bbbb', stage: 'silver' }),
    ).toBeUndefined();
    expect(
      await f.finder.findStageRun({ jobName: job, runId: 'orders-2024-01-15-zzzz', stage: 'bronze' }),
    ).toBeUndefined();
  });

  it('reads a run by its id (the adopted run, polled until it ends); an unknown id is EntityNotFoundException', async () => {
    const f = await make();
    const job = unique('orders-silver');
    await f.start(job, args('orders-2024-01-15-bbbb', 'silver'));
    const found = await f.finder.findStageRun({
      jobName: job,
      runId: 'orders-2024-01-15-bbbb',
      stage: 'silver',
    });

    const run = await f.finder.getJobRun({ jobName: job, jobRunId: found?.Id ?? '' });
    expect(run).toMatchObject({ Id: found?.Id, JobName: job });
    expect(typeof run.JobRunState).toBe('string');
    await expect(f.finder.getJobRun({ jobName: job, jobRunId: 'jr_nope' })).rejects.toMatchObject({
      name: 'EntityNotFoundException',
    });
  });

  it('skips runs that started before the execution', async () => {
    const f = await make();
    const job = unique('orders-bronze');
    await f.start(job, args('orders-2024-01-15-bbbb', 'bronze'));
    const later = new Date(Date.now() + 60_000);
    expect(
      await f.finder.findStageRun({
        jobName: job,
        runId: 'orders-2024-01-15-bbbb',
        stage: 'bronze',
        startedAfter: later,
      }),
    ).toBeUndefined();
  });
});

it('GlueJobRunFinder reads every page of GetJobRuns (200 runs a page)', async () => {
  const f = await aws();
  const job = unique('orders-gold');
  // moto lists runs in start order, so this execution's run is on the second page.
  for (let i = 0; i < 230; i++) await f.start(job, args(`orders-other-${i}`, 'gold'));
  const ours = await f.start(job, args('orders-2024-01-15-bbbb', 'gold'));

  const found = await f.finder.findStageRun({ jobName: job, runId: 'orders-2024-01-15-bbbb', stage: 'gold' });
  expect(found?.Id).toBe(ours);
});

it('terminal Glue run states', () => {
  expect(['SUCCEEDED', 'FAILED', 'STOPPED', 'TIMEOUT', 'ERROR', 'EXPIRED'].every(isTerminalJobRunState)).toBe(
    true,
  );
  expect(['STARTING', 'RUNNING', 'STOPPING', 'WAITING'].some(isTerminalJobRunState)).toBe(false);
});
