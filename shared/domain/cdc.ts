import type { Dataset } from './datasets';
import { zonePrefix, type Zone } from './layout';

/**
 * CDC datasets (`mode: cdc`): the landed rows are changes of a source table (insert / update / delete
 * of a primary key, ordered by a change sequence), and silver is the table's **current state**, one
 * row per key, kept across runs: for each key the change with the highest sequence wins, whatever the
 * order the changes land in, however often they land (duplicates, replays of old partitions).
 *
 * A delete leaves a tombstone (the key's row with CDC_DELETED true and the delete's sequence), so an
 * older insert landing or replayed later cannot bring the row back; the current state is the rows
 * that are not tombstones (`currentStateSql`), which is what gold and queries read.
 *
 * One SQL text per step, run by DuckDB locally and by Spark on an Iceberg table (Glue); only the
 * target relation differs, named CDC_TARGET in the text and replaced by each engine.
 */

/**
 * Where the DuckDB engine keeps a CDC dataset's current state: `silver/<dataset>/current/`, one
 * Parquet file rewritten by each merge (the Spark engine keeps it as an Iceberg table).
 */
export const CDC_STATE_FOLDER = 'current';

/**
 * A CDC dataset's current state as an object key prefix of the lake: `silver/<dataset>/current/`. The
 * DuckDB engine keeps its Parquet file there; on AWS it is the location of the Apache Iceberg table the
 * stack declares (stack/catalog.ts), whose data and metadata folders Iceberg keeps under it.
 */
export const cdcStatePrefix = (dataset: string): string =>
  `${zonePrefix('silver', dataset)}${CDC_STATE_FOLDER}/`;

/**
 * The zones whose catalog table is an Apache Iceberg table, not a partitioned Parquet table: a CDC
 * dataset's silver (its current state, one table merged into by every run). An Iceberg table has
 * no partitions to register: the stack declares it without partition keys, the silver job writes
 * it by committing to the table, and the registration step refuses a run manifest that names one.
 */
export function icebergZones(dataset: Pick<Dataset, 'mode'>): readonly Zone[] {
  return dataset.mode === 'cdc' ? ['silver'] : [];
}

export const isIcebergTable = (dataset: Pick<Dataset, 'mode'>, zone: Zone): boolean =>
  icebergZones(dataset).includes(zone);

/** The state folder from a stage's silver partition location: `<lake>/silver/<dataset>/current`. */
export function cdcStateFolder(partitionLocation: string, partitionPath: string): string | undefined {
  const location = partitionLocation.replace(/\/+$/, '');
  const suffix = `/${partitionPath.replace(/^\/+|\/+$/g, '')}`;
  return location.endsWith(suffix) ? `${location.slice(0, -suffix.length)}/${CDC_STATE_FOLDER}` : undefined;
}

/** True on a tombstone: the key's latest change is a delete. */
export const CDC_DELETED = '_cdc_deleted';
/** The token the merge statement names its target by; each engine replaces it with its table. */
export const CDC_TARGET = '{{target}}';

export type CdcSpec = NonNullable<Dataset['cdc']>;

/** `changes` + CDC_DELETED: the batch's latest change per key (a ROW_NUMBER over the valid rows). */
export function cdcDeletedExpr(cdc: CdcSpec): string {
  return `CASE WHEN ${cdc.operation.column} = '${cdc.operation.delete}' THEN true ELSE false END`;
}

/**
 * MERGE INTO the current state: a change replaces the key's row only when its sequence is higher
 * (an equal one is a duplicate: nothing changes), a key not yet present is inserted (a delete of an
 * unknown key inserts its tombstone). Both DuckDB (≥ 1.4) and Spark with Iceberg run this text.
 */
export function cdcMergeSql(dataset: Dataset, columns: readonly string[]): string {
  const cdc = dataset.cdc;
  if (!cdc) throw new TypeError(`dataset ${dataset.name} is not a CDC dataset`);
  const all = [...columns, CDC_DELETED];
  return [
    `MERGE INTO ${CDC_TARGET} t`,
    'USING changes s',
    `ON ${cdc.key.map((k) => `t.${k} = s.${k}`).join(' AND ')}`,
    `WHEN MATCHED AND s.${cdc.sequence} > t.${cdc.sequence} THEN UPDATE SET ${all.map((c) => `${c} = s.${c}`).join(', ')}`,
    `WHEN NOT MATCHED THEN INSERT (${all.join(', ')}) VALUES (${all.map((c) => `s.${c}`).join(', ')})`,
  ].join('\n');
}

/** The current state over a relation holding the merged rows: tombstones left out, CDC_DELETED dropped. */
export function currentStateSql(columns: readonly string[], relation: string): string {
  return `SELECT ${columns.join(', ')} FROM ${relation} WHERE NOT ${CDC_DELETED}`;
}
