import RandExp from 'randexp';
import type { Dataset, Rule } from '../shared/domain/datasets';
import { seededRandom } from './sample';

/**
 * Sample rows for any dataset, from what its dataset.yml declares: each column's type, its rules
 * (`accepted_values` picks a listed value, `pattern` generates a matching text with randexp, `range`
 * stays inside the bounds, `not_null` and `nullable: false` never leave it empty) and the dedup key
 * (unique unless a pattern shapes it). Timestamps and dates fall on the partition's day when it has
 * one. A `badRatio` share of rows breaks exactly one breakable rule each, so a user sees the
 * quarantine work; `bad` counts them. Seeded: the same seed gives the same rows.
 */

export type SampleValue = string | number | boolean | null;
export type SampleRow = Record<string, SampleValue>;

export interface DatasetRowsOptions {
  readonly records: number;
  /** `YYYY-MM-DD`: the day of timestamps and dates; today's UTC day when absent. */
  readonly day?: string;
  readonly badRatio?: number;
  readonly seed?: number;
  readonly firstId?: number;
}

type Column = Dataset['columns'][number];

/** A way to make one row break one rule, or undefined when the rule cannot be broken by a value. */
type Breaker = { readonly rule: string; readonly apply: (row: SampleRow) => void };

const MAX_REPEAT = 8;
const NULL_SHARE = 0.05;

export class DatasetRows implements Iterable<SampleRow> {
  /** Rows generated so far that break a rule (after iteration: of all rows). */
  bad = 0;

  constructor(
    private readonly dataset: Dataset,
    private readonly options: DatasetRowsOptions,
  ) {}

  *[Symbol.iterator](): Generator<SampleRow> {
    const { dataset, options } = this;
    const rand = seededRandom(options.seed ?? 42);
    const randInt = (a: number, b: number) => a + Math.floor(rand() * (b - a + 1));
    const dayMs = Date.parse(`${options.day ?? new Date().toISOString().slice(0, 10)}T00:00:00Z`);
    const generators = new Map(
      dataset.columns.map((c) => [c.name, this.columnValue(c, rand, randInt, dayMs)]),
    );
    const breakers = this.breakers(rand);
    const badRatio = breakers.length > 0 ? (options.badRatio ?? 0) : 0;
    for (let i = 0; i < options.records; i++) {
      const row: SampleRow = {};
      for (const c of dataset.columns)
        row[c.name] = (generators.get(c.name) as (i: number) => SampleValue)(i);
      if (rand() < badRatio) {
        (breakers[Math.floor(rand() * breakers.length)] as Breaker).apply(row);
        this.bad++;
      }
      yield row;
    }
  }

  private rulesOf(column: string): Rule[] {
    return this.dataset.rules.filter((r) => r.column === column);
  }

  private columnValue(
    c: Column,
    rand: () => number,
    randInt: (a: number, b: number) => number,
    dayMs: number,
  ): (i: number) => SampleValue {
    const rules = this.rulesOf(c.name);
    const required = !c.nullable || rules.some((r) => r.check === 'not_null');
    const isKey = this.dataset.dedup?.key.includes(c.name) === true;
    const value = this.typedValue(c, rules, isKey, rand, randInt, dayMs);
    if (required || isKey) return value;
    return (i) => (rand() < NULL_SHARE ? null : value(i));
  }

  private typedValue(
    c: Column,
    rules: readonly Rule[],
    isKey: boolean,
    rand: () => number,
    randInt: (a: number, b: number) => number,
    dayMs: number,
  ): (i: number) => SampleValue {
    const accepted = rules.find((r) => r.check === 'accepted_values');
    const pattern = rules.find((r) => r.check === 'pattern');
    const range = rules.find((r) => r.check === 'range');
    const numeric = /^(int|bigint|double|decimal)/.test(c.type);
    const fromText = (text: string): SampleValue =>
      numeric ? Number(text) : c.type === 'boolean' ? text === 'true' : text;
    if (accepted) return () => fromText(accepted.values[randInt(0, accepted.values.length - 1)] as string);
    if (pattern) {
      const gen = new RandExp(pattern.pattern);
      gen.max = MAX_REPEAT;
      gen.randInt = randInt;
      return () => fromText(gen.gen());
    }
    const id = (i: number) => (this.options.firstId ?? 0) + i + 1;
    switch (true) {
      case c.type === 'string':
        return isKey
          ? (i) => `${c.name}-${String(id(i)).padStart(8, '0')}`
          : () => `${c.name}-${randInt(1, 999)}`;
      case c.type === 'boolean':
        return () => rand() < 0.5;
      case c.type === 'date':
        return () => new Date(dayMs).toISOString().slice(0, 10);
      case c.type === 'timestamp':
        return () =>
          new Date(dayMs + Math.floor(rand() * 86_400_000)).toISOString().replace('T', ' ').replace('Z', '');
      case c.type === 'int' || c.type === 'bigint': {
        if (isKey && !range) return id;
        const [lo, hi] = bounds(range, 0, 1000);
        return () => randInt(Math.ceil(lo), Math.floor(hi));
      }
      default: {
        // double and decimal(p,s): two decimals, inside the range and the precision.
        const m = /^decimal\((\d+),(\d+)\)$/.exec(c.type);
        const digitsLeft = m ? Number(m[1]) - Number(m[2]) : 6;
        const limit = Math.min(1000, 10 ** digitsLeft - 1);
        const [lo, hi] = bounds(range, 0, limit);
        return () => Math.round((lo + rand() * (hi - lo)) * 100) / 100;
      }
    }
  }

  /** One way to break each rule (and each required column) that a value can break. */
  private breakers(rand: () => number): Breaker[] {
    const out: Breaker[] = [];
    for (const c of this.dataset.columns)
      if (!c.nullable) out.push({ rule: `${c.name}_required`, apply: (row) => (row[c.name] = null) });
    for (const r of this.dataset.rules) {
      const column = r.column;
      switch (r.check) {
        case 'not_null':
          out.push({ rule: `${column}_not_null`, apply: (row) => (row[column] = null) });
          break;
        case 'range':
          out.push({
            rule: `${column}_range`,
            apply: (row) =>
              (row[column] =
                r.max !== undefined ? r.max + 1 + Math.floor(rand() * 10) : (r.min as number) - 1),
          });
          break;
        case 'accepted_values': {
          const text = ['unknown', 'other-value', 'ZZZ'].find((v) => !r.values.includes(v));
          if (text !== undefined && this.columnIsText(column))
            out.push({ rule: `${column}_accepted_values`, apply: (row) => (row[column] = text) });
          break;
        }
        case 'pattern': {
          const re = new RegExp(r.pattern);
          const text = ['#bad#', 'zz', '!', 'BAD-0'].find((v) => !re.test(v));
          if (text !== undefined && this.columnIsText(column))
            out.push({ rule: `${column}_pattern`, apply: (row) => (row[column] = text) });
          break;
        }
      }
    }
    return out;
  }

  private columnIsText(name: string): boolean {
    return this.dataset.columns.find((c) => c.name === name)?.type === 'string';
  }
}

function bounds(range: Rule | undefined, lo: number, hi: number): [number, number] {
  if (range?.check !== 'range') return [lo, hi];
  const min = range.min ?? Math.min(lo, (range.max as number) - (hi - lo));
  const max = range.max ?? min + (hi - lo);
  return [min, max];
}
