import type { DriftPolicy } from './dataset-limits';
import { FORMAT_EXTENSIONS, type FileFormat } from './datasets';

/**
 * Rules for reading a landed file, the same in every reader: on-landing (object-key.ts), the local
 * runner (local/glue-runner.ts) and the Glue bronze job (glue/medallion_glue/landing.py, kept
 * equal by test/glue/landing-contract.test.ts).
 *
 * - Format: the file name's extension, in any case (`.CSV.GZ` is a gzipped CSV).
 * - Empty: a file of 0 bytes holds no record; it is skipped and reported (manifest `skippedFiles`),
 *   never failing its partition.
 * - Columns: a landed name (CSV header field, JSON key) matches the declared column it equals once
 *   trimmed (WHITESPACE) and lower-cased (`Country`, ` ITEMS `). A file is refused, naming it and the
 *   columns, when one header or one JSON record names a column twice or leaves a name blank.
 * - Schema drift: a name the dataset does not declare (undeclared), or a declared column a CSV header
 *   lacks (missing), is drift, judged by the dataset's `onDrift` policy: `halt` refuses the file,
 *   naming it and the columns; `alert` loads the declared columns (an undeclared column is not loaded,
 *   a missing one is empty), and the run reports the drift (manifest `schemaDrift`, metric
 *   SchemaDriftColumns, an alert). A JSON record without a key has no value for it (JSON writers omit
 *   nulls): a missing value, judged by `nullable` and `not_null`, never drift.
 * - Records: JSON lines (`.jsonl`, `.ndjson`) hold one object per line (blank lines skipped); a `.json`
 *   file holds objects one after another, pretty-printed or not, or a top-level array of objects. A
 *   record that is not exactly one JSON object, or text that is not UTF-8, fails the file.
 * - Size: a CSV record may be up to MAX_CSV_RECORD_BYTES long (a JSON object has no limit of its own).
 */

/**
 * Unicode White_Space: TAB..CR, SPACE, NEL, NBSP, OGHAM SPACE MARK, EN QUAD..HAIR SPACE, LINE and
 * PARAGRAPH SEPARATOR, NARROW NBSP, MEDIUM MATHEMATICAL SPACE, IDEOGRAPHIC SPACE. What trimming
 * removes, from column names here and from values in the SQL (sql.ts WHITESPACE_SQL).
 */
export const WHITESPACE =
  '\t\n\u000b\f\r \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000';

export interface LandedFormat {
  readonly format: FileFormat;
  readonly gzipped: boolean;
}

/** The format of a landed file from its name, or undefined when it is none of `formats`. */
export function fileFormatOf(name: string, formats: readonly FileFormat[]): LandedFormat | undefined {
  const lower = name.toLowerCase();
  for (const format of formats) {
    if (FORMAT_EXTENSIONS[format].some((ext) => lower.endsWith(ext)))
      return { format, gzipped: lower.endsWith('.gz') };
  }
  return undefined;
}

/** Reason recorded in the manifest for a landed file of 0 bytes. */
export const EMPTY_FILE_REASON = 'empty file (0 bytes): no records';

/** Longest CSV record (a line, or several when a quoted field spans lines) a reader accepts. */
export const MAX_CSV_RECORD_BYTES = 16 * 1024 * 1024;

const trimWhitespace = (name: string): string => {
  let start = 0;
  let end = name.length;
  while (start < end && WHITESPACE.includes(name.charAt(start))) start++;
  while (end > start && WHITESPACE.includes(name.charAt(end - 1))) end--;
  return name.slice(start, end);
};

/** The form in which a landed name is compared with the declared column names. */
export const columnKey = (name: string): string => trimWhitespace(name).toLowerCase();

export { DRIFT_POLICIES, type DriftPolicy } from './dataset-limits';

/** How one file's columns drift from the declared ones. */
export interface ColumnDrift {
  /** Names the dataset does not declare, as landed (first spelling), in file order. */
  readonly undeclared: readonly string[];
  /** Declared columns a CSV header lacks, in declared order (never for JSON). */
  readonly missing: readonly string[];
}

export interface ColumnMatch {
  /** Declared column → position of the one name that matches it (absent when no name does). */
  readonly positions: ReadonlyMap<string, number>;
  /** What is wrong, one sentence each, in a stable order; empty when the names are usable. */
  readonly problems: readonly string[];
  /** The drift found (under `halt` also among the problems). */
  readonly drift: ColumnDrift;
}

/** Columns of a drift, counted as the metric SchemaDriftColumns counts them. */
export const driftColumns = (drift: ColumnDrift): number => drift.undeclared.length + drift.missing.length;

const quoted = (names: readonly string[]): string => names.map((n) => JSON.stringify(n)).join(', ');

/**
 * Matches landed `names` (in file order) onto the `declared` columns. `requireAll`: a declared
 * column none of the names match is drift (a CSV header), not a missing value (a JSON record).
 * `onDrift`: `halt` makes drift a problem; `alert` only reports it.
 */
export function matchColumns(
  names: readonly string[],
  declared: readonly string[],
  requireAll: boolean,
  onDrift: DriftPolicy = 'halt',
): ColumnMatch {
  const problems: string[] = [];
  const byKey = new Map<string, number[]>();
  names.forEach((name, i) => {
    const key = columnKey(name);
    byKey.set(key, [...(byKey.get(key) ?? []), i]);
  });
  const blank = byKey.get('');
  if (blank) problems.push(`unnamed column at position(s) ${blank.map((i) => i + 1).join(', ')}`);
  for (const [key, at] of byKey) {
    if (key !== '' && at.length > 1)
      problems.push(`column ${key} is named ${at.length} times (${quoted(at.map((i) => names[i] ?? ''))})`);
  }
  const undeclared = [...byKey.entries()]
    .filter(([key]) => key !== '' && !declared.includes(key))
    .map(([key, at]) => names[at[0] ?? 0] ?? key);
  const missing = requireAll ? declared.filter((c) => !byKey.has(c)) : [];
  if (onDrift === 'halt') {
    if (undeclared.length > 0)
      problems.push(
        `undeclared column(s) ${quoted(undeclared)} (declare them in the dataset's columns, or leave them out of the export)`,
      );
    if (missing.length > 0) problems.push(`missing declared column(s) ${missing.join(', ')}`);
  }
  const positions = new Map<string, number>();
  for (const column of declared) {
    const at = byKey.get(column);
    if (at?.length === 1 && at[0] !== undefined) positions.set(column, at[0]);
  }
  return { positions, problems, drift: { undeclared, missing } };
}
