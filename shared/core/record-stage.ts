import { icebergZones } from '../domain/cdc';
import type { Dataset, Registry, Stage } from '../domain/datasets';
import { manifestSchema, type RunManifest } from '../domain/manifest';
import { PARTITION_SAMPLE, type JobRunSummary, type StageResult } from '../domain/pipeline';
import {
  InvalidManifestError,
  JobRunNotSucceededError,
  ManifestNotFoundError,
} from '../domain/pipeline-errors';
import { judgeQuarantine, notJudged, quarantineRatio } from '../domain/quarantine';
import { judgeSchemaDrift } from '../domain/schema-drift';
import type { Log, ManifestStore, MetricsReader, MetricsSink, PartitionCatalog } from '../ports';

/**
 * Records one stage's results after its job: checks the job run really succeeded, reads and
 * validates the run manifest, registers the output partitions in the catalog (none of an Iceberg
 * table: a manifest naming one is refused), judges the quarantine
 * ratio (silver) against the dataset's policy and recent runs, and publishes the stage metrics.
 */

export interface RecordStageInput {
  readonly stage: Stage;
  readonly dataset: string;
  readonly partitionPath: string;
  readonly partitionValues: readonly string[];
  /** The pipeline run id: the execution name. */
  readonly runId: string;
  readonly manifestLocation: string;
  readonly jobRun: JobRunSummary;
}

export interface RecordStageDeps {
  readonly registry: Registry;
  readonly manifests: ManifestStore;
  readonly catalog: PartitionCatalog;
  readonly metrics: MetricsSink;
  readonly baseline: MetricsReader;
  readonly log: Log;
}

/** The stage whose quarantine is judged: where the dataset's rules run. */
export const JUDGED_STAGE: Stage = 'silver';

const formatIssuePath = (path: readonly PropertyKey[]): string =>
  path
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
    .join('')
    .replace(/^\./, '') || '(root)';

/** Reads and validates a manifest; the error always names the expected location. */
export async function readManifest(
  store: ManifestStore,
  location: string,
  expected: { dataset: string; stage: Stage; runId: string },
): Promise<RunManifest> {
  const text = await store.read(location);
  if (text === undefined) throw new ManifestNotFoundError(location);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InvalidManifestError(location, [`not JSON (${(error as Error).message})`], { cause: error });
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    throw new InvalidManifestError(
      location,
      parsed.error.issues.map((i) => `${formatIssuePath(i.path)}: ${i.message}`),
    );
  }
  const m = parsed.data;
  const mismatches = (['dataset', 'stage', 'runId'] as const)
    .filter((k) => m[k] !== expected[k])
    .map((k) => `${k}: is "${m[k]}", expected "${expected[k]}"`);
  if (mismatches.length > 0) throw new InvalidManifestError(location, mismatches);
  return m;
}

function checkTables(dataset: Dataset, manifest: RunManifest, location: string): void {
  const tables = new Set(Object.values(dataset.catalog.tables));
  const unknown = manifest.outputPartitions
    .map((p, i) => ({ p, i }))
    .filter(({ p }) => !tables.has(p.table))
    .map(
      ({ p, i }) =>
        `outputPartitions[${i}].table: "${p.table}" is not a table of dataset "${dataset.name}" (${[...tables].join(', ')})`,
    );
  // An Iceberg table (a CDC dataset's silver) has no partitions: its job commits to the table itself.
  const iceberg = new Set(icebergZones(dataset).map((zone) => dataset.catalog.tables[zone]));
  const partitionless = manifest.outputPartitions
    .map((p, i) => ({ p, i }))
    .filter(({ p }) => iceberg.has(p.table))
    .map(
      ({ p, i }) =>
        `outputPartitions[${i}].table: "${p.table}" is an Iceberg table (the current state of CDC dataset "${dataset.name}"): it has no partitions to register`,
    );
  const keys = dataset.partitionKeys.length;
  const badValues = manifest.outputPartitions
    .map((p, i) => ({ p, i }))
    .filter(({ p }) => p.values.length !== keys)
    .map(
      ({ p, i }) =>
        `outputPartitions[${i}].values: has ${p.values.length} value(s), the tables have ${keys} partition key(s)`,
    );
  if (unknown.length + partitionless.length + badValues.length > 0)
    throw new InvalidManifestError(location, [...unknown, ...partitionless, ...badValues]);
}

