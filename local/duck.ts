import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { DUCKDB_PRELUDE } from '../shared/domain/sql';

/** A DuckDB connection with the plan SQL prelude applied, and small helpers over it. */
export class Duck {
  private constructor(
    private readonly instance: DuckDBInstance,
    readonly connection: DuckDBConnection,
  ) {}

  /** `path` `:memory:` (default) or a database file. */
  static async open(path = ':memory:', options: Record<string, string> = {}): Promise<Duck> {
    const instance = await DuckDBInstance.create(path, options);
    const connection = await instance.connect();
    await connection.run(DUCKDB_PRELUDE);
    return new Duck(instance, connection);
  }

  async run(sql: string): Promise<void> {
    await this.connection.run(sql);
  }

  /** Rows as JSON-friendly objects (BIGINT/DECIMAL as numbers or strings, timestamps as strings). */
  async rows(sql: string): Promise<Array<Record<string, unknown>>> {
    const reader = await this.connection.runAndReadAll(sql);
    return reader.getRowObjectsJson() as Array<Record<string, unknown>>;
  }

  async scalar(sql: string): Promise<unknown> {
    const reader = await this.connection.runAndReadAll(sql);
    return reader.getRows()[0]?.[0];
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

/** A SQL string literal (DuckDB rules: quotes doubled). For paths and values we control. */
export const sqlString = (value: string): string => `'${value.replace(/'/g, "''")}'`;
