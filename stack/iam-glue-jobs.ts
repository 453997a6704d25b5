import { GLUE_LOG_PREFIX, ZONES } from './constants';
import { assume, lakeObjects, logsArn, type Cfn, type StackContext } from './context';

/**
 * The Glue jobs' role: read the declared datasets' landing prefixes, write their zones and
 * manifests, read their artifacts (scripts, library, plans: `artifactsPrefix` in the deployment
 * bucket), use the temp dir, log to the stack's Glue log groups, publish Glue's own metrics.
 */
export function glueJobRole(ctx: StackContext, artifactsPrefix: string): Cfn {
  const lake = (pattern: string) => lakeObjects(ctx, pattern);
  const zonePrefixes = ctx.datasets.flatMap((d) => ZONES.map((z) => `${z}/${d.name}/`));
  const manifestPrefixes = ctx.datasets.map((d) => `_manifests/${d.name}/`);
  const statements: Cfn[] = [
    {
      Sid: 'ReadLakeInputs',
      Effect: 'Allow',
      Action: ['s3:GetObject'],
      Resource: [
        ...ctx.datasets.map((d) => lake(`${d.landing.prefix}*`)),
        ...[...zonePrefixes, ...manifestPrefixes].map((z) => lake(`${z}*`)),
      ],
    },
    {
      Sid: 'WriteLakeZones',
      Effect: 'Allow',
      // Dynamic partition overwrite deletes and rewrites the partition's files.
      Action: ['s3:PutObject', 's3:DeleteObject'],
      Resource: [...zonePrefixes, ...manifestPrefixes].map((z) => lake(`${z}*`)),
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
      Resource: { 'Fn::Sub': '${ArtifactsBucket.Arn}/tmp/*' },
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
  ];
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      Description: 'medallion Glue jobs: read landing, write the zones and manifests of declared datasets',
      AssumeRolePolicyDocument: assume('glue.amazonaws.com'),
      Policies: [{ PolicyName: 'jobs', PolicyDocument: { Version: '2012-10-17', Statement: statements } }],
    },
  };
}
