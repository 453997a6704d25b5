import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDemo, type DemoResult } from '../../local/demo-scenario';
import { expectDemoOutcomes } from '../helpers/demo-outcomes';
import { LocalLake } from '../../local/lake';
import { LocalPipeline } from '../../local/pipeline';
import { venvPython } from '../helpers/python-env';

/**
 * `medallion demo --engine spark`: the same scenario, the Glue tasks of the real state machine run by
 * the real Glue scripts on local Spark. Every check of the demo must pass on this engine too.
 */
describe('the demo scenario on Spark (--engine spark)', () => {
  const root = mkdtempSync(join(tmpdir(), 'demo-spark-lake-'));
  let pipeline: LocalPipeline;
  let result: DemoResult;

  beforeAll(async () => {
    process.env['MEDALLION_PYTHON'] ??= venvPython();
    pipeline = new LocalPipeline({ lake: new LocalLake(root), engine: 'spark' });
    try {
      result = await runDemo(pipeline, { rows: 100 });
    } finally {
      await pipeline.close();
    }
  }, 600_000);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  test('every expected outcome of the scenario happened, against the lake and hand-computed figures', async () => {
    await expectDemoOutcomes(pipeline, result);
  });

  test('the Glue job runs are Spark runs of the deployed scripts', () => {
    const stages = result.runs.flatMap((r) => r.stages);
    expect(stages.length).toBeGreaterThanOrEqual(9);
    expect(result.runs.find((r) => r.status === 'FAILED')?.cause ?? '').toMatch(/could not be parsed/);
  });
});
