import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { compileRegistry, DEFAULT_REGISTRY_FILE } from '../shared/config/deployed-registry';
import { loadRegistry } from '../shared/config/registry';
import { assertStage, registryForStage } from '../shared/domain/stage-names';
import { quarantineAlarms } from './alarms';
import { athenaResources } from './athena';
import { executionBudget, waitingRunResources } from './back-pressure';
import { catalogResources } from './catalog';
import { tableColumns } from './catalog-columns';
import { logGroupLogicalId, stackContext, type BuildParams, type Cfn, type Resources } from './context';
import { dashboard } from './dashboard';
import { artifactsPrefix, glueArtifacts } from './glue-artifacts';
import { stateMachineDefinition } from './definition';
import { functionAlarms } from './function-alarms';
import { collectJobs, glueJobResources } from './glue-jobs';
import { functionRoles } from './iam-functions';
import { icebergMaintenanceResources } from './iceberg';
import { glueJobRoles, glueJobTableAccess } from './iam-glue-jobs';
import { stateMachineRole } from './iam-state-machine';
import { lakeResources } from './lake';
import { lakeFormationResources, principalsParam } from './lake-formation';

/**
 * The dataset-driven and definition-driven parts of the stack (serverless.yml reads them through
 * stack/build.cjs: `${file(stack/build.cjs):<part>}`). Static resources are in serverless.yml; each
 * concern here is a module of its own. Adding a dataset or a task never means editing YAML.
 */

export interface StackParts {
  /** The state machine definition with its placeholders bound. */
  definition: Cfn;
  /** Values of function environment variables that depend on parameters. */
  env: { LAKE_BUCKET: Cfn; METRICS_NAMESPACE: string; PLANS_LOCATION: Cfn; EXECUTION_BUDGET: string };
  /** Merged into serverless.yml `resources`. */
  resources: { Resources: Resources; Outputs: Resources; extensions: Resources };
}

/** An S3 URI of the deployment bucket, as Fn::Join parts. */
const deployed = (key: string): Cfn[] => ['s3://', { Ref: 'ServerlessDeploymentBucket' }, `/${key}`];

/** functions/<folder> with a handler.ts (each must be declared in serverless.yml). */
const functionFolders = (root: string): string[] =>
  readdirSync(join(root, 'functions'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, 'functions', d.name, 'handler.ts')))
    .map((d) => d.name)
    .sort();

/** What stack/build.cjs passes: the principal lists as the serverless params' comma-separated text. */
export type BuildInput = Omit<BuildParams, 'lakeReaders' | 'lakeFullAccess'> & {
  lakeReaders: string;
  lakeFullAccess: string;
};

export async function build(input: BuildInput): Promise<StackParts> {
  const p: BuildParams = {
    ...input,
    lakeReaders: principalsParam('lakeFormationReaders', input.lakeReaders),
    lakeFullAccess: principalsParam('lakeFormationFullAccess', input.lakeFullAccess),
  };
  assertStage(p.stage);
  const registry = loadRegistry(join(p.root, 'datasets'));
  // The functions read this compiled registry (shared/config/deployed-registry.ts), shipped in each
  // zip by package.patterns, with the stage's names: Glue jobs `<job>-<stage>`, databases `<db>_<stage>`.
  const registryFile = join(p.root, DEFAULT_REGISTRY_FILE);
  mkdirSync(dirname(registryFile), { recursive: true });
  writeFileSync(registryFile, compileRegistry(registryForStage(registry, p.stage)));

  const ctx = stackContext(p, registry.datasets, functionFolders(p.root));
  const jobs = collectJobs(ctx);
  // Scripts, library and plans as the plugin stages and uploads them: keys hold their hashes.
  const artifacts = await glueArtifacts(p.root, registry.datasets, artifactsPrefix(p.service, p.stage));
  const plansLocation = deployed(artifacts.plans);
  const sm = stateMachineDefinition(ctx, plansLocation);
  const lake = lakeResources(ctx);
  const columns = await tableColumns(ctx.datasets);
  const resources: Resources = {
    ...lake.resources,
    ...(await catalogResources(ctx, columns)),
    ...lakeFormationResources(
      ctx,
      columns,
      glueJobTableAccess(ctx, jobs),
      ctx.functionFolders.includes('record-stage') ? 'RecordStageRole' : undefined,
    ),
    ...glueJobResources(ctx, jobs, artifacts),
    ...icebergMaintenanceResources(ctx),
    StateMachineRole: stateMachineRole(ctx, sm, jobs),
    ...glueJobRoles(ctx, jobs, artifactsPrefix(p.service, p.stage)),
    ...functionRoles(ctx, jobs),
    ...functionAlarms({
      folders: ctx.functionFolders,
      asl: sm.asl,
      prefix: ctx.prefix,
      namespace: ctx.metricsNamespace,
    }),
    ...quarantineAlarms(ctx),
    ...athenaResources(ctx),
    ...waitingRunResources(ctx),
    Dashboard: dashboard(ctx),
  };
  return {
    definition: sm.definition,
    env: {
      LAKE_BUCKET: ctx.lakeBucket,
      METRICS_NAMESPACE: ctx.metricsNamespace,
      PLANS_LOCATION: { 'Fn::Join': ['', plansLocation] },
      EXECUTION_BUDGET: String(executionBudget(p, jobs.size)),
    },
    resources: {
      Resources: resources,
      Outputs: lake.outputs,
      // The function log groups serverless creates, encrypted with the stack's logs key.
      extensions: Object.fromEntries(
        ctx.functionFolders.map((folder) => [
          logGroupLogicalId(folder),
          { Properties: { KmsKeyId: { 'Fn::GetAtt': ['LogsKey', 'Arn'] } } },
        ]),
      ),
    },
  };
}
