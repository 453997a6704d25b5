import { ruleName, type Dataset, type Rule } from './datasets';
import { DatasetConfigError } from './errors';
import { WHITESPACE } from './landed-files';
import { CDC_DELETED, cdcDeletedExpr, cdcMergeSql } from './cdc';

/**
 * Turns a dataset's declared schema and rules into the SQL that both engines run: DuckDB locally and
 * Spark SQL 3.5 (Glue 5) on AWS execute the very same text.
 *
 * The subset both accept: TRY_CAST, CAST(x AS STRING), TRIM, NULLIF, CASE, IN, concat_ws (skips
 * NULLs in both), ROW_NUMBER() OVER (... ORDER BY ... DESC NULLS LAST), unquoted lower_snake_case
 * identifiers. Two real differences, handled without a second text:
 * - regex matching is `regexp_like` (Spark ≥ 3.2); DuckDB only has `regexp_matches`, so the DuckDB
 *   side defines `regexp_like` as a macro first (DUCKDB_PRELUDE). Both search (unanchored): patterns
 *   anchor themselves with ^ and $.
 * - string literals: Spark unescapes backslashes and has no '' escape, DuckDB does the opposite. So
 *   literals holding `\` or `'` are refused at compile time (write [0-9] rather than \d, [.] for \.).
 * Integer casts are guarded by a pattern because the engines disagree on '5.5' (DuckDB rounds,
 * Spark truncates): here it is a type failure in both. Other numbers are guarded the same way, to
 * plain decimals (`numberFormat: plain`, the default) or plain decimals with an exponent
 * (`scientific`): DuckDB reads '1_000' as 1000, Spark as nothing.
 *
 * Missing means missing: a value is missing when it is NULL, empty or only whitespace (any Unicode
 * White_Space character) once trimmed, or one of the dataset's `nullValues` once trimmed. A missing
 * value is NULL for typing, `nullable: false` and `not_null`. Trimming is TRIM(BOTH <set> FROM x)
 * in both engines, the set written without escapes (WHITESPACE_SQL).
 */

export const PLAN_VERSION = 1;

/**
 * Run once per DuckDB connection before any plan SQL: the session zone is UTC as in the Glue jobs'
 * Spark session; `TIMESTAMP_LTZ` (Spark's name for its zone-aware timestamp) is DuckDB's TIMESTAMPTZ,
 * so one cast reads offsets and zone names the same way in both and both write UTC-adjusted Parquet
 * timestamps; `regexp_like` is Spark's regex function.
 */
export const DUCKDB_PRELUDE = [
  "SET TimeZone = 'UTC'",
  'CREATE TYPE timestamp_ltz AS TIMESTAMPTZ',
  'CREATE OR REPLACE MACRO regexp_like(s, p) AS regexp_matches(s, p)',
].join('; ');

/** Columns the bronze stage adds to every landed row. */
export const INGESTED_AT = '_ingested_at';
export const SOURCE_FILE = '_source_file';
/** Comma-separated names of the failed checks; NULL when the row is clean. */
export const QUARANTINE_REASONS = '_quarantine_reasons';

export interface DatasetSql {
  readonly silver: {
    readonly validate: string;
    readonly clean: string;
    readonly quarantine: string;
    /** CDC datasets: the MERGE of `clean` (as `changes`) into the current state (shared/domain/cdc.ts). */
    readonly merge?: string;
  };
  readonly gold: { readonly select: string };
}

/** The compiled plan (`medallion compile`): what `--dataset_plan` points to. */
export interface DatasetPlan {
  readonly version: typeof PLAN_VERSION;
  readonly dataset: Dataset;
  readonly sql: DatasetSql;
}

const NUMERIC = /^(int|bigint|double|decimal\(\d+,\d+\))$/;
const INTEGER = /^(int|bigint)$/;

/**
 * WHITESPACE as an SQL expression both engines fold to a constant: the control characters through
 * chr() (so the SQL keeps its lines; chr() is Latin-1 only in Spark), the others as literal text.
 */
export const WHITESPACE_SQL = `concat(${[...WHITESPACE]
  .filter((c) => c.charCodeAt(0) < 0x20 || c === '\u0085')
  .map((c) => `chr(${c.charCodeAt(0)})`)
  .join(', ')}, '${[...WHITESPACE].filter((c) => c.charCodeAt(0) >= 0x20 && c !== '\u0085').join('')}')`;

