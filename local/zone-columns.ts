import type { Dataset } from '../shared/domain/datasets';
import type { Zone } from '../shared/domain/layout';
import { compilePlan, INGESTED_AT, SOURCE_FILE } from '../shared/domain/sql';
import { Duck } from './duck';

/**
 * The columns each zone of a dataset holds, as the local runner writes them to Parquet: bronze is
 * the declared columns as landed text plus the lineage columns; silver, quarantine and gold are what
 * the compiled SQL returns, found by running it over an empty bronze table (the way the stack derives
 * the catalog's columns, stack/catalog-columns.ts).
 */

export interface ZoneColumn {
  readonly name: string;
  /** DuckDB type name (VARCHAR, BIGINT, DECIMAL(14,2), TIMESTAMP, ...). */
  readonly type: string;
}

export type ZoneColumns = Record<Zone, ZoneColumn[]>;

/**
 * The type a value of DuckDB type `type` is written as: DuckDB's SUM over integers is a HUGEINT,
 * which its Parquet writer stores as DOUBLE; Spark sums integers into a BIGINT and the catalog
 * declares bigint, so the runner writes BIGINT. Every other type is written as it is.
 */
export function writtenType(type: string): string {
  return type === 'HUGEINT' ? 'BIGINT' : type;
}

export async function zoneColumns(dataset: Dataset): Promise<ZoneColumns> {
  const plan = compilePlan(dataset);
  const duck = await Duck.open();
  try {
    await duck.run(
      `CREATE TABLE bronze (${[...dataset.columns.map((c) => `${c.name} VARCHAR`), `${INGESTED_AT} TIMESTAMPTZ`, `${SOURCE_FILE} VARCHAR`].join(', ')})`,
    );
    const describe = async (select: string): Promise<ZoneColumn[]> =>
      (await duck.rows(`DESCRIBE ${select}`)).map((r) => ({
        name: String(r['column_name']),
        type: writtenType(String(r['column_type'])),
      }));
    const bronze = await describe('SELECT * FROM bronze');
    await duck.run(`CREATE VIEW validated AS ${plan.sql.silver.validate}`);
    const silver = await describe(plan.sql.silver.clean);
    const quarantine = await describe(plan.sql.silver.quarantine);
    await duck.run(`CREATE VIEW silver AS ${plan.sql.silver.clean}`);
    const gold = await describe(plan.sql.gold.select);
    return { bronze, silver, gold, quarantine };
  } finally {
    duck.close();
  }
}
