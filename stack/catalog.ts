import { ZONES } from './constants';
import { glueArn, pascal, refuseClash, type Cfn, type Resources, type StackContext } from './context';
import { tableColumns } from './catalog-columns';

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

export async function catalogResources(ctx: StackContext): Promise<Resources> {
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
  const columns = await tableColumns(ctx.datasets);
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
      resources[`GlueTable${pascal(dataset.name)}${pascal(zone)}`] = {
        Type: 'AWS::Glue::Table',
        DependsOn: `GlueDatabase${pascal(dataset.catalog.database)}`,
        Properties: {
          CatalogId: { Ref: 'AWS::AccountId' },
          DatabaseName: ctx.databaseName(dataset.catalog.database),
          TableInput: {
            Name: dataset.catalog.tables[zone],
            Description: `${dataset.name} ${zone}: ${dataset.description}`,
            TableType: 'EXTERNAL_TABLE',
            Parameters: { classification: 'parquet', EXTERNAL: 'TRUE', 'medallion.dataset': dataset.name },
            PartitionKeys: dataset.partitionKeys.map((k) => ({ Name: k.name, Type: 'string' })),
            StorageDescriptor: {
              Columns: columns.get(dataset.name)![zone],
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
