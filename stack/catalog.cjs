/* global __filename */
'use strict';
// Glue Data Catalog as code: one database per declared `catalog.database`, and per dataset the
// bronze / silver / gold / quarantine tables. Column lists are not written by hand: the compiled
// plan's SQL (shared/domain/sql.ts, the text the local runner and the Glue jobs run) is run over an
// empty bronze relation in DuckDB and each result is DESCRIBEd, so the tables describe exactly what
// the jobs write.
const { join } = require('node:path');
const { require: tsxRequire } = require('tsx/cjs/api');

const PARQUET = {
  InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
  SerdeInfo: {
    SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
    Parameters: { 'serialization.format': '1' },
  },
};

/**
 * DuckDB type → Hive/Glue type as Spark writes it to Parquet. HUGEINT is DuckDB's SUM over
 * integers; Spark sums integers into a bigint.
 * @param {string} type
 * @param {string} where
 */
function hiveType(type, where) {
  const decimal = /^DECIMAL\((\d+),(\d+)\)$/.exec(type);
  if (decimal) return `decimal(${decimal[1]},${decimal[2]})`;
  const map = {
    VARCHAR: 'string',
    INTEGER: 'int',
    BIGINT: 'bigint',
    HUGEINT: 'bigint',
    SMALLINT: 'smallint',
    TINYINT: 'tinyint',
    DOUBLE: 'double',
    FLOAT: 'float',
    BOOLEAN: 'boolean',
    DATE: 'date',
    TIMESTAMP: 'timestamp',
    'TIMESTAMP WITH TIME ZONE': 'timestamp',
  };
  const hive = map[/** @type {keyof typeof map} */ (type)];
  if (!hive) throw new Error(`${where}: column type ${type} has no Glue catalog equivalent`);
  return hive;
}

/**
 * Column lists of the four tables of each dataset, derived from the compiled SQL.
 * @param {string} root
 * @param {readonly any[]} datasets
 * @returns {Promise<Map<string, Record<'bronze'|'silver'|'gold'|'quarantine', {Name: string, Type: string}[]>>>}
 */
async function tableColumns(root, datasets) {
  const sql = tsxRequire(join(root, 'shared', 'domain', 'sql.ts'), __filename);
  const { DuckDBInstance } = require('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const out = new Map();
  try {
    await connection.run(sql.DUCKDB_PRELUDE);
    for (const dataset of datasets) {
      const plan = sql.compilePlan(dataset);
      const file = `datasets/${dataset.folder}`;
      // Bronze keeps what landed, as text, plus the lineage columns the bronze stage adds.
      const bronze = [
        ...dataset.columns.map((c) => ({ Name: c.name, Type: 'string' })),
        { Name: sql.INGESTED_AT, Type: 'timestamp' },
        { Name: sql.SOURCE_FILE, Type: 'string' },
      ];
      const describe = async (/** @type {string} */ select, /** @type {string} */ what) => {
        const reader = await connection.runAndReadAll(`DESCRIBE ${select}`);
        return reader.getRowObjects().map((row) => ({
          Name: String(row['column_name']),
          Type: hiveType(String(row['column_type']), `${file}: ${what}`),
        }));
      };
      await connection.run('DROP VIEW IF EXISTS silver');
      await connection.run('DROP VIEW IF EXISTS validated');
      await connection.run('DROP TABLE IF EXISTS bronze');
      await connection.run(
        `CREATE TABLE bronze (${bronze.map((c) => `${c.Name} ${c.Type === 'timestamp' ? 'TIMESTAMP' : 'VARCHAR'}`).join(', ')})`,
      );
      await connection.run(`CREATE VIEW validated AS ${plan.sql.silver.validate}`);
      const silver = await describe(plan.sql.silver.clean, 'silver SQL');
      const quarantine = await describe(plan.sql.silver.quarantine, 'quarantine SQL');
      await connection.run(`CREATE VIEW silver AS ${plan.sql.silver.clean}`);
      const gold = await describe(plan.sql.gold.select, 'gold SQL');
      out.set(dataset.name, { bronze, silver, gold, quarantine });
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  return out;
}

const pascal = (/** @type {string} */ s) =>
  s
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((p) => p[0].toUpperCase() + p.slice(1))
    .join('');

/**
 * Logical ids follow the declared names (the same in every stage); the deployed names are the
 * stage's (`databaseName`).
 * @param {{ root: string, datasets: readonly any[], lakeBucket: unknown,
 *   databaseName: (declared: string) => string }} p
 */
async function catalogResources({ root, datasets, lakeBucket, databaseName }) {
  const columns = await tableColumns(root, datasets);
  /** @type {Record<string, any>} */
  const resources = {};
  const databases = [...new Set(datasets.map((d) => d.catalog.database))].sort();
  for (const database of databases) {
    resources[`GlueDatabase${pascal(database)}`] = {
      Type: 'AWS::Glue::Database',
      Properties: {
        CatalogId: { Ref: 'AWS::AccountId' },
        DatabaseInput: { Name: databaseName(database), Description: 'medallion-orchestrator lake tables' },
      },
    };
  }
  for (const dataset of datasets) {
    for (const zone of /** @type {const} */ (['bronze', 'silver', 'gold', 'quarantine'])) {
      const name = dataset.catalog.tables[zone];
      resources[`GlueTable${pascal(dataset.name)}${pascal(zone)}`] = {
        Type: 'AWS::Glue::Table',
        DependsOn: `GlueDatabase${pascal(dataset.catalog.database)}`,
        Properties: {
          CatalogId: { Ref: 'AWS::AccountId' },
          DatabaseName: databaseName(dataset.catalog.database),
          TableInput: {
            Name: name,
            Description: `${dataset.name} ${zone}: ${dataset.description}`,
            TableType: 'EXTERNAL_TABLE',
            Parameters: { classification: 'parquet', EXTERNAL: 'TRUE', 'medallion.dataset': dataset.name },
            PartitionKeys: dataset.partitionKeys.map((k) => ({ Name: k.name, Type: 'string' })),
            StorageDescriptor: {
              Columns: columns.get(dataset.name)[zone],
              // The lake layout of shared/domain/layout.ts: <zone>/<dataset>/<partition>/.
              Location: { 'Fn::Join': ['', ['s3://', lakeBucket, `/${zone}/${dataset.name}/`]] },
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

module.exports = { catalogResources, tableColumns, hiveType, pascal };
