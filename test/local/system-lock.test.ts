import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileObjectLedger } from '../../local/file-ledger';
import { FileCatalog } from '../../local/system-store';

/**
 * The lake's `_system/` lock across processes, under contention: two processes claim the same 150
 * objects and register 150 catalog partitions each, at the same time. With the lock every object is
 * won by exactly one of them and no registration is lost; without it (the cross-process lock removed,
 * only the in-process queue left) both win the same objects and registrations vanish, which this test
 * was seen to catch. test/local/two-processes.test.ts shows the same with the real commands.
 */

const COUNT = 150;
const root = mkdtempSync(join(tmpdir(), 'system-lock-'));
const system = join(root, '_system');
afterAll(() => rmSync(root, { recursive: true, force: true }));

function writer(label: string): Promise<string[]> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/helpers/system-writer.ts', system, label, String(COUNT)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolve, reject) =>
    child.on('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(out) as string[])
        : reject(new Error(`writer ${label} exited ${code}: ${err}`)),
    ),
  );
}

test('two processes writing _system/ at once: each object won once, no registration lost', async () => {
  mkdirSync(system, { recursive: true });
  const [a, b] = await Promise.all([writer('run-a'), writer('run-b')]);

  const both = a.filter((id) => b.includes(id));
  expect(both).toEqual([]);
  expect(a.length + b.length).toBe(COUNT);
  const ledger = await new FileObjectLedger(join(system, 'ledger.json')).all();
  expect(ledger.map((e) => e.objectId).sort()).toEqual(
    Array.from({ length: COUNT }, (_, i) => `obj-${i}`).sort(),
  );
  expect(ledger.filter((e) => (e.executionName === 'run-a' ? a : b).includes(e.objectId))).toHaveLength(
    COUNT,
  );
  expect(new FileCatalog(join(system, 'catalog.json')).all()).toHaveLength(2 * COUNT);
}, 120_000);
