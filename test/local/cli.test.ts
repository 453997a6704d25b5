import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCliCaptured as capture } from '../helpers/cli';

/** Exit code and stderr of the real binary. */
function binary(args: string[]): { code: number; err: string; out: string } {
  try {
    const out = execFileSync(process.execPath, ['bin/medallion.cjs', ...args], { stdio: 'pipe' }).toString();
    return { code: 0, err: '', out };
  } catch (error) {
    const e = error as { status: number; stderr: Buffer; stdout: Buffer };
    return { code: e.status, err: e.stderr.toString(), out: e.stdout.toString() };
  }
}

/** A usage error: exit 2, one line naming the problem, then one line pointing to the command's help. */
function expectUsageError(result: { code: number; err: string }, ...mentions: string[]) {
  expect(result.code).toBe(2);
  const lines = result.err.trimEnd().split('\n');
  expect(lines).toHaveLength(2);
  for (const m of mentions) expect(lines[0]).toContain(m);
  expect(lines[1]).toMatch(/^Run "medallion [a-z ]+ --help" for usage\.$/);
}

describe('medallion CLI', () => {
  const lake = mkdtempSync(join(tmpdir(), 'cli-lake-'));
  mkdirSync(join(lake, 'landing'));
  afterAll(() => rmSync(lake, { recursive: true, force: true }));

  test.each(['demo', 'sample', 'watch', 'replay', 'runs', 'runs show', 'query', 'compile'])(
    '%s --help prints its generated usage and exits 0',
    async (name) => {
      const { code, out } = await capture([...name.split(' '), '--help']);
      expect(code).toBe(0);
      expect(out).toContain(`Usage: medallion ${name}`);
      expect(out).toContain('--help');
      expect(out).toMatch(/Exit codes?:/);
    },
  );

  test('the binary: 2 without a command or for an unknown one, 1 for an unknown execution', () => {
    const none = binary([]);
    expect(none.code).toBe(2);
    expect(none.err).toContain('Usage: medallion <command>');
    const unknown = binary(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.err.trim().split('\n')[0]).toBe("error: unknown command 'frobnicate'");
    expect(binary(['runs', 'show', 'no-such-run', '--lake', lake])).toMatchObject({
      code: 1,
      err: expect.stringContaining('No execution named "no-such-run"'),
    });
    expect(binary(['--help'])).toMatchObject({ code: 0, out: expect.stringContaining('replay') });
  });

  test('the binary recompiles dist/cli.cjs when a source changed after the last build', () => {
    const meta = join('dist', 'cli.meta.json');
    binary(['--help']);
    const built = JSON.parse(readFileSync(meta, 'utf8')) as { startedAt: number; inputs: string[] };
    expect(built.inputs).toEqual(expect.arrayContaining(['cli/main.ts', 'cli/program.ts']));
    // As if every source were newer than the build: the next start compiles again, then runs.
    writeFileSync(meta, JSON.stringify({ ...built, startedAt: 0 }));
    expect(binary(['--help'])).toMatchObject({ code: 0, err: '' });
    expect((JSON.parse(readFileSync(meta, 'utf8')) as { startedAt: number }).startedAt).toBeGreaterThan(0);
  });

  test('a usage error is one line naming the problem and a pointer to --help, exit 2', async () => {
    expectUsageError(
      await capture(['sample', '--records', 'many', '--date', '2024-01-15']),
      '--records',
      'many',
    );
    expectUsageError(
      await capture(['sample', '--records', '5', '--date', '2024-01-15', '--colour']),
      "unknown option '--colour'",
    );
    expectUsageError(await capture(['sample', '--date', '2024-01-15']), '--records');
    expectUsageError(await capture(['replay', '--dataset', 'orders']), '--from/--to or --partition');
    expectUsageError(
      await capture(['replay', '--dataset', 'orders', '--from', '2024-01-01']),
      '--from and --to',
    );
    expectUsageError(
      await capture(['replay', '--dataset', 'orders', '--partition', 'dt=2024-01-01']),
      'dt=2024-01-01',
    );
    expectUsageError(await capture(['demo', '--engine', 'flink']), '--engine', 'duckdb, spark');
    expectUsageError(await capture(['query', '--lake', lake]), "missing required argument 'sql'");
    expectUsageError(await capture(['runs', 'extra']), 'too many arguments');
  });

  test('enums are validated and matched in any case: --status failed is FAILED, --status done an error', async () => {
    const lower = await capture(['runs', '--status', 'failed', '--lake', lake, '--json']);
    expect(lower).toMatchObject({ code: 0, err: '' });
    expect(JSON.parse(lower.out)).toEqual([]);
    expectUsageError(
      await capture(['runs', '--status', 'done', '--lake', lake]),
      "'done' is invalid",
      'RUNNING, SUCCEEDED, FAILED, ABORTED, TIMED_OUT',
    );
    expect(
      await capture([
        'replay',
        '--dataset',
        'orders',
        '--partition',
        'year=2024/month=01/day=15',
        '--stage',
        'SILVER',
        '--dry-run',
        '--lake',
        lake,
      ]),
    ).toMatchObject({
      code: 0,
      out: 'would replay orders year=2024/month=01/day=15 from silver\n',
    });
  });

  test('an unknown dataset is named as an error, never "(no rows)"', async () => {
    for (const args of [
      ['runs', '--dataset', 'ordres', '--lake', lake],
      ['replay', '--dataset', 'ordres', '--from', '2024-01-01', '--to', '2024-01-01', '--lake', lake],
      ['sample', '--dataset', 'ordres', '--records', '5', '--date', '2024-01-15', '--lake', lake],
      ['compile', '--dataset', 'ordres', '--out', join(lake, 'plans')],
    ])
      expectUsageError(
        await capture(args),
        'unknown dataset "ordres"',
        'known: customers, orders, page_views, sign_ins',
      );
  });

  test('a missing --lake is named as an error and not created by runs, runs show or query', async () => {
    const missing = join(lake, 'no-such-lake');
    for (const args of [
      ['runs', '--lake', missing],
      ['runs', 'show', 'x', '--lake', missing],
      ['query', 'SELECT 1', '--lake', missing],
    ])
      expectUsageError(await capture(args), `no lake at ${missing}`);
    expect(existsSync(missing)).toBe(false);
    // A folder that exists but is no lake is refused the same way.
    expectUsageError(await capture(['runs', '--lake', join(lake, 'landing')]), 'is not a lake');
  });

  test('impossible dates are refused, never rolled over: replay --from 2024-02-30, sample --date 2024-02-30', async () => {
    expectUsageError(
      await capture([
        'replay',
        '--dataset',
        'orders',
        '--from',
        '2024-02-30',
        '--to',
        '2024-03-01',
        '--dry-run',
        '--lake',
        lake,
      ]),
      "option '--from <YYYY-MM-DD>' argument '2024-02-30' is invalid",
      '2024-02-30 is not a calendar date',
    );
    expectUsageError(
      await capture(['sample', '--records', '5', '--date', '2024-02-30', '--lake', lake]),
      '2024-02-30 is not a calendar date',
    );
    expect(existsSync(join(lake, 'landing', 'shop', 'orders', 'year=2024', 'month=02', 'day=30'))).toBe(
      false,
    );
    // The real leap day is a date.
    expect(
      await capture([
        'replay',
        '--dataset',
        'orders',
        '--from',
        '2024-02-28',
        '--to',
        '2024-03-01',
        '--dry-run',
        '--lake',
        lake,
      ]),
    ).toMatchObject({ code: 0, out: expect.stringContaining('year=2024/month=02/day=29') });
  });

  test('sample is deterministic: the same seed writes the same file', async () => {
    const args = [
      '--records',
      '2000',
      '--date',
      '2024-03-01',
      '--bad-ratio',
      '0.1',
      '--lake',
      lake,
      '--json',
    ];
    const first = await capture(['sample', ...args]);
    const path = (JSON.parse(first.out) as { path: string }).path;
    const hash1 = createHash('sha256').update(readFileSync(path)).digest('hex');
    writeFileSync(path, 'overwritten');
    await capture(['sample', ...args]);
    const hash2 = createHash('sha256').update(readFileSync(path)).digest('hex');
    expect(first.code).toBe(0);
    expect(hash2).toBe(hash1);
    expect(path).toContain(
      join('landing', 'shop', 'orders', 'year=2024', 'month=03', 'day=01', 'sample-42.jsonl'),
    );
    expect(readFileSync(path, 'utf8').trim().split('\n')).toHaveLength(2000);
  });

  test('query exits 1 on a SQL error and prints rows as JSON', async () => {
    expect(await capture(['query', 'SELEC nonsense', '--lake', lake])).toMatchObject({
      code: 1,
      err: expect.stringContaining('SQL error'),
    });
    const ok = await capture(['query', 'SELECT 41 + 1 AS answer', '--lake', lake, '--json']);
    expect(JSON.parse(ok.out)).toEqual([{ answer: 42 }]);
  });

  test('demo refuses to empty a folder that is not a lake', async () => {
    const precious = mkdtempSync(join(tmpdir(), 'precious-'));
    writeFileSync(join(precious, 'thesis.tex'), 'years of work');
    const result = await capture(['demo', '--lake', precious]);
    expectUsageError(result, 'holds 1 file(s) the demo did not write (thesis.tex)');
    expect(readFileSync(join(precious, 'thesis.tex'), 'utf8')).toBe('years of work');
    rmSync(precious, { recursive: true, force: true });
  });
});
