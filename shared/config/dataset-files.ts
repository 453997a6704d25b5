import { parseDocument } from 'yaml';
import { datasetSchema, type DatasetDefinition } from '../domain/dataset-schema';
import { makeRegistry, ruleName, type Dataset, type DatasetSource, type Registry } from '../domain/datasets';
import { DatasetConfigError } from '../domain/errors';
import { dateLayoutOf } from '../domain/partition-dates';
import { compileDatasetSql } from '../domain/sql';

/**
 * Reads dataset definitions (datasets/<name>/dataset.yml and their files): YAML, then the schema
 * (shared/domain/dataset-schema.ts), then the checks across fields, every problem of every file
 * reported at once.
 */

const formatPath = (path: readonly PropertyKey[]): string =>
  path.reduce<string>(
    (acc, part) =>
      typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${String(part)}` : String(part),
    '',
  ) || '(root)';

/**
 * Cross-field checks that a schema cannot express. Run on whatever fields parsed, so a file with a
 * schema problem also gets its other problems in the same report (a check needing a field that did
 * not parse is left out).
 */
function semanticProblems(def: Partial<DatasetDefinition>, source: DatasetSource): string[] {
  const problems: string[] = [];
  const at = (field: string, message: string) => problems.push(`${source.file}: ${field}: ${message}`);
  const columns = def.columns ? new Set(def.columns.map((c) => c.name)) : undefined;
  const partitionNames = def.partitionKeys?.map((k) => k.name) ?? [];

  if (def.name !== undefined && def.name !== source.folder)
    at('name', `must equal its folder name "${source.folder}"`);
  const seen = new Set<string>();
  def.columns?.forEach((c, i) => {
    if (seen.has(c.name)) at(`columns[${i}].name`, `duplicate column "${c.name}"`);
    if (partitionNames.includes(c.name))
      at(`columns[${i}].name`, `"${c.name}" is a partition key, not a column`);
    seen.add(c.name);
  });
  if (new Set(partitionNames).size !== partitionNames.length)
    at('partitionKeys', 'partition key names must be unique');
  if (columns) {
    def.rules?.forEach((r, i) => {
      if (!columns.has(r.column)) at(`rules[${i}].column`, `unknown column "${r.column}"`);
    });
    def.dedup?.key.forEach((k, i) => {
      if (!columns.has(k)) at(`dedup.key[${i}]`, `unknown column "${k}"`);
    });
    if (def.dedup && !columns.has(def.dedup.orderBy))
      at('dedup.orderBy', `unknown column "${def.dedup.orderBy}"`);
    const cdc = def.cdc;
    if (cdc) {
      const typeOf = new Map(def.columns?.map((c) => [c.name, c.type]));
      cdc.key.forEach((k, i) => {
        if (!columns.has(k)) at(`cdc.key[${i}]`, `unknown column "${k}"`);
      });
      if (!columns.has(cdc.sequence)) at('cdc.sequence', `unknown column "${cdc.sequence}"`);
      else if (
        !/^(int|bigint|double|date|timestamp|decimal\(\d+,\d+\))$/.test(typeOf.get(cdc.sequence) ?? '')
      )
        at(
          'cdc.sequence',
          `"${cdc.sequence}" is ${typeOf.get(cdc.sequence) ?? '?'}: a sequence must be a number, a date or a timestamp`,
        );
      if (!columns.has(cdc.operation.column))
        at('cdc.operation.column', `unknown column "${cdc.operation.column}"`);
      const values = [cdc.operation.insert, cdc.operation.update, cdc.operation.delete];
      if (new Set(values).size !== 3)
        at('cdc.operation', 'insert, update and delete must be three different values');
    }
  }
  if (def.mode === 'cdc' && !def.cdc) at('cdc', 'mode: cdc needs cdc (operation, sequence, key)');
  if (def.mode !== 'cdc' && def.cdc) at('mode', 'cdc is set: set mode: cdc (or remove cdc)');
  if (def.mode === 'cdc' && def.dedup)
    at('dedup', 'a CDC dataset keeps the latest change per cdc.key: remove dedup');
  if (def.mode === 'cdc' && def.gold?.window && def.gold.window.partitions > 1)
    at(
      'gold.window',
      "a CDC dataset's gold reads its whole current state, not partitions: remove gold.window",
    );
  const goldNames = new Set<string>();
  def.gold?.columns.forEach((c, i) => {
    if (goldNames.has(c.name)) at(`gold.columns[${i}].name`, `duplicate column "${c.name}"`);
    goldNames.add(c.name);
  });
  if (
    def.gold?.window &&
    def.gold.window.partitions > 1 &&
    def.partitionKeys &&
    !dateLayoutOf({ partitionKeys: def.partitionKeys })
  )
    at(
      'gold.window',
      `a window of ${def.gold.window.partitions} partitions needs a date in the partition keys (year/month/day, or a key such as dt=YYYY-MM-DD); ${partitionNames.join('/')} hold none`,
    );
  if (def.gold && source.files[def.gold.sql] === undefined)
    at('gold.sql', `file "${def.gold.sql}" not found in datasets/${source.folder}/`);
  def.nullValues?.forEach((v, i) => {
    if (v.trim() !== v || /^\s*$/u.test(v))
      at(`nullValues[${i}]`, `"${v}" has surrounding whitespace (values are compared after trimming)`);
  });
  const ruleNames = new Set<string>();
  def.rules?.forEach((r, i) => {
    const name = ruleName(r);
    if (ruleNames.has(name)) at(`rules[${i}].name`, `duplicate rule name "${name}" (set a distinct name)`);
    ruleNames.add(name);
  });
  return problems;
}

/** The top-level fields of a definition that parse on their own (for the checks of a file that does not). */
function parsedFields(raw: unknown): Partial<DatasetDefinition> {
  if (typeof raw !== 'object' || raw === null) return {};
  const fields: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(datasetSchema.shape)) {
    const parsed = schema.safeParse((raw as Record<string, unknown>)[key]);
    if (parsed.success) fields[key] = parsed.data;
  }
  return fields as Partial<DatasetDefinition>;
}

/** A dataset folder left out of the registry, and why. */
export interface InvalidDataset {
  readonly folder: string;
  readonly file: string;
  readonly problems: readonly string[];
}

/** Every dataset source checked: the valid datasets, and every problem of every other one. */
export interface RegistryCheck {
  /** The datasets without a problem. */
  readonly registry: Registry;
  /** Every problem of every file, each naming the file and the field, in folder order. */
  readonly problems: readonly string[];
  /** The datasets left out, each with its own problems. */
  readonly invalid: readonly InvalidDataset[];
}

/**
 * Checks every dataset source and reports every problem at once: the schema, the cross-field checks
 * (on the fields that parsed, even when others did not), the SQL the rules compile to, and landing
 * prefixes shared by two datasets (both left out: a landed file would be ambiguous). One invalid
 * dataset does not take the others with it.
 */
export function checkRegistry(sources: readonly DatasetSource[]): RegistryCheck {
  const byFolder = new Map<string, string[]>();
  const problemsOf = (folder: string) => {
    let list = byFolder.get(folder);
    if (!list) byFolder.set(folder, (list = []));
    return list;
  };
  const datasets: Dataset[] = [];

  for (const source of sources) {
    const problems = problemsOf(source.folder);
    const doc = parseDocument(source.text, { prettyErrors: false });
    if (doc.errors.length > 0) {
      for (const e of doc.errors) problems.push(`${source.file}: YAML: ${e.message.split('\n')[0]}`);
      continue;
    }
    const raw: unknown = doc.toJS();
    const parsed = datasetSchema.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const field = formatPath(issue.path);
        const keys = issue.code === 'unrecognized_keys' ? ` (${issue.keys.join(', ')})` : '';
        problems.push(`${source.file}: ${field}: ${issue.message}${keys}`);
      }
      problems.push(...semanticProblems(parsedFields(raw), source));
      continue;
    }
    problems.push(...semanticProblems(parsed.data, source));
    if (problems.length > 0) continue;
    const dataset: Dataset = {
      ...parsed.data,
      folder: source.folder,
      goldSql: source.files[parsed.data.gold.sql] ?? '',
    };
    try {
      compileDatasetSql(dataset);
    } catch (error) {
      if (!(error instanceof DatasetConfigError)) throw error;
      problems.push(...error.problems);
      continue;
    }
    datasets.push(dataset);
  }

  const byPrefix = new Map<string, Dataset>();
  const clashing = new Set<string>();
  for (const d of datasets) {
    const other = byPrefix.get(d.landing.prefix);
    if (other) {
      problemsOf(d.folder).push(
        `datasets/${d.folder}: landing.prefix: "${d.landing.prefix}" is already used by ${other.name}`,
      );
      problemsOf(other.folder).push(
        `datasets/${other.folder}: landing.prefix: "${d.landing.prefix}" is also used by ${d.name}`,
      );
      clashing.add(d.folder).add(other.folder);
    }
    byPrefix.set(d.landing.prefix, d);
  }

  const invalid: InvalidDataset[] = [];
  for (const source of sources) {
    const problems = byFolder.get(source.folder) ?? [];
    if (problems.length > 0) invalid.push({ folder: source.folder, file: source.file, problems });
  }
  return {
    registry: makeRegistry(datasets.filter((d) => !clashing.has(d.folder))),
    problems: invalid.flatMap((d) => d.problems),
    invalid,
  };
}

/**
 * Parses and validates every dataset source. Throws one DatasetConfigError listing every problem
 * (file and field) of every file.
 */
export function parseRegistry(sources: readonly DatasetSource[]): Registry {
  const { registry, problems } = checkRegistry(sources);
  if (problems.length > 0) throw new DatasetConfigError(problems);
  return registry;
}
