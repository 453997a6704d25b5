import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** Deterministic sample orders (seeded), as the shop platform exports them. */

/** mulberry32: small, fast, seeded. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface OrderRow {
  order_id: string | null;
  customer_id: string | null;
  status: string;
  amount: number | null;
  currency: string;
  country: string;
  items: number;
  updated_at: string;
}

const STATUSES = ['placed', 'paid', 'shipped', 'delivered', 'cancelled'];
const CURRENCIES = ['EUR', 'EUR', 'EUR', 'USD', 'GBP'];
const COUNTRIES = ['DE', 'FR', 'NL', 'ES', 'IT', 'US', 'GB'];

export interface SampleOptions {
  date: string;
  records: number;
  badRatio?: number;
  seed?: number;
  firstId?: number;
}

/** Rows of one day, generated lazily; `badRatio` of them break one declared rule each. */
export function* orderRows(options: SampleOptions): Generator<OrderRow> {
  const rand = seededRandom(options.seed ?? 42);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T;
  const day = Date.parse(`${options.date}T00:00:00Z`);
  if (Number.isNaN(day)) throw new RangeError(`date "${options.date}" is not YYYY-MM-DD`);
  for (let i = 0; i < options.records; i++) {
    const row: OrderRow = {
      order_id: `ORD-${String((options.firstId ?? 0) + i + 1).padStart(8, '0')}`,
      customer_id: `C${String(Math.floor(rand() * 50000)).padStart(6, '0')}`,
      status: pick(STATUSES),
      amount: Math.round(rand() * 50000) / 100,
      currency: pick(CURRENCIES),
      country: pick(COUNTRIES),
      items: 1 + Math.floor(rand() * 8),
      updated_at: new Date(day + Math.floor(rand() * 86_400_000))
        .toISOString()
        .replace('T', ' ')
        .replace('Z', ''),
    };
    if (rand() < (options.badRatio ?? 0)) {
      switch (Math.floor(rand() * 4)) {
        case 0:
          row.amount = -row.items;
          break;
        case 1:
          row.currency = 'XXX';
          break;
        case 2:
          row.customer_id = null;
          break;
        default:
          row.order_id = `BAD-${i}`;
      }
    }
    yield row;
  }
}

export const sampleOrders = (options: SampleOptions): OrderRow[] => [...orderRows(options)];

export const ORDER_COLUMNS: ReadonlyArray<keyof OrderRow> = [
  'order_id',
  'customer_id',
  'status',
  'amount',
  'currency',
  'country',
  'items',
  'updated_at',
];

/** One CSV field as RFC 4180 writes it: quoted (quotes doubled) when it holds a comma, quote or line break. */
const csvField = (v: unknown): string => {
  const text = v === null || v === undefined ? '' : String(v);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

const csvLine = (columns: readonly string[], r: object): string =>
  columns.map((c) => csvField((r as Record<string, unknown>)[c])).join(',');

export const toJsonLines = (rows: readonly object[]): string =>
  rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

export const toCsv = (rows: readonly OrderRow[]): string =>
  [ORDER_COLUMNS.join(','), ...rows.map((r) => csvLine(ORDER_COLUMNS, r))].join('\n') + '\n';

export function writeFile(path: string, content: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
}

/**
 * Streams rows to a file (JSON lines, or CSV with a header of `columns`) in buffered chunks: memory
 * stays flat whatever the number of rows. Returns the number of rows and bytes written.
 */
export function writeRows(
  path: string,
  format: 'jsonl' | 'csv',
  columns: readonly string[],
  rows: Iterable<object>,
  onProgress?: (rows: number) => void,
): { rows: number; bytes: number } {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, 'w');
  let buffer = format === 'csv' ? `${columns.join(',')}\n` : '';
  let count = 0;
  let bytes = 0;
  const flush = () => {
    bytes += writeSync(fd, buffer);
    buffer = '';
  };
  try {
    for (const row of rows) {
      buffer += `${format === 'csv' ? csvLine(columns, row) : JSON.stringify(row)}\n`;
      count++;
      if (buffer.length > 1 << 20) {
        flush();
        onProgress?.(count);
      }
    }
    flush();
  } finally {
    closeSync(fd);
  }
  return { rows: count, bytes };
}
