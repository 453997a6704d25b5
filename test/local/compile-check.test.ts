import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../cli/program';

describe('medallion compile checks the gold SQL', () => {
  const root = mkdtempSync(join(tmpdir(), 'compile-check-'));
  const saved = process.env['DATASETS_DIR'];
  afterAll(() => {
    if (saved === undefined) delete process.env['DATASETS_DIR'];
    else process.env['DATASETS_DIR'] = saved;
    rmSync(root, { recursive: true, force: true });
  });

  test('a gold SELECT naming a column silver lacks fails compile, naming the file and the column; nothing is written', async () => {
    cpSync('datasets', join(root, 'datasets'), { recursive: true });
    writeFileSync(
      join(root, 'datasets', 'orders', 'gold.sql'),
      'SELECT country, currency, count(*) AS orders, sum(items) AS items, sum(amount_eur) AS revenue FROM silver GROUP BY ALL\n',
    );
    process.env['DATASETS_DIR'] = join(root, 'datasets');
    const err: string[] = [];
    const out = join(root, 'plans');
    const code = await runCli(['compile', '--out', out], {
      writeOut: () => undefined,
      writeErr: (t) => void err.push(t),
    });
    expect(code).toBe(1);
    expect(err.join('')).toContain(
      'datasets/orders/gold.sql: the gold SQL does not run over the silver columns',
    );
    expect(err.join('')).toContain('amount_eur');
    expect(existsSync(out)).toBe(false);
  });
});
