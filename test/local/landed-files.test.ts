import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Stage } from '../../shared/domain/datasets';
import { MAX_CSV_RECORD_BYTES } from '../../shared/domain/landed-files';
import { KeyParser } from '../../shared/domain/object-key';
import { Duck } from '../../local/duck';
import { LandingColumnsError, MalformedLandingFileError, runGlueJob } from '../../local/glue-runner';
import { LocalLake } from '../../local/lake';
import { LocalPipeline } from '../../local/pipeline';
import { localGlueArguments, writePlans } from '../../local/plans';
import { toCsv, toJsonLines, writeFile } from '../../local/sample';
import { order } from '../helpers/orders';
import { shippedRegistry } from '../helpers/registry';

/** Realistic, messy exports of the orders dataset, landed as a new user would land them. */

const PARTITION = { path: 'year=2024/month=01/day=15', values: ['2024', '01', '15'] };
const LANDING = `landing/shop/orders/${PARTITION.path}/`;
const HEADER = 'order_id,customer_id,status,amount,currency,country,items,updated_at';

function setup() {
  const lake = new LocalLake(mkdtempSync(join(tmpdir(), 'landed-')));
  const registry = shippedRegistry();
  writePlans(lake, registry);
  const dataset = registry.get('orders');
  const run = (stage: Stage) => runGlueJob(localGlueArguments(lake, dataset, stage, 'run-1', PARTITION));
  const land = (name: string, content: string | Buffer) => writeFile(lake.path(`${LANDING}${name}`), content);
  const rows = async (zone: string, sql: string) => {
    const duck = await Duck.open();
    try {
      const file = join(lake.path(`${zone}/orders/${PARTITION.path}`), '*.parquet');
      return await duck.rows(sql.replace('$zone', `'${file}'`));
    } finally {
      duck.close();
    }
  };
  return {
    lake,
    registry,
    run,
    land,
    rows,
    cleanup: () => rmSync(lake.root, { recursive: true, force: true }),
  };
}

