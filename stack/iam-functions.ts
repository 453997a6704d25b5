import { catalogArns } from './catalog';
import { assume, lakeObjects, logGroupLogicalId, pascal, type Resources, type StackContext } from './context';
import { FUNCTION_POLICIES } from './function-policies';
import { jobArns, type GlueJob } from './glue-jobs';

/**
 * One role per function: write its own log group, what stack/function-policies.ts grants it, and
 * X-Ray segments when tracing is on. serverless.yml points each function at `<Folder>Role`.
 */
export function functionRoles(ctx: StackContext, jobs: Map<string, GlueJob>): Resources {
  const refs = {
    lakeBucketArn: ctx.lakeBucketArn,
    lakeObjects: (pattern: string) => lakeObjects(ctx, pattern),
    ...catalogArns(ctx),
    metricsNamespace: ctx.metricsNamespace,
    stateMachineArn: ctx.stateMachineArn,
    executionsArn: ctx.executionsArn,
    jobArns: jobArns(jobs),
  };
  const resources: Resources = {};
  for (const folder of ctx.functionFolders) {
    const policy = FUNCTION_POLICIES[folder];
    if (!policy) {
      throw new Error(`functions/${folder}: no IAM policy in stack/function-policies.ts (add what it calls)`);
    }
    const statements = [
      {
        Sid: 'Logs',
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [logGroupLogicalId(folder), 'Arn'] },
      },
      ...policy(refs),
    ];
    if (ctx.params.tracing) {
      statements.push({
        Sid: 'XRay',
        Effect: 'Allow',
        // X-Ray accepts no resource-level permissions for these (docs/deploy.md).
        Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
        Resource: '*',
      });
    }
    resources[`${pascal(folder)}Role`] = {
      Type: 'AWS::IAM::Role',
      Properties: {
        Description: `medallion ${folder} function`,
        AssumeRolePolicyDocument: assume('lambda.amazonaws.com'),
        Policies: [{ PolicyName: folder, PolicyDocument: { Version: '2012-10-17', Statement: statements } }],
      },
    };
  }
  return resources;
}
