import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Registry } from '../domain/datasets';
import type { Zone } from '../domain/layout';
import { zonePrefix } from '../domain/layout';
import { Duck, sqlString } from './duck';
import type { LocalLake } from './lake';

/**
 * DuckDB over the local lake: one view per catalog table (orders_bronze, orders_silver, ...) reading
 * its Parquet with the partition keys as columns, plus the system tables `catalog`, `metrics`,
 * `alerts`, `runs` and `ledger`. With a single dataset, `bronze`, `silver`, `gold` and `quarantine`
 * are aliases of its tables.
 */

const ZONES: readonly Zone[] = ['bronze', 'silver', 'gold', 'quarantine'];

function hasParquet(dir: string): boolean {
  if (!existsSync(dir)) return false;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith('.parquet')) return true;
    if (entry.isDirectory() && !entry.name.includes('.__writing-') && hasParquet(join(dir, entry.name)))
      return true;
  }
  return false;
}

export interface LakeViews {
  readonly duck: Duck;
  /** Names of the views and tables created. */
  readonly tables: string[];
  /** System files that exist but could not be exposed as tables. */
  readonly warnings: string[];
}

export async function openLakeViews(lake: LocalLake, registry: Registry): Promise<LakeViews> {
  const duck = await Duck.open();
  const tables: string[] = [];
  const warnings: string[] = [];
  const view = async (name: string, select: string) => {
    await duck.run(`CREATE VIEW ${name} AS ${select}`);
    tables.push(name);
  };
  for (const dataset of registry.datasets) {
    for (const zone of ZONES) {
      const dir = lake.path(zonePrefix(zone, dataset.name));
      if (!hasParquet(dir)) continue;
      const glob = sqlString(join(dir, '**', 'part-*.parquet'));
      const select = `SELECT * FROM read_parquet(${glob}, hive_partitioning = true, union_by_name = true)`;
      await view(dataset.catalog.tables[zone], select);
      if (registry.datasets.length === 1) await view(zone, select);
    }
  }
  // A system file that cannot be read as a table must not take the whole query tool down.
  const json = async (name: string, file: string, format: 'auto' | 'newline_delimited') => {
    if (!existsSync(file)) return;
    try {
      await view(
        name,
        `SELECT * FROM read_json(${sqlString(file)}, format = '${format}', union_by_name = true)`,
      );
      await duck.run(`SELECT * FROM ${name} LIMIT 0`);
    } catch (error) {
      await duck.run(`DROP VIEW IF EXISTS ${name}`);
      if (tables.includes(name)) tables.splice(tables.indexOf(name), 1);
      warnings.push(`table ${name} unavailable: ${file}: ${(error as Error).message.split('\n')[0] ?? ''}`);
    }
  };
  await json('catalog', lake.system('catalog.json'), 'auto');
  await json('metrics', lake.system('metrics.jsonl'), 'newline_delimited');
  await json('alerts', lake.system('alerts.jsonl'), 'newline_delimited');
  await json('ledger', lake.system('ledger.json'), 'auto');
  const executions = lake.system('executions');
  if (existsSync(executions) && readdirSync(executions).some((f) => f.endsWith('.json')))
    await view(
      'runs',
      `SELECT name, dataset, partition, trigger, status, startedAt, stoppedAt, durationMs, error, cause, len(states) AS states FROM read_json(${sqlString(join(executions, '*.json'))}, format = 'auto', union_by_name = true)`,
    );
  return { duck, tables, warnings };
}