/** A pattern matching text that starts or ends with WHITESPACE. */
const EDGE_WHITESPACE_SQL = `concat('^[', ${WHITESPACE_SQL}, ']|[', ${WHITESPACE_SQL}, ']$')`;

/** Patterns a number's text must match before it is cast (see numberFormat). */
export const NUMBER_PATTERNS = {
  integer: '^[+-]?[0-9]+$',
  plain: '^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)$',
  scientific: '^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?$',
} as const;

/**
 * Texts that may be cast to a date, timestamp or boolean: what both engines read alike. Spark alone
 * reads '2024', '2024-01', '10:21:09' (today), 'T24:00:00', 'yes'; DuckDB alone reads single-digit
 * fields and 24:00. A timestamp may carry Z, UTC, an offset or a region zone name (Europe/Paris),
 * and becomes that instant in UTC.
 */
export const TEMPORAL_PATTERNS = {
  date: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$',
  timestamp:
    '^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]([.][0-9]{1,9})?)?( ?(Z|UTC|[+-][0-9]{2}(:?[0-9]{2})?|[A-Za-z]+(/[A-Za-z_]+)+))?$',
  boolean: '^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])$',
} as const;

/**
 * Line terminators before which Java's `$` (Spark's regexp_like) also matches at the end of a value;
 * RE2's `$` (DuckDB) does not. A `pattern` rule with `$` fails such a value in both engines.
 */
const LINE_END_SQL = `chr(10), chr(13), chr(133), '\u2028', '\u2029'`;

