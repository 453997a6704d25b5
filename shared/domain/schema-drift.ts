import type { DriftPolicy } from './dataset-limits';
import type { RunManifest } from './manifest';

/**
 * The schema-drift judgement of a bronze run: how many landed files' columns drifted from the
 * declared ones (shared/domain/landed-files.ts), and what the state machine does about it. Under
 * `onDrift: halt` a drifting file fails the bronze job itself (naming the file and the columns), so a
 * recorded drift only exists under `alert`: the run goes on and on-call gets a warning.
 */

/** Files, and names per file, kept in the execution state (it must stay small). */
export const DRIFT_SAMPLE_FILES = 5;
export const DRIFT_SAMPLE_NAMES = 20;

export type FileDrift = NonNullable<RunManifest['schemaDrift']>[number];

export interface SchemaDriftJudgement {
  /** What the state machine does next: the Choice "Check schema drift" reads this. */
  readonly action: 'continue' | 'alert';
  readonly policy: DriftPolicy;
  /** Landed files whose columns drifted. */
  readonly files: number;
  /** Drifted columns, summed over files (the metric SchemaDriftColumns). */
  readonly columns: number;
  /** The first DRIFT_SAMPLE_FILES files, each with at most DRIFT_SAMPLE_NAMES names per list. */
  readonly sample: readonly FileDrift[];
  /** One line for the console and the alert. */
  readonly summary: string;
}

const names = (list: readonly string[]): string =>
  list.length <= DRIFT_SAMPLE_NAMES
    ? list.join(', ')
    : `${list.slice(0, DRIFT_SAMPLE_NAMES).join(', ')} (+${list.length - DRIFT_SAMPLE_NAMES} more)`;

/** One file's drift in words: `a.csv: undeclared Extra, notes; missing amount`. */
export function describeFileDrift(d: FileDrift): string {
  const parts = [
    ...(d.undeclared.length > 0 ? [`undeclared ${names(d.undeclared)}`] : []),
    ...(d.missing.length > 0 ? [`missing ${names(d.missing)}`] : []),
  ];
  return `${d.file}: ${parts.join('; ')}`;
}

export function judgeSchemaDrift(
  drift: RunManifest['schemaDrift'] | undefined,
  policy: DriftPolicy,
): SchemaDriftJudgement {
  const files = (drift ?? []).filter((d) => d.undeclared.length + d.missing.length > 0);
  const columns = files.reduce((n, d) => n + d.undeclared.length + d.missing.length, 0);
  const sample = files.slice(0, DRIFT_SAMPLE_FILES).map((d) => ({
    file: d.file,
    undeclared: d.undeclared.slice(0, DRIFT_SAMPLE_NAMES),
    missing: d.missing.slice(0, DRIFT_SAMPLE_NAMES),
  }));
  if (files.length === 0)
    return { action: 'continue', policy, files: 0, columns: 0, sample: [], summary: 'no schema drift' };
  return {
    action: 'alert',
    policy,
    files: files.length,
    columns,
    sample,
    summary:
      `Schema drift: ${columns} column(s) in ${files.length} landed file(s) (` +
      files
        .slice(0, 2)
        .map((d) => describeFileDrift(d))
        .join(' | ') +
      `${files.length > 2 ? ` | +${files.length - 2} more file(s)` : ''}); policy ${policy}: bronze loaded the declared columns`,
  };
}
