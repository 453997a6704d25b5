import type { Dataset } from '../shared/domain/datasets';
import { stageDatabaseName, stageJobName, stageMetricsNamespace } from '../shared/domain/stage-names';

/**
 * What every generator of the stack shares: the packaging parameters, the datasets, the stage's
 * names and the ARNs of resources the roles and policies point at. Logical ids and CloudFormation
 * naming rules live here too, so the modules agree on them.
 */

/** A CloudFormation fragment (resource, property, intrinsic). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Cfn = any;
export type Resources = Record<string, Cfn>;

/** The serverless parameters the generators read (serverless.yml `params`). */
export interface BuildParams {
  /** The repository root (serverless service directory): datasets/, functions/, state-machines/. */
  root: string;
  /** serverless.yml `service`: the deployment bucket's prefix of this stack. */
  service: string;
  stage: string;
  /** An existing lake bucket's name; empty = the stack creates one. */
  lakeBucketParam: string;
  tracing: boolean;
  glueWorkers: number;
  glueRunQuota: number;
  glueRunBudget: number;
  /** Executions in flight at most; empty = each Glue job's MaxConcurrentRuns (stack/back-pressure.ts). */
  executionBudget: string;
  /** IAM role or user ARNs granted SELECT on the non-sensitive columns (stack/lake-formation.ts). */
  lakeReaders: string[];
  /** IAM role or user ARNs granted SELECT on every column. */
  lakeFullAccess: string[];
  /** The oldest run waiting for an execution slot pages after this many minutes (stack/back-pressure.ts). */
  waitingRunAlarmMinutes: number;
}

export interface StackContext {
  params: BuildParams;
  stage: string;
  /** `medallion-<stage>`: the prefix of every name the stack gives. */
  prefix: string;
  datasets: readonly Dataset[];
  /** functions/<folder> that have a handler.ts, sorted. */
  functionFolders: string[];
  /** The stage's metrics namespace (record-stage's METRICS_NAMESPACE). */
  metricsNamespace: string;
  /** The existing lake bucket's name, or '' when the stack creates it. */
  existingLake: string;
  lakeBucket: Cfn;
  lakeBucketArn: Cfn;
  /** The state machine's ARN from its fixed name: a Ref from a function's role would be circular. */
  stateMachineArn: Cfn;
  executionsArn: Cfn;
  jobName: (declared: string) => string;
  databaseName: (declared: string) => string;
}

export const sub = (text: string): Cfn => ({ 'Fn::Sub': text });
const region = (service: string, rest: string): Cfn =>
  sub(`arn:\${AWS::Partition}:${service}:\${AWS::Region}:\${AWS::AccountId}:${rest}`);
export const glueArn = (rest: string): Cfn => region('glue', rest);
export const statesArn = (rest: string): Cfn => region('states', rest);
export const logsArn = (rest: string): Cfn => region('logs', rest);

/** An object pattern of the lake bucket (`landing/shop/orders/*`). */
export const lakeObjects = (ctx: StackContext, keyPattern: string): Cfn => ({
  'Fn::Join': ['', [ctx.lakeBucketArn, `/${keyPattern}`]],
});

export function stackContext(
  params: BuildParams,
  datasets: readonly Dataset[],
  functionFolders: string[],
): StackContext {
  const { stage } = params;
  const prefix = `medallion-${stage}`;
  const existingLake = params.lakeBucketParam.trim();
  return {
    params,
    stage,
    prefix,
    datasets,
    functionFolders,
    metricsNamespace: stageMetricsNamespace(stage),
    existingLake,
    lakeBucket: existingLake ? existingLake : { Ref: 'LakeBucket' },
    lakeBucketArn: existingLake
      ? sub(`arn:\${AWS::Partition}:s3:::${existingLake}`)
      : sub(`arn:\${AWS::Partition}:s3:::${prefix}-lake-\${AWS::AccountId}-\${AWS::Region}`),
    stateMachineArn: statesArn(`stateMachine:${prefix}-pipeline`),
    executionsArn: statesArn(`execution:${prefix}-pipeline:*`),
    jobName: (declared) => stageJobName(declared, stage),
    databaseName: (declared) => stageDatabaseName(declared, stage),
  };
}

/** `record-stage` → `RecordStage`: logical ids. */
export const pascal = (s: string): string =>
  s
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join('');

/** The function key (serverless.yml) of a functions/<folder>: camelCase of the folder. */
export const functionKey = (folder: string): string =>
  folder.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** serverless' normalized function name: the head of its logical ids. */
const normalized = (key: string): string =>
  `${key[0]!.toUpperCase()}${key.slice(1).replace(/-/g, 'Dash').replace(/_/g, 'Underscore')}`;

/** CloudFormation logical id serverless gives a function key. */
export const lambdaLogicalId = (key: string): string => `${normalized(key)}LambdaFunction`;

/** The logical id of the log group serverless creates for a functions/<folder>. */
export const logGroupLogicalId = (folder: string): string => `${normalized(functionKey(folder))}LogGroup`;

/** A trust policy for a service principal. */
export const assume = (service: string, condition?: Record<string, unknown>): Cfn => ({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { Service: service },
      Action: 'sts:AssumeRole',
      ...(condition ? { Condition: condition } : {}),
    },
  ],
});

/** Throws when two owners declare the same key. */
export function refuseClash(what: string, pairs: ReadonlyArray<readonly [string, string]>): void {
  const seen = new Map<string, string>();
  for (const [key, owner] of pairs) {
    const other = seen.get(key);
    if (other !== undefined && other !== owner)
      throw new Error(`${what} "${key}" is declared by both ${other} and ${owner}`);
    seen.set(key, owner);
  }
}
