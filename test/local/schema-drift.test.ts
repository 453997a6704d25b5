import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRegistry, type Dataset } from '../../shared/domain/datasets';
import { LocalLake } from '../../local/lake';
import { LocalPipeline } from '../../local/pipeline';
import { partitionFromPath, startReplays } from '../../local/replay';
import { writeFile } from '../../local/sample';
import { shippedRegistry } from '../helpers/registry';
import { lakeRows } from '../helpers/demo-lake';

/**
 * Schema drift through the whole local pipeline (on-landing → state machine → DuckDB Glue → record-stage
 * → notify): under `onDrift: alert` a drifting file is loaded by its declared columns, the bronze
 * manifest and the SchemaDriftColumns metric report it, and on-call gets one page naming the file and
 * the columns; a column declared later leaves older partitions readable.
 */

const HEADER = 'order_id,customer_id,status,amount,currency,country,items,updated_at';
const row = (i: number, extra = '') =>
  `ORD-${String(i).padStart(8, '0')},C${i},paid,${i}.50,EUR,DE,1,2024-01-15 10:00:00${extra}`;

describe('schema drift, locally', () => {
  const root = mkdtempSync(join(tmpdir(), 'drift-lake-'));
  const shipped = shippedRegistry();
  const orders = (over: Partial<Dataset>): Dataset => ({ ...shipped.get('orders'), ...over });
  const registry = (d: Dataset) => makeRegistry([d, ...shipped.datasets.filter((x) => x.name !== 'orders')]);
  let pipeline: LocalPipeline;

  beforeAll(() => {
    pipeline = new LocalPipeline({
      lake: new LocalLake(root),
      registry: registry(orders({ onDrift: 'alert' })),
    });
  });
  afterAll(async () => {
    await pipeline.close();
    rmSync(root, { recursive: true, force: true });
  });

  const land = async (day: string, files: Record<string, string>) => {
    const keys = Object.entries(files).map(([name, content]) => {
      const key = `landing/shop/orders/year=2024/month=01/day=${day}/${name}`;
      writeFile(pipeline.lake.path(key), content);
      return key;
    });
    await pipeline.land(keys);
    await pipeline.idle();
  };
  const query = (sql: string) => lakeRows(pipeline, sql);

  test('onDrift: alert loads the declared columns, reports the drift and pages once with file and columns', async () => {
    // Act: a CSV export with a new column (coupon) and without one (items), beside a clean JSON file
    await land('15', {
      'feed.csv': `${HEADER.replace(',items', '')},Coupon\n${row(1).replace(',1,2024', ',2024')},SAVE10\n`,
      'web.jsonl': `${JSON.stringify({ order_id: 'ORD-00000002', customer_id: 'C2', status: 'paid', amount: '2', currency: 'EUR', country: 'DE', items: 2, updated_at: '2024-01-15 11:00:00', gift: true })}\n`,
    });
    // Assess: the run succeeded with both rows in silver (items empty for the CSV row)
    const runs = await query(`SELECT status FROM runs`);
    expect(runs).toEqual([{ status: 'SUCCEEDED' }]);
    expect(await query(`SELECT order_id, items FROM orders_silver ORDER BY 1`)).toEqual([
      { order_id: 'ORD-00000001', items: null },
      { order_id: 'ORD-00000002', items: 2 },
    ]);
    // the bronze manifest names each file and its columns
    const manifests = pipeline.lake.path('_manifests/orders/bronze');
    const [name] = readdirSync(manifests);
    const manifest = JSON.parse(readFileSync(join(manifests, name ?? ''), 'utf8')) as {
      schemaDrift: Array<{ file: string; undeclared: string[]; missing: string[] }>;
    };
    expect(manifest.schemaDrift.map((d) => ({ ...d, file: d.file.split('/').pop() }))).toEqual([
      { file: 'feed.csv', undeclared: ['Coupon'], missing: ['items'] },
      { file: 'web.jsonl', undeclared: ['gift'], missing: [] },
    ]);
    // the metric counts the drifted columns (bronze only)
    expect(await query(`SELECT stage, schemaDriftColumns FROM metrics ORDER BY timestamp, stage`)).toEqual([
      { stage: 'bronze', schemaDriftColumns: '3' },
      { stage: 'silver', schemaDriftColumns: '0' },
      { stage: 'gold', schemaDriftColumns: '0' },
    ]);
    // one warning page, naming the files and columns and saying what to do
    const alerts = pipeline.alerts.all();
    expect(alerts.map((a) => a.attributes)).toEqual([
      { severity: 'warning', kind: 'schema-drift', dataset: 'orders', stage: 'bronze' },
    ]);
    const body = alerts[0]?.body ?? '';
    expect(alerts[0]?.subject).toContain('schema drift: 3 column(s) in 2 file(s)');
    expect(body).toMatch(/feed\.csv: undeclared Coupon; missing items/);
    expect(body).toMatch(/web\.jsonl: undeclared gift/);
    expect(body).toContain('declare it in datasets/orders/dataset.yml');
    expect(body).toContain(
      'npx medallion replay --dataset orders --partition year=2024/month=01/day=15 --stage bronze',
    );
  }, 120_000);

  test('a column declared later: older partitions stay readable, and replaying their silver reads it as empty', async () => {
    // Prepare: coupon is declared now (halt again: the file of day 16 matches exactly)
    const base = orders({});
    pipeline.reload(
      registry({ ...base, columns: [...base.columns, { name: 'coupon', type: 'string', nullable: true }] }),
    );
    // Act: a new day with the column, then silver of day 15 replayed (its bronze predates the column)
    await land('16', { 'feed.csv': `${HEADER},coupon\n${row(3, ',SAVE20')}\n` });
    await startReplays({
      starter: pipeline.starter,
      dataset: pipeline.registry.get('orders'),
      partitions: [
        partitionFromPath(pipeline.registry, pipeline.registry.get('orders'), 'year=2024/month=01/day=15'),
      ],
      fromStage: 'silver',
    });
    await pipeline.idle();
    // Assess: every run succeeded, and the table reads across both schemas by column name
    expect(await query(`SELECT status, count(*) AS n FROM runs GROUP BY ALL`)).toEqual([
      { status: 'SUCCEEDED', n: '3' },
    ]);
    expect(await query(`SELECT order_id, coupon, day FROM orders_silver ORDER BY 1`)).toEqual([
      { order_id: 'ORD-00000001', coupon: null, day: '15' },
      { order_id: 'ORD-00000002', coupon: null, day: '15' },
      { order_id: 'ORD-00000003', coupon: 'SAVE20', day: '16' },
    ]);
  }, 120_000);
});
