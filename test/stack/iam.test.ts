import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  PACKAGE_TIMEOUT_MS,
  ROOT,
  asArray,
  ensurePackaged,
  functionFolders,
  lambdaLogicalId,
  loadTemplate,
  pascal,
  policyStatements,
  props,
  resourcesOfType,
  type Template,
} from './packaged';

/**
 * Actions AWS authorises on no narrower resource than "*". Each is listed, with its reason, in the
 * docs/deploy.md; nothing else may be granted on "*".
 */
const STAR_RESOURCE_ACTIONS = new Set([
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  'cloudwatch:PutMetricData',
  'cloudwatch:GetMetricData',
  // Iceberg table optimizers' role, present once a CDC dataset ships (datasets/customers)
  'lakeformation:GetDataAccess',
]);

let template: Template;

beforeAll(() => {
  ensurePackaged();
  template = loadTemplate();
}, PACKAGE_TIMEOUT_MS);

const isStar = (resource: unknown): boolean => resource === '*';

describe('least privilege', () => {
  test('no statement anywhere allows a wildcard action', () => {
    const wildcards = policyStatements(template)
      .filter(({ statement }) => statement['Effect'] === 'Allow')
      .flatMap(({ where, statement }) =>
        asArray(statement['Action'] as string | string[])
          .filter((action) => action.includes('*'))
          .map((action) => `${where}: ${action}`),
      );

    expect(wildcards).toEqual([]);
  });

  test('the only wildcard action is the deny of requests without TLS', () => {
    const denies = policyStatements(template).filter(({ statement }) =>
      asArray(statement['Action'] as string | string[]).some((a) => a.includes('*')),
    );

    expect(denies.length).toBeGreaterThan(0);
    for (const { statement } of denies) {
      expect(statement['Effect']).toBe('Deny');
      expect(statement['Condition']).toEqual({ Bool: { 'aws:SecureTransport': false } });
    }
  });

  test('"*" resources are granted only for actions that support no narrower resource, each documented', () => {
    const readme = readFileSync(join(ROOT, 'docs', 'deploy.md'), 'utf8');
    const roles = new Set(resourcesOfType(template, 'AWS::IAM::Role').map(([id]) => id));
    const starGrants = policyStatements(template).filter(
      ({ where, statement }) =>
        statement['Effect'] === 'Allow' &&
        roles.has(where.split('.')[0]!) &&
        asArray(statement['Resource']).some(isStar),
    );

    for (const { where, statement } of starGrants) {
      for (const action of asArray(statement['Action'] as string | string[])) {
        expect({ where, action, allowed: STAR_RESOURCE_ACTIONS.has(action) }).toEqual({
          where,
          action,
          allowed: true,
        });
        expect({ action, documented: readme.includes(`\`${action}\``) }).toEqual({
          action,
          documented: true,
        });
      }
    }
  });

  test('PutMetricData on "*" is narrowed to the namespace by a condition', () => {
    const grants = policyStatements(template).filter(({ statement }) =>
      asArray(statement['Action'] as string | string[]).includes('cloudwatch:PutMetricData'),
    );

    for (const { where, statement } of grants) {
      expect({ where, condition: statement['Condition'] }).toEqual({
        where,
        condition: { StringEquals: { 'cloudwatch:namespace': expect.any(String) } },
      });
    }
  });

  test('each function has a role of its own, and the state machine another', () => {
    const roleOf = (logicalId: string) => props(template, logicalId).Role;
    const functionRoles = functionFolders().map((folder) => roleOf(lambdaLogicalId(folder)));

    expect(functionRoles).toEqual(
      functionFolders().map((folder) => ({ 'Fn::Sub': `\${${pascal(folder)}Role.Arn}` })),
    );
    const smRole = props(template, 'PipelineStateMachine').RoleArn;
    expect(smRole).toEqual({ 'Fn::GetAtt': ['StateMachineRole', 'Arn'] });
    expect(new Set([...functionRoles, smRole].map((r) => JSON.stringify(r))).size).toBe(
      functionRoles.length + 1,
    );
    // No framework-made shared role.
    expect(template.Resources['IamRoleLambdaExecution']).toBeUndefined();
  });

  test('each function writes only its own log group', () => {
    for (const folder of functionFolders()) {
      const statements = props(template, `${pascal(folder)}Role`).Policies.flatMap(
        (p: { PolicyDocument: { Statement: unknown[] } }) => p.PolicyDocument.Statement,
      );
      const logs = statements.find((s: { Sid?: string }) => s.Sid === 'Logs');

      expect(logs.Resource).toEqual({ 'Fn::GetAtt': [`${pascal(folder)}LogGroup`, 'Arn'] });
    }
  });

  test('only notify and finish-run (the page of a run that skipped its failure path) publish, to the alert topic only', () => {
    const publishers = functionFolders().filter((folder) =>
      props(template, `${pascal(folder)}Role`)
        .Policies.flatMap((p: { PolicyDocument: { Statement: unknown[] } }) => p.PolicyDocument.Statement)
        .some((s: { Action: unknown }) => asArray(s.Action).includes('sns:Publish')),
    );

    expect(publishers.sort()).toEqual(['finish-run', 'notify']);
    for (const folder of publishers) {
      const statements = props(template, `${pascal(folder)}Role`).Policies.flatMap(
        (p: { PolicyDocument: { Statement: unknown[] } }) => p.PolicyDocument.Statement,
      );
      expect(statements.find((s: { Sid?: string }) => s.Sid === 'PublishAlerts')).toMatchObject({
        Action: ['sns:Publish'],
        Resource: { Ref: 'AlertTopic' },
      });
      expect(statements.find((s: { Sid?: string }) => s.Sid === 'EncryptAlerts')).toMatchObject({
        Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
        Resource: { 'Fn::GetAtt': ['AlertKey', 'Arn'] },
      });
    }
  });

  test('the state machine invokes only the functions its definition names and runs only its jobs', () => {
    const statements = props(template, 'StateMachineRole').Policies[0].PolicyDocument.Statement;
    const invoke = statements.find((s: { Sid: string }) => s.Sid === 'InvokeStageFunctions');
    const glue = statements.find((s: { Sid: string }) => s.Sid === 'RunGlueJobs');
    const definitionText = JSON.stringify(props(template, 'PipelineStateMachine').DefinitionString);

    for (const resource of invoke.Resource) {
      const fn = JSON.stringify(resource).match(/"([A-Za-z]+LambdaFunction)"/)![1]!;
      expect(definitionText).toContain(`"${fn}"`);
    }
    const jobIds = resourcesOfType(template, 'AWS::Glue::Job')
      .map(([id]) => id)
      .sort();
    expect(
      glue.Resource.map((r: { 'Fn::Sub': string }) => r['Fn::Sub'].match(/job\/\$\{(\w+)\}$/)![1]).sort(),
    ).toEqual(jobIds);
  });
});
