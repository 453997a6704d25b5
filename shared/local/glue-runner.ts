import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FORMAT_EXTENSIONS, STAGES, type Dataset, type FileFormat, type Stage } from '../domain/datasets';
import { MedallionError } from '../domain/errors';
import { GLUE_ARGS } from '../domain/glue-args';
import { manifestSchema, MANIFEST_VERSION, type RunManifest } from '../domain/manifest';
import { INGESTED_AT, PLAN_VERSION, SOURCE_FILE, type DatasetPlan } from '../domain/sql';
import { Duck, sqlString } from './duck';
import { writtenType } from './zone-columns';

/**
 * The local Glue: runs one stage of a dataset on DuckDB with the argument contract of the Glue jobs
 * (shared/domain/glue-args.ts), reading and writing file:// locations, and writes the run manifest.
 *
 * - bronze: every landed file of the partition (JSON lines, CSV, optionally .gz) → one Parquet file
 *   holding the declared columns as landed text, plus `_ingested_at` and `_source_file`. Landed files
 *   are only read. A file that cannot be parsed fails the job naming the file.
 * - silver: the plan's validate / clean / quarantine SQL over bronze → silver and quarantine Parquet.
 * - gold: the plan's gold select over silver → gold Parquet.
 * Every output replaces its partition folder as a whole (written aside, then swapped in), so re-running
 * a partition gives the same result.
 */

/** The job's input cannot be used (missing arguments, no landed files, a file that does not parse). */
export class JobInputError extends MedallionError {
  readonly retryable = false;
}

/** A landed file could not be read as its format; names the file. */
export class MalformedLandingFileError extends MedallionError {
  readonly retryable = false;
  constructor(
    readonly file: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`Landed file ${file} cannot be read: ${detail}`, options);
  }
}

export interface JobOutcome {
  readonly jobRunId: string;
  readonly manifest: RunManifest;
}

/** A file:// URI (or plain path) to a path. */
export function localPath(location: string): string {
  if (location.startsWith('file://')) return fileURLToPath(location);
  if (/^[a-z0-9]+:\/\//i.test(location))
    throw new JobInputError(`location "${location}" is not local (file:// or a path)`);
  return location;
}

export const fileUri = (path: string, directory = true): string => {
  const href = pathToFileURL(path).href;
  return directory && !href.endsWith('/') ? `${href}/` : href;
};

function requireArg(args: Readonly<Record<string, string>>, name: string): string {
  const value = args[name];
  if (value === undefined || value === '') throw new JobInputError(`Glue argument ${name} is missing`);
  return value;
}

export function readPlan(location: string): DatasetPlan {
  const path = localPath(location);
  let plan: DatasetPlan;
  try {
    plan = JSON.parse(readFileSync(path, 'utf8')) as DatasetPlan;
  } catch (error) {
    throw new JobInputError(`dataset plan ${location} cannot be read: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (plan.version !== PLAN_VERSION)
    throw new JobInputError(`dataset plan ${location} has version ${String(plan.version)}, expected 1`);
  return plan;
}

function formatOf(dataset: Dataset, name: string): { format: FileFormat; gz: boolean } | undefined {
  const lower = name.toLowerCase();
  for (const format of dataset.landing.formats) {
    if (FORMAT_EXTENSIONS[format].some((ext) => lower.endsWith(ext)))
      return { format, gz: lower.endsWith('.gz') };
  }
  return undefined;
}

const firstLine = (message: string): string => message.split('\n')[0] ?? message;

/** Replaces `target` (a folder) by what `write` puts in a fresh sibling folder. */
async function overwriteFolder(target: string, write: (folder: string) => Promise<void>): Promise<void> {
  const staging = `${target.replace(/\/+$/, '')}.__writing-${randomUUID().slice(0, 8)}`;
  mkdirSync(staging, { recursive: true });
  try {
    await write(staging);
    rmSync(target, { recursive: true, force: true });
    mkdirSync(dirname(target.replace(/\/+$/, '')), { recursive: true });
    renameSync(staging, target.replace(/\/+$/, ''));
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
}

const parquetGlob = (folder: string): string => sqlString(join(folder, '*.parquet'));

/**
 * Writes a table as `folder/part-00000.parquet`, each column cast to the type the catalog declares
 * for it (zone-columns.ts `writtenType`: DuckDB would store a HUGEINT sum as DOUBLE).
 */
async function writeParquet(duck: Duck, table: string, folder: string): Promise<void> {
  const columns = (await duck.rows(`DESCRIBE ${table}`)).map((r) => ({
    name: String(r['column_name']),
    type: String(r['column_type']),
  }));
  const select = columns
    .map((c) => {
      const name = `"${c.name.replace(/"/g, '""')}"`;
      const type = writtenType(c.type);
      return type === c.type ? name : `CAST(${name} AS ${type}) AS ${name}`;
    })
    .join(', ');
  await duck.run(
    `COPY (SELECT ${select} FROM ${table}) TO ${sqlString(join(folder, 'part-00000.parquet'))} (FORMAT PARQUET)`,
  );
}

