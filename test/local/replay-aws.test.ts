import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  ListExecutionsCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import type { RunInput } from '../../shared/domain/run';
import { runCliCaptured } from '../helpers/cli';
import { dynamoLedgerOn } from '../helpers/ledgers';
import { useMoto } from '../helpers/moto';

/**
 * `medallion replay --state-machine-arn …` (the AWS form), run in-process as a user runs it, against
 * DynamoDB and Step Functions on moto server over HTTP. The CLI builds its SDK clients as on AWS (the
 * region from the state machine's ARN); they find moto through AWS_ENDPOINT_URL, the SDK's own
 * configurable endpoint setting, as they would find any endpoint. moto's executions stay RUNNING
 * (it does not run the definition): each replay holds its slot.
 */

const moto = useMoto();
const saved = {
  AWS_ENDPOINT_URL: process.env['AWS_ENDPOINT_URL'],
  AWS_ACCESS_KEY_ID: process.env['AWS_ACCESS_KEY_ID'],
  AWS_SECRET_ACCESS_KEY: process.env['AWS_SECRET_ACCESS_KEY'],
  AWS_EC2_METADATA_DISABLED: process.env['AWS_EC2_METADATA_DISABLED'],
};
let sfn: SFNClient;
beforeAll(() => {
  process.env['AWS_ENDPOINT_URL'] = moto().endpoint;
  process.env['AWS_ACCESS_KEY_ID'] = 'test';
  process.env['AWS_SECRET_ACCESS_KEY'] = 'test';
  process.env['AWS_EC2_METADATA_DISABLED'] = 'true';
  sfn = new SFNClient({ ...moto().clientConfig, maxAttempts: 1 });
});
afterAll(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

/** A stage as deployed: `medallion-<stage>-pipeline` and its ledger table (`medallion-<stage>-ledger` unless named). */
async function stage(name: string, table = `medallion-${name}-ledger`) {
  const { ledger } = await dynamoLedgerOn(moto(), table);
  const created = await sfn.send(
    new CreateStateMachineCommand({
      name: `medallion-${name}-pipeline`,
      roleArn: 'arn:aws:iam::123456789012:role/medallion',
      definition: JSON.stringify({
        StartAt: 'Wait',
        States: { Wait: { Type: 'Wait', Seconds: 3600, End: true } },
      }),
    }),
  );
  const arn = created.stateMachineArn ?? '';
  const executions = async () =>
    (await sfn.send(new ListExecutionsCommand({ stateMachineArn: arn }))).executions ?? [];
  const inputOf = async (executionArn: string) =>
    JSON.parse((await sfn.send(new DescribeExecutionCommand({ executionArn }))).input ?? 'null') as RunInput;
  return { ledger, arn, executions, inputOf };
}

const replay = (arn: string, ...more: string[]) => [
  'replay',
  '--dataset',
  'orders',
  '--stage',
  'silver',
  '--state-machine-arn',
  arn,
  ...more,
];

describe('medallion replay on AWS (DynamoDB and Step Functions on moto server)', () => {
  test('starts one execution per partition, each holding a slot of the budget the stack recorded in its ledger', async () => {
    const { ledger, arn, executions, inputOf } = await stage('replaya');
    // The stack's functions record the budget with every slot they take.
    await ledger.takeSlot({ executionName: 'earlier-run', now: new Date(), budget: 5 });
    await ledger.releaseSlot('earlier-run');

    const result = await runCliCaptured(replay(arn, '--from', '2024-01-01', '--to', '2024-01-03', '--json'));

    expect(result).toMatchObject({ code: 0, err: '' });
    const { started } = JSON.parse(result.out) as {
      started: Array<{ name: string; outcome: string; partition: string }>;
    };
    expect(started.map((s) => [s.partition, s.outcome])).toEqual([
      ['year=2024/month=01/day=01', 'started'],
      ['year=2024/month=01/day=02', 'started'],
      ['year=2024/month=01/day=03', 'started'],
    ]);
    const onAws = await executions();
    expect(onAws.map((e) => e.name).sort()).toEqual(started.map((s) => s.name).sort());
    const first = onAws.find((e) => e.name === started[0]?.name);
    expect(await inputOf(first?.executionArn ?? '')).toMatchObject({
      dataset: 'orders',
      trigger: 'replay',
      fromStage: 'silver',
      partitionPath: 'year=2024/month=01/day=01',
      partitionValues: ['2024', '01', '01'],
    });
    expect((await ledger.readSlots()).holders.map((h) => h.executionName).sort()).toEqual(
      started.map((s) => s.name).sort(),
    );
  }, 60_000);

  test('waits while every slot is held, saying so, and starts once a slot is freed', async () => {
    const { ledger, arn, executions } = await stage('replayb');
    await ledger.takeSlot({ executionName: 'running-run', now: new Date(), budget: 1 });

    const running = runCliCaptured(replay(arn, '--partition', 'year=2024/month=01/day=15'));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const whileFull = await executions();
    await ledger.releaseSlot('running-run');
    const result = await running;

    expect(whileFull).toEqual([]);
    expect(result.code).toBe(0);
    expect(result.out).toContain('waiting for an execution slot: 1 of 1 executions in flight');
    expect(result.out).toMatch(/\[1\/1\] started orders-2024-01-15-replay-silver-/);
    const started = await executions();
    expect(started).toHaveLength(1);
    expect((await ledger.readSlots()).holders.map((h) => h.executionName)).toEqual([started[0]?.name]);
  }, 60_000);

  test('--ledger-table names the table; with no budget recorded there and none given, it stops naming the table', async () => {
    const { ledger, arn, executions } = await stage('replayc', 'acme-ledger');

    const refused = await runCliCaptured(
      replay(arn, '--partition', 'year=2024/month=01/day=15', '--ledger-table', 'acme-ledger'),
    );
    const refusedExecutions = await executions();
    const given = await runCliCaptured(
      replay(
        arn,
        '--partition',
        'year=2024/month=01/day=15',
        '--ledger-table',
        'acme-ledger',
        '--execution-budget',
        '2',
      ),
    );

    expect(refused.code).toBe(2);
    expect(refused.err).toContain('no execution budget is recorded in acme-ledger yet');
    expect(refusedExecutions).toEqual([]);
    expect(given.code).toBe(0);
    const started = await executions();
    expect(started).toHaveLength(1);
    expect(await ledger.readSlots()).toMatchObject({
      budget: 2,
      holders: [{ executionName: started[0]?.name }],
    });
  }, 60_000);
});
