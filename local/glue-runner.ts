import { createHash, randomUUID } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createGunzip } from 'node:zlib';
import {
  FORMAT_EXTENSIONS,
  STAGES,
  type Dataset,
  type FileFormat,
  type Stage,
} from '../shared/domain/datasets';
import {
  columnKey,
  EMPTY_FILE_REASON,
  fileFormatOf,
  matchColumns,
  MAX_CSV_RECORD_BYTES,
  type DriftPolicy,
} from '../shared/domain/landed-files';
import { MedallionError } from '../shared/domain/errors';
import { GLUE_ARGS, GOLD_WINDOW_ARG, stageSourceKey } from '../shared/domain/glue-args';
import { goldTargetsOf, type GoldWindowArgument } from '../shared/domain/gold-window';
import { manifestSchema, MANIFEST_VERSION, type RunManifest } from '../shared/domain/manifest';
import { INGESTED_AT, PLAN_VERSION, SOURCE_FILE, type DatasetPlan } from '../shared/domain/sql';
import { CDC_TARGET, cdcStateFolder, currentStateSql } from '../shared/domain/cdc';
import { SystemLock } from './system-lock';
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

/** A landed file whose column names do not match the dataset's declared columns; names the file and columns. */
export class LandingColumnsError extends MalformedLandingFileError {
  constructor(
    file: string,
    readonly problems: readonly string[],
  ) {
    super(file, `its columns do not match the dataset's: ${problems.join('; ')}`);
  }
}

type SkippedFile = NonNullable<RunManifest['skippedFiles']>[number];
type SourceFile = NonNullable<RunManifest['sourceFiles']>[number];
type FileDrift = NonNullable<RunManifest['schemaDrift']>[number];

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

// Partition values are not columns of a zone's rows (Spark reads the partition folder itself, not the
// table): no hive-partitioning detection, so gold SQL that names a partition key fails in both engines.
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
  /**
   * Folder where DuckDB spills what does not fit in `memoryLimit` (the local pipeline gives
   * `.lake/_system/tmp`); default: a fresh folder under the OS temp folder. Emptied after each job.
   */
  readonly spillDirectory?: string;
  /** DuckDB's memory limit (default DUCKDB_MEMORY_LIMIT). */
  readonly memoryLimit?: string;
}

/**
 * DuckDB's buffer memory per job. With it and a spill folder, a partition of any size runs in bounded
 * memory (the process stays within 2 GB at 10M rows, BENCHMARKS.md); DuckDB's own default is 80 % of
 * the machine's RAM. MEDALLION_DUCKDB_MEMORY overrides it.
 */
