import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../cli/program';
import { rowProgress } from '../../cli/sample';

/** Runs the CLI in-process; stdout lines and stderr text. */
async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const write = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    err.push(String(chunk));
    return true;
  });
  try {
    const code = await runCli(args, { writeOut: (t) => void out.push(t), writeErr: (t) => void err.push(t) });
    return { code, out, err: err.join('') };
  } finally {
    log.mockRestore();
    write.mockRestore();
  }
}

describe('progress of long work', () => {
  const lake = mkdtempSync(join(tmpdir(), 'progress-lake-'));
  afterAll(() => rmSync(lake, { recursive: true, force: true }));

  test('watch shows each stage of each run as it goes: started, then done with elapsed and records, or FAILED', async () => {
    expect((await cli(['sample', '--records', '120', '--date', '2024-04-01', '--lake', lake])).code).toBe(0);
    const corrupt = join(
      lake,
      'landing',
      'shop',
      'orders',
      'year=2024',
      'month=04',
      'day=02',
      'broken.jsonl',
    );
    expect((await cli(['sample', '--records', '1', '--date', '2024-04-02', '--lake', lake])).code).toBe(0);
    writeFileSync(corrupt, '{"order_id": "ORD-00000001", \n');

    const { code, out } = await cli(['watch', '--once', '--batch-window', '0', '--lake', lake]);
    expect(code).toBe(1);
    const day1 = out.filter((l) => l.startsWith('orders-2024-04-01-'));
    const stages = day1.map((l) => l.replace(/^\S+\s+/, '').replace(/\d+(\.\d+)?m?s/, 'T'));
    expect(stages).toEqual([
      'bronze started',
      'bronze done in T  120 in, 120 out, 0 quarantined',
      'silver started',
      'silver done in T  120 in, 120 out, 0 quarantined',
      'gold   started',
      expect.stringMatching(/^gold {3}done in T {2}120 in, \d+ out, 0 quarantined$/),
    ]);
    // The stage lines come before the run's final line.
    const done = out.findIndex((l) => /^SUCCEEDED\s+orders-2024-04-01-/.test(l));
    expect(done).toBeGreaterThan(out.indexOf(day1[day1.length - 1] ?? ''));
    const day2 = out.filter((l) => l.startsWith('orders-2024-04-02-'));
    expect(day2[0]).toMatch(/^\S+\s+bronze started$/);
    expect(day2[1]).toMatch(/^\S+\s+bronze FAILED after \d+(\.\d+)?m?s: States\.TaskFailed$/);
  });

  test('piped, sample progress is a few whole lines, not one line of carriage returns', () => {
    const err: string[] = [];
    const write = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      err.push(String(chunk));
      return true;
    });
    try {
      const report = rowProgress(1_000_000, false);
      for (let n = 7_000; n <= 1_000_000; n += 7_000) report(n);
    } finally {
      write.mockRestore();
    }
    const text = err.join('');
    expect(text).not.toContain('\r');
    const lines = text.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(9);
    expect(lines.length).toBeLessThanOrEqual(10);
    expect(lines[0]).toBe('  105,000 / 1,000,000 rows');
  });
});
