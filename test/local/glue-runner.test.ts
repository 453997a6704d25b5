import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Stage } from '../../shared/domain/datasets';
import { toDeliveryUnits } from '../../shared/domain/events';
import { manifestSchema } from '../../shared/domain/manifest';
import { splitByRead } from '../../shared/domain/source-files';
import { Duck } from '../../local/duck';
import { JobInputError, MalformedLandingFileError, runGlueJob } from '../../local/glue-runner';
import { LocalLake, sqsEventFor } from '../../local/lake';
import { localGlueArguments, writePlans } from '../../local/plans';
import { toCsv, toJsonLines, writeFile } from '../../local/sample';
import { order } from '../helpers/orders';
import { shippedRegistry } from '../helpers/registry';

const PARTITION = { path: 'year=2024/month=01/day=15', values: ['2024', '01', '15'] };
const LANDING = `landing/shop/orders/${PARTITION.path}/`;

function setup() {
  const lake = new LocalLake(mkdtempSync(join(tmpdir(), 'lake-')));
  const registry = shippedRegistry();
  writePlans(lake, registry);
  const dataset = registry.get('orders');
  const run = (stage: Stage, runId = 'run-1') =>
    runGlueJob(localGlueArguments(lake, dataset, stage, runId, PARTITION));
  const query = async (sql: string) => {
    const duck = await Duck.open();
    try {
      return await duck.rows(sql);
    } finally {
      duck.close();
    }
  };
  const zone = (z: string) => join(lake.path(`${z}/orders/${PARTITION.path}`), '*.parquet');
  return { lake, run, query, zone, cleanup: () => rmSync(lake.root, { recursive: true, force: true }) };
}

const digest = (dir: string) =>
  readdirSync(dir)
    .sort()
    .map(
      (f) =>
        `${f}:${createHash('sha256')
          .update(readFileSync(join(dir, f)))
          .digest('hex')}`,
    );

