import { loadRegistry } from '../shared/config/registry';
import { LocalLake } from '../shared/local/lake';
import { openLakeViews } from '../shared/local/lake-query';
import { parseCommand, usageError } from './args';
import { table } from './format';

const HELP = `medallion query — run SQL (DuckDB) over the local lake.

Usage: medallion query "SQL" [--lake DIR] [--json]

Tables:
  <catalog tables>     one per dataset and zone, e.g. orders_bronze, orders_silver,
                       orders_daily_revenue (gold), orders_quarantine; partition keys are columns
  bronze, silver, gold, quarantine
                       aliases of those tables while there is a single dataset
  catalog              registered partitions (database, table, values, location, ...)
  metrics              stage metrics (dataset, stage, timestamp, durationSeconds, records..., quarantineRatio)
  alerts               alerts raised (subject, body, attributes, publishedAt)
  runs                 executions (name, dataset, partition, trigger, status, durations, error)
  ledger               landed object versions and the run that processed them
Every table exists on any lake (empty until something is written to it); "SHOW TABLES" lists them.

Examples:
  medallion query "SELECT country, sum(revenue) FROM gold GROUP BY ALL ORDER BY 2 DESC"
  medallion query "SELECT _quarantine_reasons, count(*) FROM quarantine GROUP BY ALL"

Exit codes: 0 ok, 1 SQL error, 2 usage error.`;

export async function query(args: string[]): Promise<number> {
  const parsed = parseCommand(args, HELP, {
    lake: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  if (typeof parsed === 'number') return parsed;
  const sql = parsed.positionals.join(' ').trim();
  if (!sql) {
    return usageError(`Give the SQL to run.`, HELP);
  }
  const { duck, warnings } = await openLakeViews(new LocalLake(parsed.values.lake), loadRegistry());
  for (const w of warnings) console.error(`warning: ${w}`);
  try {
    const rows = await duck.rows(sql);
    console.log(parsed.values.json ? JSON.stringify(rows, null, 2) : table(rows));
    return 0;
  } catch (error) {
    console.error(`SQL error: ${(error as Error).message}`);
    return 1;
  } finally {
    duck.close();
  }
}
