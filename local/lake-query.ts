import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Registry } from '../shared/domain/datasets';
import { CDC_DELETED, CDC_STATE_FOLDER, currentStateSql } from '../shared/domain/cdc';
import {
  columnGovernance,
  mayRead,
  policyText,
  type AccessLevel,
  type Classification,
} from '../shared/domain/governance';
import type { Zone } from '../shared/domain/layout';
import { zonePrefix } from '../shared/domain/layout';
import { Duck, sqlString } from './duck';
import type { LocalLake } from './lake';
import { zoneColumns, type ZoneColumn } from './zone-columns';

/**
 * DuckDB over the local lake: one view per catalog table (orders_bronze, orders_silver, ...) reading
 * its Parquet with the partition keys as columns, plus the system tables `catalog`, `metrics`,
 * `alerts`, `runs` and `ledger`. With a single dataset, `bronze`, `silver`, `gold` and `quarantine`
 * are aliases of its tables.
 *
 * Every table exists whatever the lake holds, with the same columns: a zone nothing was written to
 * yet is an empty view with the columns the jobs write, a missing system file an empty table, and
 * `runs` reads the execution files with a fixed column list (a key absent from every file, such as
 * `error` when no run has failed, is a NULL column, not a missing one).
 */

const ZONES: readonly Zone[] = ['bronze', 'silver', 'gold', 'quarantine'];

/** Columns of the `runs` table (an execution history file, local/history.ts). */
const RUNS_COLUMNS: readonly ZoneColumn[] = [
  { name: 'name', type: 'VARCHAR' },
  { name: 'dataset', type: 'VARCHAR' },
  { name: 'partition', type: 'VARCHAR' },
  { name: 'trigger', type: 'VARCHAR' },
  { name: 'status', type: 'VARCHAR' },
  { name: 'startedAt', type: 'TIMESTAMP' },
  { name: 'stoppedAt', type: 'TIMESTAMP' },
  { name: 'durationMs', type: 'BIGINT' },
  { name: 'error', type: 'VARCHAR' },
  { name: 'cause', type: 'VARCHAR' },
];

/** The columns of a system table whose file does not exist yet (local/system-store.ts). */
const EMPTY_SYSTEM_TABLES: Record<string, readonly ZoneColumn[]> = {
  catalog: [
    { name: 'database', type: 'VARCHAR' },
    { name: 'table', type: 'VARCHAR' },
    { name: 'values', type: 'VARCHAR[]' },
    { name: 'location', type: 'VARCHAR' },
    { name: 'createdAt', type: 'TIMESTAMP' },
    { name: 'updatedAt', type: 'TIMESTAMP' },
  ],
  metrics: [
    { name: 'dataset', type: 'VARCHAR' },
    { name: 'stage', type: 'VARCHAR' },
    { name: 'timestamp', type: 'TIMESTAMP' },
    { name: 'durationSeconds', type: 'DOUBLE' },
    { name: 'recordsIn', type: 'BIGINT' },
    { name: 'recordsOut', type: 'BIGINT' },
    { name: 'recordsQuarantined', type: 'BIGINT' },
    { name: 'quarantineRatio', type: 'DOUBLE' },
    { name: 'goldPartitionsWritten', type: 'BIGINT' },
    { name: 'schemaDriftColumns', type: 'BIGINT' },
  ],
  alerts: [
    { name: 'subject', type: 'VARCHAR' },
    { name: 'body', type: 'VARCHAR' },
    { name: 'attributes', type: 'JSON' },
    { name: 'messageId', type: 'VARCHAR' },
    { name: 'publishedAt', type: 'TIMESTAMP' },
  ],
  ledger: [
    { name: 'objectId', type: 'VARCHAR' },
    { name: 'executionName', type: 'VARCHAR' },
    { name: 'state', type: 'VARCHAR' },
    { name: 'claimedAt', type: 'TIMESTAMP' },
    { name: 'startedAt', type: 'TIMESTAMP' },
  ],
};

const quoted = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** A relation with these columns and no rows. */
const emptyRelation = (columns: readonly ZoneColumn[]): string =>
  `SELECT ${columns.map((c) => `CAST(NULL AS ${c.type}) AS ${quoted(c.name)}`).join(', ')} WHERE false`;

function hasParquet(dir: string): boolean {
  if (!existsSync(dir)) return false;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith('.parquet')) return true;
    if (entry.isDirectory() && !entry.name.includes('.__writing-') && hasParquet(join(dir, entry.name)))
      return true;
  }
  return false;
}

/** A column a principal's view leaves out, and why. */
export interface WithheldColumn {
  readonly table: string;
  readonly column: string;
  readonly classification: Classification;
}

export interface LakeViewOptions {
  /**
   * Whose view of the lake: the dataset tables show only the columns the registry's column policy
   * lets this access level select (shared/domain/governance.ts, the rule Lake Formation grants on
   * AWS). Undefined: every column (the data engineer's own lake).
   */
  readonly as?: AccessLevel | undefined;
}

export interface LakeViews {
  readonly duck: Duck;
  /** Columns left out of the dataset tables for the principal (`as`), in table order. */
  readonly withheld: readonly WithheldColumn[];
  /** Names of the views and tables created. */
  readonly tables: string[];
  /** System files that exist but could not be exposed as tables. */
  readonly warnings: string[];
}