export async function recordStage(input: RecordStageInput, deps: RecordStageDeps): Promise<StageResult> {
  const { stage, jobRun } = input;
  if (jobRun.JobRunState !== 'SUCCEEDED') {
    throw new JobRunNotSucceededError(jobRun.JobName, jobRun.Id, jobRun.JobRunState);
  }
  const dataset = deps.registry.get(input.dataset);
  const manifest = await readManifest(deps.manifests, input.manifestLocation, {
    dataset: input.dataset,
    stage,
    runId: input.runId,
  });
  checkTables(dataset, manifest, input.manifestLocation);

  // Partitions, one table at a time (each call chunks by 100).
  const byTable = new Map<string, Array<{ values: readonly string[]; location: string }>>();
  for (const p of manifest.outputPartitions) {
    const list = byTable.get(p.table) ?? [];
    list.push({ values: p.values, location: p.location });
    byTable.set(p.table, list);
  }
  let created = 0;
  let updated = 0;
  for (const [table, partitions] of byTable) {
    const r = await deps.catalog.registerPartitions({
      database: dataset.catalog.database,
      table,
      partitions,
    });
    created += r.created;
    updated += r.updated;
  }

  const completedAt = new Date(manifest.completedAt);
  const ratio = quarantineRatio(manifest.recordsIn, manifest.recordsQuarantined);
  // The baseline is read before this run's own data point is published, and strictly before its start.
  const quarantine =
    stage === JUDGED_STAGE
      ? judgeQuarantine({
          policy: dataset.quarantine,
          recordsIn: manifest.recordsIn,
          recordsQuarantined: manifest.recordsQuarantined,
          recent:
            manifest.recordsIn >= dataset.quarantine.spike.minRecords
              ? await deps.baseline.recentQuarantineRatios({
                  dataset: dataset.name,
                  stage,
                  limit: dataset.quarantine.spike.lookback,
                  before: new Date(manifest.startedAt),
                })
              : [],
        })
      : notJudged(manifest.recordsIn, manifest.recordsQuarantined, dataset.quarantine);

  // Bronze reads the landed files: its drift (a drifting file fails bronze under onDrift: halt).
  const schemaDrift =
    stage === 'bronze' ? judgeSchemaDrift(manifest.schemaDrift, dataset.onDrift) : undefined;
  const durationSeconds = Math.max(0, (completedAt.getTime() - Date.parse(manifest.startedAt)) / 1000);
  await deps.metrics.publishStage({
    dataset: dataset.name,
    stage,
    timestamp: completedAt,
    durationSeconds,
    recordsIn: manifest.recordsIn,
    recordsOut: manifest.recordsOut,
    recordsQuarantined: manifest.recordsQuarantined,
    quarantineRatio: ratio,
    ...(stage === 'gold'
      ? {
          goldPartitionsWritten: manifest.outputPartitions.filter(
            (p) => p.table === dataset.catalog.tables.gold,
          ).length,
        }
      : {}),
    schemaDriftColumns: schemaDrift?.columns ?? 0,
  });

  const result: StageResult = {
    stage,
    jobName: jobRun.JobName,
    jobRunId: manifest.jobRunId,
    durationSeconds,
    recordsIn: manifest.recordsIn,
    recordsOut: manifest.recordsOut,
    recordsQuarantined: manifest.recordsQuarantined,
    quarantineRatio: ratio,
    quarantineLocation: manifest.quarantineLocation,
    partitions: {
      created,
      updated,
      sample: manifest.outputPartitions
        .slice(0, PARTITION_SAMPLE)
        .map((p) => ({ table: p.table, values: p.values })),
    },
    quarantine,
    skippedFiles: {
      count: manifest.skippedFiles?.length ?? 0,
      sample: (manifest.skippedFiles ?? []).slice(0, PARTITION_SAMPLE),
    },
    ...(schemaDrift ? { schemaDrift } : {}),
  };
  // A spike, landed files skipped (empty) or drifting: a person should look, so the line is a warning.
  const level =
    quarantine.verdict === 'spike' || result.skippedFiles?.count || schemaDrift?.action === 'alert'
      ? 'warn'
      : 'info';
  deps.log[level](`Recorded ${stage} results`, {
    dataset: dataset.name,
    partition: input.partitionPath,
    runId: input.runId,
    jobRunId: result.jobRunId,
    recordsIn: result.recordsIn,
    recordsOut: result.recordsOut,
    recordsQuarantined: result.recordsQuarantined,
    partitionsCreated: created,
    partitionsUpdated: updated,
    quarantine: quarantine.summary,
    ...(result.skippedFiles?.count ? { skippedFiles: result.skippedFiles } : {}),
    ...(schemaDrift?.action === 'alert' ? { schemaDrift: schemaDrift.summary } : {}),
  });
  return result;
}
