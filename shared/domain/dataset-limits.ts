/**
 * The closed lists and limits of dataset.yml that the schema (dataset-schema.ts) and the code
 * that runs in Lambda both need: a leaf module, so the schema (and zod) stays out of the bundles and
 * out of every import cycle.
 */

export const FILE_FORMATS = ['jsonl', 'csv'] as const;
export type FileFormat = (typeof FILE_FORMATS)[number];
/** File extensions accepted for each format (optionally gzip-compressed). */
export const FORMAT_EXTENSIONS: Record<FileFormat, readonly string[]> = {
  jsonl: ['.jsonl', '.ndjson', '.json', '.jsonl.gz', '.ndjson.gz', '.json.gz'],
  csv: ['.csv', '.csv.gz'],
};

/** The longest settle window a dataset may declare (seconds). */
export const SETTLE_SECONDS_MAX = 3600;

/** The longest trailing window a gold model may declare (partitions): a run recomputes at most this many gold partitions. */
export const GOLD_WINDOW_MAX = 31;

/** Column classifications, least restricted first (shared/domain/governance.ts says what each means). */
export const CLASSIFICATIONS = ['public', 'internal', 'confidential', 'pii'] as const;
export type Classification = (typeof CLASSIFICATIONS)[number];

/** Access levels of the column policy (shared/domain/governance.ts): who selects which columns. */
export const ACCESS_LEVELS = ['reader', 'full'] as const;
export type AccessLevel = (typeof ACCESS_LEVELS)[number];

/** What a dataset does when a landed file's columns drift from the declared ones (dataset.yml `onDrift`). */
export const DRIFT_POLICIES = ['alert', 'halt'] as const;
export type DriftPolicy = (typeof DRIFT_POLICIES)[number];
