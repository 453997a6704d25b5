import { FORMAT_EXTENSIONS, type Dataset, type FileFormat, type Registry } from './datasets';
import { fileFormatOf } from './landed-files';
import { InvalidObjectKeyError, InvalidPartitionDateError, NoDatasetMatchError } from './errors';

/** A dataset partition: values in the dataset's declared key order. */
export interface Partition {
  /** Ordered [key, value] pairs, e.g. [['year','2024'],['month','01'],['day','15']]. */
  readonly values: ReadonlyArray<readonly [string, string]>;
  /** Hive path of the partition, e.g. `year=2024/month=01/day=15`. */
  readonly path: string;
}

export interface ParsedKey {
  /** The decoded object key. */
  readonly key: string;
  readonly dataset: Dataset;
  readonly partition: Partition;
  readonly fileName: string;
  readonly format: FileFormat;
}

/**
 * Decodes a key exactly as S3 encodes it in event notifications: form-encoding, so `+` is a space
 * and `%2B` a plus; `%XX` sequences are UTF-8.
 */
export function decodeS3Key(raw: string): string {
  // A key with nothing encoded needs no decoding.
  if (!raw.includes('%') && !raw.includes('+')) return raw;
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch (error) {
    throw new InvalidObjectKeyError(raw, 'bad-encoding', 'not valid URL-encoded UTF-8', { cause: error });
  }
}

// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
/** A `.` or `..` path segment anywhere in the key. */
const TRAVERSAL = /(?:^|\/)\.\.?(?:\/|$)/;

/** `year=…/month=…/day=…`: for error messages only, so built on demand, off the per-key path. */
const layoutHint = (dataset: Dataset): string => dataset.partitionKeys.map((k) => `${k.name}=…`).join('/');

export const partitionPath = (values: Partition['values']): string =>
  values.map(([k, v]) => `${k}=${v}`).join('/');

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
export const isCalendarDate = (year: number, month: number, day: number): boolean => {
  const d = new Date(Date.UTC(year, month - 1, day));
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
};

/**
 * Partition values that name a date must name a real one: `year`/`month`/`day` keys together, and any
 * value shaped `YYYY-MM-DD` (`day=30` in February, `2023-02-29` are refused).
 */
function checkCalendarDate(key: string, values: ReadonlyArray<readonly [string, string]>): void {
  const byName = new Map(values.map(([k, v]) => [k.toLowerCase(), v]));
  const [y, m, d] = [byName.get('year'), byName.get('month'), byName.get('day')];
  if (y !== undefined && m !== undefined && d !== undefined && /^\d+$/.test(y + m + d)) {
    if (!isCalendarDate(Number(y), Number(m), Number(d)))
      throw new InvalidPartitionDateError(key, `year=${y}/month=${m}/day=${d} is not a calendar date`);
  }
  for (const [name, value] of values) {
    const iso = ISO_DATE.exec(value);
    if (iso && !isCalendarDate(Number(iso[1]), Number(iso[2]), Number(iso[3])))
      throw new InvalidPartitionDateError(key, `${name}=${value} is not a calendar date`);
  }
}

/**
 * Maps decoded object keys to (dataset, partition). Datasets are matched by longest landing prefix;
 * the rest of the key must be exactly `k1=v1/.../kn=vn/<file>` in the dataset's declared key order.
 */
export class KeyParser {
  private readonly byLongestPrefix: readonly Dataset[];
  private readonly patterns: ReadonlyMap<string, ReadonlyArray<RegExp | undefined>>;

  constructor(registry: Registry) {
    this.byLongestPrefix = [...registry.datasets].sort(
      (a, b) => b.landing.prefix.length - a.landing.prefix.length,
    );
    this.patterns = new Map(
      registry.datasets.map((d) => [
        d.name,
        d.partitionKeys.map((k) => (k.pattern ? new RegExp(k.pattern) : undefined)),
      ]),
    );
  }

  /** The dataset whose landing prefix is the longest prefix of `key`, if any. */
  matchDataset(key: string): Dataset | undefined {
    return this.byLongestPrefix.find((d) => key.startsWith(d.landing.prefix));
  }

  /** Parses a *decoded* key. Throws NoDatasetMatchError or InvalidObjectKeyError. */
  parse(key: string): ParsedKey {
    // A key of no dataset is skipped whatever it holds: the key checks are for the datasets' keys.
    const dataset = this.matchDataset(key);
    if (!dataset) throw new NoDatasetMatchError(key);
    if (CONTROL_CHARS.test(key))
      throw new InvalidObjectKeyError(key, 'bad-encoding', 'contains control characters');
    if (TRAVERSAL.test(key)) {
      throw new InvalidObjectKeyError(key, 'traversal', 'contains a "." or ".." segment');
    }

    const rest = key.slice(dataset.landing.prefix.length).split('/');
    const declared = dataset.partitionKeys;
    if (rest.some((s, i) => s === '' && i < rest.length - 1)) {
      throw new InvalidObjectKeyError(key, 'empty-segment', 'contains an empty path segment ("//")');
    }
    if (rest[rest.length - 1] === '') {
      throw new InvalidObjectKeyError(key, 'not-a-file', 'ends with "/" (a folder marker, not a data file)');
    }
    const patterns = this.patterns.get(dataset.name) ?? [];
    const values: Array<readonly [string, string]> = [];
    for (const [i, keyDef] of declared.entries()) {
      const segment = rest[i];
      if (segment === undefined || i === rest.length - 1) {
        throw new InvalidObjectKeyError(
          key,
          'missing-partition',
          `dataset "${dataset.name}" expects ${layoutHint(dataset)}/<file> after "${dataset.landing.prefix}", ` +
            `partition key "${keyDef.name}" is missing`,
        );
      }
      const eq = segment.indexOf('=');
      const name = eq < 0 ? segment : segment.slice(0, eq);
      if (eq < 0 || name !== keyDef.name) {
        throw new InvalidObjectKeyError(
          key,
          'unexpected-partition-key',
          `segment "${segment}" found where "${keyDef.name}=…" was expected (${layoutHint(dataset)})`,
        );
      }
      const value = segment.slice(eq + 1);
      const pattern = patterns[i];
      if (value === '' || (pattern && !pattern.test(value))) {
        throw new InvalidObjectKeyError(
          key,
          'invalid-partition-value',
          `value "${value}" of partition key "${keyDef.name}" does not match ${keyDef.pattern ?? 'a non-empty value'}`,
        );
      }
      values.push([keyDef.name, value]);
    }
    if (rest.length > declared.length + 1) {
      throw new InvalidObjectKeyError(
        key,
        'nested-below-partition',
        `files must sit directly in the partition folder, found "${rest.slice(declared.length, -1).join('/')}/" below it`,
      );
    }
    checkCalendarDate(key, values);
    const fileName = rest[declared.length] ?? '';
    const format = fileFormatOf(fileName, dataset.landing.formats)?.format;
    if (!format) {
      const accepted = dataset.landing.formats.flatMap((f) => FORMAT_EXTENSIONS[f]).join(', ');
      throw new InvalidObjectKeyError(
        key,
        'unsupported-format',
        `file "${fileName}" is not one of dataset "${dataset.name}"'s formats (${accepted})`,
      );
    }
    return { key, dataset, partition: { values, path: partitionPath(values) }, fileName, format };
  }
}