export async function openLakeViews(
  lake: LocalLake,
  registry: Registry,
  options: LakeViewOptions = {},
): Promise<LakeViews> {
  const duck = await Duck.open();
  const tables: string[] = [];
  const warnings: string[] = [];
  const withheld: WithheldColumn[] = [];
  const view = async (name: string, select: string) => {
    await duck.run(`CREATE VIEW ${name} AS ${select}`);
    tables.push(name);
  };
  for (const dataset of registry.datasets) {
    const columns = await zoneColumns(dataset);
    for (const zone of ZONES) {
      const dir = lake.path(zonePrefix(zone, dataset.name));
      const table = dataset.catalog.tables[zone];
      // A CDC dataset's silver is its current state (shared/domain/cdc.ts): one table, no partitions.
      const cdcState = dataset.mode === 'cdc' && zone === 'silver';
      const keys = cdcState ? [] : dataset.partitionKeys.map((k) => ({ name: k.name, type: 'VARCHAR' }));
      const all = [...columns[zone].filter((c) => !(cdcState && c.name === CDC_DELETED)), ...keys];
      const level = options.as;
      const shown =
        level === undefined
          ? all
          : all.filter((c) => {
              const { classification } = columnGovernance(dataset, zone, c.name);
              if (mayRead(level, classification)) return true;
              withheld.push({ table, column: c.name, classification });
              return false;
            });
      let select: string;
      const state = cdcState ? join(dir, CDC_STATE_FOLDER) : undefined;
      if (state && hasParquet(state)) {
        // Tombstones left out; only the columns the reader may see.
        const names = shown.map((c) => quoted(c.name));
        select = currentStateSql(names, `read_parquet(${sqlString(join(state, '*.parquet'))})`);
      } else if (hasParquet(dir)) {
        const glob = sqlString(join(dir, '**', 'part-*.parquet'));
        const list = level === undefined ? '*' : shown.map((c) => quoted(c.name)).join(', ');
        select = `SELECT ${list} FROM read_parquet(${glob}, hive_partitioning = true, union_by_name = true)`;
      } else {
        select = emptyRelation(shown);
      }
      await view(table, select);
      if (registry.datasets.length === 1) await view(zone, select);
    }
  }
  // A system file that cannot be read as a table must not take the whole query tool down.
  const json = async (name: string, file: string, format: 'auto' | 'newline_delimited') => {
    if (!existsSync(file)) {
      await view(name, emptyRelation(EMPTY_SYSTEM_TABLES[name] ?? []));
      return;
    }
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
  const columns = RUNS_COLUMNS.map((c) => quoted(c.name)).join(', ');
  if (existsSync(executions) && readdirSync(executions).some((f) => f.endsWith('.json'))) {
    const declared = [...RUNS_COLUMNS, { name: 'states', type: 'JSON[]' }]
      .map((c) => `${quoted(c.name)}: '${c.type}'`)
      .join(', ');
    await view(
      'runs',
      `SELECT ${columns}, CAST(len(states) AS BIGINT) AS states FROM read_json(${sqlString(join(executions, '*.json'))}, format = 'auto', columns = {${declared}})`,
    );
  } else {
    await view('runs', emptyRelation([...RUNS_COLUMNS, { name: 'states', type: 'BIGINT' }]));
  }
  return { duck, withheld, tables, warnings };
}

/** A principal selected a column the registry's column policy withholds from it. */
export class ColumnPolicyError extends Error {
  override readonly name = 'ColumnPolicyError';
  constructor(
    readonly level: AccessLevel,
    readonly column: string,
    readonly withheld: readonly WithheldColumn[],
  ) {
    const classes = [...new Set(withheld.map((w) => w.classification))].join(', ');
    const tables = withheld.map((w) => w.table).join(', ');
    super(
      `column "${column}" is withheld from ${level} principals: it is classified ${classes} (${tables}); column policy: ${policyText(level)} (dataset.yml classification, docs/governance.md)`,
    );
  }
}

/** The column names a DuckDB binder error says it could not find. */
const MISSING_COLUMN = [
  /Referenced column "([^"]+)" not found/g,
  /does not have a column named "([^"]+)"/g,
  /Values list "[^"]+" does not have a column named "([^"]+)"/g,
];

/**
 * The policy error behind a SQL error, if the SQL named a column the principal's views withhold
 * (DuckDB reports it as a column that does not exist); else undefined.
 */
export function columnPolicyError(
  error: unknown,
  level: AccessLevel | undefined,
  withheld: readonly WithheldColumn[],
): ColumnPolicyError | undefined {
  // DuckDB's errors may come from another realm than this module's Error: read the message as text.
  const message = (error as { message?: unknown } | null)?.message;
  if (level === undefined || typeof message !== 'string') return undefined;
  for (const pattern of MISSING_COLUMN) {
    for (const match of message.matchAll(pattern)) {
      const column = match[1]!;
      const where = withheld.filter((w) => w.column.toLowerCase() === column.toLowerCase());
      if (where.length > 0) return new ColumnPolicyError(level, where[0]!.column, where);
    }
  }
  return undefined;
}
