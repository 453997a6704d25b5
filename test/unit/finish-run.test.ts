import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHandler } from '../../functions/finish-run/handler';
import type { LandedObject } from '../../shared/domain/events';
import { followUpRunName } from '../../shared/domain/lease';
import { FileObjectLedger } from '../../shared/local/file-ledger';
import { loadEvent } from '../helpers/fixtures';
import { memoryLog, shippedRegistry } from '../helpers/registry';
import { RecordingStarter } from '../helpers/starters';

const KEY = 'orders/year=2024/month=01/day=15';
const HOLDER = 'orders-2024-01-15-0123456789abcdef';
const NOW = new Date('2024-01-15T10:30:00Z');
const landed: LandedObject = {
  bucket: 'lake',
  key: 'landing/shop/orders/year=2024/month=01/day=15/late.jsonl',
  size: 700,
  eventTime: '2024-01-15T10:29:00Z',
  objectId: 'lake/landing/shop/orders/year=2024/month=01/day=15/late.jsonl#s:9',
};

async function setup(withDeferred: boolean) {
  const ledger = new FileObjectLedger(join(mkdtempSync(join(tmpdir(), 'finish-')), 'ledger.json'));
  await ledger.acquireLease(KEY, HOLDER, NOW, 3_600_000);
  if (withDeferred) {
    await ledger.claim([landed.objectId], 'orders-2024-01-15-other', NOW);
    await ledger.deferToFollowUp({
      partitionKey: KEY,
      holder: HOLDER,
      followUpName: followUpRunName(HOLDER),
      claimedBy: 'orders-2024-01-15-other',
      objects: [landed],
      now: NOW,
    });
  }
  const starter = new RecordingStarter();
  const log = memoryLog();
  const handler = createHandler(() => ({
    registry: shippedRegistry(),
    leases: ledger,
    starter,
    log,
  }));
  return { ledger, starter, handler, log };
}

describe('finish-run', () => {
  it('releases the lease of an aborted execution from its EventBridge status change', async () => {
    const { ledger, handler } = await setup(false);

    const result = await handler(loadEvent('sfn-execution-aborted') as never, {} as never);

    expect(result).toEqual({ lease: 'released', followUp: null });
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
    });
    expect(again).toEqual({ lease: 'not-held', followUp: null });
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

  it('releases nothing for an execution whose input names no partition (it never took a lease), and says why', async () => {
    const { ledger, handler, log } = await setup(false);
    const event = loadEvent<{ detail: { input: string } }>('sfn-execution-aborted');
    event.detail.input = '{"hello":1}';

    const result = await handler(event as never, {} as never);

    expect(result).toEqual({ lease: 'not-held', followUp: null });
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

    expect(first).toEqual({ lease: 'released', followUp: null });
    expect(second).toEqual({ lease: 'not-held', followUp: null });
    expect(await ledger.allLeases()).toEqual([]);
  });
});
