import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile } from '../../cli/compile';
import { demo } from '../../cli/demo';
import { query } from '../../cli/query';
import { replay } from '../../cli/replay';
import { runs } from '../../cli/runs';
import { sample } from '../../cli/sample';
import { watch } from '../../cli/watch';

/** Runs a command in-process, capturing what it prints. */
async function capture(command: (args: string[]) => Promise<number>, args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = jest
    .spyOn(console, 'error')
    .mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  const write = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const code = await command(args);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
    write.mockRestore();
  }
}

/** Exit code of the real binary. */
function exitCode(args: string[]): number {
  try {
    execFileSync('node', ['bin/medallion.cjs', ...args], { stdio: 'pipe' });
    return 0;
  } catch (error) {
    return (error as { status: number }).status;
  }
}

describe('medallion CLI', () => {
  const lake = mkdtempSync(join(tmpdir(), 'cli-lake-'));
  afterAll(() => rmSync(lake, { recursive: true, force: true }));

  test.each([
    ['demo', demo],
    ['sample', sample],
    ['watch', watch],
    ['replay', replay],
    ['runs', runs],
    ['query', query],
    ['compile', compile],
  ])('%s --help prints its usage and exits 0', async (name, command) => {
    const { code, out } = await capture(command, ['--help']);
    expect(code).toBe(0);
    expect(out).toContain(`medallion ${name}`);
    expect(out).toMatch(/Exit codes?:/);
  });

  test('the binary: 2 without a command or for an unknown one, 1 for an unknown execution', () => {
    expect(exitCode([])).toBe(2);
    expect(exitCode(['frobnicate'])).toBe(2);
    expect(exitCode(['runs', 'show', 'no-such-run', '--lake', lake])).toBe(1);
  });

  test('usage errors exit 2 and name the problem', async () => {
    expect(await capture(sample, ['--records', 'many', '--date', '2024-01-15'])).toMatchObject({
      code: 2,
      err: expect.stringContaining('--records must be a positive integer'),
    });
    expect(await capture(sample, ['--records', '5', '--date', '2024-01-15', '--colour'])).toMatchObject({
      code: 2,
      err: expect.stringContaining("Unknown option '--colour'"),
    });
    expect(await capture(replay, ['--dataset', 'orders'])).toMatchObject({ code: 2 });
    expect(await capture(query, ['--lake', lake])).toMatchObject({ code: 2 });
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
    const first = await capture(sample, args);
    const path = (JSON.parse(first.out) as { path: string }).path;
    const hash1 = createHash('sha256').update(readFileSync(path)).digest('hex');
    writeFileSync(path, 'overwritten');
    await capture(sample, args);
    const hash2 = createHash('sha256').update(readFileSync(path)).digest('hex');
    expect(first.code).toBe(0);
    expect(hash2).toBe(hash1);
    expect(path).toContain(
      join('landing', 'shop', 'orders', 'year=2024', 'month=03', 'day=01', 'sample-42.jsonl'),
    );
    expect(readFileSync(path, 'utf8').trim().split('\n')).toHaveLength(2000);
  });

  test('query exits 1 on a SQL error and prints rows as JSON', async () => {
    expect(await capture(query, ['SELEC nonsense', '--lake', lake])).toMatchObject({
      code: 1,
      err: expect.stringContaining('SQL error'),
    });
    const ok = await capture(query, ['SELECT 41 + 1 AS answer', '--lake', lake, '--json']);
    expect(JSON.parse(ok.out)).toEqual([{ answer: 42 }]);
  });

  test('demo refuses to empty a folder that is not a lake', async () => {
    const precious = mkdtempSync(join(tmpdir(), 'precious-'));
    writeFileSync(join(precious, 'thesis.tex'), 'years of work');
    const result = await capture(demo, ['--lake', precious]);
    expect(result.code).toBe(2);
    expect(readFileSync(join(precious, 'thesis.tex'), 'utf8')).toBe('years of work');
    rmSync(precious, { recursive: true, force: true });
  });
});
