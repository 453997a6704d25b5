import { DuckDBInstance } from '@duckdb/node-api';
import type { Dataset } from '../shared/domain/datasets';
import { compilePlan, DUCKDB_PRELUDE, INGESTED_AT, SOURCE_FILE } from '../shared/domain/sql';
import type { Zone } from './constants';

/**
 * The catalog tables' columns are not written by hand: the compiled plan's SQL (shared/domain/sql.ts,
 * the text the local runner and the Glue jobs run) is run over an empty bronze relation in DuckDB and
 * each result is DESCRIBEd, so the tables describe exactly what the jobs write.
 */

export interface CatalogColumn {
  Name: string;
  Type: string;
}

const HIVE_TYPES: Record<string, string> = {
  VARCHAR: 'string',
  INTEGER: 'int',
  BIGINT: 'bigint',
  // DuckDB's SUM over integers; Spark sums integers into a bigint.
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

/** DuckDB type → Hive/Glue type as Spark writes it to Parquet. */
export function hiveType(type: string, where: string): string {
  const decimal = /^DECIMAL\((\d+),(\d+)\)$/.exec(type);
  if (decimal) return `decimal(${decimal[1]},${decimal[2]})`;
  const hive = HIVE_TYPES[type];
  if (!hive) throw new Error(`${where}: column type ${type} has no Glue catalog equivalent`);
  return hive;
}

/** Column lists of the four tables of each dataset, derived from the compiled SQL. */
export async function tableColumns(
  datasets: readonly Dataset[],
): Promise<Map<string, Record<Zone, CatalogColumn[]>>> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const out = new Map<string, Record<Zone, CatalogColumn[]>>();
  try {
    await connection.run(DUCKDB_PRELUDE);
    for (const dataset of datasets) {
      const plan = compilePlan(dataset);
      const file = `datasets/${dataset.folder}`;
      // Bronze keeps what landed, as text, plus the lineage columns the bronze stage adds.
      const bronze: CatalogColumn[] = [
        ...dataset.columns.map((c) => ({ Name: c.name, Type: 'string' })),
        { Name: INGESTED_AT, Type: 'timestamp' },
        { Name: SOURCE_FILE, Type: 'string' },
      ];
      const describe = async (select: string, what: string): Promise<CatalogColumn[]> => {
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
