import { z } from 'zod';
import {
  CLASSIFICATIONS,
  DRIFT_POLICIES,
  FILE_FORMATS,
  GOLD_WINDOW_MAX,
  SETTLE_SECONDS_MAX,
} from './dataset-limits';

/**
 * The schema of datasets/<name>/dataset.yml, validated strictly: unknown keys are errors, and every
 * problem of every file is reported at once, each naming the file and the field.
 */

const identifier = z
  .string()
  .regex(/^[a-z][a-z0-9_]*$/, 'must be lower_snake_case (letters, digits, _; starting with a letter)');

const regex = z.string().refine((value) => {
  try {
    new RegExp(value);
    return true;
  } catch {
    return false;
  }
}, 'must be a valid regular expression');

const columnType = z
  .string()
  .regex(
    /^(string|int|bigint|double|boolean|date|timestamp|decimal\(\d{1,2},\d{1,2}\))$/,
    'must be one of string, int, bigint, double, boolean, date, timestamp, decimal(p,s)',
  );

/** What a column means, shown as the Glue column comment (255 characters at most there). */
const description = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(255, 'must be at most 255 characters (the Glue column comment limit)');

/**
 * Who may read the column: one of a closed list (shared/domain/governance.ts). Omitted means
 * `confidential`, withheld from readers until the owner classifies it.
 */
const classification = z.enum(CLASSIFICATIONS, {
  error: `must be one of ${CLASSIFICATIONS.join(', ')}`,
});

/** Table-level tags: lower-case words for finding tables (`sales`, `web-analytics`). */
const tag = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,49}$/, 'must be lower-case letters, digits, - or _ (at most 50)');

const stageSchema = z.strictObject({
  glueJob: z.string().min(1).max(255),
  arguments: z
    .record(z.string().regex(/^--[A-Za-z0-9_-]+$/, 'argument names look like --name'), z.string().max(4096))
    .default({})
    .refine(
      (args) => !Object.keys(args).some((k) => ['--conf', '--debug', '--mode', '--JOB_NAME'].includes(k)),
      'must not set Glue reserved arguments (--conf, --debug, --mode, --JOB_NAME)',
    ),
  /** Glue job timeout for this stage, minutes (Glue default is 2,880). */
  timeoutMinutes: z.number().int().min(1).max(2880).default(60),
  /**
   * Glue execution class of the stage's job: `flex` runs on spare capacity (cheaper, may start
   * minutes late) for stages nobody waits for; `standard` starts at once.
   */
  executionClass: z.enum(['standard', 'flex']).default('standard'),
});

const ruleBase = { column: identifier, name: identifier.optional() };
const ruleSchema = z.discriminatedUnion('check', [
  z.strictObject({ ...ruleBase, check: z.literal('not_null') }),
  z
    .strictObject({
      ...ruleBase,
      check: z.literal('range'),
      min: z.number().optional(),
      max: z.number().optional(),
    })
    .refine((r) => r.min !== undefined || r.max !== undefined, 'a range needs min, max or both'),
  z.strictObject({
    ...ruleBase,
    check: z.literal('accepted_values'),
    values: z.array(z.string().min(1)).min(1),
  }),
  z.strictObject({ ...ruleBase, check: z.literal('pattern'), pattern: regex }),
]);

