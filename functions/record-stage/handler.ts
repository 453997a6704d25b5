import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { CloudWatchMetrics } from '../../shared/aws/cloudwatch-metrics';
import { GluePartitionCatalog } from '../../shared/aws/glue-catalog';
import { S3ManifestStore } from '../../shared/aws/s3-manifests';
import { loadDeployedRegistry } from '../../shared/config/deployed-registry';
import { requireEnv } from '../../shared/config/env';
import { recordStage, type RecordStageDeps, type RecordStageInput } from '../../shared/core/record-stage';
import type { StageResult } from '../../shared/domain/pipeline';
import { createLogger } from '../../shared/logger';
import type { ManifestStore, MetricsReader, MetricsSink, PartitionCatalog } from '../../shared/ports';

/**
 * record-stage: "Record <stage> results", after each stage's Glue job.
 *
 * Input (the state machine's Payload):
 *   { stage: 'bronze'|'silver'|'gold', dataset, partitionPath, partitionValues: string[],
 *     runId: <execution name>, manifestLocation: 's3://…/_manifests/<dataset>/<stage>/<runId>.json',
 *     jobRun: { Id, JobName, JobRunState } }
 * Output (StageResult, stored at $.results.<stage>):
 *   { stage, jobName, jobRunId, durationSeconds, recordsIn, recordsOut, recordsQuarantined,
 *     quarantineRatio, quarantineLocation, partitions: { created, updated, sample[≤5] },
 *     quarantine: { verdict, action: 'continue'|'alert'|'halt', ratio, maxRatio, minRecords,
 *                   baseline, reasons, summary } }
 * Errors: JobRunNotSucceededError (e.g. STOPPED), ManifestNotFoundError / InvalidManifestError
 * (naming the expected location), PartitionRegistrationError (naming each partition).
 */

const logger = createLogger('record-stage');

/**
 * Env: METRICS_NAMESPACE (the stack gives each stage its own: shared/domain/stage-names.ts), optional
 * DATASETS_FILE.
 */
export const REQUIRED_ENV = ['METRICS_NAMESPACE'] as const;

/** What record-stage runs against: the AWS services, or their local twins. */
export interface RecordStageWorld {
  readonly registry: RecordStageDeps['registry'];
  /** Where the jobs write their run manifests (S3 / the lake folder). */
  readonly manifests: ManifestStore;
  readonly catalog: PartitionCatalog;
  /** One store takes the stage metrics and gives the quarantine baseline (CloudWatch / metrics file). */
  readonly metrics: MetricsSink & MetricsReader;
  readonly log: RecordStageDeps['log'];
}

/** The one wiring of record-stage, used by the Lambda entry and by the local runtime. */
export const recordStageDeps = (world: RecordStageWorld): RecordStageDeps => ({
  registry: world.registry,
  manifests: world.manifests,
  catalog: world.catalog,
  metrics: world.metrics,
  baseline: world.metrics,
  log: world.log,
});

let awsDeps: RecordStageDeps | undefined;
const defaultDeps = (): RecordStageDeps =>
  (awsDeps ??= recordStageDeps({
    registry: loadDeployedRegistry(),
    manifests: new S3ManifestStore(),
    catalog: new GluePartitionCatalog(),
    metrics: new CloudWatchMetrics(requireEnv('METRICS_NAMESPACE')),
    log: logger,
  }));

export const createHandler = (deps: () => RecordStageDeps = defaultDeps) =>
  middy(async (event: RecordStageInput): Promise<StageResult> => recordStage(event, deps())).use(
    injectLambdaContext(logger, { resetKeys: true }),
  );

export const handler = createHandler();
