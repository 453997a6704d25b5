import { GetJobRunCommand, GlueClient, paginateGetJobRuns } from '@aws-sdk/client-glue';
import { findStageRun, type JobRunSummary } from '../domain/job-runs';
import type { FindStageRunRequest, JobRunFinder } from '../ports';

/** GetJobRuns returns at most 200 runs a page. */
const PAGE_SIZE = 200;

/**
 * Finds an execution's run of a stage among the job's runs (GetJobRuns, every page: Glue documents
 * no order for them). Runs that started before `startedAfter` are skipped. Reads one run by id
 * (GetJobRun) to follow an adopted run. Needs glue:GetJobRuns and glue:GetJobRun on the stage's job.
 */
export class GlueJobRunFinder implements JobRunFinder {
  constructor(private readonly client: GlueClient = new GlueClient({ maxAttempts: 6 })) {}

  async findStageRun(request: FindStageRunRequest): Promise<JobRunSummary | undefined> {
    const after = request.startedAfter?.getTime() ?? Number.NEGATIVE_INFINITY;
    const runs: JobRunSummary[] = [];
    for await (const page of paginateGetJobRuns(
      { client: this.client, pageSize: PAGE_SIZE },
      { JobName: request.jobName },
    )) {
      for (const run of page.JobRuns ?? []) {
        const startedOn = run.StartedOn?.getTime();
        if (!run.Id || !run.JobRunState || (startedOn !== undefined && startedOn < after)) continue;
        runs.push({
          Id: run.Id,
          JobName: run.JobName ?? request.jobName,
          JobRunState: run.JobRunState,
          ...(run.Arguments ? { Arguments: run.Arguments } : {}),
          ...(startedOn !== undefined ? { StartedOn: startedOn } : {}),
        });
      }
    }
    return findStageRun(runs, request.runId, request.stage);
  }

  async getJobRun(request: { readonly jobName: string; readonly jobRunId: string }): Promise<JobRunSummary> {
    const { JobRun: run } = await this.client.send(
      new GetJobRunCommand({ JobName: request.jobName, RunId: request.jobRunId }),
    );
    const startedOn = run?.StartedOn?.getTime();
    return {
      Id: run?.Id ?? request.jobRunId,
      JobName: run?.JobName ?? request.jobName,
      JobRunState: run?.JobRunState ?? 'UNKNOWN',
      ...(run?.Arguments ? { Arguments: run.Arguments } : {}),
      ...(startedOn !== undefined ? { StartedOn: startedOn } : {}),
      ...(run?.ErrorMessage ? { ErrorMessage: run.ErrorMessage } : {}),
    };
  }
}