describe('landed files: extensions, columns, empty files, encodings', () => {
  test('.CSV.GZ and .JSONL in upper case are accepted by landing and read by bronze', async () => {
    const t = setup();
    const parser = new KeyParser(t.registry);
    t.land('FEED.CSV.GZ', gzipSync(toCsv([order(1), order(2)])));
    t.land('WEB.JSONL', toJsonLines([order(3)]));
    t.land('Web.Json.Gz', gzipSync(toJsonLines([order(4)])));

    const formats = ['FEED.CSV.GZ', 'WEB.JSONL', 'Web.Json.Gz'].map(
      (n) => parser.parse(`${LANDING}${n}`).format,
    );
    const bronze = await t.run('bronze');

    expect(formats).toEqual(['csv', 'jsonl', 'jsonl']);
    expect(bronze.manifest.recordsIn).toBe(4);
    expect(await t.rows('bronze', 'SELECT order_id FROM $zone ORDER BY 1')).toEqual(
      [1, 2, 3, 4].map((i) => ({ order_id: order(i).order_id })),
    );
    t.cleanup();
  });

  test('JSON keys and CSV headers that differ from the declared column only in case or spaces load their values', async () => {
    const t = setup();
    t.land(
      'web.jsonl',
      '{"Order_ID": "ORD-00000001", "customer_id": "C1", "Country": "FR", "ITEMS": 3, "amount": 5, "updated_at": "2024-01-15 10:00:00"}\n',
    );
    t.land(
      'feed.csv',
      `ORDER_ID, Customer_Id ,Status,Amount,Currency,COUNTRY,Items,Updated_At\nORD-00000002,C2,paid,7.5,EUR,IT,4,2024-01-15 10:00:00\n`,
    );

    await t.run('bronze');
    const silver = await t.run('silver');

    expect(silver.manifest).toMatchObject({ recordsIn: 2, recordsOut: 2, recordsQuarantined: 0 });
    expect(
      await t.rows('silver', 'SELECT order_id, customer_id, country, items FROM $zone ORDER BY 1'),
    ).toEqual([
      { order_id: 'ORD-00000001', customer_id: 'C1', country: 'FR', items: 3 },
      { order_id: 'ORD-00000002', customer_id: 'C2', country: 'IT', items: 4 },
    ]);
    t.cleanup();
  });

  test.each([
    [
      'a duplicated CSV header',
      `${HEADER},Amount\n`,
      /feed\.csv .*column amount is named 2 times \("amount", "Amount"\)/,
    ],
    [
      'a CSV header missing a declared column',
      'order_id,customer_id,amount,currency,country,items,updated_at\n',
      /feed\.csv .*missing declared column\(s\) status/,
    ],
    ['an undeclared CSV column', `${HEADER},coupon\n`, /feed\.csv .*undeclared column\(s\) "coupon"/],
  ])('%s fails bronze naming the file and the column', async (_, header, message) => {
    const t = setup();
    t.land('good.jsonl', toJsonLines([order(1)]));
    t.land('feed.csv', `${header}ORD-00000002,C,paid,1,EUR,DE,1,2024-01-15 10:00:00,x\n`);

    const failure = t.run('bronze');

    await expect(failure).rejects.toThrow(LandingColumnsError);
    await expect(t.run('bronze')).rejects.toThrow(message);
    t.cleanup();
  });

  test('a JSON record naming a column twice, or an undeclared key, fails bronze naming the file and the key', async () => {
    const t = setup();
    t.land(
      'web.jsonl',
      `${toJsonLines([order(1)])}{"order_id": "ORD-00000002", "country": "DE", "Country": "FR"}\n`,
    );
    await expect(t.run('bronze')).rejects.toThrow(
      /web\.jsonl .*column country is named 2 times \("country", "Country"\)/,
    );
    t.land('web.jsonl', `${toJsonLines([order(1)])}{"order_id": "ORD-00000002", "promo": "X"}\n`);
    await expect(t.run('bronze')).rejects.toThrow(/web\.jsonl .*undeclared column\(s\) "promo"/);
    t.land('web.jsonl', `${toJsonLines([order(1)])}[1, 2]\n`);
    await expect(t.run('bronze')).rejects.toThrow(
      /web\.jsonl cannot be read: 1 record\(s\) are not JSON objects/,
    );
    t.cleanup();
  });

  test('an empty file is skipped and reported, never failing its partition, with or without other files', async () => {
    const t = setup();
    t.land('good.jsonl', toJsonLines([order(1), order(2)]));
    t.land('empty.csv', '');
    t.land('empty.jsonl.gz', '');

    const withGood = await t.run('bronze');
    rmSync(t.lake.path(`${LANDING}good.jsonl`));
    const onlyEmpty = await t.run('bronze');
    const silver = await t.run('silver');
    const gold = await t.run('gold');

    expect(withGood.manifest.recordsIn).toBe(2);
    const skipped = [
      { file: expect.stringMatching(/\/empty\.csv$/), reason: 'empty file (0 bytes): no records' },
      { file: expect.stringMatching(/\/empty\.jsonl\.gz$/), reason: 'empty file (0 bytes): no records' },
    ];
    expect(withGood.manifest.skippedFiles).toEqual(skipped);
    expect(onlyEmpty.manifest).toMatchObject({ recordsIn: 0, skippedFiles: skipped });
    expect([silver.manifest.recordsOut, gold.manifest.recordsOut]).toEqual([0, 0]);
    t.cleanup();
  });

  test('the run output of a pipeline run reports the skipped empty file', async () => {
    const root = mkdtempSync(join(tmpdir(), 'landed-run-'));
    const pipeline = new LocalPipeline({ lake: new LocalLake(root) });
    writeFile(pipeline.lake.path(`${LANDING}good.jsonl`), toJsonLines([order(1)]));
    writeFile(pipeline.lake.path(`${LANDING}empty.jsonl`), '');

    await pipeline.land([`${LANDING}good.jsonl`, `${LANDING}empty.jsonl`]);
    await pipeline.idle();

    const [run] = pipeline.history.list();
    expect(run?.status).toBe('SUCCEEDED');
    const output = run?.output as { results: { bronze: { skippedFiles: unknown } } };
    expect(output.results.bronze.skippedFiles).toEqual({
      count: 1,
      sample: [
        { file: expect.stringMatching(/\/empty\.jsonl$/), reason: 'empty file (0 bytes): no records' },
      ],
    });
    rmSync(root, { recursive: true, force: true });
  }, 30_000);

  test('a UTF-8 byte order mark is accepted in JSON lines (plain and gzipped) as in CSV', async () => {
    const t = setup();
    t.land('bom.jsonl', `\ufeff${toJsonLines([order(1)])}`);
    t.land('bom2.jsonl.gz', gzipSync(`\ufeff${toJsonLines([order(2)])}`));
    t.land('bom.csv', `\ufeff${toCsv([order(3)])}`);

    const bronze = await t.run('bronze');
    const silver = await t.run('silver');

    expect(bronze.manifest.recordsIn).toBe(3);
    expect(silver.manifest).toMatchObject({ recordsOut: 3, recordsQuarantined: 0 });
    t.cleanup();
  });

  test('a 3 MB CSV field is read; a record over the limit fails naming the file, the line and the limit', async () => {
    const t = setup();
    const big = 'x'.repeat(3 * 1024 * 1024);
    t.land('notes.csv', `${HEADER}\nORD-00000001,${big},paid,1,EUR,DE,1,2024-01-15 10:00:00\n`);
    const bronze = await t.run('bronze');
    expect(bronze.manifest.recordsIn).toBe(1);

    const huge = 'y'.repeat(MAX_CSV_RECORD_BYTES + 10);
    t.land(
      'notes.csv',
      `${HEADER}\nORD-00000001,C,paid,1,EUR,DE,1,2024-01-15 10:00:00\nORD-00000002,"${huge}",paid,1,EUR,DE,1,2024-01-15 10:00:00\n`,
    );
    const failure = t.run('bronze');
    await expect(failure).rejects.toThrow(MalformedLandingFileError);
    await expect(t.run('bronze')).rejects.toThrow(
      new RegExp(
        `notes\\.csv cannot be read: the CSV record at line 3 is longer than the limit of ${MAX_CSV_RECORD_BYTES} bytes per record`,
      ),
    );
    t.cleanup();
  }, 30_000);
});
