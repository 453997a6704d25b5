import { useDemoLake } from '../helpers/demo-lake';
import { columnGovernance, mayRead } from '../../shared/domain/governance';
import { runCliCaptured as cli } from '../helpers/cli';

/**
 * `medallion query --as`: the registry's column policy on the local views, the rule Lake Formation
 * grants on AWS (shared/domain/governance.ts). A reader does not see, and cannot select, a pii or
 * confidential column; a full-access principal can.
 */
describe('medallion query --as <principal>', () => {
  const { root, pipeline } = useDemoLake('query-policy-lake-');

  const columnsOf = async (as: string, table: string): Promise<string[]> => {
    const { code, out } = await cli([
      'query',
      '--lake',
      root,
      '--as',
      as,
      '--json',
      `DESCRIBE SELECT * FROM ${table}`,
    ]);
    expect(code).toBe(0);
    return (JSON.parse(out) as Array<{ column_name: string }>).map((r) => r.column_name);
  };

  test('a reader cannot select a pii column: the error names the column, its classification and the policy', async () => {
    const { code, out, err } = await cli([
      'query',
      '--lake',
      root,
      '--as',
      'reader',
      'SELECT order_id, customer_id FROM orders_silver',
    ]);

    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toContain('ColumnPolicyError: column "customer_id" is withheld from reader principals');
    expect(err).toContain('orders_bronze, orders_silver, orders_quarantine)');
    expect(err).toContain('column policy: reader principals select columns classified public, internal');
  });

  test('nor a qualified confidential column of gold', async () => {
    const { code, err } = await cli([
      'query',
      '--lake',
      root,
      '--as',
      'READER',
      'SELECT g.country, g.revenue FROM orders_daily_revenue AS g',
    ]);

    expect(code).toBe(1);
    expect(err).toContain(
      'column "revenue" is withheld from reader principals: it is classified confidential (orders_daily_revenue)',
    );
  });

  test("a reader's tables hold exactly the columns the policy lets it read, in every zone of every dataset", async () => {
    for (const d of pipeline.registry.datasets) {
      for (const zone of ['bronze', 'silver', 'gold'] as const) {
        const table = d.catalog.tables[zone];
        const full = await columnsOf('full', table);
        const reader = await columnsOf('reader', table);

        expect(reader).toEqual(
          full.filter((c) => mayRead('reader', columnGovernance(d, zone, c).classification)),
        );
      }
    }
    expect(await columnsOf('reader', 'orders_silver')).toEqual([
      'order_id',
      'status',
      'currency',
      'country',
      'items',
      'updated_at',
      '_ingested_at',
      '_source_file',
      'year',
      'month',
      'day',
    ]);
  });

  test('a full-access principal selects the pii column, and its rows are the same as without --as', async () => {
    const sql = 'SELECT customer_id, count(*) AS n FROM orders_silver GROUP BY ALL ORDER BY ALL';
    const asFull = await cli(['query', '--lake', root, '--as', 'full', '--json', sql]);
    const plain = await cli(['query', '--lake', root, '--json', sql]);

    expect(asFull.code).toBe(0);
    expect(JSON.parse(asFull.out).length).toBeGreaterThan(0);
    expect(asFull.out).toBe(plain.out);
  });

  test('an unknown principal is a usage error naming the choices', async () => {
    const { code, err } = await cli(['query', '--lake', root, '--as', 'admin', 'SELECT 1']);

    expect(code).toBe(2);
    expect(err).toContain("argument 'admin' is invalid. Expected one of reader, full.");
  });
});
