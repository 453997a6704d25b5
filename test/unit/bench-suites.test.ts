import type { BenchRow } from '../../bench/lib';
import { partitionsSuite } from '../../bench/partitions';
import { transitionsSuite } from '../../bench/transitions';

/**
 * The benchmark harness still runs (`npm run bench`, not part of npm test): two of its in-process
 * suites end to end — tinybench timing the Glue catalog adapter, aws-local-stepfunctions counting
 * the pipeline's transitions — and every row comes out complete. No time is asserted.
 */

function expectComplete(row: BenchRow): void {
  for (const field of ['benchmark', 'case', 'measured', 'baseline', 'target'] as const)
    expect(row[field]).toEqual(expect.any(String));
  expect(row.measured).not.toMatch(/not measured|NaN/);
  expect(Object.keys(row.values).length).toBeGreaterThan(0);
}

describe('npm run bench', () => {
  it('partitions: one row per size, with exact call counts and a measured median wall time', async () => {
    const rows = await partitionsSuite.run();
    expect(rows.map((r) => r.case)).toEqual(['1 partition', '100 partitions', '1,000 partitions']);
    rows.forEach(expectComplete);
    const [, , thousand] = rows;
    expect(thousand?.met).toBe(true);
    expect(thousand?.values).toMatchObject({
      partitions: 1000,
      warm: { total: 10, batchCreate: 10, created: 1000, wallMs: expect.any(Number) },
      cold: { total: 11, getTable: 1 },
      alreadyRegistered: { batchCreate: 10, batchUpdate: 10, updated: 1000 },
    });
    expect(thousand?.baselineValues).toMatchObject({ naive: { total: 1001, create: 1000 } });
    expect((thousand?.values['warm'] as { wallMs: number }).wallMs).toBeGreaterThan(0);
  }, 120_000);

  it('transitions: the pipeline, its retried run and the SDLF-style baseline, with the cost row', async () => {
    const rows = await transitionsSuite.run();
    expect(rows.map((r) => r.benchmark)).toEqual([
      'state transitions',
      'state transitions',
      'Step Functions cost',
    ]);
    rows.forEach(expectComplete);
    const [ok, retried] = rows;
    expect(ok?.values['transitions']).toBe(10);
    expect(ok?.baselineValues?.['transitions']).toBe(26);
    expect(retried?.values).toMatchObject({ transitions: 12, retries: 2 });
  }, 120_000);
});
