import { ZONES } from './constants';
import { glueArn, pascal, refuseClash, type Cfn, type Resources, type StackContext } from './context';
import { tableColumns, type CatalogColumn } from './catalog-columns';
import type { Dataset } from '../shared/domain/datasets';
import { cdcStatePrefix, isIcebergTable } from '../shared/domain/cdc';
import { columnGovernance, mostRestricted } from '../shared/domain/governance';
import { zonePrefix, type Zone } from '../shared/domain/layout';

/**
 * Glue Data Catalog as code: one database per declared `catalog.database`, and per dataset the
 * bronze / silver / gold / quarantine Parquet tables, partitioned by its keys, at
 * s3://<lake>/<zone>/<dataset>/ (shared/domain/layout.ts). Logical ids follow the declared names (the
 * same in every stage); the deployed database names are the stage's.
 *
 * A CDC dataset's silver (shared/domain/cdc.ts `icebergZones`) is an Apache Iceberg table instead:
 * Glue creates its Iceberg metadata (format version 2) from the declared columns at
 * s3://<lake>/silver/<dataset>/current/, with no partition keys (the current state is one table);
 * the silver job commits its merges to it through the Glue catalog (stack/glue-jobs.ts) and Glue's
 * table optimizers compact it and expire its snapshots (stack/iceberg.ts).
 */

const PARQUET = {
  InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
  SerdeInfo: {
    SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
    Parameters: { 'serialization.format': '1' },
  },
};

/** The catalog, database and table ARNs the roles that register partitions need. */
export function catalogArns(ctx: StackContext): { catalogArn: Cfn; databaseArns: Cfn[]; tableArns: Cfn[] } {
  const database = (declared: string) => ctx.databaseName(declared);
  return {
    catalogArn: glueArn('catalog'),
    databaseArns: [...new Set(ctx.datasets.map((d) => database(d.catalog.database)))]
      .sort()
      .map((db) => glueArn(`database/${db}`)),
    // An Iceberg table has no partitions to register: its ARN is left out.
    tableArns: ctx.datasets.flatMap((d) =>
      ZONES.filter((zone) => !isIcebergTable(d, zone)).map((zone) =>
        glueArn(`table/${database(d.catalog.database)}/${d.catalog.tables[zone]}`),
      ),
    ),
  };
}

/** Glue's column comment limit. */
const COMMENT_MAX = 255;

/** A column's comment: its classification, then its description, as Athena's and Glue's consoles show it. */
export function columnComment(dataset: Dataset, zone: Zone, column: string): string {
  const g = columnGovernance(dataset, zone, column);
  const text = `[${g.classification}${g.declared ? '' : ', unclassified'}]${g.description ? ` ${g.description}` : ''}`;
  return text.length > COMMENT_MAX ? `${text.slice(0, COMMENT_MAX - 1)}…` : text;
}

/**
 * The table's parameters: Glue's own (`classification` is Glue's data format key, so the registry's
 * classification goes under `medallion.`), then the dataset, layer, owner, tags, the table's most
 * restricted column classification and, per classification, its columns.
 */
export function tableParameters(
  dataset: Dataset,
  zone: Zone,
  columns: readonly CatalogColumn[],
): Record<string, string> {
  const classes = columns.map((c) => columnGovernance(dataset, zone, c.Name).classification);
  const byClass: Record<string, string> = {};
  columns.forEach((c, i) => {
    const key = `medallion.columns.${classes[i]}`;
    byClass[key] = byClass[key] ? `${byClass[key]},${c.Name}` : c.Name;
  });
  return {
    // An Iceberg table's format parameters (table_type, metadata_location) are Glue's own.
    ...(isIcebergTable(dataset, zone) ? {} : { classification: 'parquet', EXTERNAL: 'TRUE' }),
    'medallion.dataset': dataset.name,
    'medallion.layer': zone,
    ...(dataset.owner ? { 'medallion.owner': dataset.owner } : {}),
    ...(dataset.tags.length > 0 ? { 'medallion.tags': dataset.tags.join(',') } : {}),
    'medallion.classification': mostRestricted(classes),
    ...Object.fromEntries(Object.entries(byClass).sort(([a], [b]) => a.localeCompare(b))),
  };
}

