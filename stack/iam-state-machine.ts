import { assume, functionKey, lambdaLogicalId, type Cfn, type StackContext } from './context';
import type { StateMachineDefinition } from './definition';
import { jobArns, type GlueJob } from './glue-jobs';

/**
 * The state machine's role: invoke the functions its definition names, run the datasets' Glue jobs,
 * publish to the alert topic if the definition does, deliver its logs (and traces).
 */
export function stateMachineRole(
  ctx: StackContext,
  sm: Pick<StateMachineDefinition, 'aslText' | 'invokedFunctions'>,
  jobs: Map<string, GlueJob>,
): Cfn {
  const statements: Cfn[] = [];
  if (sm.invokedFunctions.length > 0) {
    statements.push({
      Sid: 'InvokeStageFunctions',
      Effect: 'Allow',
      Action: ['lambda:InvokeFunction'],
      Resource: sm.invokedFunctions.flatMap((f) => {
        const fnArn = { 'Fn::GetAtt': [lambdaLogicalId(functionKey(f)), 'Arn'] };
        return [fnArn, { 'Fn::Join': ['', [fnArn, ':*']] }];
      }),
    });
  }
  if (jobs.size > 0) {
    statements.push({
      Sid: 'RunGlueJobs',
      Effect: 'Allow',
      // startJobRun.sync polls GetJobRun and stops the run when the execution is stopped.
      Action: ['glue:StartJobRun', 'glue:GetJobRun', 'glue:GetJobRuns', 'glue:BatchStopJobRun'],
      Resource: jobArns(jobs),
    });
  }
  if (/"arn:[a-z-]+:states:::sns:publish"/.test(sm.aslText)) {
    statements.push(
      { Sid: 'PublishAlerts', Effect: 'Allow', Action: ['sns:Publish'], Resource: { Ref: 'AlertTopic' } },
      {
        Sid: 'EncryptAlerts',
        Effect: 'Allow',
        Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
        Resource: { 'Fn::GetAtt': ['AlertKey', 'Arn'] },
      },
    );
  }
  statements.push({
    Sid: 'LogDelivery',
    Effect: 'Allow',
    // Vended log delivery: these actions support no resource-level permissions (docs/deploy.md).
    Action: [
      'logs:CreateLogDelivery',
      'logs:GetLogDelivery',
      'logs:UpdateLogDelivery',
      'logs:DeleteLogDelivery',
      'logs:ListLogDeliveries',
      'logs:PutResourcePolicy',
      'logs:DescribeResourcePolicies',
      'logs:DescribeLogGroups',
    ],
    Resource: '*',
  });
  if (ctx.params.tracing) {
    statements.push({
      Sid: 'XRayTracing',
      Effect: 'Allow',
      // X-Ray accepts no resource-level permissions for these (docs/deploy.md).
      Action: [
        'xray:PutTraceSegments',
        'xray:PutTelemetryRecords',
        'xray:GetSamplingRules',
        'xray:GetSamplingTargets',
      ],
      Resource: '*',
    });
  }
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      Description: 'medallion pipeline state machine: invoke its stage functions, run its Glue jobs',
      AssumeRolePolicyDocument: assume('states.amazonaws.com', {
        StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
      }),
      Policies: [
        { PolicyName: 'pipeline', PolicyDocument: { Version: '2012-10-17', Statement: statements } },
      ],
    },
  };
}
