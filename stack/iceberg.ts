import { icebergZones, cdcStatePrefix } from '../shared/domain/cdc';
import type { Dataset, Stage } from '../shared/domain/datasets';
import { stageZones } from '../shared/domain/glue-args';
import type { Zone } from './constants';
import {
  assume,
  glueArn,
  lakeObjects,
  logsArn,
  type Cfn,
  type Resources,
  type StackContext,
} from './context';
import { glueTableId } from './catalog';

/** What a Glue job is here (stack/glue-jobs.ts GlueJob): its stage and its datasets. */
interface Job {
  stage: Stage;
  datasets: readonly string[];
}

/**
 * The Apache Iceberg tables of the stack (a CDC dataset's silver, shared/domain/cdc.ts
 * `icebergZones`; declared in stack/catalog.ts) at work on AWS:
 *
 * - The Glue jobs that read or write one (silver merges into it, gold reads it) run with Glue 5.1's
 *   own Iceberg (`--datalake-formats iceberg`, Iceberg 1.10.0) and a `--conf` that defines the Spark
 *   catalog `glue_catalog` over the Glue Data Catalog, as glue/medallion_glue/cdc.py expects: the
 *   table is `glue_catalog.<database>.<table>`.
 * - Their roles may read the table's catalog entry, and the silver job's may commit to it (a commit is
 *   Glue's UpdateTable of its `metadata_location`); the lake prefixes they already read and write
 *   hold the table's files (silver/<dataset>/current/).
 * - Glue's table optimizers keep each table small and its history bounded: compaction (small files
 *   rewritten into larger ones, binpack), snapshot retention (expired snapshots and the files only
 *   they reference deleted) and orphan file deletion (files no snapshot references, e.g. of a failed
 *   run), under one role scoped to the Iceberg tables.
 */

/** The Spark catalog name the jobs' --conf defines (glue/medallion_glue/cdc.py GLUE_CATALOG). */
export const ICEBERG_CATALOG = 'glue_catalog';

/** The role Glue's table optimizers assume. */
export const OPTIMIZER_ROLE_ID = 'IcebergOptimizerRole';

/** Snapshots older than this are expired (their unreferenced files deleted); the newest is always kept. */
export const SNAPSHOT_RETENTION_DAYS = 7;
/** Files in a table's location that no snapshot references are deleted once older than this. */
export const ORPHAN_FILE_RETENTION_DAYS = 3;

/** Where Glue's table optimizers log (fixed by Glue, per account and region). */
const OPTIMIZER_LOG_GROUPS = [
  '/aws-glue/iceberg-compaction/logs',
  '/aws-glue/iceberg-retention/logs',
  '/aws-glue/iceberg-orphan-file-deletion/logs',
];

export const OPTIMIZER_TYPES = ['compaction', 'retention', 'orphan_file_deletion'] as const;

interface IcebergTable {
  dataset: Dataset;
  zone: Zone;
}

/** Every Iceberg table of the stack. */
export const icebergTables = (datasets: readonly Dataset[]): IcebergTable[] =>
  datasets.flatMap((dataset) => icebergZones(dataset).map((zone) => ({ dataset, zone })));

/** The Iceberg tables a job reads or writes (its stage's zones of its datasets). */
export function jobIcebergTables(ctx: StackContext, job: Job): Array<IcebergTable & { writes: boolean }> {
  const { reads, writes } = stageZones(job.stage);
  return icebergTables(ctx.datasets.filter((d) => job.datasets.includes(d.name)))
    .filter((t) => reads.includes(t.zone) || writes.includes(t.zone))
    .map((t) => ({ ...t, writes: writes.includes(t.zone) }));
}

/**
 * The Glue job arguments that give a job Iceberg and the `glue_catalog` Spark catalog (one `--conf`
 * argument holding every setting, joined by ` --conf `, as Glue reads it). The warehouse is only where
 * the catalog would put a table it creates; the jobs create none (the stack declares them).
 */
export function icebergJobArguments(ctx: StackContext): Record<string, Cfn> {
  const catalog = `spark.sql.catalog.${ICEBERG_CATALOG}`;
  const settings: Cfn[] = [
    'spark.sql.extensions=org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions',
    `${catalog}=org.apache.iceberg.spark.SparkCatalog`,
    `${catalog}.catalog-impl=org.apache.iceberg.aws.glue.GlueCatalog`,
    `${catalog}.io-impl=org.apache.iceberg.aws.s3.S3FileIO`,
    { 'Fn::Join': ['', [`${catalog}.warehouse=s3://`, ctx.lakeBucket, '/silver/']] },
  ];
  return {
    '--datalake-formats': 'iceberg',
    '--conf': { 'Fn::Join': [' --conf ', settings] },
  };
}

const tableArn = (ctx: StackContext, t: IcebergTable): Cfn =>
  glueArn(`table/${ctx.databaseName(t.dataset.catalog.database)}/${t.dataset.catalog.tables[t.zone]}`);

/** Glue resources of table actions: the catalog, the tables' databases and the tables. */
function catalogResources(ctx: StackContext, tables: readonly IcebergTable[]): Cfn[] {
  const databases = [...new Set(tables.map((t) => ctx.databaseName(t.dataset.catalog.database)))].sort();
  return [
    glueArn('catalog'),
    ...databases.map((db) => glueArn(`database/${db}`)),
    ...tables.map((t) => tableArn(ctx, t)),
  ];
}

/**
 * A job role's statements for the Iceberg tables it uses: load them (GetTable) and, for the tables
 * it writes, commit (UpdateTable swaps the table's metadata_location, checked against its version).
 */
