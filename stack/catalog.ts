import { ZONES } from './constants';
import { glueArn, pascal, refuseClash, type Cfn, type Resources, type StackContext } from './context';
import { tableColumns, type CatalogColumn } from './catalog-columns';
import type { Dataset } from '../shared/domain/datasets';
import { columnGovernance, mostRestricted } from '../shared/domain/governance';
import type { Zone } from '../shared/domain/layout';

/**
 * Glue Data Catalog as code: one database per declared `catalog.database`, and per dataset the
 * bronze / silver / gold / quarantine Parquet tables, partitioned by its keys, at
 * s3://<lake>/<zone>/<dataset>/ (shared/domain/layout.ts). Logical ids follow the declared names (the
 * same in every stage); the deployed database names are the stage's.
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
    tableArns: ctx.datasets.flatMap((d) =>
      ZONES.map((zone) => glueArn(`table/${database(d.catalog.database)}/${d.catalog.tables[zone]}`)),
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
    classification: 'parquet',
    EXTERNAL: 'TRUE',
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
      resources[`GlueTable${pascal(dataset.name)}${pascal(zone)}`] = {
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
            Parameters: tableParameters(dataset, zone, zoneColumns),
            PartitionKeys: dataset.partitionKeys.map((k) => ({
              Name: k.name,
              Type: 'string',
              Comment: columnComment(dataset, zone, k.name),
            })),
            StorageDescriptor: {
              Columns: zoneColumns.map((c) => ({ ...c, Comment: columnComment(dataset, zone, c.Name) })),
              Location: { 'Fn::Join': ['', ['s3://', ctx.lakeBucket, `/${zone}/${dataset.name}/`]] },
              ...PARQUET,
              Compressed: false,
              StoredAsSubDirectories: false,
            },
          },
        },
      };
    }
  }
  return resources;
}