export const DUCKDB_MEMORY_LIMIT = '1GB';

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
  // What does not fit in the memory limit spills to a folder of this job's own, removed afterwards.
  const spillRoot = options.spillDirectory ?? tmpdir();
  mkdirSync(spillRoot, { recursive: true });
  const spill = mkdtempSync(join(spillRoot, `duckdb-${stage}-`));
  let duck: Duck;
  try {
    duck = await Duck.open(':memory:', {
      preserve_insertion_order: 'false',
      memory_limit: options.memoryLimit ?? process.env['MEDALLION_DUCKDB_MEMORY'] ?? DUCKDB_MEMORY_LIMIT,
      temp_directory: spill,
      ...(options.threads ? { threads: String(options.threads) } : {}),
    });
  } catch (error) {
    rmSync(spill, { recursive: true, force: true });
    throw error;
  }
  try {
    const tables = plan.dataset.catalog.tables;
    const partition = (table: string, location: string) => ({ table, values: partitionValues, location });
    let counts: { recordsIn: number; recordsOut: number; recordsQuarantined: number };
    let outputPartitions: RunManifest['outputPartitions'];
    let quarantineUri: string | null = null;
    let skippedFiles: SkippedFile[] = [];
    let sourceFiles: SourceFile[] | undefined;
    let schemaDrift: FileDrift[] = [];

    switch (stage) {
      case 'bronze': {
        const read = await bronze(duck, plan.dataset, source, target, args, startedAt);
        const recordsIn = read.records;
        skippedFiles = read.skippedFiles;
        sourceFiles = read.sourceFiles;
        schemaDrift = read.schemaDrift;
        counts = { recordsIn, recordsOut: recordsIn, recordsQuarantined: 0 };
        outputPartitions = [partition(tables.bronze, args[GLUE_ARGS.targetLocation] ?? '')];
        break;
      }
      case 'silver': {
        await createBronzeView(
          duck,
          source,
          plan.dataset.columns.map((c) => c.name),
        );
        await duck.run(`CREATE TABLE validated AS ${plan.sql.silver.validate}`);
        const recordsIn = Number(await duck.scalar('SELECT count(*) FROM validated'));
        await duck.run(`CREATE TABLE clean AS ${plan.sql.silver.clean}`);
        await duck.run(`CREATE TABLE rejected AS ${plan.sql.silver.quarantine}`);
        const recordsOut = Number(await duck.scalar('SELECT count(*) FROM clean'));
        const recordsQuarantined = Number(await duck.scalar('SELECT count(*) FROM rejected'));
        const merge = plan.sql.silver.merge;
        if (merge) await mergeCurrentState(duck, merge, stateFolder(target, args));
        else await overwriteFolder(target, (folder) => writeParquet(duck, 'clean', folder));
        const quarantinePath = localPath(quarantineLocation);
        if (recordsQuarantined > 0) {
          await overwriteFolder(quarantinePath, (folder) => writeParquet(duck, 'rejected', folder));
          quarantineUri = quarantineLocation;
        } else {
          rmSync(quarantinePath, { recursive: true, force: true });
        }
        counts = { recordsIn, recordsOut, recordsQuarantined };
        // A CDC dataset's silver is its current state, not a partition: nothing to register.
        outputPartitions = [
          ...(merge ? [] : [partition(tables.silver, args[GLUE_ARGS.targetLocation] ?? '')]),
          ...(recordsQuarantined > 0 ? [partition(tables.quarantine, quarantineLocation)] : []),
        ];
        break;
      }
      case 'gold': {
        if (plan.sql.silver.merge) {
          // A CDC dataset's gold reads the current state, one target (no window: datasets.ts refuses one).
          const state = stateFolder(source, args);
          if (!existsSync(state))
            throw new JobInputError(
              `the current state of ${datasetName} (${state}) does not exist: run silver first`,
            );
          const columns = [...plan.dataset.columns.map((c) => c.name), INGESTED_AT, SOURCE_FILE];
          await duck.run(
            `CREATE VIEW silver AS ${currentStateSql(columns, `read_parquet(${parquetGlob(state)}, hive_partitioning = false)`)}`,
          );
          const recordsIn = Number(await duck.scalar('SELECT count(*) FROM silver'));
          await duck.run(`CREATE TABLE gold AS ${plan.sql.gold.select}`);
          const recordsOut = Number(await duck.scalar('SELECT count(*) FROM gold'));
          await overwriteFolder(target, (folder) => writeParquet(duck, 'gold', folder));
          counts = { recordsIn, recordsOut, recordsQuarantined: 0 };
          outputPartitions = [partition(tables.gold, args[GLUE_ARGS.targetLocation] ?? '')];
        } else {
          const written = await gold(duck, plan, args, source, target);
          counts = { recordsIn: written.recordsIn, recordsOut: written.recordsOut, recordsQuarantined: 0 };
          outputPartitions = written.targets.map((t) => ({
            table: tables.gold,
            values: [...t.values],
            location: t.location,
          }));
        }
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
      ...(skippedFiles.length > 0 ? { skippedFiles } : {}),
      ...(sourceFiles ? { sourceFiles } : {}),
      ...(schemaDrift.length > 0 ? { schemaDrift } : {}),
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
    rmSync(spill, { recursive: true, force: true });
  }
}

/** A CDC dataset's state folder, from the silver partition location of a stage (shared/domain/cdc.ts). */
function stateFolder(partitionFolder: string, args: Readonly<Record<string, string>>): string {
  const folder = cdcStateFolder(partitionFolder, args[GLUE_ARGS.partitionPath] ?? '');
  if (!folder)
    throw new JobInputError(
      `${partitionFolder} does not end with the partition path ${args[GLUE_ARGS.partitionPath] ?? ''}`,
    );
  return folder;
}

/**
 * Merges the batch's changes (`clean`) into a CDC dataset's current state (`folder`, one Parquet
 * file): read, MERGE INTO (the plan's text), written back whole, holding the folder's lock so two
 * partitions' runs merge one after the other.
 */
async function mergeCurrentState(duck: Duck, merge: string, folder: string): Promise<void> {
  await new SystemLock(dirname(folder)).run(async () => {
    const existing = existsSync(folder) && readdirSync(folder).some((f) => f.endsWith('.parquet'));
    await duck.run(
      existing
        ? `CREATE TABLE current_state AS SELECT * FROM read_parquet(${parquetGlob(folder)}, hive_partitioning = false)`
        : 'CREATE TABLE current_state AS SELECT * FROM clean WHERE false',
    );
    await duck.run('CREATE VIEW changes AS SELECT * FROM clean');
    await duck.run(merge.split(CDC_TARGET).join('current_state'));
    await overwriteFolder(folder, (f) => writeParquet(duck, 'current_state', f));
  });
}

/**
 * The gold stage: each target of the run's window (shared/domain/gold-window.ts; without a window,
 * the partition alone) is the gold SELECT over the silver partitions of its window that exist, and
 * replaces its gold partition. A later day whose silver does not exist yet is not written (it has no
 * gold to correct). The run's own partition must have silver, as before.
 */
async function gold(
  duck: Duck,
  plan: DatasetPlan,
  args: Readonly<Record<string, string>>,
  source: string,
  target: string,
): Promise<{
  recordsIn: number;
  recordsOut: number;
  targets: Array<{ values: readonly string[]; location: string }>;
}> {
  let window: GoldWindowArgument;
  try {
    window = JSON.parse(requireArg(args, GOLD_WINDOW_ARG)) as GoldWindowArgument;
  } catch (error) {
    if (error instanceof MedallionError) throw error;
    throw new JobInputError(`Glue argument ${GOLD_WINDOW_ARG} is not JSON`, { cause: error });
  }
  const own = args[GLUE_ARGS.partitionPath] ?? '';
  const targets = goldTargetsOf(window);
  if (targets[0]?.path !== own)
    throw new JobInputError(
      `Glue argument ${GOLD_WINDOW_ARG}: its first target is ${targets[0]?.path}, not the run's partition ${own}`,
    );
  // The zone folders of silver and gold: the run's own partition folder without its path.
  const zoneOf = (folder: string) => folder.slice(0, folder.length - own.length - 1).replace(/\/+$/, '');
  const silverRoot = zoneOf(source.replace(/\/+$/, ''));
  const goldRoot = zoneOf(target.replace(/\/+$/, ''));
  const targetUri = args[GLUE_ARGS.targetLocation] ?? '';
  const goldUriRoot = targetUri.slice(0, targetUri.length - own.length - 1);
  const hasSilver = (path: string) => {
    const folder = join(silverRoot, path);
    return existsSync(folder) && readdirSync(folder).some((f) => f.endsWith('.parquet'));
  };
  let recordsIn = 0;
  let recordsOut = 0;
  const written: Array<{ values: readonly string[]; location: string }> = [];
  for (const [i, t] of targets.entries()) {
    if (i > 0 && !hasSilver(t.path)) continue;
    const sources = t.window.filter((path) => path === own || hasSilver(path));
    const globs = sources.map((path) => parquetGlob(join(silverRoot, path)));
    await duck.run('DROP VIEW IF EXISTS silver');
    await duck.run('DROP TABLE IF EXISTS gold');
    await duck.run(
      `CREATE VIEW silver AS SELECT * FROM read_parquet([${globs.join(', ')}], hive_partitioning = false)`,
    );
    recordsIn += Number(await duck.scalar('SELECT count(*) FROM silver'));
    await duck.run(`CREATE TABLE gold AS ${plan.sql.gold.select}`);
    recordsOut += Number(await duck.scalar('SELECT count(*) FROM gold'));
    await overwriteFolder(join(goldRoot, t.path), (folder) => writeParquet(duck, 'gold', folder));
    written.push({ values: t.values, location: `${goldUriRoot}${t.path}/` });
  }
  return { recordsIn, recordsOut, targets: written };
}

/**
 * The `bronze` view silver reads: the partition's Parquet, plus every declared column it lacks as empty
 * text. A bronze partition written before a column was declared lacks it (schema evolution: adding a
 * column keeps older partitions readable); the Glue silver job does the same (stages.run_silver).
 */
async function createBronzeView(duck: Duck, source: string, declared: readonly string[]): Promise<void> {
  const from = `read_parquet(${parquetGlob(source)}, hive_partitioning = false)`;
  const present = new Set(
    (await duck.rows(`DESCRIBE SELECT * FROM ${from}`)).map((r) => String(r['column_name'])),
  );
  const added = declared.filter((c) => !present.has(c)).map((c) => `CAST(NULL AS VARCHAR) AS ${c}`);
  await duck.run(
    `CREATE VIEW bronze AS SELECT *${added.length > 0 ? `, ${added.join(', ')}` : ''} FROM ${from}`,
  );
}

async function bronze(
  duck: Duck,
  dataset: Dataset,
  source: string,
  target: string,
  args: Readonly<Record<string, string>>,
  ingestedAt: Date,
): Promise<{
  records: number;
  skippedFiles: SkippedFile[];
  sourceFiles: SourceFile[];
  schemaDrift: FileDrift[];
}> {
  const sourceUri = args[GLUE_ARGS.sourceLocation] ?? fileUri(source);
  const entries = existsSync(source)
    ? readdirSync(source, { withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => e.name)
        .sort()
    : [];
  // Same rule as on-landing and the Glue bronze job: anything else in the partition folder fails the
  // run, by name.
  const foreign = entries.filter((name) => !fileFormatOf(name, dataset.landing.formats));
  if (foreign.length > 0) {
    const accepted = dataset.landing.formats.flatMap((f) => FORMAT_EXTENSIONS[f]).join(', ');
    throw new JobInputError(
      `${foreign.length} file(s) under ${sourceUri} are not one of the dataset's formats (${accepted}, in any case): ${foreign.join(', ')}`,
    );
  }
  // Same rule as the Glue bronze job (landing.py HIDDEN_NAME): Spark would skip these silently.
  const hidden = entries.filter((name) => /^[_.]/.test(name));
  if (hidden.length > 0)
    throw new JobInputError(
      `${hidden.length} file(s) under ${sourceUri} have a name starting with '_' or '.', which Spark treats as hidden and skips (rename the file): ${hidden.join(', ')}`,
    );
  if (entries.length === 0)
    throw new JobInputError(`no landed ${dataset.landing.formats.join('/')} files under ${sourceUri}`);
  const uriOf = (name: string) => `${sourceUri.endsWith('/') ? sourceUri : `${sourceUri}/`}${name}`;
  // Every file accounted for (read or skipped), as a listing shows it (shared/domain/source-files.ts):
  // the eTag is the MD5 of the bytes, as the local twin of S3 notifications computes it (lake.ts).
  const folderKey = stageSourceKey(
    'bronze',
    dataset.name,
    dataset.landing.prefix,
    args[GLUE_ARGS.partitionPath] ?? '',
  );
  const sourceFiles: SourceFile[] = [];
  for (const name of entries) {
    const path = join(source, name);
    sourceFiles.push({ key: `${folderKey}${name}`, size: statSync(path).size, eTag: await md5Of(path) });
  }
  const skippedFiles: SkippedFile[] = [];
  const files: Array<{ name: string; uri: string; path: string; format: FileFormat; gzipped: boolean }> = [];
  for (const name of entries) {
    const path = join(source, name);
    if (statSync(path).size === 0) {
      skippedFiles.push({ file: uriOf(name), reason: EMPTY_FILE_REASON });
      continue;
    }
    const format = fileFormatOf(name, dataset.landing.formats);
    if (format) files.push({ name, uri: uriOf(name), path, ...format });
  }

  const columns = dataset.columns.map((c) => c.name);
  const lineage = `CAST(${sqlString(ingestedAt.toISOString())} AS TIMESTAMPTZ) AS ${INGESTED_AT}`;
  const selects: string[] = [];
  const schemaDrift: FileDrift[] = [];
  const scratch = mkdtempSync(join(tmpdir(), 'medallion-bronze-'));
  try {
    for (const [i, file] of files.entries()) {
      const table = `landed_${i}`;
      const read = file.format === 'jsonl' ? readJsonLines : readCsv;
      const { expressions, drift } = await read(duck, table, file, columns, dataset.onDrift, scratch);
      if (drift.undeclared.length + drift.missing.length > 0)
        schemaDrift.push({ file: file.uri, undeclared: [...drift.undeclared], missing: [...drift.missing] });
      selects.push(
        `SELECT ${columns.map((c) => `${expressions.get(c) ?? 'CAST(NULL AS VARCHAR)'} AS ${c}`).join(', ')}, ${lineage}, ${sqlString(file.uri)} AS ${SOURCE_FILE} FROM ${table}`,
      );
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const empty = `SELECT ${columns.map((c) => `CAST(NULL AS VARCHAR) AS ${c}`).join(', ')}, ${lineage}, CAST(NULL AS VARCHAR) AS ${SOURCE_FILE} WHERE false`;
  await duck.run(`CREATE TABLE bronze AS ${selects.length > 0 ? selects.join('\nUNION ALL\n') : empty}`);
  const records = Number(await duck.scalar('SELECT count(*) FROM bronze'));
  await overwriteFolder(target, (folder) => writeParquet(duck, 'bronze', folder));
  schemaDrift.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return { records, skippedFiles, sourceFiles, schemaDrift };
}

/** What a reader found: each declared column's SQL expression over its table, and the file's drift. */
interface FileRead {
  readonly expressions: ReadonlyMap<string, string>;
  readonly drift: { readonly undeclared: readonly string[]; readonly missing: readonly string[] };
}

async function md5Of(path: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

interface LandedFile {
  readonly uri: string;
  readonly path: string;
  readonly name: string;
  readonly gzipped: boolean;
}

/** Bytes of a CSV file in which its header line must end (as the Glue bronze job reads it). */
const HEADER_PROBE_BYTES = 64 * 1024;

/** The 1-based line of the file where the first line longer than `limit` bytes starts. */
async function longLine(file: LandedFile, limit: number): Promise<number | undefined> {
  const input = createReadStream(file.path);
  const stream = file.gzipped ? input.pipe(createGunzip()) : input;
  let line = 1;
  let length = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let from = 0;
      for (let nl = chunk.indexOf(10, from); nl >= 0; nl = chunk.indexOf(10, from)) {
        if (length + nl - from > limit) return line;
        line++;
        length = 0;
        from = nl + 1;
      }
      length += chunk.length - from;
      if (length > limit) return line;
    }
  } finally {
    input.destroy();
    stream.destroy();
  }
  return undefined;
}

/** Turns a reader's error into one that names the file, and for an oversized record its line and the limit. */
async function unreadable(file: LandedFile, error: unknown): Promise<MalformedLandingFileError> {
  const message = (error as Error).message;
  const size = /Maximum line size of \d+ bytes exceeded/.test(message);
  if (!size) return new MalformedLandingFileError(file.uri, firstLine(message), { cause: error });
  const line = await longLine(file, MAX_CSV_RECORD_BYTES);
  return new MalformedLandingFileError(
    file.uri,
    `the CSV record ${line === undefined ? '' : `at line ${line} `}is longer than the limit of ${MAX_CSV_RECORD_BYTES} bytes per record`,
    { cause: error },
  );
}

const csvOptions = (file: LandedFile) =>
  `delim = ',', quote = '"', escape = '"', all_varchar = true, hive_partitioning = false, compression = '${file.gzipped ? 'gzip' : 'none'}', max_line_size = ${MAX_CSV_RECORD_BYTES}`;

/** The fields of a CSV file's header: its first line, parsed by the same CSV reader. */
async function csvHeader(duck: Duck, file: LandedFile, scratch: string): Promise<string[]> {
  let text = await head(file, HEADER_PROBE_BYTES);
  if (text.subarray(0, BOM.length).equals(BOM)) text = text.subarray(BOM.length);
  const end = text.indexOf(10);
  if (end < 0 && text.length >= HEADER_PROBE_BYTES - BOM.length)
    throw new MalformedLandingFileError(
      file.uri,
      `no end of line in the first ${HEADER_PROBE_BYTES} bytes (CSV header expected)`,
    );
  const line = join(scratch, `${randomUUID()}.csv`);
  writeFileSync(line, text.subarray(0, end < 0 ? text.length : end));
  try {
    const [first] = await duck.rows(
      `SELECT * FROM read_csv(${sqlString(line)}, header = false, skip = 0, ${csvOptions({ ...file, gzipped: false })})`,
    );
    return Object.values(first ?? {}).map((v) => (v === null ? '' : String(v)));
  } catch (error) {
    throw await unreadable(file, error);
  }
}

/**
 * A CSV file: its header matched onto the declared columns, then its rows read by position. Under
 * `onDrift: alert` an undeclared column is read and not loaded, a missing declared column is empty.
 */
async function readCsv(
  duck: Duck,
  table: string,
  file: LandedFile,
  columns: readonly string[],
  onDrift: DriftPolicy,
  scratch: string,
): Promise<FileRead> {
  const header = await csvHeader(duck, file, scratch);
  if (header.every((name) => columnKey(name) === ''))
    throw new MalformedLandingFileError(
      file.uri,
      'empty CSV header line (the first line must name the columns)',
    );
  if (!header.some((name) => columns.includes(columnKey(name))))
    throw new MalformedLandingFileError(
      file.uri,
      `its header names none of the columns ${columns.join(', ')} (is the header missing?)`,
    );
  const match = matchColumns(header, columns, true, onDrift);
  if (match.problems.length > 0) throw new LandingColumnsError(file.uri, match.problems);
  const names = header.map((_, i) => `c${i}`);
  try {
    await duck.run(
      `CREATE TABLE ${table} AS SELECT * FROM read_csv(${sqlString(file.path)}, header = true, skip = 0, names = [${names.map(sqlString).join(', ')}], ${csvOptions(file)})`,
    );
  } catch (error) {
    throw await unreadable(file, error);
  }
  return {
    expressions: new Map([...match.positions].map(([column, at]) => [column, `c${at}`])),
    drift: match.drift,
  };
}

/**
 * A JSON-lines file: each line one object, its keys matched onto the declared columns. Under
 * `onDrift: alert` an undeclared key is reported (sorted) and not loaded.
 */
async function readJsonLines(
  duck: Duck,
  table: string,
  file: LandedFile,
  columns: readonly string[],
  onDrift: DriftPolicy,
  scratch: string,
): Promise<FileRead> {
  const readable = await withoutBom(file, scratch);
  const format = /\.json(\.gz)?$/i.test(file.name) ? 'auto' : 'newline_delimited';
  try {
    await duck.run(
      `CREATE TABLE ${table} AS SELECT json FROM read_json_objects(${sqlString(readable.path)}, format = '${format}', hive_partitioning = false, compression = '${readable.gzipped ? 'gzip' : 'uncompressed'}')`,
    );
  } catch (error) {
    throw await unreadable(file, error);
  }
  const notObjects = Number(
    await duck.scalar(`SELECT count(*) FROM ${table} WHERE json_type(json) <> 'OBJECT'`),
  );
  if (notObjects > 0)
    throw new MalformedLandingFileError(file.uri, `${notObjects} record(s) are not JSON objects`);
  const shapes = (await duck.rows(`SELECT DISTINCT json_keys(json) AS k FROM ${table}`)).map(
    (r) => (r['k'] as string[] | null) ?? [],
  );
  const problems = new Set<string>();
  const undeclared = new Set<string>();
  const keysOf = new Map<string, string[]>();
  for (const keys of shapes) {
    const match = matchColumns(keys, columns, false, onDrift);
    match.problems.forEach((p) => problems.add(p));
    match.drift.undeclared.forEach((k) => undeclared.add(k));
    for (const [column, at] of match.positions) {
      const key = keys[at] ?? column;
      const known = keysOf.get(column) ?? [];
      if (!known.includes(key)) keysOf.set(column, [...known, key]);
    }
  }
  if (problems.size > 0) throw new LandingColumnsError(file.uri, [...problems]);
  const drift = { undeclared: [...undeclared].sort(), missing: [] };
  // One parse per row: every key (in any spelling found) extracted at once.
  const paths = [...keysOf.values()].flat();
  if (paths.length === 0) return { expressions: new Map(), drift };
  const extracted = `${table}_values`;
  await duck.run(
    `CREATE TABLE ${extracted} AS SELECT json_extract_string(json, [${paths.map((k) => sqlString(`$."${k}"`)).join(', ')}]) AS v FROM ${table}`,
  );
  await duck.run(`DROP TABLE ${table}`);
  await duck.run(`ALTER TABLE ${extracted} RENAME TO ${table}`);
  const out = new Map<string, string>();
  let index = 1;
  for (const [column, keys] of keysOf) {
    const refs = keys.map(() => `v[${index++}]`);
    out.set(column, refs.length === 1 ? (refs[0] ?? 'NULL') : `COALESCE(${refs.join(', ')})`);
  }
  return { expressions: out, drift };
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** The file's first bytes (decompressed when gzipped). */
async function head(file: LandedFile, bytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  const input = createReadStream(file.path);
  const stream = file.gzipped ? input.pipe(createGunzip()) : input;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= bytes) break;
    }
  } catch {
    // a broken gzip stream: the reader reports it, naming the file
  } finally {
    input.destroy();
    stream.destroy();
  }
  return Buffer.concat(chunks).subarray(0, bytes);
}

/**
 * DuckDB's JSON reader refuses a UTF-8 byte order mark, which its CSV reader (and Spark) skip: a file
 * that starts with one is read from a copy without it.
 */
async function withoutBom(file: LandedFile, scratch: string): Promise<LandedFile> {
  if (!(await head(file, BOM.length)).equals(BOM)) return file;
  const path = join(scratch, `${randomUUID()}.jsonl`);
  let skipped = false;
  const dropBom = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (!skipped) {
        skipped = true;
        done(null, chunk.subarray(BOM.length));
      } else done(null, chunk);
    },
  });
  const input = createReadStream(file.path);
  const output = createWriteStream(path);
  if (file.gzipped) await pipeline(input, createGunzip(), dropBom, output);
  else await pipeline(input, dropBom, output);
  return { ...file, path, gzipped: false };
}
