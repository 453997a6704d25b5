import type { Dataset } from '../../shared/domain/datasets';
import { compilePlan, goldSelect } from '../../shared/domain/sql';
import { SparkGlue, type StatementCheck } from '../../local/spark-glue';
import { catalogColumns } from '../helpers/catalog';
import { shippedRegistry } from '../helpers/registry';
import { venvPython } from '../helpers/python-env';

/**
 * Spark validates the SQL: every statement the Glue jobs run (the compiled plan of every shipped
 * dataset) goes through Spark 3.5.6's own parser and analyser, over empty frames shaped as the bronze
 * job writes them, in the order and with the views the jobs use. One Spark process for the file.
 * The catalog's column types (stack/catalog-columns.ts) must be the types Spark writes.
 */

const datasets = shippedRegistry().datasets;
let spark: SparkGlue;

beforeAll(() => {
  spark = SparkGlue.start({ python: venvPython() });
});
afterAll(() => spark.close(), 60_000);

const failures = (dataset: string, checks: Record<string, StatementCheck>): string[] =>
  Object.entries(checks).flatMap(([label, check]) =>
    check.ok ? [] : [`datasets/${dataset}: ${label}: ${check.error}: ${check.message}`],
  );

test('Spark parses and analyses every compiled statement of every shipped dataset', async () => {
  // Act
  const problems: string[] = [];
  for (const dataset of datasets)
    problems.push(...failures(dataset.name, await spark.checkPlan(compilePlan(dataset))));
  // Assess: a failure names the dataset and the statement
  expect(problems).toEqual([]);
}, 180_000);

test('the catalog declares the column types Spark writes for silver, quarantine and gold', async () => {
  // Prepare
  const catalog = catalogColumns();
  for (const dataset of datasets) {
    // Act
    const checks = await spark.checkPlan(compilePlan(dataset));
    const spark_ = (label: string) => {
      const check = checks[label];
      return check?.ok ? check.columns.map((c) => `${c.name} ${c.type}`) : [`${label} failed`];
    };
    const declared = (zone: 'silver' | 'quarantine' | 'gold') =>
      (catalog[dataset.name]?.[zone] ?? []).map((c) => `${c.Name} ${c.Type}`);
    // Assess
    expect({ dataset: dataset.name, silver: declared('silver') }).toEqual({
      dataset: dataset.name,
      silver: spark_('sql.silver.clean'),
    });
    expect({ dataset: dataset.name, quarantine: declared('quarantine') }).toEqual({
      dataset: dataset.name,
      quarantine: spark_('sql.silver.quarantine'),
    });
    expect({ dataset: dataset.name, gold: declared('gold') }).toEqual({
      dataset: dataset.name,
      gold: spark_('sql.gold.select'),
    });
  }
}, 180_000);

test("each shipped gold SELECT returns exactly its declared gold.columns, in order (none dropped by the contract's casts)", async () => {
  for (const dataset of datasets) {
    // Prepare: the plan with the data engineer's SELECT as written, without the contract's casts
    const plan = compilePlan(dataset);
    const raw = { ...plan, sql: { ...plan.sql, gold: { select: goldSelect(dataset.goldSql) } } };
    // Act
    const check = (await spark.checkPlan(raw))['sql.gold.select'];
    // Assess
    expect({ dataset: dataset.name, columns: check?.ok ? check.columns.map((c) => c.name) : check }).toEqual({
      dataset: dataset.name,
      columns: dataset.gold.columns.map((c) => c.name),
    });
  }
}, 180_000);

describe('a gold SQL Spark cannot run fails with the dataset and statement named', () => {
  const orders = shippedRegistry().get('orders');
  const withGold = (goldSql: string): Dataset => ({ ...orders, goldSql });

  test.each([
    [
      'a DuckDB cast shorthand',
      'SELECT country, SUM(amount)::DOUBLE AS revenue FROM silver GROUP BY country',
      'PARSE_SYNTAX_ERROR',
    ],
    [
      'QUALIFY',
      'SELECT * FROM silver QUALIFY ROW_NUMBER() OVER (PARTITION BY country ORDER BY amount NULLS LAST) = 1',
      'PARSE_SYNTAX_ERROR',
    ],
    [
      'a column the silver rows do not have',
      'SELECT country, SUM(amount_eur) AS revenue FROM silver GROUP BY country',
      'UNRESOLVED_COLUMN',
    ],
    ['a DuckDB-only function', "SELECT strftime(updated_at, '%Y') AS y FROM silver", 'UNRESOLVED_ROUTINE'],
    ['a relation other than silver', 'SELECT * FROM bronze_orders', 'TABLE_OR_VIEW_NOT_FOUND'],
  ])(
    '%s',
    async (_what, goldSql, code) => {
      // Act
      const checks = await spark.checkPlan(compilePlan(withGold(goldSql)));
      // Assess
      const problems = failures('orders', checks);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(
        new RegExp(`^datasets/orders: sql\\.gold\\.select: \\w+Exception: .*${code}`),
      );
    },
    120_000,
  );
});