describe('local Glue runner (DuckDB)', () => {
  test('bronze → silver → gold: counts, quarantine reasons, dedup and gold totals', async () => {
    // Prepare: JSON lines with a duplicate (later version) and 2 bad rows, a CSV with 2 good rows
    const t = setup();
    writeFile(
      t.lake.path(`${LANDING}web 1.jsonl`),
      toJsonLines([
        order(1, { amount: 10.5, items: 2 }),
        order(2, { amount: 20, status: 'placed' }),
        order(2, { amount: 20, status: 'cancelled', updated_at: '2024-01-15 11:00:00' }),
        order(3, { amount: -1 }),
        order(4, { currency: 'XXX', customer_id: null }),
      ]),
    );
    writeFile(
      t.lake.path(`${LANDING}feed.csv`),
      toCsv([order(5, { amount: 7.25, country: 'FR' }), order(6, { amount: 2.75, country: 'FR', items: 3 })]),
    );
    const landingBefore = digest(t.lake.path(LANDING));

    // Act
    const bronze = await t.run('bronze');
    const silver = await t.run('silver');
    const gold = await t.run('gold');

    // Assess
    expect([bronze.manifest.recordsIn, bronze.manifest.recordsOut]).toEqual([7, 7]);
    expect(silver.manifest).toMatchObject({ recordsIn: 7, recordsOut: 4, recordsQuarantined: 2 });
    expect(silver.manifest.outputPartitions.map((p) => p.table)).toEqual([
      'orders_silver',
      'orders_quarantine',
    ]);
    const silverRows = await t.query(`SELECT order_id, status FROM '${t.zone('silver')}' ORDER BY order_id`);
    expect(silverRows).toEqual([
      { order_id: 'ORD-00000001', status: 'paid' },
      { order_id: 'ORD-00000002', status: 'cancelled' },
      { order_id: 'ORD-00000005', status: 'paid' },
      { order_id: 'ORD-00000006', status: 'paid' },
    ]);
    const quarantine = await t.query(
      `SELECT order_id, _quarantine_reasons AS reasons, _source_file FROM '${t.zone('quarantine')}' ORDER BY order_id`,
    );
    expect(quarantine.map((r) => [r['order_id'], r['reasons']])).toEqual([
      ['ORD-00000003', 'amount_range'],
      ['ORD-00000004', 'customer_id_not_null,currency_accepted_values'],
    ]);
    expect(String(quarantine[0]?.['_source_file'])).toMatch(/^file:\/\/.*\/web 1\.jsonl$/);
    // gold excludes cancelled orders: DE 1 order 10.50, FR 2 orders 10.00 with 4 items
    const goldRows = await t.query(
      `SELECT country, orders::INT AS orders, items::INT AS items, CAST(revenue AS VARCHAR) AS revenue FROM '${t.zone('gold')}' ORDER BY country`,
    );
    expect(goldRows).toEqual([
      { country: 'DE', orders: 1, items: 2, revenue: '10.50' },
      { country: 'FR', orders: 2, items: 4, revenue: '10.00' },
    ]);
    expect(gold.manifest).toMatchObject({ recordsIn: 4, recordsOut: 2 });
    // manifests are where the state machine reads them, and valid
    const written = JSON.parse(
      readFileSync(t.lake.path('_manifests/orders/silver/run-1.json'), 'utf8'),
    ) as unknown;
    expect(manifestSchema.parse(written)).toEqual(silver.manifest);
    expect(digest(t.lake.path(LANDING))).toEqual(landingBefore);
    t.cleanup();
  });

  test('the bronze manifest lists every landed file it accounted for, with the identity on-landing sees', async () => {
    // Prepare: two data files (one with a space in its name) and an empty one
    const t = setup();
    writeFile(t.lake.path(`${LANDING}web 1.jsonl`), toJsonLines([order(1), order(2)]));
    writeFile(t.lake.path(`${LANDING}feed.csv.gz`), gzipSync(toCsv([order(3)])));
    writeFile(t.lake.path(`${LANDING}empty.jsonl`), '');
    const keys = ['web 1.jsonl', 'feed.csv.gz', 'empty.jsonl'].map((f) => `${LANDING}${f}`);
    const landed = toDeliveryUnits(sqsEventFor(t.lake, keys)).units.flatMap((u) =>
      u.records.flatMap((r) => (r.kind === 'object' ? [r.object] : [])),
    );

    // Act
    const bronze = await t.run('bronze');

    // Assess: every notification of those files matches a listed source file (same key, size, eTag)
    expect(bronze.manifest.sourceFiles?.map((f) => f.key).sort()).toEqual([...keys].sort());
    const { read, unread } = splitByRead(landed, bronze.manifest.sourceFiles ?? []);
    expect([read.length, unread.length]).toEqual([3, 0]);
    // A file rewritten after the run listed it is a version the run did not read
    writeFile(t.lake.path(`${LANDING}web 1.jsonl`), toJsonLines([order(1), order(2), order(4)]));
    const rewritten = toDeliveryUnits(sqsEventFor(t.lake, [keys[0] ?? ''])).units.flatMap((u) =>
      u.records.flatMap((r) => (r.kind === 'object' ? [r.object] : [])),
    );
    expect(splitByRead(rewritten, bronze.manifest.sourceFiles ?? []).unread).toHaveLength(1);
    t.cleanup();
  });

  test('re-running a partition replaces it: same rows, no duplicates', async () => {
    const t = setup();
    writeFile(t.lake.path(`${LANDING}a.jsonl`), toJsonLines([order(1), order(2, { amount: -5 })]));
    for (const stage of ['bronze', 'silver', 'gold'] as const) await t.run(stage);
    const first = await t.query(`SELECT order_id FROM '${t.zone('silver')}'`);

    for (const stage of ['bronze', 'silver', 'gold'] as const) await t.run(stage, 'run-2');

    expect(await t.query(`SELECT order_id FROM '${t.zone('silver')}'`)).toEqual(first);
    expect(await t.query(`SELECT count(*)::INT AS n FROM '${t.zone('quarantine')}'`)).toEqual([{ n: 1 }]);
    expect(readdirSync(t.lake.path(`silver/orders/${PARTITION.path}`))).toEqual(['part-00000.parquet']);
    t.cleanup();
  });

  test('a corrupt landed file fails bronze with an error naming the file, and stays in landing', async () => {
    const t = setup();
    writeFile(t.lake.path(`${LANDING}good.jsonl`), toJsonLines([order(1)]));
    writeFile(t.lake.path(`${LANDING}broken.jsonl`), '{"order_id": "ORD-00000002", "amount": \n');

    const failure = t.run('bronze');

    await expect(failure).rejects.toThrow(MalformedLandingFileError);
    await expect(t.run('bronze')).rejects.toThrow(/Landed file file:\/\/.*\/broken\.jsonl cannot be read/);
    expect(readFileSync(t.lake.path(`${LANDING}broken.jsonl`), 'utf8')).toContain('ORD-00000002');
    t.cleanup();
  });

  test('bronze reads gzipped JSON lines and JSON array files; a JSON record without a key has a missing value', async () => {
    const t = setup();
    writeFile(t.lake.path(`${LANDING}a.jsonl.gz`), gzipSync(toJsonLines([order(1), order(2)])));
    writeFile(t.lake.path(`${LANDING}b.json`), JSON.stringify([order(3), order(4), order(5)], null, 2));
    writeFile(t.lake.path(`${LANDING}c.jsonl`), '{"order_id": "ORD-00000006", "amount": 1.5}\n');

    const bronze = await t.run('bronze');
    const silver = await t.run('silver');

    expect(bronze.manifest.recordsIn).toBe(6);
    // the last record lacks customer_id and updated_at: its row is quarantined, not dropped
    expect(silver.manifest).toMatchObject({ recordsIn: 6, recordsOut: 5, recordsQuarantined: 1 });
    const [rejected] = await t.query(
      `SELECT order_id, _quarantine_reasons AS r FROM '${t.zone('quarantine')}'`,
    );
    expect(rejected).toEqual({
      order_id: 'ORD-00000006',
      r: 'updated_at_required,customer_id_not_null',
    });
    t.cleanup();
  });

  test('a file of no declared format in the partition fails bronze by name, as the Glue job does', async () => {
    const t = setup();
    writeFile(t.lake.path(`${LANDING}a.jsonl`), toJsonLines([order(1)]));
    writeFile(t.lake.path(`${LANDING}_SUCCESS`), '');

    await expect(t.run('bronze')).rejects.toThrow(JobInputError);
    await expect(t.run('bronze')).rejects.toThrow(/not one of the dataset's formats .*: _SUCCESS$/);
    t.cleanup();
  });

  test('a data file named _x or .x fails bronze by name (Spark would skip it as hidden)', async () => {
    const t = setup();
    writeFile(t.lake.path(`${LANDING}a.jsonl`), toJsonLines([order(1)]));
    writeFile(t.lake.path(`${LANDING}_late.jsonl`), toJsonLines([order(2)]));
    await expect(t.run('bronze')).rejects.toThrow(
      /starting with '_' or '.', which Spark treats as hidden .*: _late.jsonl$/,
    );
    t.cleanup();
  });

  test('a partition with no landed files is a named input error', async () => {
    const t = setup();
    await expect(t.run('bronze')).rejects.toThrow(JobInputError);
    await expect(t.run('bronze')).rejects.toThrow(/no landed jsonl\/csv files under file:\/\//);
    t.cleanup();
  });
});
