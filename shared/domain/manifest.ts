import { z } from 'zod';
import { STAGES } from './datasets';

/**
 * The run manifest: the contract between a stage's job (Glue on AWS, DuckDB locally) and the
 * pipeline. Each job writes it at `manifestKey(dataset, stage, runId)` when it succeeds.
 * Python twin: glue/medallion_glue/manifest.py — keep both in step (a test checks they agree).
 */
export const MANIFEST_VERSION = 1;

const count = z.number().int().min(0);

export const manifestSchema = z
  .strictObject({
    version: z.literal(MANIFEST_VERSION),
    dataset: z.string().min(1),
    stage: z.enum(STAGES),
    /** The pipeline's run id: the Step Functions execution name. */
    runId: z.string().min(1),
    /** The job's own run id (Glue JobRunId, or the local runner's id). */
    jobRunId: z.string().min(1),
    startedAt: z.iso.datetime(),
    completedAt: z.iso.datetime(),
    recordsIn: count,
    recordsOut: count,
    recordsQuarantined: count,
    /** Partitions written by this stage, to register in the catalog. */
    outputPartitions: z.array(
      z.strictObject({
        /** Catalog table name (one of the dataset's tables). */
        table: z.string().min(1),
        /** Values in the table's partition-key order. */
        values: z.array(z.string().min(1)).min(1),
        /** s3://bucket/prefix/ (AWS) or file:///path/ (local). */
        location: z.string().min(1),
      }),
    ),
    /** Where this run's quarantined rows are, if any. */
    quarantineLocation: z.string().min(1).nullable(),
  })
  .refine((m) => m.recordsOut + m.recordsQuarantined <= m.recordsIn || m.stage === 'gold', {
    message: 'recordsOut + recordsQuarantined must not exceed recordsIn (rows were invented)',
    path: ['recordsOut'],
  });

export type RunManifest = z.output<typeof manifestSchema>;
