import { STAGES, type Stage } from '../shared/domain/datasets';
import { GLUE_TEMP_DIR } from '../shared/domain/glue-args';
import { runsPerJob } from './back-pressure';
import { GLUE_LOG_PREFIX, GLUE_VERSION } from './constants';
import { glueArn, pascal, refuseClash, type Cfn, type Resources, type StackContext } from './context';
import type { GlueArtifacts } from './glue-artifacts';
import { icebergJobArguments, jobIcebergTables } from './iceberg';

/**
 * The Glue jobs: one per declared `stages.<stage>.glueJob` name (deployed as `<name>-<stage>`), each
 * running its stage's generic script. Datasets may share a job of the same stage and execution class.
 */

export interface GlueJob {
  stage: Stage;
  /** The longest of its datasets' timeouts, in minutes. */
  timeout: number;
  executionClass: string;
  datasets: string[];
}

/** The declared job names → jobs; refuses a name used for two stages or two execution classes. */
export function collectJobs(ctx: StackContext): Map<string, GlueJob> {
  const jobs = new Map<string, GlueJob>();
  for (const d of ctx.datasets) {
    for (const stageName of STAGES) {
      const s = d.stages[stageName];
      const job = jobs.get(s.glueJob);
      if (job && job.stage !== stageName) {
        throw new Error(
          `datasets/${d.folder}/dataset.yml: stages.${stageName}.glueJob: "${s.glueJob}" is already the ${job.stage} job of ${job.datasets.join(', ')}; a Glue job runs one stage's script`,
        );
      }
      if (job && job.executionClass !== s.executionClass) {
        throw new Error(
          `datasets/${d.folder}/dataset.yml: stages.${stageName}.executionClass: "${s.executionClass}" but Glue job "${s.glueJob}" is ${job.executionClass} for ${job.datasets.join(', ')}; give the stage a Glue job of its own`,
        );
      }
      if (job) {
        job.timeout = Math.max(job.timeout, s.timeoutMinutes);
        job.datasets.push(d.name);
      } else
        jobs.set(s.glueJob, {
          stage: stageName,
          timeout: s.timeoutMinutes,
          executionClass: s.executionClass,
          datasets: [d.name],
        });
    }
  }
  refuseClash(
    'Glue job resource',
    [...jobs.keys()].map((name) => [jobLogicalId(name), name] as const),
  );
  return jobs;
}

export const jobLogicalId = (declared: string): string => `GlueJob${pascal(declared)}`;

/** The logical id of a job's own role (stack/iam-glue-jobs.ts). */
export const glueJobRoleId = (declared: string): string => `GlueJobRole${pascal(declared)}`;

/** The job's own Glue temp dir (`--TempDir`) in the artifacts bucket. */
export const glueTempKey = (declared: string): string => `tmp/${declared}/`;

/** The ARNs of the stack's Glue jobs, in name order. */
export const jobArns = (jobs: Map<string, GlueJob>): Cfn[] =>
  [...jobs.keys()].sort().map((name) => glueArn(`job/\${${jobLogicalId(name)}}`));

/** The jobs, each pointed at its stage's script and the library by their content-addressed keys. */
export function glueJobResources(
  ctx: StackContext,
  jobs: Map<string, GlueJob>,
  artifacts: Pick<GlueArtifacts, 'scripts' | 'library'>,
): Resources {
  const deployed = (key: string) => ({ 'Fn::Sub': `s3://\${ServerlessDeploymentBucket}/${key}` });
  const maxConcurrentRuns = runsPerJob(ctx.params, jobs.size);
  const resources: Resources = {};
  for (const [name, job] of [...jobs.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    resources[jobLogicalId(name)] = {
      Type: 'AWS::Glue::Job',
      Properties: {
        Name: ctx.jobName(name),
        Description: `medallion ${job.stage} stage (datasets: ${job.datasets.join(', ')})`,
        // Its own role, scoped to its datasets and stage (stack/iam-glue-jobs.ts).
        Role: { 'Fn::GetAtt': [glueJobRoleId(name), 'Arn'] },
        // Glue 5.1: Spark 3.5.6, Python 3.11, Java 17 (pyspark 3.5.6 in python/requirements.lock).
        GlueVersion: GLUE_VERSION,
        ExecutionClass: job.executionClass === 'flex' ? 'FLEX' : 'STANDARD',
        SecurityConfiguration: { Ref: 'GlueSecurityConfiguration' },
        WorkerType: 'G.1X',
        NumberOfWorkers: ctx.params.glueWorkers,
        Timeout: job.timeout,
        MaxRetries: 0,
        // One run per (dataset, partition) and stage: as many partitions as this may be in flight.
        ExecutionProperty: { MaxConcurrentRuns: maxConcurrentRuns },
        // A run over the account's or the job's limit waits in Glue's queue (WAITING), not fails.
        JobRunQueuingEnabled: true,
        Command: {
          Name: 'glueetl',
          PythonVersion: '3',
          ScriptLocation: deployed(artifacts.scripts[job.stage]),
        },
        DefaultArguments: {
          '--job-language': 'python',
          // Each run reads exactly its own partition (--source_location): nothing for a bookmark to track.
          '--job-bookmark-option': 'job-bookmark-disable',
          '--enable-metrics': 'true',
          '--enable-observability-metrics': 'true',
          '--enable-job-insights': 'true',
          // Glue 5.x logs in real time to <prefix>/output and <prefix>/error: the stack's log groups.
          '--custom-logGroup-prefix': GLUE_LOG_PREFIX(ctx.stage),
          [GLUE_TEMP_DIR]: { 'Fn::Sub': `s3://\${ArtifactsBucket}/${glueTempKey(name)}` },
          ...(artifacts.library ? { '--extra-py-files': deployed(artifacts.library) } : {}),
          // A job that reads or writes an Iceberg table (a CDC dataset's silver): Glue's Iceberg and
          // the glue_catalog Spark catalog (stack/iceberg.ts).
          ...(jobIcebergTables(ctx, job).length > 0 ? icebergJobArguments(ctx) : {}),
        },
      },
    };
  }
  return resources;
}
