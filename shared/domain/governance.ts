import type { Dataset } from './datasets';
import type { Zone } from './layout';
import { ACCESS_LEVELS, CLASSIFICATIONS, type AccessLevel, type Classification } from './dataset-limits';
import { INGESTED_AT, QUARANTINE_REASONS, SOURCE_FILE } from './sql';
import { CDC_DELETED } from './cdc';

export { ACCESS_LEVELS, CLASSIFICATIONS, type AccessLevel, type Classification };

/**
 * What the registry says about who may read a column: every column of a dataset.yml (and of its gold
 * contract) declares a `classification` from a closed list, and one rule decides which
 * classifications a principal of each access level may select. The stack grants the same rule on
 * AWS (Lake Formation LF-Tags, stack/lake-formation.ts) and `medallion query --as` applies it to the
 * local views (local/lake-query.ts), so a data engineer sees locally what an analyst sees in Athena.
 *
 * The classifications follow the usual four-level scheme (public / internal / confidential /
 * restricted) with the restricted level named for what it holds here, personal data:
 *
 *   public        may be published (a country code, a page path)
 *   internal      for anyone in the company (ids that identify no person, counts)
 *   confidential  business-sensitive (revenue, prices, free text)
 *   pii           identifies or relates to a person (customer ids, e-mails, IPs, user ids)
 *
 * A column that declares none is `confidential` (fail closed: withheld from readers until its owner
 * classifies it).
 */

/** A column that declares no classification is treated as this one. */
export const DEFAULT_CLASSIFICATION: Classification = 'confidential';

/** Classifications a reader may not select. */
export const SENSITIVE_CLASSIFICATIONS: readonly Classification[] = ['confidential', 'pii'];

/*
 * Access levels (ACCESS_LEVELS): a `reader` selects the non-sensitive columns of every table, `full`
 * every column. On AWS the stack's ReaderPrincipals and FullAccessPrincipals parameters list who has
 * which.
 */

/** The classifications a principal of this access level may select: the one column policy. */
export const readableClassifications = (level: AccessLevel): Classification[] =>
  level === 'full'
    ? [...CLASSIFICATIONS]
    : CLASSIFICATIONS.filter((c) => !SENSITIVE_CLASSIFICATIONS.includes(c));

export const mayRead = (level: AccessLevel, classification: Classification): boolean =>
  readableClassifications(level).includes(classification);

/** The policy in one sentence, for error messages and reports. */
export const policyText = (level: AccessLevel): string =>
  `${level} principals select columns classified ${readableClassifications(level).join(', ')}`;

/** What the registry says of one column of one of a dataset's tables. */
export interface ColumnGovernance {
  readonly description: string | undefined;
  readonly classification: Classification;
  /** False when the column declares no classification (the default applies). */
  readonly declared: boolean;
}

/** The columns the stages add: lineage, quarantine reasons and a CDC state's tombstone flag, none personal. */
const SYSTEM_COLUMNS: Record<string, string> = {
  [INGESTED_AT]: 'When the row was ingested into bronze (lineage)',
  [SOURCE_FILE]: 'The landed file the row came from (lineage)',
  [QUARANTINE_REASONS]: 'The checks the row failed, comma-separated',
  [CDC_DELETED]: "True when the key's latest change is a delete (a tombstone of the CDC state)",
};

/** Sensitivity order: the higher, the more restricted. */
const rank = (c: Classification): number => CLASSIFICATIONS.indexOf(c);

/** The most restricted of some classifications (`public` for none). */
export const mostRestricted = (classes: readonly Classification[]): Classification =>
  classes.reduce<Classification>((a, b) => (rank(b) > rank(a) ? b : a), 'public');

/**
 * The description and classification of a column of one of the dataset's tables: gold columns from
 * the gold contract, every other zone's declared columns from `columns` (bronze and quarantine hold
 * them as landed), partition keys and the stages' own columns are `internal`.
 */
export function columnGovernance(dataset: Dataset, zone: Zone, column: string): ColumnGovernance {
  const declared =
    zone === 'gold'
      ? dataset.gold.columns.find((c) => c.name === column)
      : dataset.columns.find((c) => c.name === column);
  if (declared)
    return {
      description: declared.description,
      classification: declared.classification ?? DEFAULT_CLASSIFICATION,
      declared: declared.classification !== undefined,
    };
  const key = dataset.partitionKeys.find((k) => k.name === column);
  if (key) return { description: 'Partition key', classification: 'internal', declared: true };
  const system = SYSTEM_COLUMNS[column];
  if (system !== undefined && zone !== 'gold')
    return { description: system, classification: 'internal', declared: true };
  return { description: undefined, classification: DEFAULT_CLASSIFICATION, declared: false };
}
