import type { DatasetDefinition } from './dataset-schema';
import { DatasetConfigError } from './errors';

/**
 * Datasets: what a data engineer edits (datasets/<name>/dataset.yml). This module holds their types
 * and the registry; the schema that validates the files (zod, every problem reported at once)
 * is in dataset-schema.ts and runs wherever datasets are read from their files (CLI, tests,
 * packaging). The Lambdas read the registry compiled and validated at package time, so neither zod nor
 * a YAML parser is in their bundles.
 */

export const STAGES = ['bronze', 'silver', 'gold'] as const;
export type Stage = (typeof STAGES)[number];

export { FILE_FORMATS, FORMAT_EXTENSIONS, type FileFormat } from './dataset-limits';

/** Column types both DuckDB and Spark SQL understand with the same meaning. */

export type { DatasetDefinition };
export type Rule = DatasetDefinition['rules'][number];
export type Dataset = DatasetDefinition & {
  /** Folder the definition was read from (relative to the registry root). */
  folder: string;
  /** Text of the gold SQL file. */
  goldSql: string;
};

export interface Registry {
  readonly datasets: readonly Dataset[];
  get(name: string): Dataset;
}

/** One dataset folder as read from disk (or from anywhere else). */
export interface DatasetSource {
  folder: string;
  /** Path of the definition file, used in error messages. */
  file: string;
  text: string;
  /** Other files of the folder by name (gold SQL...). */
  files: Readonly<Record<string, string>>;
}

/** The name a rule's failures carry in quarantine reasons. */
export const ruleName = (rule: Rule): string => rule.name ?? `${rule.column}_${rule.check}`;

/** A registry over already-validated datasets. */
export function makeRegistry(datasets: readonly Dataset[]): Registry {
  const byName = new Map(datasets.map((d) => [d.name, d]));
  return {
    datasets,
    get(name) {
      const d = byName.get(name);
      if (!d)
        throw new DatasetConfigError([`unknown dataset "${name}" (known: ${[...byName.keys()].join(', ')})`]);
      return d;
    },
  };
}
