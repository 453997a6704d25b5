import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDemo } from '../../local/demo-scenario';
import { LocalLake } from '../../local/lake';
import { openLakeViews } from '../../local/lake-query';
import { LocalPipeline } from '../../local/pipeline';

/** A lake the demo filled (100-row files): filled before the suite's tests, removed after them. */
export function useDemoLake(prefix: string): { readonly root: string; readonly pipeline: LocalPipeline } {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const pipeline = new LocalPipeline({ lake: new LocalLake(root) });
  beforeAll(() => runDemo(pipeline, { rows: 100 }), 120_000);
  afterAll(async () => {
    await pipeline.close();
    rmSync(root, { recursive: true, force: true });
  });
  return { root, pipeline };
}

/** The rows of one query over a lake's views (`medallion query`'s tables), with a connection of its own. */
export async function lakeRows(
  pipeline: LocalPipeline,
  sql: string,
): Promise<Array<Record<string, unknown>>> {
  const { duck } = await openLakeViews(pipeline.lake, pipeline.registry);
  try {
    return await duck.rows(sql);
  } finally {
    duck.close();
  }
}