export interface LocalGlueOptions {
  readonly now?: () => Date;
  /** DuckDB threads per job (default: DuckDB's own choice). */
  readonly threads?: number;
}

/** Runs one stage from its Glue arguments; resolves with the manifest it wrote. */
export async function runGlueJob(
  args: Readonly<Record<string, string>>,
  options: LocalGlueOptions = {},
): Promise<JobOutcome> {
  const now = options.now ?? (() => new Date());
  const stage = requireArg(args, GLUE_ARGS.stage) as Stage;
  if (!STAGES.includes(stage)) throw new JobInputError(`Glue argument --stage "${stage}" is not a stage`);
  const plan = readPlan(requireArg(args, GLUE_ARGS.datasetPlan));
  const datasetName = requireArg(args, GLUE_ARGS.dataset);
  if (plan.dataset.name !== datasetName)
    throw new JobInputError(`the plan is for dataset "${plan.dataset.name}", not "${datasetName}"`);
  let partitionValues: string[];
  try {
    partitionValues = JSON.parse(requireArg(args, GLUE_ARGS.partitionValues)) as string[];
  } catch (error) {
    throw new JobInputError('Glue argument --partition_values is not a JSON array', { cause: error });
  }
  const runId = requireArg(args, GLUE_ARGS.runId);
  const source = localPath(requireArg(args, GLUE_ARGS.sourceLocation));
  const target = localPath(requireArg(args, GLUE_ARGS.targetLocation));
  const quarantineLocation = requireArg(args, GLUE_ARGS.quarantineLocation);
  const manifestLocation = requireArg(args, GLUE_ARGS.manifestLocation);
  const jobRunId = `jr_local_${randomUUID().replace(/-/g, '')}`;
  const startedAt = now();

  // Row order of a zone carries no meaning; not preserving it lets DuckDB stream COPY with less memory.
  const duck = await Duck.open(':memory:', {
    preserve_insertion_order: 'false',
    ...(options.threads ? { threads: String(options.threads) } : {}),
  });
  try {
    const tables = plan.dataset.catalog.tables;
    const partition = (table: string, location: string) => ({ table, values: partitionValues, location });
    let counts: { recordsIn: number; recordsOut: number; recordsQuarantined: number };
    let outputPartitions: RunManifest['outputPartitions'];
    let quarantineUri: string | null = null;

    switch (stage) {
      case 'bronze': {
        const recordsIn = await bronze(duck, plan.dataset, source, target, args, startedAt);
        counts = { recordsIn, recordsOut: recordsIn, recordsQuarantined: 0 };
        outputPartitions = [partition(tables.bronze, args[GLUE_ARGS.targetLocation] ?? '')];
        break;
      }
      case 'silver': {
        await duck.run(`CREATE VIEW bronze AS SELECT * FROM read_parquet(${parquetGlob(source)})`);
        await duck.run(`CREATE TABLE validated AS ${plan.sql.silver.validate}`);
        const recordsIn = Number(await duck.scalar('SELECT count(*) FROM validated'));
        await duck.run(`CREATE TABLE clean AS ${plan.sql.silver.clean}`);
        await duck.run(`CREATE TABLE rejected AS ${plan.sql.silver.quarantine}`);
        const recordsOut = Number(await duck.scalar('SELECT count(*) FROM clean'));
        const recordsQuarantined = Number(await duck.scalar('SELECT count(*) FROM rejected'));
        await overwriteFolder(target, (folder) => writeParquet(duck, 'clean', folder));
        const quarantinePath = localPath(quarantineLocation);
        if (recordsQuarantined > 0) {
          await overwriteFolder(quarantinePath, (folder) => writeParquet(duck, 'rejected', folder));
          quarantineUri = quarantineLocation;
        } else {
          rmSync(quarantinePath, { recursive: true, force: true });
        }
        counts = { recordsIn, recordsOut, recordsQuarantined };
        outputPartitions = [
          partition(tables.silver, args[GLUE_ARGS.targetLocation] ?? ''),
          ...(recordsQuarantined > 0 ? [partition(tables.quarantine, quarantineLocation)] : []),
        ];
        break;
      }
      case 'gold': {
        await duck.run(`CREATE VIEW silver AS SELECT * FROM read_parquet(${parquetGlob(source)})`);
        const recordsIn = Number(await duck.scalar('SELECT count(*) FROM silver'));
        await duck.run(`CREATE TABLE gold AS ${plan.sql.gold.select}`);
        const recordsOut = Number(await duck.scalar('SELECT count(*) FROM gold'));
        await overwriteFolder(target, (folder) => writeParquet(duck, 'gold', folder));
        counts = { recordsIn, recordsOut, recordsQuarantined: 0 };
        outputPartitions = [partition(tables.gold, args[GLUE_ARGS.targetLocation] ?? '')];
        break;
      }
    }

    const manifest = manifestSchema.parse({
      version: MANIFEST_VERSION,
      dataset: datasetName,
      stage,
      runId,
      jobRunId,
      startedAt: startedAt.toISOString(),
      completedAt: now().toISOString(),
      ...counts,
      outputPartitions,
      quarantineLocation: quarantineUri,
    });
    const manifestPath = localPath(manifestLocation);
    mkdirSync(dirname(manifestPath), { recursive: true });
    writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
    return { jobRunId, manifest };
  } catch (error) {
    if (error instanceof MedallionError) throw error;
    const message = error instanceof Error ? firstLine(error.message) : String(error);
    throw new JobInputError(
      `${stage} job of ${datasetName} ${args[GLUE_ARGS.partitionPath] ?? ''} failed: ${message}`,
      {
        cause: error,
      },
    );
  } finally {
    duck.close();
  }
}

