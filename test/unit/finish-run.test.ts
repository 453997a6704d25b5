import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHandler, finishRunDeps } from '../../functions/finish-run/handler';
import type { LandedObject } from '../../shared/domain/events';
import { followUpRunName } from '../../shared/domain/lease';
import { MANIFEST_VERSION, type RunManifest } from '../../shared/domain/manifest';
import type { SourceFile } from '../../shared/domain/source-files';
import type { RunInput } from '../../shared/domain/run';
import { FileObjectLedger } from '../../local/file-ledger';
import { fileUri } from '../../local/glue-runner';
import { FileManifestStore } from '../../local/system-store';
import { loadEvent } from '../helpers/fixtures';
import { memoryLog, shippedRegistry } from '../helpers/registry';
import { RecordingStarter } from '../helpers/starters';
import { MemoryAlerter } from '../state-machines/harness';

const KEY = 'orders/year=2024/month=01/day=15';
const HOLDER = 'orders-2024-01-15-0123456789abcdef';
const NOW = new Date('2024-01-15T10:30:00Z');
const landedFile = (name: string, size: number, eTag: string): LandedObject => ({
  bucket: 'lake',
  key: `landing/shop/orders/year=2024/month=01/day=15/${name}`,
  size,
  eTag,
  eventTime: '2024-01-15T10:29:00Z',
  objectId: `lake/landing/shop/orders/year=2024/month=01/day=15/${name}#s:9:${size}:${eTag}`,
});
const landed = landedFile('late.jsonl', 700, '0f343b0931126a20f133d67c2b018a3b');
const later = landedFile('later.jsonl', 800, 'c4ca4238a0b923820dcc509a6f75849b');

async function setup(withDeferred: boolean | LandedObject[], executionBudget?: number) {
  const folder = mkdtempSync(join(tmpdir(), 'finish-'));
  const ledger = new FileObjectLedger(join(folder, 'ledger.json'));
  await ledger.acquireLease(KEY, HOLDER, NOW, 3_600_000);
  const deferred = withDeferred === true ? [landed] : withDeferred === false ? [] : withDeferred;
  if (deferred.length > 0) {
    await ledger.claim(
      deferred.map((o) => o.objectId),
      'orders-2024-01-15-other',
      NOW,
    );
    await ledger.deferToFollowUp({
      partitionKey: KEY,
      holder: HOLDER,
      followUpName: followUpRunName(HOLDER),
      claimedBy: 'orders-2024-01-15-other',
      objects: deferred,
      now: NOW,
    });
  }
  const starter = new RecordingStarter();
  const alerter = new MemoryAlerter();
  const log = memoryLog();
  const handler = createHandler(() =>
    finishRunDeps({
      registry: shippedRegistry(),
      ledger,
      ...(executionBudget !== undefined ? { executionBudget } : {}),
      runs: starter,
      executions: starter,
      alerts: alerter,
      manifests: new FileManifestStore(),
      log,
    }),
  );
  /** Writes the holder's bronze manifest listing `sources`; returns its location. */
  const bronzeManifest = (sources: SourceFile[]): string => {
    const path = join(folder, '_manifests', 'orders', 'bronze', `${HOLDER}.json`);
    const manifest: RunManifest = {
      version: MANIFEST_VERSION,
      dataset: 'orders',
      stage: 'bronze',
      runId: HOLDER,
      jobRunId: 'jr_1',
      startedAt: '2024-01-15T10:31:00.000Z',
      completedAt: '2024-01-15T10:32:00.000Z',
      recordsIn: 3,
      recordsOut: 3,
      recordsQuarantined: 0,
      outputPartitions: [],
      quarantineLocation: null,
      sourceFiles: sources,
    };
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, JSON.stringify(manifest));
    return fileUri(path, false);
  };
  return { ledger, starter, alerter, handler, log, bronzeManifest };
}

/** The success path's call: the execution input and the bronze manifest location. */
const succeeded = (bronzeManifest: string) => ({
  executionName: HOLDER,
  stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:medallion-pipeline',
  outcome: 'succeeded',
  input: {
    dataset: 'orders',
    partition: { year: '2024', month: '01', day: '15' },
    partitionValues: ['2024', '01', '15'],
    partitionPath: 'year=2024/month=01/day=15',
    trigger: 'landing',
    fromStage: 'bronze',
    requestedAt: '2024-01-15T10:20:00.000Z',
    objects: { count: 1, bytes: 10, firstLandedAt: null, lastLandedAt: null, inline: [], notListed: 1 },
  },
  bronzeManifest,
});
const source = (o: LandedObject): SourceFile => ({ key: o.key, size: o.size, eTag: `"${o.eTag ?? ''}"` });

