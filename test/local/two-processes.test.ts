import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LedgerEntry, PartitionLease } from '../../shared/ports';
import { ExecutionHistoryStore, stageReports } from '../../local/history';
import { LocalLake } from '../../local/lake';
import { LocalPipeline } from '../../local/pipeline';
import { sampleOrders, toJsonLines, writeFile } from '../../local/sample';
import { FileAlerter } from '../../local/system-store';

/**
 * Two processes, one lake: `watch` and a `replay` of the same partition run at once, each in its own
 * process, while late files land in that partition. Every writer of `_system/` holds the lake's lock,
 * so neither loses the other's writes: every file ends in a successful run, nothing pages.
 */

const DAY = 'landing/shop/orders/year=2024/month=01/day=15/';
const root = mkdtempSync(join(tmpdir(), 'two-processes-'));
const lake = new LocalLake(root);
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

/** The CLI as a user runs it, in a process of its own. */
function medallion(args: string[]) {
  const child = spawn(process.execPath, ['bin/medallion.cjs', ...args, '--lake', root], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  Object.assign(child, { text: () => output });
  return { child, exited, output: () => output };
}

async function until(what: string, condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end)
      throw new Error(
        `timed out waiting for ${what}; ledger ${JSON.stringify(readJson('ledger.json', []))}; runs ${JSON.stringify(history().map((h) => [h.name, h.status, h.error]))}; output:\n${children.map((c) => (c as ChildProcess & { text?: () => string }).text?.() ?? '').join('\n---\n')}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const readJson = <T>(file: string, empty: T): T => {
  try {
    return JSON.parse(readFileSync(lake.system(file), 'utf8')) as T;
  } catch {
    return empty;
  }
};
const history = () => new ExecutionHistoryStore(lake.system('executions')).list();

test('watch and replay run together on one lake: every landed file ends in a successful run, nothing is lost', async () => {
  // Prepare: day 15 has run once (what the replay re-runs)
  const first = sampleOrders({ date: '2024-01-15', records: 300, seed: 1 });
  writeFile(lake.path(`${DAY}first.jsonl`), toJsonLines(first));
  const pipeline = new LocalPipeline({ lake });
  await pipeline.land([`${DAY}first.jsonl`]);
  await pipeline.idle();
  expect(history().map((h) => h.status)).toEqual(['SUCCEEDED']);

  // Act: watch in one process; a replay of day 15 in another; late files land while the replay runs
  const watch = medallion(['watch', '--interval', '50', '--batch-window', '0.1']);
  await until('watch to start', () => watch.output().includes('Watching'));
  const replay = medallion(['replay', '--dataset', 'orders', '--partition', 'year=2024/month=01/day=15']);
  await until('the replay to run', () =>
    history().some((h) => h.trigger === 'replay' && h.status === 'RUNNING'),
  );
  const late = [1, 2, 3].map((i) =>
    sampleOrders({ date: '2024-01-15', records: 50, seed: 10 + i, firstId: 1000 * i }),
  );
  for (const [i, rows] of late.entries()) {
    writeFile(lake.path(`${DAY}late-${i}.jsonl`), toJsonLines(rows));
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  expect(await replay.exited).toBe(0);
  const files = 4;
  await until('every file to be processed by an ended run', () => {
    // an object's entry names the run that processed it: its own (started) or a follow-up (deferred)
    const ended = new Set(history().flatMap((h) => (h.status === 'RUNNING' ? [] : [h.name])));
    const entries = readJson<LedgerEntry[]>('ledger.json', []);
    return (
      entries.length === files && entries.every((e) => e.state !== 'pending' && ended.has(e.executionName))
    );
  });
  watch.child.kill('SIGINT');
  expect(await watch.exited).toBe(0);

  // Assess: no failed run, no page, no lease left, every file's run succeeded, day 15 holds every order
  const runs = history();
  expect(runs.filter((h) => h.status !== 'SUCCEEDED').map((h) => [h.name, h.status, h.error])).toEqual([]);
  expect(new FileAlerter(lake.system('alerts.jsonl')).all().map((a) => a.subject)).toEqual([]);
  expect(readJson<PartitionLease[]>('ledger.leases.json', [])).toEqual([]);
  const ledger = readJson<LedgerEntry[]>('ledger.json', []);
  expect(ledger).toHaveLength(files);
  const succeeded = new Set(runs.map((h) => h.name));
  expect(ledger.filter((e) => !succeeded.has(e.executionName))).toEqual([]);
  const latest = runs.find((h) => stageReports(h).some((s) => s.stage === 'silver'));
  expect(stageReports(latest as (typeof runs)[number]).find((s) => s.stage === 'bronze')?.recordsIn).toBe(
    first.length + late.flat().length,
  );
}, 180_000);
