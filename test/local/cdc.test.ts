import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRegistry } from '../../shared/config/registry';
import { makeRegistry } from '../../shared/domain/datasets';
import { LocalLake } from '../../local/lake';
import { openLakeViews } from '../../local/lake-query';
import { LocalPipeline } from '../../local/pipeline';
import { writeFile } from '../../local/sample';
import { shippedRegistry } from '../helpers/registry';

/**
 * A CDC dataset through the whole local pipeline (DuckDB): changes landing over three days, one of
 * them late and out of order, end as the table's current state, which `medallion query` shows; the
 * state is no partition, so the catalog registers none for silver.
 */

describe('CDC dataset, locally', () => {
  const root = mkdtempSync(join(tmpdir(), 'cdc-lake-'));
  const customers = loadRegistry(join(__dirname, '..', 'glue', 'cdc', 'datasets')).get('customers');
  let pipeline: LocalPipeline;

  beforeAll(() => {
    pipeline = new LocalPipeline({
      lake: new LocalLake(root),
      // the test's own customers (its corpus's columns) in place of the shipped one of the same name
      registry: makeRegistry([
        ...shippedRegistry().datasets.filter((d) => d.name !== 'customers'),
        customers,
      ]),
    });
  });
  afterAll(async () => {
    await pipeline.close();
    rmSync(root, { recursive: true, force: true });
  });

  const land = async (day: string, name: string, content: string) => {
    const key = `landing/crm/customers/dt=${day}/${name}`;
    writeFile(pipeline.lake.path(key), content);
    await pipeline.land([key]);
    await pipeline.idle();
  };
  const query = async (sql: string) => {
    const { duck } = await openLakeViews(pipeline.lake, pipeline.registry);
    try {
      return await duck.rows(sql);
    } finally {
      duck.close();
    }
  };

  test('an update, a delete and a late change merge into the current state', async () => {
    // Act
    await land(
      '2024-03-01',
      'a.csv',
      'customer_id,op,seq,name,country\nc1,I,1,Ann,FR\nc2,I,2,Bob,DE\nc3,I,3,Cid,FR\n',
    );
    await land(
      '2024-03-02',
      'b.csv',
      'customer_id,op,seq,name,country\nc1,U,5,Ann B.,ES\nc2,D,6,,\nc4,I,7,Dan,IT\nc4,Z,8,Bad,IT\n',
    );
    // late: c3's update of sequence 4 lands after day 2, c1's older update (sequence 4) loses to 5
    await land(
      '2024-03-01',
      'late.csv',
      'customer_id,op,seq,name,country\nc3,U,4,Cid 4,PT\nc1,U,4,Ann old,FR\n',
    );
    // Assess
    expect(await query('SELECT status, count(*) AS n FROM runs GROUP BY ALL')).toEqual([
      { status: 'SUCCEEDED', n: '3' },
    ]);
    expect(
      await query(
        'SELECT customer_id, name, country, CAST(seq AS INT) AS seq FROM customers_silver ORDER BY 1',
      ),
    ).toEqual([
      { customer_id: 'c1', name: 'Ann B.', country: 'ES', seq: 5 },
      { customer_id: 'c3', name: 'Cid 4', country: 'PT', seq: 4 },
      { customer_id: 'c4', name: 'Dan', country: 'IT', seq: 7 },
    ]);
    expect(await query('SELECT _quarantine_reasons AS r FROM customers_quarantine')).toEqual([
      { r: 'cdc_operation' },
    ]);
    // gold of the last run: the current state per country
    expect(
      await query("SELECT country, customers FROM customers_by_country WHERE dt = '2024-03-01' ORDER BY 1"),
    ).toEqual([
      { country: 'ES', customers: '1' },
      { country: 'IT', customers: '1' },
      { country: 'PT', customers: '1' },
    ]);
    const registered = await query(`SELECT DISTINCT "table" FROM catalog ORDER BY 1`);
    expect(registered.map((r) => r['table'])).toEqual([
      'customers_bronze',
      'customers_by_country',
      'customers_quarantine',
    ]);
  }, 120_000);
});