describe('finish-run', () => {
  it('releases the lease of an aborted execution from its EventBridge status change', async () => {
    const { ledger, handler } = await setup(false);

    const result = await handler(loadEvent('sfn-execution-aborted') as never, {} as never);

    expect(result).toEqual({ lease: 'released', followUp: null, deferredRead: 0 });
    expect(await ledger.allLeases()).toEqual([]);
  });

  it('starts the follow-up of objects deferred to an aborted execution, and hands it the lease', async () => {
    const { ledger, handler, starter } = await setup(true);

    const result = await handler(loadEvent('sfn-execution-aborted') as never, {} as never);
    const again = await handler(loadEvent('sfn-execution-aborted') as never, {} as never);

    const followUp = followUpRunName(HOLDER);
    expect(result).toEqual({
      lease: 'handed-over',
      followUp: { executionName: followUp, objects: 1, outcome: 'started' },
      deferredRead: 0,
    });
    expect(again).toEqual({ lease: 'not-held', followUp: null, deferredRead: 0 });
    expect(starter.started).toHaveLength(1);
    expect(starter.started[0]?.input).toMatchObject({
      dataset: 'orders',
      partitionPath: 'year=2024/month=01/day=15',
      trigger: 'landing',
      fromStage: 'bronze',
      objects: { count: 1, bytes: 700, inline: [{ key: landed.key, size: 700 }] },
    });
    expect((await ledger.allLeases()).map((l) => [l.holder, l.followUp])).toEqual([[followUp, undefined]]);
  });

  it('starts no follow-up run for objects deferred during the run that its bronze read: they become its own', async () => {
    const { ledger, handler, starter, bronzeManifest } = await setup(true);
    const location = bronzeManifest([
      source(landed),
      { key: 'landing/shop/orders/year=2024/month=01/day=15/first.jsonl', size: 5, eTag: 'aa' },
    ]);

    const result = await handler(succeeded(location) as never, {} as never);

    expect(result).toEqual({ lease: 'released', followUp: null, deferredRead: 1 });
    expect(starter.started).toEqual([]);
    expect(await ledger.allLeases()).toEqual([]);
    expect(await ledger.lookup(landed.objectId)).toMatchObject({ state: 'started', executionName: HOLDER });
  });

  it('starts the follow-up run only for the deferred objects its bronze did not read', async () => {
    const { ledger, handler, starter, bronzeManifest } = await setup([landed, later]);
    // `later` was overwritten after the listing: another eTag is another version
    const location = bronzeManifest([source(landed), { ...source(later), eTag: 'ffff' }]);

    const result = await handler(succeeded(location) as never, {} as never);

    const followUp = followUpRunName(HOLDER);
    expect(result).toEqual({
      lease: 'handed-over',
      followUp: { executionName: followUp, objects: 1, outcome: 'started' },
      deferredRead: 1,
    });
    expect(starter.started[0]?.input.objects).toMatchObject({
      count: 1,
      bytes: 800,
      inline: [{ key: later.key, size: 800 }],
    });
    expect(await ledger.lookup(landed.objectId)).toMatchObject({ state: 'started', executionName: HOLDER });
    expect(await ledger.lookup(later.objectId)).toMatchObject({ state: 'deferred', executionName: followUp });
    expect((await ledger.allLeases()).map((l) => l.holder)).toEqual([followUp]);
  });

  it('starts the follow-up run for every deferred object when the bronze manifest is missing, and says why', async () => {
    const { handler, starter, log, bronzeManifest } = await setup(true);
    const location = bronzeManifest([source(landed)]).replace(`${HOLDER}.json`, 'another-run.json');

    const result = await handler(succeeded(location) as never, {} as never);

    expect(result).toMatchObject({ lease: 'handed-over', deferredRead: 0 });
    expect(starter.started).toHaveLength(1);
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        attributes: expect.objectContaining({ error: 'ManifestNotFoundError' }),
      }),
    );
  });

  it('starts the follow-up run for every deferred object when the run failed, whatever its bronze read', async () => {
    const { handler, starter, bronzeManifest } = await setup(true);
    const location = bronzeManifest([source(landed)]);

    const result = await handler({ ...succeeded(location), outcome: 'failed' } as never, {} as never);

    expect(result).toMatchObject({ lease: 'handed-over', deferredRead: 0 });
    expect(starter.started).toHaveLength(1);
  });

  it('releases nothing for an execution whose input names no partition (it never took a lease), and says why', async () => {
    const { ledger, handler, log } = await setup(false);
    const event = loadEvent<{ detail: { input: string } }>('sfn-execution-aborted');
    event.detail.input = '{"hello":1}';

    const result = await handler(event as never, {} as never);

    expect(result).toEqual({ lease: 'not-held', followUp: null, deferredRead: 0 });
    expect((await ledger.allLeases()).map((l) => l.holder)).toEqual([HOLDER]);
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: 'Execution input names no partition: no lease to release',
        attributes: expect.objectContaining({
          problems: ['dataset: expected a dataset name, got undefined'],
        }),
      }),
    );
  });

  it('is idempotent: the state machine and the EventBridge rule may both release a failed run', async () => {
    const { ledger, handler } = await setup(false);
    const event = loadEvent<{ detail: { input: string; status: string } }>('sfn-execution-aborted');
    event.detail.status = 'FAILED';
    const fromStateMachine = {
      executionName: HOLDER,
      stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:medallion-pipeline',
      outcome: 'failed',
      input: JSON.parse(event.detail.input),
    };

    const first = await handler(fromStateMachine as never, {} as never);
    const second = await handler(event as never, {} as never);

    expect(first).toEqual({ lease: 'released', followUp: null, deferredRead: 0 });
    expect(second).toEqual({ lease: 'not-held', followUp: null, deferredRead: 0 });
    expect(await ledger.allLeases()).toEqual([]);
  });

  describe('with an execution budget', () => {
    const slots = async (ledger: FileObjectLedger) =>
      (await ledger.readSlots()).holders.map((h) => h.executionName).sort();

    it("hands the ended run's slot to its follow-up run even when every slot is held", async () => {
      const { ledger, handler } = await setup(true, 2);
      await ledger.takeSlot({ executionName: HOLDER, now: NOW, budget: 2 });
      await ledger.takeSlot({ executionName: 'orders-2024-01-16-other', now: NOW, budget: 2 });

      const result = await handler(loadEvent('sfn-execution-aborted') as never, {} as never);

      expect(result).toMatchObject({ lease: 'handed-over' });
      expect(await slots(ledger)).toEqual([followUpRunName(HOLDER), 'orders-2024-01-16-other'].sort());
    });

    it('releases the slot of a run that ended, also when its input names no partition', async () => {
      const { ledger, handler } = await setup(false, 2);
      await ledger.takeSlot({ executionName: HOLDER, now: NOW, budget: 2 });
      const event = loadEvent<{ detail: { input: string } }>('sfn-execution-aborted');
      event.detail.input = '{"hello":1}';

      await handler(event as never, {} as never);

      expect(await slots(ledger)).toEqual([]);
    });

    /** A run of `day` that found every slot held: it waits on its lease since `at`. */
    const waiting = async (ledger: FileObjectLedger, day: string, at: Date) => {
      const name = `orders-2024-01-${day}-${day.repeat(8)}`;
      const key = `orders/year=2024/month=01/day=${day}`;
      await ledger.claim([`o-${day}`], name, at);
      await ledger.acquireLease(key, name, at, 3_600_000);
      const input = {
        ...succeeded('').input,
        partition: { year: '2024', month: '01', day },
        partitionValues: ['2024', '01', day],
        partitionPath: `year=2024/month=01/day=${day}`,
      } as RunInput;
      await ledger.waitForSlot({
        partitionKey: key,
        executionName: name,
        waiting: { since: at.toISOString(), input },
        objectIds: [`o-${day}`],
      });
      return { name, key, input };
    };
    const sweep = { sweep: 'execution-slots', stateMachineArn: succeeded('').stateMachineArn };

    it("hands an aborted run's slot (EventBridge) to the oldest waiting run and starts it; a second event changes nothing", async () => {
      const { ledger, handler, starter } = await setup(false, 2);
      await ledger.takeSlot({ executionName: HOLDER, now: NOW, budget: 2 });
      await ledger.takeSlot({ executionName: 'orders-2024-01-16-other', now: NOW, budget: 2 });
      const younger = await waiting(ledger, '18', new Date(NOW.getTime() + 1000));
      const oldest = await waiting(ledger, '17', NOW);

      const first = await handler(loadEvent('sfn-execution-aborted') as never, {} as never);
      const second = await handler(loadEvent('sfn-execution-aborted') as never, {} as never);

      expect(first).toMatchObject({ lease: 'released', waitingStarted: [oldest.name] });
      expect(second).toEqual({ lease: 'not-held', followUp: null, deferredRead: 0 });
      expect(starter.started).toEqual([{ name: oldest.name, input: oldest.input }]);
      expect(await slots(ledger)).toEqual([oldest.name, 'orders-2024-01-16-other'].sort());
      expect(await ledger.waitingRuns(10)).toEqual([
        {
          executionName: younger.name,
          partitionKey: younger.key,
          since: new Date(NOW.getTime() + 1000).toISOString(),
        },
      ]);
      const lease = await ledger.readLease(oldest.key);
      expect(lease?.holder).toBe(oldest.name);
      expect(lease?.waiting).toBeUndefined();
    });

    it('a waiting run whose start fails keeps waiting, visibly, with its slot; the sweep starts it', async () => {
      const { ledger, handler, starter, log } = await setup(false, 1);
      await ledger.takeSlot({ executionName: HOLDER, now: NOW, budget: 1 });
      const run = await waiting(ledger, '17', NOW);
      starter.failWhen = (name) =>
        name === run.name ? new Error('ThrottlingException: Rate exceeded') : undefined;

      const failed = await handler(loadEvent('sfn-execution-aborted') as never, {} as never);
      const stillWaiting = await ledger.waitingRuns(10);
      const held = await slots(ledger);
      starter.failWhen = () => undefined;
      const swept = await handler(sweep as never, {} as never);

      expect(failed).toMatchObject({ lease: 'released', waitingStartFailed: [run.name] });
      expect(stillWaiting.map((r) => r.executionName)).toEqual([run.name]);
      expect(held).toEqual([run.name]);
      expect(log.lines).toContainEqual(
        expect.objectContaining({
          level: 'error',
          message:
            'A waiting run could not be started: it keeps waiting, with its slot, and is started again by the next dispatch',
        }),
      );
      expect(swept).toMatchObject({ started: [run.name], failed: [], waiting: 0, inFlight: 1, budget: 1 });
      expect(starter.started.map((s) => s.name)).toEqual([run.name]);
      expect(await ledger.countWaitingRuns()).toBe(0);
      expect(log.lines).toContainEqual(
        expect.objectContaining({
          level: 'info',
          message: 'Execution slots swept',
          attributes: expect.objectContaining({ waiting: 0, started: 1, inFlight: 1, budget: 1 }),
        }),
      );
    });

    it('the sweep frees a leaked slot (its holder ended) and starts the oldest waiting run with it, logging the queue', async () => {
      const { ledger, handler, starter, log } = await setup(false, 1);
      await starter.start({ name: 'orders-2024-01-16-gone', input: succeeded('').input as RunInput });
      starter.end('orders-2024-01-16-gone', 'FAILED');
      await ledger.takeSlot({ executionName: 'orders-2024-01-16-gone', now: NOW, budget: 1 });
      const run = await waiting(ledger, '17', NOW);
      await waiting(ledger, '18', new Date(NOW.getTime() + 5000));

      const swept = await handler(sweep as never, {} as never);

      expect(swept).toMatchObject({ started: [run.name], waiting: 1, inFlight: 1 });
      expect(await slots(ledger)).toEqual([run.name]);
      const line = log.lines.find((l) => l.message === 'Execution slots swept');
      expect(line?.attributes).toMatchObject({
        waiting: 1,
        oldestWaiting: 'orders-2024-01-18-1818181818181818',
      });
      expect(Number(line?.attributes['oldestWaitingSeconds'])).toBeGreaterThan(0);
    });

    it('starts the follow-up over the budget, saying so, when its predecessor held no slot and none is free', async () => {
      const { ledger, handler, log, starter } = await setup(true, 1);
      await ledger.takeSlot({ executionName: 'orders-2024-01-16-other', now: NOW, budget: 1 });

      await handler(loadEvent('sfn-execution-aborted') as never, {} as never);

      expect(starter.started.map((s) => s.name)).toEqual([followUpRunName(HOLDER)]);
      expect(await slots(ledger)).toEqual([followUpRunName(HOLDER), 'orders-2024-01-16-other'].sort());
      expect(log.lines).toContainEqual(
        expect.objectContaining({
          level: 'warn',
          message: 'Follow-up run started over the execution budget: its predecessor held no slot',
        }),
      );
    });
  });

  describe('an execution that failed without running its failure path (States.Runtime)', () => {
    it('releases the lease, then pages once with the real error, the cause, the state and the lease', async () => {
      const { ledger, handler, alerter } = await setup(false);

      const result = await handler(loadEvent('sfn-execution-failed-runtime') as never, {} as never);

      expect(result).toMatchObject({ lease: 'released', followUp: null, paged: { messageId: 'msg-1' } });
      expect(await ledger.allLeases()).toEqual([]);
      expect(alerter.alerts).toHaveLength(1);
      const [page] = alerter.alerts;
      expect(page?.subject).toBe(
        '[CRITICAL] orders year=2024/month=01/day=15 bronze run failed: States.Runtime',
      );
      expect(page?.attributes).toEqual({
        severity: 'critical',
        kind: 'run-failed',
        dataset: 'orders',
        stage: 'bronze',
      });
      expect(page?.body).toContain(
        'The execution failed in the state "Record bronze results" on States.Runtime, which no Catch handles, so its failure path did not run',
      );
      expect(page?.body).toContain(
        "The JSONPath '$.Payload.stage' specified for the field 'stage.$' could not be found",
      );
      expect(page?.body).toContain('Partition lease:    released');
      expect(page?.body).toContain(
        'arn:aws:states:eu-west-1:123456789012:execution:medallion-prod-pipeline:orders-2024-01-15-0123456789abcdef',
      );
    });

    it('pages for States.DataLimitExceeded too; a state naming no stage is named instead', async () => {
      const { handler, alerter } = await setup(false);
      const event = loadEvent<{ detail: { error: string; cause: string } }>('sfn-execution-failed-runtime');
      event.detail.error = 'States.DataLimitExceeded';
      event.detail.cause =
        "An error occurred while executing the state 'Release partition lease' (entered at the event id #31). The state/task 'Release partition lease' returned a result with a size exceeding the maximum number of bytes service limit.";

      await handler(event as never, {} as never);

      expect(alerter.alerts.map((a) => a.subject)).toEqual([
        '[CRITICAL] orders year=2024/month=01/day=15 pipeline run failed: States.DataLimitExceeded',
      ]);
      expect(alerter.alerts[0]?.body).toContain(
        'RUN FAILED: dataset orders, partition year=2024/month=01/day=15, state Release partition lease',
      );
    });

    it('a page that cannot be published fails the call (the rule retries it); the retry pages once', async () => {
      const { ledger, handler, alerter } = await setup(false);
      alerter.failWith = Object.assign(new Error('KMS key disabled'), { name: 'KMSDisabledException' });

      await expect(
        handler(loadEvent('sfn-execution-failed-runtime') as never, {} as never),
      ).rejects.toMatchObject({ name: 'AlertPublishError' });
      expect(await ledger.allLeases()).toEqual([]);
      alerter.failWith = undefined;
      await handler(loadEvent('sfn-execution-failed-runtime') as never, {} as never);

      expect(alerter.alerts).toHaveLength(1);
      expect(alerter.alerts[0]?.body).toContain('Partition lease:    not held by this run');
    });

    it('an input that names no partition still pages, with what is known', async () => {
      const { handler, alerter } = await setup(false);
      const event = loadEvent<{ detail: { input: string } }>('sfn-execution-failed-runtime');
      event.detail.input = 'not json';

      await handler(event as never, {} as never);

      expect(alerter.alerts.map((a) => a.subject)).toEqual([
        '[CRITICAL] unknown-dataset unknown-partition bronze run failed: States.Runtime',
      ]);
    });

    it.each([
      ['FAILED', 'States.TaskFailed'],
      ['FAILED', 'MalformedTaskOutputError'],
      ['ABORTED', null],
      ['TIMED_OUT', 'States.Timeout'],
    ])('%s with %s: no page (its failure path or its alarm pages)', async (status, error) => {
      const { ledger, handler, alerter } = await setup(false);
      const event = loadEvent<{ detail: { status: string; error: string | null } }>(
        'sfn-execution-failed-runtime',
      );
      event.detail.status = status;
      event.detail.error = error;

      const result = await handler(event as never, {} as never);

      expect(result).toEqual({ lease: 'released', followUp: null, deferredRead: 0 });
      expect(await ledger.allLeases()).toEqual([]);
      expect(alerter.alerts).toEqual([]);
    });
  });
});
