import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRegistry } from '../../shared/domain/datasets';
import type { RunManifest } from '../../shared/domain/manifest';
import { LocalLake } from '../../local/lake';
import { LocalPipeline } from '../../local/pipeline';
import { sampleOrders, toJsonLines, writeFile } from '../../local/sample';
import { shippedRegistry } from '../helpers/registry';

/**
 * Fewer Glue runs per partition, on the local twin (real handlers, real ASL, DuckDB Glue): a file
 * landing during a run's settle window is deferred to its follow-up, read by the run's bronze, and so
 * costs no run of its own.
 */

const DAY = 'landing/shop/orders/year=2024/month=01/day=15/';

const waitFor = async (condition: () => boolean, what: string): Promise<void> => {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!condition()) throw new Error(`timed out waiting for ${what}`);
};

describe('settle window on the local lake', () => {
  const root = mkdtempSync(join(tmpdir(), 'settle-lake-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('reads a file landing during the window in the same run: one execution, no follow-up run', async () => {
    // Prepare: orders with a 3-second window
    const registry = makeRegistry(
      shippedRegistry().datasets.map((d) =>
        d.name === 'orders' ? { ...d, trigger: { settleSeconds: 3 } } : d,
      ),
    );
    const pipeline = new LocalPipeline({ lake: new LocalLake(root), registry });
    const first = `${DAY}a.jsonl`;
    const late = `${DAY}b.jsonl`;
    writeFile(pipeline.lake.path(first), toJsonLines(sampleOrders({ date: '2024-01-15', records: 40 })));

    // Act: the first file starts a run, which waits; the second lands while it waits
    const started = await pipeline.land([first]);
    const run = pipeline.history.list()[0]?.name ?? '';
    await waitFor(
      () => pipeline.history.get(run)?.states.some((s) => s.name === 'Settle partition') ?? false,
      'the run to enter its settle wait',
    );
    writeFile(
      pipeline.lake.path(late),
      toJsonLines(sampleOrders({ date: '2024-01-15', records: 25, seed: 9, firstId: 40 })),
    );
    const deferred = await pipeline.land([late]);
    await pipeline.idle();

    // Assess: one execution read both files; the late one is the run's in the ledger
    expect(started).toEqual({ batchItemFailures: [] });
    expect(deferred).toEqual({ batchItemFailures: [] });
    const runs = pipeline.history.list();
    expect(runs.map((r) => [r.name, r.status])).toEqual([[run, 'SUCCEEDED']]);
    expect(runs[0]?.states.map((s) => s.name).slice(0, 3)).toEqual([
      'Take partition lease',
      'Start at requested stage',
      'Settle partition',
    ]);
    const manifest = JSON.parse(
      readFileSync(pipeline.lake.path(`_manifests/orders/bronze/${run}.json`), 'utf8'),
    ) as RunManifest;
    expect(manifest.sourceFiles?.map((f) => f.key)).toEqual([first, late]);
    expect(manifest.recordsIn).toBe(65);
    const entries = await pipeline.ledger.all();
    expect(entries.map((e) => [e.objectId.split('#')[0], e.state, e.executionName])).toEqual([
      [`local-lake/${first}`, 'started', run],
      [`local-lake/${late}`, 'started', run],
    ]);
    expect(await pipeline.ledger.allLeases()).toEqual([]);
    expect((runs[0]?.output as { finish?: unknown }).finish).toEqual({ lease: 'released', followUp: null });
    await pipeline.close();
  }, 60_000);
});
