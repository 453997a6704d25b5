import type { Dataset } from './datasets';
import { isCalendarDate } from './object-key';

/**
 * Which of a dataset's partition keys hold the day, and how a calendar day is written in them: the
 * rule behind `medallion replay --from/--to` for every layout (`year=/month=/day=`, `dt=2024-01-15`,
 * `dt=20240115`, `region=…/dt=…`). Read from the declared keys only (names and patterns), so the same
 * dataset.yml gives the same answer everywhere.
 *
 * - `year`, `month` and `day` keys (any case, any position): the day is split over them; month and
 *   day are two digits (`01`) unless a key's pattern accepts only the unpadded form (`1`).
 * - otherwise one key whose pattern accepts `2024-01-15` (or, failing that, `20240115`); a key without
 *   a pattern counts when it is named `dt`, `ds`, `date` or ends in `_date` / `_dt` (ISO form).
 * Every other key is not date-like: a replay by dates takes its values from `--where key=value`.
 */

export type DateLayout =
  | {
      readonly kind: 'year-month-day';
      readonly keys: { readonly year: string; readonly month: string; readonly day: string };
      readonly padded: { readonly month: boolean; readonly day: boolean };
    }
  | { readonly kind: 'date'; readonly key: string; readonly format: 'YYYY-MM-DD' | 'YYYYMMDD' };

const DATE_KEY_NAMES = /^(dt|ds|date|.*_date|.*_dt)$/i;

const accepts = (pattern: string | undefined, value: string): boolean =>
  pattern === undefined || new RegExp(pattern).test(value);

/** The dataset's date layout, or undefined when no partition key holds a date. */
export function dateLayoutOf(dataset: Pick<Dataset, 'partitionKeys'>): DateLayout | undefined {
  const byName = new Map(dataset.partitionKeys.map((k) => [k.name.toLowerCase(), k]));
  const [year, month, day] = [byName.get('year'), byName.get('month'), byName.get('day')];
  if (year && month && day) {
    const padded = (pattern: string | undefined) => accepts(pattern, '01') || !accepts(pattern, '1');
    return {
      kind: 'year-month-day',
      keys: { year: year.name, month: month.name, day: day.name },
      padded: { month: padded(month.pattern), day: padded(day.pattern) },
    };
  }
  for (const format of ['YYYY-MM-DD', 'YYYYMMDD'] as const) {
    const sample = format === 'YYYY-MM-DD' ? '2024-01-15' : '20240115';
    const key = dataset.partitionKeys.find((k) =>
      k.pattern ? accepts(k.pattern, sample) : format === 'YYYY-MM-DD' && DATE_KEY_NAMES.test(k.name),
    );
    if (key) return { kind: 'date', key: key.name, format };
  }
  return undefined;
}

/** The names of the keys a layout fills (the others come from `--where`). */
export const dateKeysOf = (layout: DateLayout): string[] =>
  layout.kind === 'date' ? [layout.key] : [layout.keys.year, layout.keys.month, layout.keys.day];

/** A day `YYYY-MM-DD` as the values of the layout's keys. */
export function dateKeyValues(layout: DateLayout, isoDay: string): Record<string, string> {
  const [y = '', m = '', d = ''] = isoDay.split('-');
  if (layout.kind === 'date')
    return { [layout.key]: layout.format === 'YYYY-MM-DD' ? isoDay : `${y}${m}${d}` };
  const unpad = (v: string, padded: boolean) => (padded ? v : String(Number(v)));
  return {
    [layout.keys.year]: y,
    [layout.keys.month]: unpad(m, layout.padded.month),
    [layout.keys.day]: unpad(d, layout.padded.day),
  };
}

/** The day `YYYY-MM-DD` a partition's date keys name (the inverse of `dateKeyValues`), if it is a calendar day. */
export function dayOfPartition(
  layout: DateLayout,
  partition: { readonly values: ReadonlyArray<readonly [string, string]> },
): string | undefined {
  const of = (key: string) => partition.values.find(([k]) => k === key)?.[1];
  let iso: string | undefined;
  if (layout.kind === 'date') {
    const v = of(layout.key);
    iso = v && layout.format === 'YYYYMMDD' ? `${v.slice(0, 4)}-${v.slice(4, 6)}-${v.slice(6, 8)}` : v;
  } else {
    const [y, m, d] = [of(layout.keys.year), of(layout.keys.month), of(layout.keys.day)];
    if (y && m && d) iso = `${y}-${m.padStart(2, '0')}-${d.padStart(2, '0')}`;
  }
  return iso && parseCalendarDay(iso) ? iso : undefined;
}

/** `YYYY-MM-DD` of a real calendar day, or undefined (`2024-02-30` is none, never March 1). */
export function parseCalendarDay(
  value: string,
): { readonly iso: string; readonly epochMs: number } | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value.trim());
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (!isCalendarDate(y, mo, d)) return undefined;
  return { iso: value.trim(), epochMs: Date.UTC(y, mo - 1, d) };
}

/** Every day from `from` to `to`, both included, as `YYYY-MM-DD`. */
export function daysBetween(fromMs: number, toMs: number): string[] {
  const days: string[] = [];
  for (let t = fromMs; t <= toMs; t += 86_400_000) days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}
