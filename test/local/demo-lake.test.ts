import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clearDemoLake, DemoLakeNotEmptyError, recordDemoLake } from '../../local/demo-lake';

describe("the demo's own lake folder", () => {
  const root = mkdtempSync(join(tmpdir(), 'demo-lake-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const put = (rel: string, text: string) => {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), text);
  };

  test('deletes what the last demo wrote, and nothing a user dropped in', () => {
    const lake = join(root, 'lake');
    clearDemoLake(lake); // no folder yet: nothing to do
    put('lake/landing/shop/orders/year=2024/month=01/day=15/sample-42.jsonl', 'demo rows');
    put('lake/_system/ledger.json', '{}');
    recordDemoLake(lake);
    // A user drops a file of their own into the demo's lake.
    put('lake/landing/shop/orders/year=2024/month=01/day=16/mine.jsonl', 'my rows');

    expect(() => clearDemoLake(lake)).toThrow(DemoLakeNotEmptyError);
    expect(() => clearDemoLake(lake)).toThrow(
      'holds 1 file(s) the demo did not write (landing/shop/orders/year=2024/month=01/day=16/mine.jsonl)',
    );
    // Nothing was deleted, the demo's files included.
    expect(readFileSync(join(lake, '_system', 'ledger.json'), 'utf8')).toBe('{}');
    expect(readFileSync(join(lake, 'landing/shop/orders/year=2024/month=01/day=16/mine.jsonl'), 'utf8')).toBe(
      'my rows',
    );

    rmSync(join(lake, 'landing/shop/orders/year=2024/month=01/day=16'), { recursive: true });
    clearDemoLake(lake);
    expect(existsSync(lake)).toBe(false);
  });
});