export async function catalogResources(
  ctx: StackContext,
  known?: Map<string, Record<Zone, CatalogColumn[]>>,
): Promise<Resources> {
  refuseClash(
    'Glue table',
    ctx.datasets.flatMap((d) =>
      Object.entries(d.catalog.tables).map(
        ([zone, table]) =>
          [
            `${d.catalog.database}.${table}`,
            `datasets/${d.folder}/dataset.yml (catalog.tables.${zone})`,
          ] as const,
      ),
    ),
  );
  const columns = known ?? (await tableColumns(ctx.datasets));
  const resources: Resources = {};
  for (const database of [...new Set(ctx.datasets.map((d) => d.catalog.database))].sort()) {
    resources[`GlueDatabase${pascal(database)}`] = {
      Type: 'AWS::Glue::Database',
      Properties: {
        CatalogId: { Ref: 'AWS::AccountId' },
        DatabaseInput: {
          Name: ctx.databaseName(database),
          Description: 'medallion-orchestrator lake tables',
        },
      },
    };
  }
  for (const dataset of ctx.datasets) {
    for (const zone of ZONES) {
      const zoneColumns = columns.get(dataset.name)![zone];
      if (isIcebergTable(dataset, zone)) {
        resources[glueTableId(dataset, zone)] = icebergTable(ctx, dataset, zone, zoneColumns);
        continue;
      }
      resources[glueTableId(dataset, zone)] = glueTable(ctx, dataset, zone, zoneColumns, {
        PartitionKeys: dataset.partitionKeys.map((k) => ({
          Name: k.name,
          Type: 'string',
          Comment: columnComment(dataset, zone, k.name),
        })),
        StorageDescriptor: {
          Location: lakeUri(ctx, zonePrefix(zone, dataset.name)),
          ...PARQUET,
          Compressed: false,
          StoredAsSubDirectories: false,
        },
      });
    }
  }
  return resources;
}

/** The logical id of a dataset's table of a zone. */
export const glueTableId = (dataset: Pick<Dataset, 'name'>, zone: Zone): string =>
  `GlueTable${pascal(dataset.name)}${pascal(zone)}`;

const lakeUri = (ctx: StackContext, prefix: string): Cfn => ({
  'Fn::Join': ['', ['s3://', ctx.lakeBucket, `/${prefix}`]],
});

/**
 * An Apache Iceberg table (format version 2) in the Glue Data Catalog: Glue writes its first metadata
 * file from the declared columns at the table's location and records it in the table's parameters
 * (`table_type` ICEBERG, `metadata_location`). No partition keys (an empty list), no SerDe: Iceberg's metadata says
 * how its data files are laid out. The columns are what the silver job merges (its clean SQL: the
 * declared columns, the lineage columns and the tombstone flag `_cdc_deleted`).
 *
 * Only CREATE is possible (`MetadataOperation`): CloudFormation updates the table with Glue's
 * UpdateTable, which replaces its parameters and drops `metadata_location` (docs/incremental.md says
 * what a change to a CDC dataset's declaration needs).
 */
function icebergTable(
  ctx: StackContext,
  dataset: Dataset,
  zone: Zone,
  columns: readonly CatalogColumn[],
): Cfn {
  const table = glueTable(ctx, dataset, zone, columns, {
    // None (Athena wants the empty list rather than no list).
    PartitionKeys: [],
    StorageDescriptor: { Location: lakeUri(ctx, cdcStatePrefix(dataset.name)) },
  });
  return {
    ...table,
    Properties: {
      ...(table['Properties'] as Record<string, unknown>),
      OpenTableFormatInput: { IcebergInput: { MetadataOperation: 'CREATE', Version: '2' } },
    },
  };
}

/**
 * A dataset's table of a zone, governed as every table is (description, owner, `medallion.*`
 * parameters, column comments); `layout` gives its partition keys and where and how it is stored.
 */
function glueTable(
  ctx: StackContext,
  dataset: Dataset,
  zone: Zone,
  columns: readonly CatalogColumn[],
  layout: { PartitionKeys: Cfn[]; StorageDescriptor: Record<string, unknown> },
): Cfn {
  return {
    Type: 'AWS::Glue::Table',
    DependsOn: `GlueDatabase${pascal(dataset.catalog.database)}`,
    Properties: {
      CatalogId: { Ref: 'AWS::AccountId' },
      DatabaseName: ctx.databaseName(dataset.catalog.database),
      TableInput: {
        Name: dataset.catalog.tables[zone],
        Description: `${dataset.name} ${zone}: ${dataset.description}`.slice(0, 2048),
        ...(dataset.owner ? { Owner: dataset.owner } : {}),
        TableType: 'EXTERNAL_TABLE',
        Parameters: tableParameters(dataset, zone, columns),
        PartitionKeys: layout.PartitionKeys,
        StorageDescriptor: {
          Columns: columns.map((c) => ({ ...c, Comment: columnComment(dataset, zone, c.Name) })),
          ...layout.StorageDescriptor,
        },
      },
    },
  };
}
