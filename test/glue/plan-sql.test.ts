import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Dataset } from '../../shared/domain/datasets';
import { compilePlan, type DatasetPlan } from '../../shared/domain/sql';
import { Duck } from '../../local/duck';
import { shippedRegistry } from '../helpers/registry';
import { runPython } from './python';

/**
 * Every SQL statement the Glue jobs run (the plan's SQL of every shipped dataset) runs in DuckDB on a
 * bronze table shaped exactly as the Glue bronze job writes it and yields row counts the Glue silver
 * job's reconciliation accepts. That Spark accepts the same text is test/glue/spark-sql.test.ts.
 */

const datasets = shippedRegistry().datasets;
const plans: Array<[string, DatasetPlan]> = datasets.map((d) => [d.name, compilePlan(d)]);

/** The predicate the Glue silver job counts clean validated rows with (glue/medallion_glue/stages.py). */
const CLEAN_ROW = runPython<string>(
  'import json; from medallion_glue.stages import CLEAN_ROW; print(json.dumps(CLEAN_ROW))',
);

type Row = Record<string, string | null>;

/** Runs the jobs' statements in order over a Glue-shaped bronze table; returns what each produced. */
async function runPlan(dataset: Dataset, plan: DatasetPlan, rows: readonly Row[]) {
  const duck = await Duck.open();
  try {
    const columns = dataset.columns.map((c) => c.name);
    // What medallion_bronze.py writes: declared columns as text, then the two lineage columns.
    await duck.run(
      `CREATE TABLE bronze (${columns.map((c) => `${c} VARCHAR`).join(', ')}, _ingested_at TIMESTAMP, _source_file VARCHAR)`,
    );
    for (const row of rows) {
      const values = [...columns, '_ingested_at', '_source_file'].map((c) => {
        const v = row[c];
        return v === null || v === undefined ? 'NULL' : `'${v.replace(/'/g, "''")}'`;
      });
      await duck.run(`INSERT INTO bronze VALUES (${values.join(', ')})`);
    }
    // The views the Spark jobs register: validated (silver job), silver (gold job).
    await duck.run(`CREATE TABLE validated AS ${plan.sql.silver.validate}`);
    await duck.run(`CREATE TABLE clean AS ${plan.sql.silver.clean}`);
    await duck.run(`CREATE TABLE rejected AS ${plan.sql.silver.quarantine}`);
    await duck.run('CREATE TABLE silver AS SELECT * FROM clean');
    await duck.run(`CREATE TABLE gold AS ${plan.sql.gold.select}`);
    const count = async (sql: string) => Number(await duck.scalar(sql));
    const dedup = dataset.dedup?.key.join(', ');
    return {
      counts: {
        records_in: await count('SELECT count(*) FROM bronze'),
        validated: await count('SELECT count(*) FROM validated'),
        valid: await count(`SELECT count(*) FROM validated WHERE ${CLEAN_ROW}`),
        valid_keys: dedup
          ? await count(`SELECT count(*) FROM (SELECT DISTINCT ${dedup} FROM validated WHERE ${CLEAN_ROW})`)
          : null,
        clean: await count('SELECT count(*) FROM clean'),
        quarantined: await count('SELECT count(*) FROM rejected'),
      },
      clean: await duck.rows('SELECT * FROM clean ORDER BY 1'),
      rejected: await duck.rows('SELECT * FROM rejected ORDER BY 1'),
      gold: await duck.rows('SELECT * FROM gold ORDER BY 1, 2'),
    };
  } finally {
    duck.close();
  }
}

/** What the Glue silver job decides from those counts (glue/medallion_glue/stages.py reconcile_silver). */
const reconcile = (counts: Record<string, number | null>) =>
  runPython<{ duplicates?: number; error?: string }>(
    [
      'import json, sys',
      'from medallion_glue.stages import reconcile_silver',
      'from medallion_glue.errors import StageContractError',
      'try:',
      '    print(json.dumps({"duplicates": reconcile_silver(**json.load(sys.stdin))}))',
      'except StageContractError as e:',
      '    print(json.dumps({"error": str(e)}))',
    ].join('\n'),
    counts,
  );

