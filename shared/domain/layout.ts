import type { Stage } from './datasets';

/**
 * Where everything lives in the lake, as object keys relative to the lake bucket (S3) or the lake
 * folder (local): one layout for both worlds, and for the Glue scripts.
 *
 *   <landing.prefix><partition>/<file>           what producers write (never modified)
 *   bronze/<dataset>/<partition>/...             bronze Parquet
 *   silver/<dataset>/<partition>/...             silver Parquet (partition overwrite)
 *   gold/<dataset>/<partition>/...               gold Parquet
 *   quarantine/<dataset>/<partition>/...         rejected rows with their reasons
 *   _manifests/<dataset>/<stage>/<runId>.json    the run manifest each job writes
 */
export type Zone = Stage | 'quarantine';

export const zonePrefix = (zone: Zone, dataset: string): string => `${zone}/${dataset}/`;

export const zoneKey = (zone: Zone, dataset: string, partitionPath: string): string =>
  `${zonePrefix(zone, dataset)}${partitionPath}/`;

export const manifestKey = (dataset: string, stage: Stage, runId: string): string =>
  `_manifests/${dataset}/${stage}/${runId}.json`;
