import type { Dataset } from '../shared/domain/datasets';
import { pascal, type Resources, type StackContext } from './context';

/**
 * Athena for analysts: the stage's workgroup (static, serverless.yml `AthenaWorkGroup`: enforced
 * settings, encrypted results under the artifacts bucket's `athena-results/`, a bytes-scanned cutoff
 * per query) and, per dataset, a saved query of its gold table in that workgroup, so the Athena
 * console's "Saved queries" lists every gold table ready to run.
 */

export const ATHENA_WORKGROUP_ID = 'AthenaWorkGroup';

/** The saved query of a dataset's gold table: its newest partitions first. */
export function goldQuery(ctx: StackContext, dataset: Dataset): string {
  const table = `"${ctx.databaseName(dataset.catalog.database)}"."${dataset.catalog.tables.gold}"`;
  const newestFirst = dataset.partitionKeys.map((k) => `"${k.name}" DESC`).join(', ');
  return [
    `-- ${dataset.name} gold: ${dataset.description}`,
    ...(dataset.owner ? [`-- Owner: ${dataset.owner}`] : []),
    `-- Partitioned by ${dataset.partitionKeys.map((k) => k.name).join(', ')}: filter on them to scan (and pay`,
    '-- for) only the partitions you need.',
    `SELECT *`,
    `FROM ${table}`,
    ...(newestFirst ? [`ORDER BY ${newestFirst}`] : []),
    'LIMIT 100',
  ].join('\n');
}

export function athenaResources(ctx: StackContext): Resources {
  const resources: Resources = {};
  for (const dataset of ctx.datasets) {
    resources[`AthenaGoldQuery${pascal(dataset.name)}`] = {
      Type: 'AWS::Athena::NamedQuery',
      // The table must exist for the console to open the query in its database.
      DependsOn: [`GlueTable${pascal(dataset.name)}Gold`],
      Properties: {
        Name: `${dataset.name} gold`,
        Description: `${dataset.name} gold (${dataset.catalog.tables.gold}): newest partitions first`.slice(
          0,
          1024,
        ),
        Database: ctx.databaseName(dataset.catalog.database),
        WorkGroup: { Ref: ATHENA_WORKGROUP_ID },
        QueryString: goldQuery(ctx, dataset),
      },
    };
  }
  return resources;
}
