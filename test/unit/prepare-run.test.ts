import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareRun } from '../../shared/core/run-lease';
import { leaseTtlMs } from '../../shared/domain/lease';
import { InvalidRunInputError, PartitionBusyError } from '../../shared/domain/pipeline-errors';
import { FileObjectLedger } from '../../local/file-ledger';
import { memoryLog, shippedRegistry } from '../helpers/registry';
import { ordersInput } from '../state-machines/harness';

const NOW = new Date('2024-01-15T10:30:00Z');
const deps = () => ({
  registry: shippedRegistry(),
  leases: new FileObjectLedger(join(mkdtempSync(join(tmpdir(), 'prepare-')), 'ledger.json')),
  lakeRoot: 'file:///srv/lake',
  plansLocation: 'file:///srv/lake/_system/plans',
  log: memoryLog(),
  now: () => NOW,
});

describe('prepare-run', () => {
  it('plans every stage with the contract arguments, the dataset extras and the lease expiry', async () => {
    const state = await prepareRun({ executionName: 'orders-2024-01-15-abc', input: ordersInput() }, deps());

    expect(state.run).toMatchObject({
      runId: 'orders-2024-01-15-abc',
      fromStage: 'bronze',
      partitionKey: 'orders/year=2024/month=01/day=15',
      // The state machine's worst case for the shipped datasets plus the start grace.
      leaseExpiresAt: new Date(NOW.getTime() + leaseTtlMs(shippedRegistry().datasets)).toISOString(),
    });
    expect(state.run.jobs.bronze).toEqual({
      jobName: 'medallion-bronze',
      timeoutMinutes: 30,
      manifestLocation: 'file:///srv/lake/_manifests/orders/bronze/orders-2024-01-15-abc.json',
      arguments: {
        '--dataset': 'orders',
        '--stage': 'bronze',
        '--run_id': 'orders-2024-01-15-abc',
        '--partition_path': 'year=2024/month=01/day=15',
        '--partition_values': '["2024","01","15"]',
        '--source_location': 'file:///srv/lake/landing/shop/orders/year=2024/month=01/day=15/',
        '--target_location': 'file:///srv/lake/bronze/orders/year=2024/month=01/day=15/',
        '--quarantine_location': 'file:///srv/lake/quarantine/orders/year=2024/month=01/day=15/',
        '--manifest_location': 'file:///srv/lake/_manifests/orders/bronze/orders-2024-01-15-abc.json',
        '--dataset_plan': 'file:///srv/lake/_system/plans/orders.json',
        '--catalog_database': 'shop_lake',
      },
    });
    expect(state.run.jobs.gold.arguments['--enable-auto-scaling']).toBe('true');
    expect(state).toMatchObject({ dataset: 'orders', jobRuns: {}, results: {} });
  });

  it('refuses a second run of a leased partition with PartitionBusyError naming the holder', async () => {
    const d = deps();
    await prepareRun({ executionName: 'orders-2024-01-15-first', input: ordersInput() }, d);

    const second = prepareRun({ executionName: 'orders-2024-01-15-second', input: ordersInput() }, d);

    await expect(second).rejects.toThrow(PartitionBusyError);
    await expect(second).rejects.toThrow(
      'Partition orders/year=2024/month=01/day=15 is being processed by run orders-2024-01-15-first',
    );
  });

  it('names what is wrong with a bad execution input', async () => {
    await expect(
      prepareRun(
        {
          executionName: 'x',
          input: { ...ordersInput(), fromStage: 'platinum' as never, partitionPath: undefined as never },
        },
        deps(),
      ),
    ).rejects.toThrow(
      'Invalid execution input: partitionPath: expected a hive path like year=…/month=…/day=…, got undefined; fromStage: expected one of bronze, silver, gold, got "platinum"',
    );
    await expect(
      prepareRun({ executionName: 'x', input: ordersInput({ partitionPath: 'year=2024/month=01' }) }, deps()),
    ).rejects.toThrow(InvalidRunInputError);
    await expect(
      prepareRun({ executionName: 'x', input: ordersInput({ dataset: 'invoices' }) }, deps()),
    ).rejects.toThrow(
      new InvalidRunInputError(
        `Invalid execution input: dataset: unknown dataset "invoices" (known: ${shippedRegistry()
          .datasets.map((d) => d.name)
          .join(', ')})`,
      ),
    );
  });
});
