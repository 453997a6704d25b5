import { en } from 'zod/locales';
import * as z from 'zod/mini';
import { STAGES } from './datasets';

/**
 * The run manifest: the contract between a stage's job (Glue on AWS, DuckDB locally) and the
 * pipeline. Each job writes it at `manifestKey(dataset, stage, runId)` when it succeeds.
 * zod/mini keeps the record-stage bundle small (this is its only schema at run time).
 * Python twin: glue/medallion_glue/manifest.py — keep both in step (a test checks they agree).
 */
export const MANIFEST_VERSION = 1;

// zod/mini ships no messages: load the English ones, so a bad manifest says what is wrong.
z.config(en());

const count = z.int().check(z.minimum(0));
const text = z.string().check(z.minLength(1));

export const manifestSchema = z
  .strictObject({
    version: z.literal(MANIFEST_VERSION),
    dataset: text,
    stage: z.enum(STAGES),
    /** The pipeline's run id: the Step Functions execution name. */
    runId: text,
    /** The job's own run id (Glue JobRunId, or the local runner's id). */
    jobRunId: text,
    startedAt: z.iso.datetime(),
    completedAt: z.iso.datetime(),
    recordsIn: count,
    recordsOut: count,
    recordsQuarantined: count,
    /** Partitions written by this stage, to register in the catalog. */
    outputPartitions: z.array(
      z.strictObject({
        /** Catalog table name (one of the dataset's tables). */
        table: text,
        /** Values in the table's partition-key order. */
        values: z.array(text).check(z.minLength(1)),
        /** s3://bucket/prefix/ (AWS) or file:///path/ (local). */
        location: text,
      }),
    ),
    /** Where this run's quarantined rows are, if any. */
    quarantineLocation: z.nullable(text),
    /** Landed files the stage did not read, and why (bronze: empty files). */
    skippedFiles: z.optional(z.array(z.strictObject({ file: text, reason: text }))),
    /**
     * Bronze: every landed file the run accounted for (read, or skipped as empty), as a listing shows
     * it: key in the lake, size, eTag (shared/domain/source-files.ts). Finish-run compares the objects
     * that landed during the run with it: those listed need no follow-up run.
     */
    sourceFiles: z.optional(z.array(z.strictObject({ key: text, size: count, eTag: text }))),
    /**
     * Bronze, under the dataset's `onDrift: alert`: every landed file whose columns drift from the
     * declared ones (shared/domain/landed-files.ts), sorted by file: the names it has that the dataset
     * does not declare (as landed; not loaded) and the declared columns its CSV header lacks (empty).
     */
    schemaDrift: z.optional(
      z.array(
        z.strictObject({
          file: text,
          undeclared: z.array(text),
          missing: z.array(text),
        }),
      ),
    ),
  })
  .check(
    z.refine((m) => m.recordsOut + m.recordsQuarantined <= m.recordsIn || m.stage === 'gold', {
      message: 'recordsOut + recordsQuarantined must not exceed recordsIn (rows were invented)',
      path: ['recordsOut'],
    }),
  );

export type RunManifest = z.output<typeof manifestSchema>;