/** Regex features one engine lacks or reads differently (Java in Spark, RE2 in DuckDB). */
const REGEX_DIALECT: ReadonlyArray<[RegExp, string]> = [
  [/\[:\^?[a-z]+:\]/, 'a POSIX class such as [[:alpha:]] (Java reads it as a plain character set)'],
  [/\(\?<?[=!]/, 'a lookaround (RE2, the local engine, has none)'],
  [/\(\?>|[*+?}][+]/, 'an atomic group or possessive quantifier (RE2 has none)'],
  [
    /\(\?[a-zA-Z]+[^a-zA-Z)]|\(\?[a-zA-Z]*-/,
    'an inline flag group on part of the pattern (the engines differ)',
  ],
];

/** Quarantine reason of a value that does not parse as its declared type. */
export const typeReason = (column: string): string => `${column}_type`;
/** Quarantine reason of a missing value in a column declared `nullable: false`. */
export const requiredReason = (column: string): string => `${column}_required`;

const raw = (column: string): string => `_raw_${column}`;
/** The trimmed text of a value, NULL when missing. */
const present = (column: string): string => `_text_${column}`;

function literal(value: string, field: string, problems: string[]): string {
  if (value.includes('\\') || value.includes("'")) {
    problems.push(
      `${field}: contains ${value.includes('\\') ? 'a backslash' : 'a single quote'}, which DuckDB and Spark SQL read differently in string literals (use a character class such as [0-9] or [.] instead of \\d or \\.)`,
    );
  }
  return `'${value}'`;
}

/** The trimmed text of a bronze column, NULL when the value is missing. */
function presentExpr(column: string, nullValues: readonly string[], nulls: string): string {
  const text = `CAST(${column} AS STRING)`;
  // TRIM with a set of characters is ~10x slower in DuckDB than the regex test that skips it for
  // the usual value, which has no whitespace at either end.
  const trimmed = `CASE WHEN regexp_like(${text}, ${EDGE_WHITESPACE_SQL}) THEN TRIM(BOTH ${WHITESPACE_SQL} FROM ${text}) ELSE ${text} END`;
  if (nullValues.length === 0) return `NULLIF(${trimmed}, '')`;
  return `CASE WHEN ${trimmed} IN ('', ${nulls}) THEN NULL ELSE ${trimmed} END`;
}

/** The typed value of a column from its raw and present texts. */
function typedExpr(column: string, type: string, numberFormat: 'plain' | 'scientific'): string {
  const text = present(column);
  if (type === 'string') return `CASE WHEN ${text} IS NOT NULL THEN ${raw(column)} END`;
  const sqlType = type.toUpperCase();
  if (NUMERIC.test(type)) {
    const pattern = INTEGER.test(type) ? NUMBER_PATTERNS.integer : NUMBER_PATTERNS[numberFormat];
    return `CASE WHEN regexp_like(${text}, '${pattern}') THEN TRY_CAST(${text} AS ${sqlType}) END`;
  }
  if (type === 'timestamp')
    return `CASE WHEN regexp_like(${text}, '${TEMPORAL_PATTERNS.timestamp}') THEN TRY_CAST(${text} AS TIMESTAMP_LTZ) END`;
  if (type === 'date' || type === 'boolean')
    return `CASE WHEN regexp_like(${text}, '${TEMPORAL_PATTERNS[type]}') THEN TRY_CAST(${text} AS ${sqlType}) END`;
  return `TRY_CAST(${text} AS ${sqlType})`;
}

function ruleFailure(rule: Rule, type: string, file: string, index: number, problems: string[]): string {
  const c = rule.column;
  switch (rule.check) {
    case 'not_null':
      return `${c} IS NULL`;
    case 'range': {
      if (!NUMERIC.test(type))
        problems.push(`${file}: rules[${index}]: a range needs a numeric column, "${c}" is ${type}`);
      const parts: string[] = [];
      if (rule.min !== undefined) parts.push(`${c} < ${String(rule.min)}`);
      if (rule.max !== undefined) parts.push(`${c} > ${String(rule.max)}`);
      return `${c} IS NOT NULL AND (${parts.join(' OR ')})`;
    }
    case 'accepted_values': {
      const values = rule.values
        .map((v, i) => literal(v, `${file}: rules[${index}].values[${i}]`, problems))
        .join(', ');
      const text = type === 'string' ? c : `CAST(${c} AS STRING)`;
      return `${c} IS NOT NULL AND ${text} NOT IN (${values})`;
    }
    case 'pattern': {
      for (const [feature, what] of REGEX_DIALECT)
        if (feature.test(rule.pattern))
          problems.push(
            `${file}: rules[${index}].pattern: uses ${what}; write it with plain classes such as [A-Za-z0-9]`,
          );
      const text = `CAST(${c} AS STRING)`;
      const pattern = literal(rule.pattern, `${file}: rules[${index}].pattern`, problems);
      const lineEnd = rule.pattern.includes('$') ? ` OR right(${text}, 1) IN (${LINE_END_SQL})` : '';
      return `${c} IS NOT NULL AND (NOT regexp_like(${text}, ${pattern})${lineEnd})`;
    }
  }
}

const indent = (lines: readonly string[], by = '  '): string => lines.map((l) => by + l).join(',\n');

/**
 * Gold SQL constructs both engines accept but evaluate differently (found by the conformance suite,
 * test/glue/conformance.test.ts): refused at compile time, naming gold.sql and why. Checked on the
 * code only (string literals and comments blanked).
 */
const GOLD_DIALECT: ReadonlyArray<[RegExp, string]> = [
  [
    /\bconcat\s*\(/i,
    'concat() skips NULLs in DuckDB but returns NULL in Spark: use || (NULL if any part is NULL) or concat_ws()',
  ],
  [
    /\b(try_)?cast\s*\([^()]*(\([^()]*\)[^()]*)*\bas\s+(int|integer|bigint|smallint|tinyint|long|short|byte)\s*\)/i,
    'a CAST to an integer type rounds in DuckDB and truncates in Spark: use floor(), ceil() or round() and declare the type in gold.columns',
  ],
  [/"/, 'double quotes name a column in DuckDB but are a string in Spark: use plain lower_snake_case names'],
  [/\^/, '^ is a power in DuckDB but XOR in Spark: use power()'],
  [/\/\/|\bdiv\b/i, '// and DIV are integer division in one engine only: use floor(a / b)'],
];

/** ORDER BY items without NULLS FIRST/LAST: NULLs sort last in DuckDB and first in Spark. */
function orderWithoutNulls(code: string): boolean {
  for (const match of code.matchAll(/\border\s+by\b/gi)) {
    let depth = 0;
    let end = match.index + match[0].length;
    for (; end < code.length; end++) {
      const ch = code[end];
      if (ch === '(') depth++;
      else if (ch === ')' && depth-- === 0) break;
      else if (depth === 0 && /^\s*\b(limit|union|except|intersect)\b/i.test(code.slice(end))) break;
    }
    const clause = code.slice(match.index + match[0].length, end);
    let items = 1;
    depth = 0;
    for (const ch of clause) {
      if (ch === '(') depth++;
      else if (ch === ')') depth--;
      else if (ch === ',' && depth === 0) items++;
    }
    if ((clause.match(/\bnulls\s+(first|last)\b/gi) ?? []).length < items) return true;
  }
  return false;
}

/** The SQL with string literals emptied and comments removed. */
function codeOnly(sql: string): string {
  return sql
    .replace(/'(?:[^']|'')*'/g, "''")
    .replace(/--[^\n]*/g, ' ')
    .replace(/\/\*[\s\S]*?\*\//g, ' ');
}

function goldProblems(goldSql: string, file: string): string[] {
  const code = codeOnly(goldSql);
  const problems = GOLD_DIALECT.filter(([pattern]) => pattern.test(code)).map(
    ([, why]) => `${file}: gold.sql: ${why}`,
  );
  if (orderWithoutNulls(code))
    problems.push(
      `${file}: gold.sql: every ORDER BY item needs NULLS FIRST or NULLS LAST (NULLs sort last in DuckDB, first in Spark)`,
    );
  return problems;
}

/** A declared column type in the SQL both engines read (TIMESTAMP_LTZ: see DUCKDB_PRELUDE). */
function sqlTypeOf(type: string): string {
  if (type === 'timestamp') return 'TIMESTAMP_LTZ';
  return type.toUpperCase();
}

/** The gold SELECT as written by the data engineer, minus trailing semicolons and blank lines. */
export function goldSelect(goldSql: string): string {
  return goldSql.replace(/[\s;]+$/u, '').trim();
}

/**
 * Generates the silver and gold SQL of a dataset. Throws a DatasetConfigError naming every rule or
 * column that cannot be expressed in the shared SQL subset.
 */
export function compileDatasetSql(dataset: Dataset): DatasetSql {
  const file = `datasets/${dataset.folder}/dataset.yml`;
  const problems: string[] = [];
  const types = new Map(dataset.columns.map((c) => [c.name, c.type]));
  const notNullRules = new Set(dataset.rules.filter((r) => r.check === 'not_null').map((r) => r.column));

  const nulls = dataset.nullValues
    .map((v, i) => literal(v, `${file}: nullValues[${i}]`, problems))
    .join(', ');
  const checks: Array<{ reason: string; failure: string }> = [];
  for (const column of dataset.columns) {
    if (column.type !== 'string')
      checks.push({
        reason: typeReason(column.name),
        failure: `${present(column.name)} IS NOT NULL AND ${column.name} IS NULL`,
      });
    if (!column.nullable && !notNullRules.has(column.name))
      checks.push({ reason: requiredReason(column.name), failure: `${present(column.name)} IS NULL` });
  }
  // A CDC change needs its key, its sequence and a known operation (shared/domain/cdc.ts).
  const cdc = dataset.mode === 'cdc' ? dataset.cdc : undefined;
  if (cdc) {
    const nullable = new Map(dataset.columns.map((c) => [c.name, c.nullable]));
    for (const column of [...cdc.key, cdc.sequence])
      if (nullable.get(column) !== false && !notNullRules.has(column))
        checks.push({ reason: requiredReason(column), failure: `${column} IS NULL` });
    const operations = [cdc.operation.insert, cdc.operation.update, cdc.operation.delete]
      .map((v) => literal(v, `${file}: cdc.operation`, problems))
      .join(', ');
    checks.push({
      reason: 'cdc_operation',
      failure: `${cdc.operation.column} IS NULL OR ${cdc.operation.column} NOT IN (${operations})`,
    });
  }
  dataset.rules.forEach((rule, i) => {
    checks.push({
      reason: ruleName(rule),
      failure: ruleFailure(rule, types.get(rule.column) ?? 'string', file, i, problems),
    });
  });
  const seen = new Set<string>();
  for (const { reason } of checks) {
    if (seen.has(reason))
      problems.push(`${file}: rules: the quarantine reason "${reason}" is produced twice (rename a rule)`);
    seen.add(reason);
  }
  problems.push(...goldProblems(dataset.goldSql, file));
  if (problems.length > 0) throw new DatasetConfigError(problems);

  const columns = dataset.columns.map((c) => c.name);
  const lineage = [INGESTED_AT, SOURCE_FILE];

  const validate = [
    'SELECT',
    '  t.*,',
    "  NULLIF(concat_ws(',',",
    checks.map((c) => `    CASE WHEN ${c.failure} THEN '${c.reason}' END`).join(',\n'),
    `  ), '') AS ${QUARANTINE_REASONS}`,
    'FROM (',
    '  SELECT',
    indent(
      [
        ...dataset.columns.map((c) => `${typedExpr(c.name, c.type, dataset.numberFormat)} AS ${c.name}`),
        ...columns.map(raw),
        ...columns.map(present),
        ...lineage,
      ],
      '    ',
    ),
    '  FROM (',
    '    SELECT',
    indent(
      [
        ...columns.map((c) => `CAST(${c} AS STRING) AS ${raw(c)}`),
        ...dataset.columns.map(
          (c) => `${presentExpr(c.name, dataset.nullValues, nulls)} AS ${present(c.name)}`,
        ),
        ...lineage,
      ],
      '      ',
    ),
    '    FROM bronze',
    '  ) p',
    ') t',
  ].join('\n');

  const cleanColumns = [...columns, ...lineage];
  // A CDC batch keeps the latest change per key (ties broken as dedup breaks them), marked deleted or not.
  const latest = cdc ? { key: cdc.key, orderBy: cdc.sequence } : dataset.dedup;
  const clean = latest
    ? [
        'SELECT',
        indent([...cleanColumns, ...(cdc ? [CDC_DELETED] : [])]),
        'FROM (',
        '  SELECT',
        indent([...cleanColumns, ...(cdc ? [`${cdcDeletedExpr(cdc)} AS ${CDC_DELETED}`] : [])], '    ') + ',',
        `    ROW_NUMBER() OVER (PARTITION BY ${latest.key.join(', ')} ORDER BY ${[`${latest.orderBy} DESC NULLS LAST`, `${INGESTED_AT} DESC`, `${SOURCE_FILE} DESC`, ...columns.map((c) => `${raw(c)} DESC NULLS LAST`)].join(', ')}) AS _row_number`,
        '  FROM validated',
        `  WHERE ${QUARANTINE_REASONS} IS NULL`,
        ') d',
        'WHERE _row_number = 1',
      ].join('\n')
    : ['SELECT', indent(cleanColumns), 'FROM validated', `WHERE ${QUARANTINE_REASONS} IS NULL`].join('\n');

  const quarantine = [
    'SELECT',
    indent([...columns.map((c) => `${raw(c)} AS ${c}`), ...lineage, QUARANTINE_REASONS]),
    'FROM validated',
    `WHERE ${QUARANTINE_REASONS} IS NOT NULL`,
  ].join('\n');

  // The gold contract (gold.columns): the data engineer's SELECT, each column cast to its declared type.
  const gold = [
    'SELECT',
    indent(dataset.gold.columns.map((c) => `TRY_CAST(${c.name} AS ${sqlTypeOf(c.type)}) AS ${c.name}`)),
    'FROM (',
    goldSelect(dataset.goldSql),
    ') gold',
  ].join('\n');

  const merge = cdc ? cdcMergeSql(dataset, cleanColumns) : undefined;
  return { silver: { validate, clean, quarantine, ...(merge ? { merge } : {}) }, gold: { select: gold } };
}

/** The compiled plan of a dataset, as `medallion compile` writes it. */
export function compilePlan(dataset: Dataset): DatasetPlan {
  return { version: PLAN_VERSION, dataset, sql: compileDatasetSql(dataset) };
}

/** A plan file's text: what `medallion compile`, the local lake and the deployed artifacts hold. */
export const planFileText = (dataset: Dataset): string =>
  `${JSON.stringify(compilePlan(dataset), null, 2)}\n`;