export function icebergJobStatements(ctx: StackContext, job: Job): Cfn[] {
  const tables = jobIcebergTables(ctx, job);
  if (tables.length === 0) return [];
  const written = tables.filter((t) => t.writes);
  return [
    {
      Sid: 'ReadIcebergTables',
      Effect: 'Allow',
      Action: ['glue:GetTable'],
      Resource: catalogResources(ctx, tables),
    },
    ...(written.length > 0
      ? [
          {
            Sid: 'CommitIcebergTables',
            Effect: 'Allow',
            Action: ['glue:UpdateTable'],
            Resource: catalogResources(ctx, written),
          },
        ]
      : []),
  ];
}

/** The optimizers' logical ids of one table. */
export const optimizerId = (t: IcebergTable, type: (typeof OPTIMIZER_TYPES)[number]): string =>
  `${glueTableId(t.dataset, t.zone)}${type
    .split('_')
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join('')}Optimizer`;

/** The optimizer role and, per Iceberg table, its three optimizers; nothing without Iceberg tables. */
export function icebergMaintenanceResources(ctx: StackContext): Resources {
  const tables = icebergTables(ctx.datasets);
  if (tables.length === 0) return {};
  const locations = tables.map((t) => lakeObjects(ctx, `${cdcStatePrefix(t.dataset.name)}*`));
  const resources: Resources = {
    [OPTIMIZER_ROLE_ID]: {
      Type: 'AWS::IAM::Role',
      Properties: {
        Description: `medallion Glue table optimizers (Iceberg): ${tables
          .map((t) => `${t.dataset.catalog.database}.${t.dataset.catalog.tables[t.zone]}`)
          .join(', ')}`.slice(0, 1000),
        AssumeRolePolicyDocument: assume('glue.amazonaws.com'),
        Policies: [
          {
            PolicyName: 'table-optimizers',
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                {
                  Sid: 'TableFiles',
                  Effect: 'Allow',
                  // Compaction writes merged files, retention and orphan deletion delete files.
                  Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
                  Resource: locations,
                },
                {
                  Sid: 'ListTableFiles',
                  Effect: 'Allow',
                  // Orphan file deletion lists the table's location.
                  Action: ['s3:ListBucket', 's3:GetBucketLocation'],
                  Resource: ctx.lakeBucketArn,
                },
                {
                  Sid: 'CommitTables',
                  Effect: 'Allow',
                  Action: ['glue:GetTable', 'glue:UpdateTable'],
                  Resource: catalogResources(ctx, tables),
                },
                {
                  Sid: 'OptimizerLogs',
                  Effect: 'Allow',
                  Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
                  Resource: OPTIMIZER_LOG_GROUPS.map((g) => logsArn(`log-group:${g}:*`)),
                },
                {
                  Sid: 'LakeFormationData',
                  Effect: 'Allow',
                  // The lake is registered with Lake Formation; GetDataAccess has no resource-level permissions.
                  Action: ['lakeformation:GetDataAccess'],
                  Resource: '*',
                },
              ],
            },
          },
        ],
      },
    },
  };
  for (const t of tables) {
    const base = {
      CatalogId: { Ref: 'AWS::AccountId' },
      DatabaseName: ctx.databaseName(t.dataset.catalog.database),
      TableName: t.dataset.catalog.tables[t.zone],
    };
    const configuration = (extra: Record<string, unknown>) => ({
      RoleArn: { 'Fn::GetAtt': [OPTIMIZER_ROLE_ID, 'Arn'] },
      Enabled: true,
      ...extra,
    });
    const optimizer = (type: (typeof OPTIMIZER_TYPES)[number], extra: Record<string, unknown>) => ({
      Type: 'AWS::Glue::TableOptimizer',
      DependsOn: [glueTableId(t.dataset, t.zone)],
      Properties: { ...base, Type: type, TableOptimizerConfiguration: configuration(extra) },
    });
    // In Lake Formation terms (the lake is registered, hybrid mode): what the optimizers do to the table.
    resources[`${OPTIMIZER_ROLE_ID}Lf${glueTableId(t.dataset, t.zone).slice('GlueTable'.length)}`] = {
      Type: 'AWS::LakeFormation::PrincipalPermissions',
      DependsOn: [glueTableId(t.dataset, t.zone)],
      Properties: {
        Principal: { DataLakePrincipalIdentifier: { 'Fn::GetAtt': [OPTIMIZER_ROLE_ID, 'Arn'] } },
        Resource: {
          Table: { CatalogId: base.CatalogId, DatabaseName: base.DatabaseName, Name: base.TableName },
        },
        Permissions: ['SELECT', 'INSERT', 'DELETE', 'DESCRIBE', 'ALTER'],
        PermissionsWithGrantOption: [],
      },
    };
    resources[optimizerId(t, 'compaction')] = optimizer('compaction', {});
    resources[optimizerId(t, 'retention')] = optimizer('retention', {
      RetentionConfiguration: {
        IcebergConfiguration: {
          SnapshotRetentionPeriodInDays: SNAPSHOT_RETENTION_DAYS,
          NumberOfSnapshotsToRetain: 1,
          CleanExpiredFiles: true,
        },
      },
    });
    resources[optimizerId(t, 'orphan_file_deletion')] = optimizer('orphan_file_deletion', {
      OrphanFileDeletionConfiguration: {
        IcebergConfiguration: { OrphanFileRetentionPeriodInDays: ORPHAN_FILE_RETENTION_DAYS },
      },
    });
  }
  return resources;
}
