import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRegistry } from '../../shared/config/dataset-files';
import type { Dataset } from '../../shared/domain/datasets';
import { DatasetConfigError } from '../../shared/domain/errors';
import { compileDatasetSql, compilePlan, type DatasetPlan } from '../../shared/domain/sql';
import { Duck } from '../../local/duck';
import { shippedRegistry } from '../helpers/registry';

const orders = (): Dataset => shippedRegistry().get('orders');

/** Runs the plan's silver SQL over literal bronze rows (all text, as bronze holds them). */
async function runSilver(dataset: Dataset, bronzeRows: Array<Record<string, string | null>>) {
  const sql = compileDatasetSql(dataset);
  const duck = await Duck.open();
  try {
    const columns = [...dataset.columns.map((c) => c.name), '_ingested_at', '_source_file'];
    const values = bronzeRows
      .map(
        (row) =>
          `(${columns.map((c) => (row[c] === null || row[c] === undefined ? 'NULL::VARCHAR' : `'${row[c]}'`)).join(', ')})`,
      )
      .join(',\n');
    await duck.run(`CREATE TABLE bronze AS SELECT * FROM (VALUES ${values}) AS v(${columns.join(', ')})`);
    await duck.run(`CREATE TABLE validated AS ${sql.silver.validate}`);
    const clean = await duck.rows(`SELECT * FROM (${sql.silver.clean}) ORDER BY order_id`);
    const quarantine = await duck.rows(`SELECT * FROM (${sql.silver.quarantine}) ORDER BY _source_file`);
    return { clean, quarantine };
  } finally {
    duck.close();
  }
}

const row = (over: Record<string, string | null>): Record<string, string | null> => ({
  order_id: 'ORD-00000001',
  customer_id: 'C000001',
  status: 'paid',
  amount: '10.50',
  currency: 'EUR',
  country: 'DE',
  items: '2',
  updated_at: '2024-01-15 10:00:00',
  _ingested_at: '2024-01-15 11:00:00',
  _source_file: 'a.jsonl',
  ...over,
});

