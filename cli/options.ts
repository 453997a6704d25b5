import { InvalidArgumentError, Option } from 'commander';
import { isCalendarDate } from '../shared/domain/object-key';

/**
 * Option parsers and shared options of the `medallion` commands. Everything here is light (commander
 * and the pure date rule only): `medallion --help` loads this and nothing of the pipeline.
 */

/** A command-line mistake found after parsing (a value that names nothing, options that go together). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** `--x N`: an integer ≥ `min`. */
export const integerAtLeast =
  (min: number) =>
  (value: string): number => {
    const n = Number(value);
    if (!/^[+-]?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min)
      throw new InvalidArgumentError(`Expected an integer ≥ ${min}.`);
    return n;
  };

/** `--port N`: a TCP port, 0 for a free one. */
export const portNumber = (value: string): number => {
  const n = integerAtLeast(0)(value);
  if (n > 65535) throw new InvalidArgumentError('Expected a port, 0 to 65535.');
  return n;
};

/** `--x N`: any integer. */
export const integer = (value: string): number => {
  const n = Number(value);
  if (!/^[+-]?\d+$/.test(value.trim()) || !Number.isSafeInteger(n))
    throw new InvalidArgumentError('Expected an integer.');
  return n;
};

/** `--x R`: a number in [min, max] (or > 0 with `positive`). */
export const numberIn =
  (min: number, max: number, { exclusiveMin = false } = {}) =>
  (value: string): number => {
    const n = Number(value);
    const ok = value.trim() !== '' && Number.isFinite(n) && (exclusiveMin ? n > min : n >= min) && n <= max;
    if (!ok)
      throw new InvalidArgumentError(
        `Expected a number ${exclusiveMin ? '>' : '≥'} ${min}${Number.isFinite(max) ? ` and ≤ ${max}` : ''}.`,
      );
    return n;
  };

/** `--x YYYY-MM-DD`: a calendar date (`2024-02-30` is refused, never rolled over to March). */
export const calendarDate = (value: string): string => {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError('Expected a date YYYY-MM-DD.');
  if (!isCalendarDate(Number(m[1]), Number(m[2]), Number(m[3])))
    throw new InvalidArgumentError(`${value.trim()} is not a calendar date.`);
  return value.trim();
};

/** A choice among `values`, matched case-insensitively; returns the value as listed. */
export function choiceOf<T extends string>(values: readonly T[]): (value: string) => T {
  return (value) => {
    const found = values.find((v) => v.toLowerCase() === value.trim().toLowerCase());
    if (!found) throw new InvalidArgumentError(`Expected one of ${values.join(', ')}.`);
    return found;
  };
}

/** `--x V` repeatable: collects every value. */
export const collect = (value: string, previous: string[] | undefined): string[] => [
  ...(previous ?? []),
  value,
];

export const ENGINES = ['duckdb', 'spark'] as const;
export type Engine = (typeof ENGINES)[number];

export const lakeOption = (note = '') =>
  new Option('--lake <dir>', `lake folder (default: $MEDALLION_LAKE or .lake)${note}`);
export const engineOption = () =>
  new Option(
    '--engine <engine>',
    'Glue engine: duckdb, or spark (the real Glue scripts on local Spark: .venv, Java 17)',
  )
    .argParser(choiceOf(ENGINES))
    .default('duckdb' as Engine);
export const jsonOption = () => new Option('--json', 'print JSON (for scripts)').default(false);
