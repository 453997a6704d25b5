import { LocalLake } from '../local/lake';
import type { AccessLevel } from '../shared/domain/governance';
import { columnPolicyError, openLakeViews } from '../local/lake-query';
import { registry } from './datasets';
import { table } from './format';
import { UsageError } from './options';

export interface QueryOptions {
  readonly lake?: string;
  readonly json: boolean;
  /** Query as a principal of this access level: the registry's column policy applies. */
  readonly as?: AccessLevel;
}

/** `medallion query "SQL"`: DuckDB over the local lake (exit 1 on a SQL error). */
export async function query(sqlText: string, options: QueryOptions): Promise<number> {
  const sql = sqlText.trim();
  if (!sql) throw new UsageError('give the SQL to run');
  const lake = new LocalLake(options.lake).existing();
  const { duck, warnings, withheld } = await openLakeViews(lake, registry(), { as: options.as });
  for (const w of warnings) console.error(`warning: ${w}`);
  try {
    const rows = await duck.rows(sql);
    console.log(options.json ? JSON.stringify(rows, null, 2) : table(rows));
    return 0;
  } catch (error) {
    const policy = columnPolicyError(error, options.as, withheld);
    console.error(policy ? `${policy.name}: ${policy.message}` : `SQL error: ${(error as Error).message}`);
    return 1;
  } finally {
    duck.close();
  }
}