export const datasetSchema = z.strictObject({
  name: identifier,
  description: z.string().min(1),
  owner: z.string().min(1).optional(),
  /** Table-level tags, on every table of the dataset (Glue parameter `medallion.tags`). */
  tags: z.array(tag).max(20).default([]),
  landing: z.strictObject({
    prefix: z
      .string()
      .regex(
        /^([A-Za-z0-9_.=-]+\/)+$/,
        'must be a relative S3 prefix ending with "/" (e.g. landing/shop/orders/)',
      ),
    formats: z.array(z.enum(FILE_FORMATS)).min(1),
  }),
  partitionKeys: z
    .array(z.strictObject({ name: identifier, pattern: regex.optional() }))
    .min(1)
    .max(6),
  catalog: z.strictObject({
    database: identifier,
    tables: z.strictObject({
      bronze: identifier,
      silver: identifier,
      gold: identifier,
      quarantine: identifier,
    }),
  }),
  stages: z.strictObject({ bronze: stageSchema, silver: stageSchema, gold: stageSchema }),
  columns: z
    .array(
      z.strictObject({
        name: identifier,
        type: columnType,
        nullable: z.boolean().default(true),
        description: description.optional(),
        classification: classification.optional(),
      }),
    )
    .min(1),
  /**
   * Schema drift: a landed file with a column the dataset does not declare, or a CSV header without a
   * declared column (shared/domain/landed-files.ts). `halt` (default): bronze fails naming the file
   * and the columns; `alert`: bronze loads the declared columns, reports the drift in its manifest and
   * the SchemaDriftColumns metric, and on-call gets a warning; the run goes on.
   */
  onDrift: z.enum(DRIFT_POLICIES, { error: 'must be alert or halt' }).default('halt'),
  rules: z.array(ruleSchema).default([]),
  /**
   * Texts that mean "no value" besides the empty or all-whitespace text (compared after trimming,
   * case-sensitively): e.g. ['null', 'NULL', 'N/A']. Default none.
   */
  nullValues: z.array(z.string().min(1).max(64)).max(32).default([]),
  /**
   * How numbers are written: `plain` (default) accepts only plain decimals (-12, 3.50, .5);
   * `scientific` also accepts an exponent (1.5e3).
   */
  numberFormat: z.enum(['plain', 'scientific']).default('plain'),
  dedup: z.strictObject({ key: z.array(identifier).min(1), orderBy: identifier }).optional(),
  /**
   * `append` (default): each partition's silver is its own clean rows. `cdc`: the landed rows are
   * changes of a source table (`cdc`), and silver is the table's current state, merged into by every
   * run (shared/domain/cdc.ts; an Iceberg table on AWS).
   */
  mode: z.enum(['append', 'cdc']).default('append'),
  cdc: z
    .strictObject({
      /** The column holding each change's operation, and the value that means each one. */
      operation: z.strictObject({
        column: identifier,
        insert: z.string().min(1).max(64),
        update: z.string().min(1).max(64),
        delete: z.string().min(1).max(64),
      }),
      /** The change sequence column: per key, the highest wins (a number, a timestamp or a date). */
      sequence: identifier,
      /** The source table's primary key. */
      key: z.array(identifier).min(1),
    })
    .optional(),
  gold: z.strictObject({
    /** File (relative to the dataset folder) holding the gold SELECT over the `silver` relation. */
    sql: z.string().regex(/^[A-Za-z0-9_.-]+\.sql$/, 'must name a .sql file in the dataset folder'),
    /**
     * The gold table's contract: its columns in order and their types. Both engines cast the gold
     * SELECT's result to it and the catalog declares it (engines type aggregates differently: a SUM
     * of decimal(10,2) is decimal(20,2) in Spark, decimal(38,2) in DuckDB).
     */
    columns: z
      .array(
        z.strictObject({
          name: identifier,
          type: columnType,
          description: description.optional(),
          classification: classification.optional(),
        }),
      )
      .min(1),
    /**
     * A trailing window: gold of a day is the gold SELECT over silver of that day and the
     * `partitions - 1` days before it (a rolling 7-day model: `{ partitions: 7 }`). When a silver
     * partition changes, every existing gold partition whose window holds it is recomputed in the same
     * run (shared/domain/gold-window.ts). Needs a date in the partition keys. Default: 1, the day alone.
     */
    window: z
      .strictObject({
        partitions: z
          .number({ error: 'must be a whole number of partitions' })
          .int('must be a whole number of partitions')
          .min(1, 'must be 1 (the partition alone) or more')
          .max(GOLD_WINDOW_MAX, `must be at most ${GOLD_WINDOW_MAX}`),
      })
      .optional(),
  }),
  /**
   * When a landing starts its run. `settleSeconds`: the run of a partition waits this long after the
   * partition's first arrival before it reads, so files landing over a few minutes cost one run
   * (shared/domain/settle.ts). Default 0: the run reads at once.
   */
  trigger: z
    .strictObject({
      settleSeconds: z
        .number({ error: 'must be a whole number of seconds' })
        .int('must be a whole number of seconds')
        .min(0, 'must be 0 (no wait) or more')
        .max(
          SETTLE_SECONDS_MAX,
          `must be at most ${SETTLE_SECONDS_MAX} (an hour; a longer wait is a schedule)`,
        )
        .default(0),
    })
    .prefault({}),
  quarantine: z.strictObject({
    /** Quarantined / records-in above this ratio is always a spike. */
    maxRatio: z.number().min(0).max(1),
    spike: z
      .strictObject({
        /** How many recent QuarantineRatio data points form the baseline. */
        lookback: z.number().int().min(3).max(100).default(14),
        /** A ratio above mean + k·σ of the baseline is a spike. */
        k: z.number().min(0).default(3),
        /** Runs with fewer records in than this are never judged a spike. */
        minRecords: z.number().int().min(0).default(100),
      })
      .prefault({}),
    onSpike: z.enum(['alert', 'halt']),
  }),
});

export type DatasetDefinition = z.output<typeof datasetSchema>;
