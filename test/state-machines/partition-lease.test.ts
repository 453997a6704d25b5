import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processLanding, type LandingDeps } from '../../shared/core/landing';
import type { Stage } from '../../shared/domain/datasets';
import { partitionKeyOf } from '../../shared/domain/lease';
import type { RunInput } from '../../shared/domain/run';
import { FileObjectLedger } from '../../local/file-ledger';
import type { ExecutionStatus, ExecutionStatusReader, RunStarter, StartResult } from '../../shared/ports';
import { s3Record, sqsEvent } from '../helpers/fixtures';
import { memoryLog, shippedRegistry } from '../helpers/registry';
import { createHarness, ordersInput, runPipeline, STATE_MACHINE_ARN, type RunOutcome } from './harness';

/** Starts real executions of the ASL (aws-local-stepfunctions) in the background, like StartExecution. */
class ExecutingStarter implements RunStarter, ExecutionStatusReader {
  readonly started: Array<{ name: string; input: RunInput }> = [];
  readonly runs = new Map<string, Promise<RunOutcome>>();
  private readonly ended = new Set<string>();

  async status(name: string): Promise<ExecutionStatus> {
    if (!this.runs.has(name)) return 'NOT_FOUND';
    return this.ended.has(name) ? 'SUCCEEDED' : 'RUNNING';
  }
  execute: (name: string, input: RunInput) => Promise<RunOutcome> = () => {
    throw new Error('not wired');
  };

  async start({ name, input }: { name: string; input: RunInput }): Promise<StartResult> {
    const executionArn = `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${name}`;
    if (this.runs.has(name)) return { outcome: 'already-started', executionArn };
    this.started.push({ name, input });
    this.runs.set(
      name,
      this.execute(name, input).finally(() => this.ended.add(name)),
    );
    return { outcome: 'started', executionArn };
  }

  /** Waits until every execution (including ones started meanwhile) has ended. */
  async settle(): Promise<Map<string, RunOutcome>> {
    const done = new Map<string, RunOutcome>();
    while (done.size < this.runs.size) {
      for (const [name, run] of this.runs) if (!done.has(name)) done.set(name, await run);
    }
    return done;
  }
}

const day15 = (file: string, sequencer: string) =>
  s3Record(`landing/shop/orders/year=2024/month=01/day=15/${file}`, {
    sequencer,
    versionId: null,
    size: 500,
  });
const day16 = (file: string, sequencer: string) =>
  s3Record(`landing/shop/orders/year=2024/month=01/day=16/${file}`, {
    sequencer,
    versionId: null,
    size: 500,
  });

/** A gate the test opens to let a held Glue job finish. */
function gate() {
  let open: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

const waitFor = async (condition: () => boolean, what: string): Promise<void> => {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!condition()) throw new Error(`timed out waiting for ${what}`);
};

