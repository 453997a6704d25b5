import { goldWindowArgument } from '../shared/domain/gold-window';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import type { Dataset, Registry, Stage } from '../shared/domain/datasets';
import { glueArguments } from '../shared/domain/glue-args';
import { planFileText } from '../shared/domain/sql';
import { fileUri } from './glue-runner';
import type { LocalLake } from './lake';

/** Where the local lake keeps the compiled dataset plans (the local twin of the artifacts bucket). */
export const planPath = (lake: LocalLake, dataset: string): string => lake.system(`plans/${dataset}.json`);

/**
 * Compiles every dataset of the registry into the lake's plan folder (what `--dataset_plan` reads).
 * Each plan is written whole (a rename): a job of another process on the lake never reads half of one.
 */
export function writePlans(lake: LocalLake, registry: Registry): void {
  mkdirSync(lake.system('plans'), { recursive: true });
  for (const dataset of registry.datasets) {
    const path = planPath(lake, dataset.name);
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, planFileText(dataset));
    renameSync(tmp, path);
  }
}

/** The Glue arguments of one stage run against the local lake. */
export function localGlueArguments(
  lake: LocalLake,
  dataset: Dataset,
  stage: Stage,
  runId: string,
  partition: { path: string; values: readonly string[] },
): Record<string, string> {
  return glueArguments({
    lakeRoot: fileUri(lake.root),
    planLocation: fileUri(planPath(lake, dataset.name), false),
    dataset: dataset.name,
    catalogDatabase: dataset.catalog.database,
    landingPrefix: dataset.landing.prefix,
    stage,
    runId,
    partitionPath: partition.path,
    partitionValues: partition.values,
    ...(stage === 'gold' ? { goldWindow: goldWindowArgument(dataset, partition) } : {}),
  });
}
