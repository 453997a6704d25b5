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

let awsDeps: RecordStageDeps | undefined;
const defaultDeps = (): RecordStageDeps => {
  if (!awsDeps) {
    const metrics = new CloudWatchMetrics(requireEnv('METRICS_NAMESPACE'));
    awsDeps = {
      registry: loadDeployedRegistry(),
      manifests: new S3ManifestStore(),
      catalog: new GluePartitionCatalog(),
      metrics,
      baseline: metrics,
      log: logger,
    };
  }
  return awsDeps;
};

export const createHandler = (deps: () => RecordStageDeps = defaultDeps) =>
  middy(async (event: RecordStageInput): Promise<StageResult> => recordStage(event, deps())).use(
    injectLambdaContext(logger, { resetKeys: true }),
  );

export const handler = createHandler();