describe('generated silver SQL (run in DuckDB)', () => {
  test('clean rows are typed and keep the latest version per dedup key', async () => {
    // Prepare: two versions of one order, one other order
    const bronze = [
      row({ status: 'placed', updated_at: '2024-01-15 09:00:00', _source_file: 'f1' }),
      row({ status: 'shipped', updated_at: '2024-01-15 12:00:00', _source_file: 'f2' }),
      row({ order_id: 'ORD-00000002', amount: '5', _source_file: 'f3' }),
    ];
    // Act
    const { clean, quarantine } = await runSilver(orders(), bronze);
    // Assess
    expect(quarantine).toEqual([]);
    expect(clean.map((r) => [r['order_id'], r['status']])).toEqual([
      ['ORD-00000001', 'shipped'],
      ['ORD-00000002', 'paid'],
    ]);
    // a timestamp is an instant, in UTC (TIMESTAMP_LTZ: DuckDB's TIMESTAMPTZ, Spark's TIMESTAMP)
    expect(clean[1]).toMatchObject({ amount: '5.00', items: 2, updated_at: '2024-01-15 10:00:00+00' });
  });

  test('each failed check is named in _quarantine_reasons and raw values are kept', async () => {
    const bronze = [
      row({ order_id: 'BAD-1', _source_file: 'q1' }),
      row({ amount: '-3', currency: 'XXX', _source_file: 'q2' }),
      row({ amount: 'ten', _source_file: 'q3' }),
      row({ items: '5.5', customer_id: null, _source_file: 'q4' }),
      row({ updated_at: '', _source_file: 'q5' }),
      row({ order_id: 'ORD-00000009', _source_file: 'ok' }),
    ];
    const { clean, quarantine } = await runSilver(orders(), bronze);
    expect(clean.map((r) => r['order_id'])).toEqual(['ORD-00000009']);
    expect(quarantine.map((r) => [r['_source_file'], r['_quarantine_reasons']])).toEqual([
      ['q1', 'order_id_pattern'],
      ['q2', 'amount_range,currency_accepted_values'],
      ['q3', 'amount_type,amount_not_null'],
      ['q4', 'items_type,customer_id_not_null'],
      ['q5', 'updated_at_required'],
    ]);
    // the quarantined row keeps what landed, not the failed cast
    expect(quarantine[2]).toMatchObject({ amount: 'ten' });
  });

  test('missing means missing: empty or any-Unicode-whitespace text is missing for not_null, nullable: false and typing', async () => {
    // Prepare: customer_id (not_null) and updated_at (nullable: false) of only spaces, a tab, a
    // non-breaking space, an ideographic space, a line separator, NEL; amount (typed) likewise
    const blanks = ['   ', '\t', '\u00a0', ' \u3000 ', '\u2028', '\u0085', '\r\n'];
    const bronze = blanks.flatMap((blank, i) => [
      row({ customer_id: blank, _source_file: `c${i}` }),
      row({ updated_at: blank, _source_file: `u${i}` }),
      row({ amount: blank, _source_file: `a${i}` }),
    ]);
    // Act
    const { clean, quarantine } = await runSilver(orders(), bronze);
    // Assess: every row is quarantined for the missing value, none for a type failure
    expect(clean).toEqual([]);
    const reasons = new Map(quarantine.map((r) => [r['_source_file'], r['_quarantine_reasons']]));
    blanks.forEach((_, i) => {
      expect([reasons.get(`c${i}`), reasons.get(`u${i}`), reasons.get(`a${i}`)]).toEqual([
        'customer_id_not_null',
        'updated_at_required',
        'amount_not_null',
      ]);
    });
    // the quarantined rows keep what landed
    expect(quarantine.find((r) => r['_source_file'] === 'c2')).toMatchObject({ customer_id: '\u00a0' });
  });

  test('values surrounded by Unicode whitespace are trimmed for typing; strings keep what landed', async () => {
    const bronze = [row({ amount: '\u00a010.50\t', items: '\u30003 ', country: ' DE', _source_file: 'f1' })];
    const { clean, quarantine } = await runSilver(orders(), bronze);
    expect(quarantine).toEqual([]);
    expect(clean[0]).toMatchObject({ amount: '10.50', items: 3, country: ' DE' });
  });

  test('the text null is a value unless the dataset declares it in nullValues', async () => {
    const bronze = [
      row({ customer_id: 'null', _source_file: 'n1' }),
      row({ customer_id: ' N/A ', order_id: 'ORD-00000002', _source_file: 'n2' }),
      row({ customer_id: 'NULL', amount: 'null', order_id: 'ORD-00000003', _source_file: 'n3' }),
    ];
    const plain = await runSilver(orders(), bronze);
    expect(plain.clean.map((r) => r['customer_id'])).toEqual(['null', ' N/A ']);
    expect(plain.quarantine.map((r) => r['_quarantine_reasons'])).toEqual(['amount_type,amount_not_null']);

    const declared = await runSilver({ ...orders(), nullValues: ['null', 'NULL', 'N/A'] }, bronze);
    expect(declared.clean).toEqual([]);
    expect(declared.quarantine.map((r) => [r['_source_file'], r['_quarantine_reasons']])).toEqual([
      ['n1', 'customer_id_not_null'],
      ['n2', 'customer_id_not_null'],
      ['n3', 'customer_id_not_null,amount_not_null'],
    ]);
  });

  test('numbers accept only plain decimals unless the dataset allows an exponent', async () => {
    const amounts = ['1_000', '1e3', '0x10', 'Infinity', 'NaN', '1,5', '+5', '-0.5', '.5', '5.'];
    const bronze = amounts.map((amount, i) =>
      row({ order_id: `ORD-0000000${i}`, amount, _source_file: amount }),
    );
    const plain = await runSilver(orders(), bronze);
    const typed = (r: {
      clean: Array<Record<string, unknown>>;
      quarantine: Array<Record<string, unknown>>;
    }) =>
      Object.fromEntries([
        ...r.clean.map((c) => [c['_source_file'], c['amount']]),
        ...r.quarantine.map((q) => [q['_source_file'], q['_quarantine_reasons']]),
      ]);
    expect(typed(plain)).toEqual({
      '1_000': 'amount_type,amount_not_null',
      '1e3': 'amount_type,amount_not_null',
      '0x10': 'amount_type,amount_not_null',
      Infinity: 'amount_type,amount_not_null',
      NaN: 'amount_type,amount_not_null',
      '1,5': 'amount_type,amount_not_null',
      '+5': '5.00',
      '-0.5': 'amount_range',
      '.5': '0.50',
      '5.': '5.00',
    });
    const scientific = await runSilver({ ...orders(), numberFormat: 'scientific' }, bronze);
    expect(typed(scientific)).toMatchObject({ '1e3': '1000.00', '1_000': 'amount_type,amount_not_null' });
  });

  test('the generated silver SQL calls only functions both engines have (checked against their docs)', () => {
    const sql = compileDatasetSql(orders()).silver;
    const text = [sql.validate, sql.clean, sql.quarantine].join('\n').replace(/'[^']*'/g, "''");
    const syntax = new Set(['IN', 'OVER', 'AND', 'OR', 'NOT', 'FROM', 'DECIMAL']);
    const called = new Set(
      [...text.matchAll(/\b([A-Za-z_]+)\s*\(/g)]
        .map((m) => (m[1] ?? '').toUpperCase())
        .filter((name) => !syntax.has(name)),
    );
    // regexp_like is Spark's; DuckDB gets it from DUCKDB_PRELUDE
    const portable = [
      'TRY_CAST',
      'CAST',
      'NULLIF',
      'TRIM',
      'CONCAT',
      'CHR',
      'CONCAT_WS',
      'REGEXP_LIKE',
      'RIGHT',
      'ROW_NUMBER',
    ];
    expect([...called].filter((f) => !portable.includes(f))).toEqual([]);
    expect(called).toEqual(new Set(portable));
  });

  test('literals DuckDB and Spark read differently are refused, naming the rule', () => {
    const dataset: Dataset = {
      ...orders(),
      rules: [{ column: 'order_id', check: 'pattern', pattern: '^ORD-\\d{8}$' }],
    };
    expect(() => compileDatasetSql(dataset)).toThrow(DatasetConfigError);
    expect(() => compileDatasetSql(dataset)).toThrow(/rules\[0\]\.pattern: contains a backslash/);
  });

  test.each([
    ['[[:alpha:]]+', 'a POSIX class'],
    ['^ORD-(?=[0-9])', 'a lookaround'],
    ['^(?!X)', 'a lookaround'],
    ['^(?>ORD)', 'an atomic group'],
    ['^[A-Z]++', 'an atomic group or possessive quantifier'],
  ])('a pattern Java and RE2 read differently is refused: %s', (pattern, what) => {
    const dataset: Dataset = { ...orders(), rules: [{ column: 'order_id', check: 'pattern', pattern }] };
    expect(() => compileDatasetSql(dataset)).toThrow(DatasetConfigError);
    expect(() => compileDatasetSql(dataset)).toThrow(new RegExp(`rules\\[0\\]\\.pattern: uses ${what}`));
  });

  test('a pattern with $ fails a value ending in a line terminator (Java $ would match before it)', () => {
    const sql = compileDatasetSql({
      ...orders(),
      rules: [{ column: 'order_id', check: 'pattern', pattern: '^ORD-[0-9]{8}$' }],
    }).silver.validate;
    expect(sql).toContain(
      "OR right(CAST(order_id AS STRING), 1) IN (chr(10), chr(13), chr(133), '\u2028', '\u2029')",
    );
  });

  test('the gold select casts the SELECT to the declared gold columns', () => {
    const gold = compileDatasetSql(orders()).gold.select;
    expect(gold.split('\n').slice(0, 7)).toEqual([
      'SELECT',
      '  TRY_CAST(country AS STRING) AS country,',
      '  TRY_CAST(currency AS STRING) AS currency,',
      '  TRY_CAST(orders AS BIGINT) AS orders,',
      '  TRY_CAST(items AS BIGINT) AS items,',
      '  TRY_CAST(revenue AS DECIMAL(14,2)) AS revenue',
      'FROM (',
    ]);
  });

  test('a range on a text column is refused', () => {
    const dataset: Dataset = { ...orders(), rules: [{ column: 'country', check: 'range', min: 1 }] };
    expect(() => compileDatasetSql(dataset)).toThrow(/range needs a numeric column, "country" is string/);
  });

  test('the gold select is the dataset gold SQL without trailing semicolons', () => {
    const registry = parseRegistry([
      {
        folder: 'orders',
        file: 'datasets/orders/dataset.yml',
        text: readFileSync(join(process.cwd(), 'datasets/orders/dataset.yml'), 'utf8'),
        files: { 'gold.sql': 'SELECT country FROM silver;\n\n' },
      },
    ]);
    expect(compileDatasetSql(registry.get('orders')).gold.select).toContain(
      'FROM (\nSELECT country FROM silver\n) gold',
    );
  });
});

describe('medallion compile', () => {
  test('writes DIR/<dataset>.json with the definition and the SQL', () => {
    const out = mkdtempSync(join(tmpdir(), 'plans-'));
    execFileSync('node', ['bin/medallion.cjs', 'compile', '--out', out], { stdio: 'pipe' });
    const plan = JSON.parse(readFileSync(join(out, 'orders.json'), 'utf8')) as DatasetPlan;
    expect(plan).toEqual(JSON.parse(JSON.stringify(compilePlan(orders()))));
    expect(plan.version).toBe(1);
    expect(plan.dataset.goldSql).toContain('FROM silver');
    expect(Object.keys(plan.sql.silver)).toEqual(['validate', 'clean', 'quarantine']);
  });

  test('exits 2 without --out', () => {
    expect(() => execFileSync('node', ['bin/medallion.cjs', 'compile'], { stdio: 'pipe' })).toThrow(
      expect.objectContaining({ status: 2 }) as Error,
    );
  });
});