async function bronze(
  duck: Duck,
  dataset: Dataset,
  source: string,
  target: string,
  args: Readonly<Record<string, string>>,
  ingestedAt: Date,
): Promise<number> {
  const sourceUri = args[GLUE_ARGS.sourceLocation] ?? fileUri(source);
  const names = existsSync(source)
    ? readdirSync(source, { withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => e.name)
        .sort()
    : [];
  const files = names.flatMap((name) => {
    const format = formatOf(dataset, name);
    return format ? [{ name, ...format }] : [];
  });
  // Same rule as the Glue bronze job: anything else in the partition folder fails the run, by name.
  const foreign = names.filter((name) => !formatOf(dataset, name));
  if (foreign.length > 0) {
    const accepted = dataset.landing.formats.flatMap((f) => FORMAT_EXTENSIONS[f]).join(', ');
    throw new JobInputError(
      `${foreign.length} file(s) under ${sourceUri} are not one of the dataset's formats (${accepted}): ${foreign.join(', ')}`,
    );
  }
  if (files.length === 0)
    throw new JobInputError(`no landed ${dataset.landing.formats.join('/')} files under ${sourceUri}`);

  const columns = dataset.columns.map((c) => c.name);
  const selects: string[] = [];
  for (const [i, file] of files.entries()) {
    const path = join(source, file.name);
    const uri = `${sourceUri.endsWith('/') ? sourceUri : `${sourceUri}/`}${file.name}`;
    const reader =
      file.format === 'jsonl'
        ? `read_json(${sqlString(path)}, format = '${/\.json(\.gz)?$/i.test(file.name) ? 'auto' : 'newline_delimited'}', columns = {${columns.map((c) => `${c}: 'VARCHAR'`).join(', ')}})`
        : `read_csv(${sqlString(path)}, all_varchar = true, header = true, delim = ',', quote = '"', escape = '"')`;
    const table = `landed_${i}`;
    try {
      await duck.run(`CREATE TABLE ${table} AS SELECT * FROM ${reader}`);
    } catch (error) {
      throw new MalformedLandingFileError(uri, firstLine((error as Error).message), { cause: error });
    }
    const present = new Set((await duck.rows(`DESCRIBE ${table}`)).map((r) => String(r['column_name'])));
    if (file.format === 'csv' && !columns.some((c) => present.has(c)))
      throw new MalformedLandingFileError(uri, `its header names none of the columns ${columns.join(', ')}`);
    selects.push(
      `SELECT ${columns.map((c) => (present.has(c) ? `CAST(${c} AS VARCHAR) AS ${c}` : `CAST(NULL AS VARCHAR) AS ${c}`)).join(', ')}, ` +
        `CAST(${sqlString(ingestedAt.toISOString())} AS TIMESTAMP) AS ${INGESTED_AT}, ${sqlString(uri)} AS ${SOURCE_FILE} FROM ${table}`,
    );
  }
  await duck.run(`CREATE TABLE bronze AS ${selects.join('\nUNION ALL\n')}`);
  const records = Number(await duck.scalar('SELECT count(*) FROM bronze'));
  await overwriteFolder(target, (folder) => writeParquet(duck, 'bronze', folder));
  return records;
}
