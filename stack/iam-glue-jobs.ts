import type { Dataset } from '../shared/domain/datasets';
import { stageZones } from '../shared/domain/glue-args';
import { zonePrefix } from '../shared/domain/layout';
import { GLUE_LOG_PREFIX } from './constants';
import { assume, lakeObjects, logsArn, type Cfn, type Resources, type StackContext } from './context';
import { glueJobRoleId, glueTempKey, type GlueJob } from './glue-jobs';
import { icebergJobStatements } from './iceberg';
import type { TableAccess } from './lake-formation';

/**
 * One role per Glue job, scoped to the datasets that job serves and to its stage: read the prefix
 * its stage reads (bronze: the datasets' landing prefixes; silver: their bronze; gold: their silver),
 * write the zones its stage writes and its own run manifests, read the artifacts (scripts, library,
 * plans: `artifactsPrefix` in the deployment bucket), use its own temp dir, log to the stack's Glue
 * log groups, publish Glue's own metrics. No job role reads another dataset's landing files or
 * another stage's outputs (`medallion access-report` shows it; test/stack/access.test.ts proves it).
 */

/** The lake prefixes a job's stage reads and writes for one dataset. */
export function jobPrefixes(job: GlueJob, dataset: Dataset): { reads: string[]; writes: string[] } {
  const { reads, writes } = stageZones(job.stage);
  return {
    reads: job.stage === 'bronze' ? [dataset.landing.prefix] : reads.map((z) => zonePrefix(z, dataset.name)),
    writes: [...writes.map((z) => zonePrefix(z, dataset.name)), `_manifests/${dataset.name}/${job.stage}/`],
  };
}

function glueJobRole(ctx: StackContext, name: string, job: GlueJob, artifactsPrefix: string): Cfn {
  const lake = (prefix: string) => lakeObjects(ctx, `${prefix}*`);
  const datasets = ctx.datasets.filter((d) => job.datasets.includes(d.name));
  const prefixes = datasets.map((d) => jobPrefixes(job, d));
  const reads = prefixes.flatMap((p) => p.reads);
  const writes = prefixes.flatMap((p) => p.writes);
  const statements: Cfn[] = [
    {
      Sid: 'ReadLakeInputs',
      Effect: 'Allow',
      // Its own outputs too: Spark's committer reads back what it wrote.
      Action: ['s3:GetObject'],
      Resource: [...reads, ...writes].map(lake),
    },
    {
      Sid: 'WriteLakeZones',
      Effect: 'Allow',
      // Dynamic partition overwrite deletes and rewrites the partition's files.
      Action: ['s3:PutObject', 's3:DeleteObject'],
      Resource: writes.map(lake),
    },
    {
      Sid: 'ListLake',
      Effect: 'Allow',
      Action: ['s3:ListBucket', 's3:GetBucketLocation'],
      Resource: ctx.lakeBucketArn,
    },
    {
      Sid: 'ReadArtifacts',
      Effect: 'Allow',
      Action: ['s3:GetObject'],
      Resource: { 'Fn::Sub': `\${ServerlessDeploymentBucket.Arn}/${artifactsPrefix}*` },
    },
    {
      Sid: 'GlueTempDir',
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
      Resource: { 'Fn::Sub': `\${ArtifactsBucket.Arn}/${glueTempKey(name)}*` },
    },
    {
      Sid: 'ListArtifacts',
      Effect: 'Allow',
      Action: ['s3:ListBucket', 's3:GetBucketLocation'],
      Resource: { 'Fn::GetAtt': ['ArtifactsBucket', 'Arn'] },
    },
    {
      Sid: 'JobLogs',
      Effect: 'Allow',
      Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:AssociateKmsKey'],
      Resource: logsArn(`log-group:${GLUE_LOG_PREFIX(ctx.stage)}/*`),
    },
    {
      Sid: 'JobMetrics',
      Effect: 'Allow',
      // PutMetricData has no resource-level permissions; the namespace condition narrows it.
      Action: ['cloudwatch:PutMetricData'],
      Resource: '*',
      Condition: { StringEquals: { 'cloudwatch:namespace': 'Glue' } },
    },
    // The Iceberg tables it reads or commits to, through the Glue catalog (their files are under the
    // prefixes above).
    ...icebergJobStatements(ctx, job),
  ];
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      Description: `medallion Glue job ${name} (${job.stage}): ${job.datasets.join(', ')}`.slice(0, 1000),
      AssumeRolePolicyDocument: assume('glue.amazonaws.com'),
      Policies: [{ PolicyName: 'job', PolicyDocument: { Version: '2012-10-17', Statement: statements } }],
    },
  };
}

/** Every Glue job's role. */
export function glueJobRoles(
  ctx: StackContext,
  jobs: Map<string, GlueJob>,
  artifactsPrefix: string,
): Resources {
  return Object.fromEntries(
    [...jobs.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, job]) => [glueJobRoleId(name), glueJobRole(ctx, name, job, artifactsPrefix)]),
  );
}

/** What each job role reads and writes in the catalog, for its Lake Formation grants. */
export function glueJobTableAccess(ctx: StackContext, jobs: Map<string, GlueJob>): TableAccess[] {
  return [...jobs.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, job]) => ({
      role: glueJobRoleId(name),
      datasets: ctx.datasets
        .filter((d) => job.datasets.includes(d.name))
        .map((dataset) => ({ dataset, ...stageZones(job.stage) })),
    }));
}
