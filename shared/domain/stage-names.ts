import type { Dataset, Registry } from './datasets';
import { makeRegistry } from './datasets';
import { MedallionError } from './errors';
import { DEFAULT_METRICS_NAMESPACE } from './metrics';

/**
 * What a deployed stage names after itself. Glue job names and Glue Data Catalog databases are
 * unique per account and region, so two stages of the stack (dev, prod) in one account must not
 * share them: the stage is appended to what a dataset declares. The local runtime has no stage and
 * uses the declared names.
 */

/** A stage names S3 buckets (`medallion-<stage>-artifacts-<account>-<region>`, ≤ 63 characters). */
export const STAGE_PATTERN = /^[a-z0-9][a-z0-9-]{0,14}$/;

/** AWS's limit on Glue job and catalog database names. */
export const GLUE_NAME_MAX = 255;

/** The stage does not fit the names it must be part of. */
export class StageNameError extends MedallionError {
  readonly retryable = false;
}

export function assertStage(stage: string): string {
  if (!STAGE_PATTERN.test(stage)) {
    throw new StageNameError(
      `stage "${stage}": use 1-15 lower-case letters, digits or "-" (it names the S3 buckets, at most 63 characters)`,
    );
  }
  return stage;
}

/** `medallion-bronze` of stage `prod` → `medallion-bronze-prod`. */
export const stageJobName = (job: string, stage: string): string => `${job}-${assertStage(stage)}`;

/** `shop_lake` of stage `prod-eu` → `shop_lake_prod_eu` (Athena reads `_`, not `-`, unquoted). */
export const stageDatabaseName = (database: string, stage: string): string =>
  `${database}_${assertStage(stage).replace(/-/g, '_')}`;

/** The dataset as a stage deploys it: its Glue jobs and catalog database carry the stage. */
export function datasetForStage(dataset: Dataset, stage: string): Dataset {
  const problems: string[] = [];
  const checked = (name: string, field: string): string => {
    if (name.length > GLUE_NAME_MAX)
      problems.push(
        `datasets/${dataset.folder}/dataset.yml: ${field}: "${name}" is ${name.length} characters with the stage, Glue allows ${GLUE_NAME_MAX}`,
      );
    return name;
  };
  const stages = Object.fromEntries(
    Object.entries(dataset.stages).map(([s, def]) => [
      s,
      { ...def, glueJob: checked(stageJobName(def.glueJob, stage), `stages.${s}.glueJob`) },
    ]),
  ) as unknown as Dataset['stages'];
  const database = checked(stageDatabaseName(dataset.catalog.database, stage), 'catalog.database');
  if (problems.length > 0) throw new StageNameError(problems.join('\n'));
  return { ...dataset, stages, catalog: { ...dataset.catalog, database } };
}

export const registryForStage = (registry: Registry, stage: string): Registry =>
  makeRegistry(registry.datasets.map((d) => datasetForStage(d, stage)));

/**
 * The stage's CloudWatch namespace for the pipeline metrics: metrics are per account and region, so
 * two stages publishing to one namespace would mix their quarantine baselines and alarms.
 */
export const stageMetricsNamespace = (stage: string): string =>
  `${DEFAULT_METRICS_NAMESPACE}/${assertStage(stage)}`;