describe('runs of one partition never overlap (interleaved arrivals, local)', () => {
  it('defers objects landing during a run to one follow-up run, started when the run ends', async () => {
    // Prepare: one ledger for landing and the pipeline; executions really run the ASL.
    const registry = shippedRegistry();
    const ledger = new FileObjectLedger(join(mkdtempSync(join(tmpdir(), 'lease-')), 'ledger.json'));
    const starter = new ExecutingStarter();
    const h = createHarness(registry, { starter, ledger });
    starter.execute = (name, input) => runPipeline(h, input, name);
    const landing: LandingDeps = {
      registry,
      ledger,
      leases: ledger,
      starter,
      executions: starter,
      log: memoryLog(),
    };

    const running = new Map<string, number>();
    let maxSilverPerPartition = 0;
    const silverOfDay15 = gate();
    let silverStartsOfDay15 = 0;
    h.beforeGlue = async (stage: Stage, args) => {
      const partition = args['--partition_path'] ?? '';
      const key = `${stage}:${partition}`;
      running.set(key, (running.get(key) ?? 0) + 1);
      if (stage === 'silver') maxSilverPerPartition = Math.max(maxSilverPerPartition, running.get(key) ?? 0);
      if (stage === 'silver' && partition.endsWith('day=15') && ++silverStartsOfDay15 === 1) {
        await silverOfDay15.promise;
      }
      running.set(key, (running.get(key) ?? 1) - 1);
    };

    // Act: batch 1 starts run A; A's silver job is held while batches 2 and 3 land a minute apart,
    // and another partition (day 16) lands too.
    const first = await processLanding(sqsEvent([day15('batch-1.jsonl', '01')], 'a'), landing);
    await waitFor(() => silverStartsOfDay15 === 1, 'run A to reach its silver job');
    const second = await processLanding(
      sqsEvent([day15('batch-2.jsonl', '02'), day15('batch-3.jsonl', '03')], 'b'),
      landing,
    );
    const third = await processLanding(
      sqsEvent([day15('batch-4.jsonl', '04'), day16('other.jsonl', '05')], 'c'),
      landing,
    );
    const startedWhileHeld = starter.started.map((s) => s.input.partitionPath);
    silverOfDay15.open();
    const outcomes = await starter.settle();

    // Assess
    const runA = first.runs[0]?.executionName ?? '';
    const followUp = second.deferrals[0]?.followUp ?? '';
    expect(first.counts).toMatchObject({ records: 1, started: 1, deferred: 0 });
    expect(second.counts).toMatchObject({ records: 2, started: 0, deferred: 2 });
    expect(third.counts).toMatchObject({ records: 2, started: 1, deferred: 1 });
    expect(second.failedUnits).toEqual([]);
    expect(third.deferrals.map((d) => d.followUp)).toEqual([followUp]);
    expect(followUp).toMatch(/^orders-2024-01-15-next-[0-9a-f]{12}$/);
    // While A ran, only the other partition got a run of its own.
    expect(startedWhileHeld).toEqual(['year=2024/month=01/day=15', 'year=2024/month=01/day=16']);
    // A's end started exactly one follow-up, carrying the three deferred objects.
    const day15Runs = starter.started.filter((s) => s.input.partitionPath.endsWith('day=15'));
    expect(day15Runs.map((s) => s.name)).toEqual([runA, followUp]);
    expect(day15Runs[1]?.input.objects).toMatchObject({ count: 3, bytes: 1500, notListed: 0 });
    expect(day15Runs[1]?.input.objects.inline.map((o) => o.key.split('/').pop())).toEqual([
      'batch-2.jsonl',
      'batch-3.jsonl',
      'batch-4.jsonl',
    ]);
    expect([...outcomes.values()].map((o) => o.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
    expect((outcomes.get(runA)?.output as { finish: unknown }).finish).toEqual({
      lease: 'handed-over',
      followUp: { executionName: followUp, objects: 3, outcome: 'started' },
    });
    expect(maxSilverPerPartition).toBe(1);
    expect(h.glueCalls.filter((c) => c.stage === 'silver').map((c) => c.args['--run_id'])).toEqual([
      runA,
      expect.stringMatching(/^orders-2024-01-16-/),
      followUp,
    ]);
    // The ledger says which run processed each object; every lease is released at the end.
    const batch2 =
      'example-lake/landing/shop/orders/year=2024/month=01/day=15/batch-2.jsonl#s:02:500:d41d8cd98f00b204e9800998ecf8427e';
    expect(await ledger.lookup(batch2)).toMatchObject({ executionName: followUp, state: 'deferred' });
    expect(await ledger.allLeases()).toEqual([]);
    expect(await ledger.readLease(partitionKeyOf('orders', 'year=2024/month=01/day=15'))).toBeUndefined();
  });

  it('makes a replay wait while the partition is leased, and fails it named after the holder if it never frees', async () => {
    const h = createHarness();
    await h.ledger.acquireLease(
      partitionKeyOf('orders', 'year=2024/month=01/day=15'),
      'orders-2024-01-15-running',
      new Date(),
      3_600_000,
    );

    const run = await runPipeline(h, ordersInput({ trigger: 'replay', fromStage: 'silver' }));

    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('PartitionBusyError');
    expect(run.retries.filter((r) => r === 'Take partition lease').length).toBeGreaterThanOrEqual(10);
    expect(run.cause).toContain('is being processed by run orders-2024-01-15-running');
    expect(h.glueCalls).toEqual([]);
    expect((await h.ledger.allLeases()).map((l) => l.holder)).toEqual(['orders-2024-01-15-running']);
  });
});
