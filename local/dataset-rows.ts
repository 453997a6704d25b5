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
 *
 * A CDC dataset (`mode: cdc`) gets a change stream instead: inserts of new keys, then updates and
 * deletes of keys the stream inserted and has not deleted, each with the next change sequence
 * (`changes`). Optionally some changes are delivered twice (`duplicates`) or swapped with the next
 * one (`outOfOrder`), which the merge must shrug off. A change that breaks a rule is quarantined, not
 * merged, so the stream goes on as if it had not happened. Its memory grows with the keys it inserts.
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
  /** CDC datasets only: share of changes delivered twice (0..1, default 0). */
  readonly duplicates?: number;
  /** CDC datasets only: share of changes swapped with the change after them (0..1, default 0). */
  readonly outOfOrder?: number;
}

/** How a generated change stream picks its operations: inserts first, then this mix. */
const CDC_INSERT_SHARE = 0.5;
const CDC_DELETE_SHARE_OF_REST = 0.2;
/** Share of an update's other columns that change. */
const CDC_UPDATED_COLUMN_SHARE = 0.5;

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
    if (this.dataset.mode === 'cdc' && this.dataset.cdc) {
      yield* this.changes(this.dataset.cdc);
      return;
    }
    const { rand, generators, breakers, badRatio } = this.setup();
    for (let i = 0; i < this.options.records; i++) {
      const row = this.freshRow(generators, i);
      if (rand() < badRatio) {
        (breakers[Math.floor(rand() * breakers.length)] as Breaker).apply(row);
        this.bad++;
      }
      yield row;
    }
  }

  private setup() {
    const { dataset, options } = this;
    const rand = seededRandom(options.seed ?? 42);
    const randInt = (a: number, b: number) => a + Math.floor(rand() * (b - a + 1));
    const dayMs = Date.parse(`${options.day ?? new Date().toISOString().slice(0, 10)}T00:00:00Z`);
    const generators = new Map(
      dataset.columns.map((c) => [c.name, this.columnValue(c, rand, randInt, dayMs)]),
    );
    const breakers = this.breakers(rand);
    const badRatio = breakers.length > 0 ? (options.badRatio ?? 0) : 0;
    return { rand, randInt, dayMs, generators, breakers, badRatio };
  }

  private freshRow(generators: ReadonlyMap<string, (i: number) => SampleValue>, i: number): SampleRow {
    const row: SampleRow = {};
    for (const c of this.dataset.columns)
      row[c.name] = (generators.get(c.name) as (i: number) => SampleValue)(i);
    return row;
  }

  /**
   * A change stream of `records` rows: each change an insert of a new key (always while no key is
   * live, else half of them), or an update (some columns change) or a delete (the key and the
   * required columns kept, the others empty) of a live key; the sequence grows by one per change
   * from a base that grows with the day (so a later day's sample supersedes an earlier one's), and
   * the other timestamps grow with it through the day.
   */
  private *changes(cdc: NonNullable<Dataset['cdc']>): Generator<SampleRow> {
    const { dataset, options } = this;
    const { rand, dayMs, generators, breakers, badRatio } = this.setup();
    const records = options.records;
    const keyColumns = new Set(cdc.key);
    const required = new Set(
      dataset.columns
        .filter((c) => !c.nullable || this.rulesOf(c.name).some((r) => r.check === 'not_null'))
        .map((c) => c.name),
    );
    const timestamps = dataset.columns.filter((c) => c.type === 'timestamp').map((c) => c.name);
    const sequence = this.sequenceValue(cdc.sequence, dayMs, records);
    const others = dataset.columns
      .map((c) => c.name)
      .filter((n) => !keyColumns.has(n) && n !== cdc.sequence && n !== cdc.operation.column);
    const live = new Map<string, SampleRow>();
    /** The live keys, to pick one at random, and where each is in the list (a delete swaps it out). */
    const liveKeys: string[] = [];
    const position = new Map<string, number>();
    const used = new Set<string>();
    const keyText = (row: SampleRow) => JSON.stringify(cdc.key.map((k) => row[k]));

    const nextChange = (n: number): SampleRow => {
      let row: SampleRow;
      if (liveKeys.length === 0 || rand() < CDC_INSERT_SHARE) {
        row = this.freshRow(generators, n);
        // A new key: the generated one unless the stream used it already (a pattern may repeat).
        for (let attempt = 0; used.has(keyText(row)) && attempt < 100; attempt++) {
          const again = this.freshRow(generators, n + attempt + records);
          for (const k of cdc.key) row[k] = again[k] as SampleValue;
        }
        used.add(keyText(row));
        row[cdc.operation.column] = cdc.operation.insert;
      } else {
        const at = Math.floor(rand() * liveKeys.length);
        const current = live.get(liveKeys[at] as string) as SampleRow;
        if (rand() < CDC_DELETE_SHARE_OF_REST) {
          row = Object.fromEntries(
            dataset.columns.map((c) => [
              c.name,
              keyColumns.has(c.name) || required.has(c.name) ? (current[c.name] ?? null) : null,
            ]),
          );
          row[cdc.operation.column] = cdc.operation.delete;
        } else {
          const fresh = this.freshRow(generators, n);
          row = { ...current };
          for (const c of others) if (rand() < CDC_UPDATED_COLUMN_SHARE) row[c] = fresh[c] as SampleValue;
          row[cdc.operation.column] = cdc.operation.update;
        }
      }
      row[cdc.sequence] = sequence(n);
      for (const t of timestamps)
        if (t !== cdc.sequence && row[t] !== null)
          row[t] = timestampText(dayMs + Math.floor(((n + rand()) / records) * 86_400_000));
      return row;
    };
    /** Applies a valid change to the stream's own idea of the table. */
    const apply = (row: SampleRow) => {
      const key = keyText(row);
      const known = live.has(key);
      if (row[cdc.operation.column] === cdc.operation.delete) {
        if (known) {
          live.delete(key);
          const at = position.get(key) as number;
          const last = liveKeys.pop() as string;
          if (last !== key) {
            liveKeys[at] = last;
            position.set(last, at);
          }
          position.delete(key);
        }
        return;
      }
      if (!known) {
        position.set(key, liveKeys.length);
        liveKeys.push(key);
      }
      live.set(key, row);
    };

    type Pending = { readonly row: SampleRow; readonly broken: boolean };
    let emitted = 0;
    let held: Pending[] | undefined;
    for (let n = 0; emitted < records; n++) {
      const row = nextChange(n);
      const broken = rand() < badRatio;
      if (broken) (breakers[Math.floor(rand() * breakers.length)] as Breaker).apply(row);
      else apply(row);
      const batch: Pending[] = [{ row, broken }];
      if (rand() < (options.duplicates ?? 0)) batch.push({ row: { ...row }, broken });
      // Out of order: this change waits, and is written after the next one.
      if (held === undefined && rand() < (options.outOfOrder ?? 0)) {
        held = batch;
        continue;
      }
      const ready = held ? [...batch, ...held] : batch;
      held = undefined;
      for (const p of ready) {
        if (emitted === records) break;
        if (p.broken) this.bad++;
        emitted++;
        yield p.row;
      }
    }
  }

  /** The change sequence of the n-th change: one more each change, from a base that grows with the day. */
  private sequenceValue(column: string, dayMs: number, records: number): (n: number) => SampleValue {
    const type = this.dataset.columns.find((c) => c.name === column)?.type ?? 'bigint';
    if (type === 'timestamp') return (n) => timestampText(dayMs + Math.floor((n * 86_400_000) / records));
    if (type === 'date') return () => new Date(dayMs).toISOString().slice(0, 10);
    // bigint and double: day number × 10⁶ (a later day's changes come later); int and decimal: from 1.
    const base = type === 'bigint' || type === 'double' ? Math.floor(dayMs / 86_400_000) * 1_000_000 : 0;
    return (n) => base + n + 1;
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
    const isKey = (this.dataset.dedup?.key ?? this.dataset.cdc?.key ?? []).includes(c.name);
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
        return () => timestampText(dayMs + Math.floor(rand() * 86_400_000));
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
    // A CDC change also needs its key and sequence, and one of the three operations (shared/domain/sql.ts).
    const cdc = this.dataset.mode === 'cdc' ? this.dataset.cdc : undefined;
    if (cdc) {
      for (const column of [...cdc.key, cdc.sequence])
        if (!out.some((b) => b.rule === `${column}_required`))
          out.push({ rule: `${column}_required`, apply: (row) => (row[column] = null) });
      const values = [cdc.operation.insert, cdc.operation.update, cdc.operation.delete];
      const text = ['unknown', 'X', 'ZZZ'].find((v) => !values.includes(v));
      if (text !== undefined && this.columnIsText(cdc.operation.column))
        out.push({ rule: 'cdc_operation', apply: (row) => (row[cdc.operation.column] = text) });
    }
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

/** A timestamp as the landing files write it: `YYYY-MM-DD HH:MM:SS.mmm` (UTC). */
const timestampText = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

function bounds(range: Rule | undefined, lo: number, hi: number): [number, number] {
  if (range?.check !== 'range') return [lo, hi];
  const min = range.min ?? Math.min(lo, (range.max as number) - (hi - lo));
  const max = range.max ?? min + (hi - lo);
  return [min, max];
}