describe.each(plans)('the plan SQL of dataset %s', (name, plan) => {
  const dataset = datasets.find((d) => d.name === name) as Dataset;

  test('every statement runs in DuckDB over Glue-shaped bronze, and the Glue reconciliation accepts the counts', async () => {
    // Prepare: rows of nothing and of junk text, which every column type must survive
    const blank: Row = { _ingested_at: '2024-01-15 10:00:00', _source_file: 's3://lake/landing/a.jsonl' };
    const junk: Row = { ...blank, ...Object.fromEntries(dataset.columns.map((c) => [c.name, 'x'])) };
    // Act
    const { counts } = await runPlan(dataset, plan, [blank, junk, junk]);
    // Assess
    expect(counts.validated).toBe(3);
    expect(reconcile(counts)).toEqual({ duplicates: expect.any(Number) });
  });

  test('the Glue plan reader accepts the compiled plan', () => {
    // Prepare
    const file = join(mkdtempSync(join(tmpdir(), 'medallion-plan-')), `${name}.json`);
    writeFileSync(file, JSON.stringify(plan, null, 2));
    // Act
    const parsed = runPython<Record<string, unknown>>(
      [
        'import json, sys',
        'from medallion_glue.plan import parse_plan',
        `p = parse_plan(open(${JSON.stringify(file)}, "rb").read(), "file://" + ${JSON.stringify(file)})`,
        'print(json.dumps({"dataset": p.dataset, "keys": [k.name for k in p.partition_keys],',
        '  "columns": list(p.column_names), "dedup": p.dedup_key and list(p.dedup_key), "tables": p.tables,',
        '  "gold": p.gold_sql}))',
      ].join('\n'),
    );
    // Assess
    expect(parsed).toEqual({
      dataset: name,
      keys: dataset.partitionKeys.map((k) => k.name),
      columns: dataset.columns.map((c) => c.name),
      // a CDC dataset's batch keeps the latest change per cdc.key: its key is the dedup key
      dedup: dataset.dedup?.key ?? dataset.cdc?.key ?? null,
      tables: dataset.catalog.tables,
      gold: plan.sql.gold.select,
    });
  });
});

describe('orders on Glue-shaped bronze', () => {
  const orders = shippedRegistry().get('orders');
  const plan = compilePlan(orders);
  const row = (over: Row): Row => ({
    order_id: 'ORD-00000001',
    customer_id: 'C000001',
    status: 'paid',
    amount: '10.50',
    currency: 'EUR',
    country: 'DE',
    items: '2',
    updated_at: '2024-01-15 10:00:00',
    _ingested_at: '2024-01-15 11:00:00.123',
    _source_file: 's3://lake/landing/shop/orders/year=2024/month=01/day=15/orders batch 1.jsonl',
    ...over,
  });

  test('every row is clean, quarantined with its reasons, or a superseded version', async () => {
    // Prepare: two versions of one order, one clean order, four rows that each break one rule
    const bronze = [
      row({ status: 'placed', updated_at: '2024-01-15 09:00:00' }),
      row({ status: 'shipped', updated_at: '2024-01-15 12:00:00' }),
      row({ order_id: 'ORD-00000002', amount: '5', currency: 'GBP', country: 'GB' }),
      row({ order_id: 'ORD-00000003', amount: '-5' }),
      row({ order_id: 'ORD-00000004', currency: 'XXX' }),
      row({ order_id: 'X-1' }),
      row({ order_id: 'ORD-00000005', items: '2.5' }),
    ];
    // Act
    const { counts, clean, rejected, gold } = await runPlan(orders, plan, bronze);
    // Assess
    expect(clean.map((r) => [r['order_id'], r['status']])).toEqual([
      ['ORD-00000001', 'shipped'],
      ['ORD-00000002', 'paid'],
    ]);
    expect(Object.fromEntries(rejected.map((r) => [r['order_id'], r['_quarantine_reasons']]))).toEqual({
      'ORD-00000003': 'amount_range',
      'ORD-00000004': 'currency_accepted_values',
      'X-1': 'order_id_pattern',
      'ORD-00000005': 'items_type',
    });
    expect(reconcile(counts)).toEqual({ duplicates: 1 });
    expect(gold.map((r) => [r['country'], r['currency'], Number(r['orders'])])).toEqual([
      ['DE', 'EUR', 1],
      ['GB', 'GBP', 1],
    ]);
  });

  test('the reconciliation catches clean SQL that would drop a valid order', async () => {
    // Prepare: a clean statement that loses one order — what the Glue job must refuse to write
    const broken = {
      ...plan,
      sql: {
        ...plan.sql,
        silver: { ...plan.sql.silver, clean: `${plan.sql.silver.clean} AND order_id <> 'ORD-00000002'` },
      },
    };
    const bronze = [row({}), row({ order_id: 'ORD-00000002' })];
    // Act
    const { counts } = await runPlan(orders, broken, bronze);
    // Assess
    expect(reconcile(counts).error).toMatch(
      /sql\.silver\.clean returned 1 row\(s\) for 2 distinct dedup key/,
    );
  });
});
