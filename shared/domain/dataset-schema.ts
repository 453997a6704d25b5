import { z } from 'zod';
import { parseDocument } from 'yaml';
import {
  FILE_FORMATS,
  makeRegistry,
  ruleName,
  type Dataset,
  type DatasetSource,
  type Registry,
} from './datasets';
import { DatasetConfigError } from './errors';
import { SETTLE_SECONDS_MAX } from './settle';

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
    .array(z.strictObject({ name: identifier, type: columnType, nullable: z.boolean().default(true) }))
    .min(1),
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
  gold: z.strictObject({
    /** File (relative to the dataset folder) holding the gold SELECT over the `silver` relation. */
    sql: z.string().regex(/^[A-Za-z0-9_.-]+\.sql$/, 'must name a .sql file in the dataset folder'),
    /**
     * The gold table's contract: its columns in order and their types. Both engines cast the gold
     * SELECT's result to it and the catalog declares it (engines type aggregates differently: a SUM
     * of decimal(10,2) is decimal(20,2) in Spark, decimal(38,2) in DuckDB).
     */
    columns: z.array(z.strictObject({ name: identifier, type: columnType })).min(1),
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

const formatPath = (path: readonly PropertyKey[]): string =>
  path.reduce<string>(
    (acc, part) =>
      typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${String(part)}` : String(part),
    '',
  ) || '(root)';

/** Cross-field checks that a schema cannot express. */
function semanticProblems(def: DatasetDefinition, source: DatasetSource): string[] {
  const problems: string[] = [];
  const at = (field: string, message: string) => problems.push(`${source.file}: ${field}: ${message}`);
  const columns = new Set(def.columns.map((c) => c.name));
  const partitionNames = def.partitionKeys.map((k) => k.name);

  if (def.name !== source.folder) at('name', `must equal its folder name "${source.folder}"`);
  const seen = new Set<string>();
  def.columns.forEach((c, i) => {
    if (seen.has(c.name)) at(`columns[${i}].name`, `duplicate column "${c.name}"`);
    if (partitionNames.includes(c.name))
      at(`columns[${i}].name`, `"${c.name}" is a partition key, not a column`);
    seen.add(c.name);
  });
  if (new Set(partitionNames).size !== partitionNames.length)
    at('partitionKeys', 'partition key names must be unique');
  def.rules.forEach((r, i) => {
    if (!columns.has(r.column)) at(`rules[${i}].column`, `unknown column "${r.column}"`);
  });
  def.dedup?.key.forEach((k, i) => {
    if (!columns.has(k)) at(`dedup.key[${i}]`, `unknown column "${k}"`);
  });
  if (def.dedup && !columns.has(def.dedup.orderBy))
    at('dedup.orderBy', `unknown column "${def.dedup.orderBy}"`);
  const goldNames = new Set<string>();
  def.gold.columns.forEach((c, i) => {
    if (goldNames.has(c.name)) at(`gold.columns[${i}].name`, `duplicate column "${c.name}"`);
    goldNames.add(c.name);
  });
  if (source.files[def.gold.sql] === undefined)
    at('gold.sql', `file "${def.gold.sql}" not found in datasets/${source.folder}/`);
  def.nullValues.forEach((v, i) => {
    if (v.trim() !== v || /^\s*$/u.test(v))
      at(`nullValues[${i}]`, `"${v}" has surrounding whitespace (values are compared after trimming)`);
  });
  const ruleNames = new Set<string>();
  def.rules.forEach((r, i) => {
    const name = ruleName(r);
    if (ruleNames.has(name)) at(`rules[${i}].name`, `duplicate rule name "${name}" (set a distinct name)`);
    ruleNames.add(name);
  });
  return problems;
}

/**
 * Parses and validates every dataset source. Throws one DatasetConfigError listing every problem
 * (file and field) of every file.
 */
export function parseRegistry(sources: readonly DatasetSource[]): Registry {
  const problems: string[] = [];
  const datasets: Dataset[] = [];

  for (const source of sources) {
    const doc = parseDocument(source.text, { prettyErrors: false });
    if (doc.errors.length > 0) {
      for (const e of doc.errors) problems.push(`${source.file}: YAML: ${e.message.split('\n')[0]}`);
      continue;
    }
    const parsed = datasetSchema.safeParse(doc.toJS());
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const field = formatPath(issue.path);
        const keys = issue.code === 'unrecognized_keys' ? ` (${issue.keys.join(', ')})` : '';
        problems.push(`${source.file}: ${field}: ${issue.message}${keys}`);
      }
      continue;
    }
    const semantic = semanticProblems(parsed.data, source);
    problems.push(...semantic);
    if (semantic.length === 0) {
      datasets.push({
        ...parsed.data,
        folder: source.folder,
        goldSql: source.files[parsed.data.gold.sql] ?? '',
      });
    }
  }

  const byPrefix = new Map<string, string>();
  for (const d of datasets) {
    const other = byPrefix.get(d.landing.prefix);
    if (other)
      problems.push(
        `datasets/${d.folder}: landing.prefix: "${d.landing.prefix}" is already used by ${other}`,
      );
    byPrefix.set(d.landing.prefix, d.name);
  }
  if (problems.length > 0) throw new DatasetConfigError(problems);
  return makeRegistry(datasets);
}
