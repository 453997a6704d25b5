import type { Stage } from './datasets';
import type { GoldWindowArgument } from './gold-window';
import { manifestKey, zoneKey, type Zone } from './layout';

/**
 * The Glue job argument contract: what the state machine passes to every stage's job (Glue on AWS,
 * the DuckDB runner locally) and what the job scripts read with getResolvedOptions (without `--`).
 * Locations are URIs: `s3://bucket/key/` on AWS, `file:///abs/path/` locally.
 */
export const GLUE_ARGS = {
  dataset: '--dataset',
  stage: '--stage',
  /** The pipeline run id: the Step Functions execution name. */
  runId: '--run_id',
  partitionPath: '--partition_path',
  /** JSON array of the partition values in declared key order, e.g. ["2024","01","15"]. */
  partitionValues: '--partition_values',
  sourceLocation: '--source_location',
  targetLocation: '--target_location',
  quarantineLocation: '--quarantine_location',
  manifestLocation: '--manifest_location',
  /** The compiled dataset (definition + generated SQL), see `medallion compile`. */
  datasetPlan: '--dataset_plan',
  /**
   * The Glue database of the dataset's tables as the run's registry names it: the stage's on AWS
   * (`<database>_<stage>`, shared/domain/stage-names.ts), the declared one locally. Where a CDC
   * dataset's Iceberg table is (glue/medallion_glue/cdc.py); the same name record-stage registers in.
   */
  catalogDatabase: '--catalog_database',
} as const;

export type GlueArgName = keyof typeof GLUE_ARGS;

/**
 * The gold job's own argument: JSON of the run's gold window (shared/domain/gold-window.ts), the
 * gold partitions it writes and the silver partitions each reads. Always passed to gold (Glue's
 * getResolvedOptions cannot ask for an optional argument); a dataset without a window gets its one
 * partition.
 */
export const GOLD_WINDOW_ARG = '--gold_window';

/**
 * Glue's own temporary folder, a default argument of every job (stack/glue-jobs.ts: `tmp/` of the
 * artifacts bucket; locally `_system/tmp/` of the lake). The bronze job copies there, for the run, a
 * gzipped landed file whose name does not end in the lower-case `.gz` Spark needs to decompress it
 * (glue/medallion_glue/landing.py `gz_copies`).
 */
export const GLUE_TEMP_DIR = '--TempDir';

/** Where a stage reads from: landing for bronze, the previous zone otherwise. */
/**
 * The zones (catalog tables) a stage's job reads and writes: bronze reads landing (no table) and
 * writes bronze; silver reads bronze and writes silver and quarantine; gold reads silver and writes
 * gold. The stack scopes each Glue job's role (IAM and Lake Formation) to these.
 */
export function stageZones(stage: Stage): { reads: Zone[]; writes: Zone[] } {
  switch (stage) {
    case 'bronze':
      return { reads: [], writes: ['bronze'] };
    case 'silver':
      return { reads: ['bronze'], writes: ['silver', 'quarantine'] };
    case 'gold':
      return { reads: ['silver'], writes: ['gold'] };
  }
}

export function stageSourceKey(
  stage: Stage,
  dataset: string,
  landingPrefix: string,
  partitionPath: string,
): string {
  switch (stage) {
    case 'bronze':
      return `${landingPrefix}${partitionPath}/`;
    case 'silver':
      return zoneKey('bronze', dataset, partitionPath);
    case 'gold':
      return zoneKey('silver', dataset, partitionPath);
  }
}

/** The arguments of one stage's job run; `lakeRoot` is `s3://bucket/` or `file:///abs/lake/`. */
export function glueArguments(p: {
  lakeRoot: string;
  planLocation: string;
  dataset: string;
  /** The dataset's `catalog.database` in the run's registry (the stage's name on AWS). */
  catalogDatabase: string;
  landingPrefix: string;
  stage: Stage;
  runId: string;
  partitionPath: string;
  partitionValues: readonly string[];
  /** The gold stage's window (gold-window.ts `goldWindowArgument`); default: the partition alone. */
  goldWindow?: GoldWindowArgument;
}): Record<string, string> {
  const root = p.lakeRoot.endsWith('/') ? p.lakeRoot : `${p.lakeRoot}/`;
  return {
    [GLUE_ARGS.dataset]: p.dataset,
    [GLUE_ARGS.stage]: p.stage,
    [GLUE_ARGS.runId]: p.runId,
    [GLUE_ARGS.partitionPath]: p.partitionPath,
    [GLUE_ARGS.partitionValues]: JSON.stringify(p.partitionValues),
    [GLUE_ARGS.sourceLocation]: root + stageSourceKey(p.stage, p.dataset, p.landingPrefix, p.partitionPath),
    [GLUE_ARGS.targetLocation]: root + zoneKey(p.stage, p.dataset, p.partitionPath),
    [GLUE_ARGS.quarantineLocation]: root + zoneKey('quarantine', p.dataset, p.partitionPath),
    [GLUE_ARGS.manifestLocation]: root + manifestKey(p.dataset, p.stage, p.runId),
    [GLUE_ARGS.datasetPlan]: p.planLocation,
    [GLUE_ARGS.catalogDatabase]: p.catalogDatabase,
    ...(p.stage === 'gold'
      ? {
          [GOLD_WINDOW_ARG]: JSON.stringify(
            p.goldWindow ?? { size: 1, partitions: [{ path: p.partitionPath, values: p.partitionValues }] },
          ),
        }
      : {}),
  };
}
