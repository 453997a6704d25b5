import { parseDocument } from 'yaml';
import { datasetSchema, type DatasetDefinition } from '../domain/dataset-schema';
import { makeRegistry, ruleName, type Dataset, type DatasetSource, type Registry } from '../domain/datasets';
import { DatasetConfigError } from '../domain/errors';

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
