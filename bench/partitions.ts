import {
  BatchCreatePartitionCommand,
  BatchUpdatePartitionCommand,
  CreatePartitionCommand,
  GetTableCommand,
  GlueClient,
  type BatchCreatePartitionCommandInput,
  type StorageDescriptor,
} from '@aws-sdk/client-glue';
import { mockClient } from 'aws-sdk-client-mock';
import { GluePartitionCatalog } from '../shared/aws/glue-catalog';
import type { PartitionSpec } from '../shared/ports';
import { fmt, measure, type BenchRow, type Suite } from './lib';
import { STUB_CLIENT_CONFIG } from './sdk-stub';

/**
 * Partition registration through the issue-3 catalog adapter (GluePartitionCatalog, mocked GlueClient)
 * against the naive way: one CreatePartition per partition.
 */

const SIZES = [1, 100, 1_000] as const;
/** Wall times: tinybench, median of 10 calls after 2 warm-ups. */
const TIMING = { iterations: 10, warmup: 2, clock: 'wall' } as const;
const DATABASE = 'shop_lake';
const TABLE = 'orders_silver';
const TABLE_SD: StorageDescriptor = {
  Columns: [{ Name: 'order_id', Type: 'string' }],
  InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
  SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
  Location: 's3://lake/silver/orders/',
};

const partitions = (n: number): PartitionSpec[] =>
  Array.from({ length: n }, (_, i) => {
    const values = new Date(Date.UTC(2024, 0, 1) + i * 86_400_000).toISOString().slice(0, 10).split('-');
    return {
      values,
      location: `s3://lake/silver/orders/year=${values[0]}/month=${values[1]}/day=${values[2]}/`,
    };
  });

/** The baseline: the table's descriptor once, then one CreatePartition per partition. */
export async function naiveRegister(client: GlueClient, specs: readonly PartitionSpec[]): Promise<number> {
  const table = await client.send(new GetTableCommand({ DatabaseName: DATABASE, Name: TABLE }));
  for (const p of specs) {
    await client.send(
      new CreatePartitionCommand({
        DatabaseName: DATABASE,
        TableName: TABLE,
        PartitionInput: {
          Values: [...p.values],
          StorageDescriptor: { ...table.Table?.StorageDescriptor, Location: p.location },
        },
      }),
    );
  }
  return specs.length;
}

interface Calls {
  getTable: number;
  batchCreate: number;
  batchUpdate: number;
  create: number;
  total: number;
}

function glue(existing: 'none' | 'all') {
  const client = new GlueClient(STUB_CLIENT_CONFIG);
  const mock = mockClient(client);
  mock
    .on(GetTableCommand)
    .resolves({ Table: { Name: TABLE, DatabaseName: DATABASE, StorageDescriptor: TABLE_SD } });
  mock.on(BatchCreatePartitionCommand).callsFake((input: BatchCreatePartitionCommandInput) => ({
    Errors:
      existing === 'all'
        ? (input.PartitionInputList ?? []).map((p) => ({
            PartitionValues: p.Values,
            ErrorDetail: { ErrorCode: 'AlreadyExistsException', ErrorMessage: 'Partition already exists.' },
          }))
        : [],
  }));
  mock.on(BatchUpdatePartitionCommand).resolves({ Errors: [] });
  mock.on(CreatePartitionCommand).resolves({});
  /** The calls made since the last `calls()`. */
  const calls = (): Calls => {
    const out = {
      getTable: mock.commandCalls(GetTableCommand).length,
      batchCreate: mock.commandCalls(BatchCreatePartitionCommand).length,
      batchUpdate: mock.commandCalls(BatchUpdatePartitionCommand).length,
      create: mock.commandCalls(CreatePartitionCommand).length,
      total: mock.calls().length,
    };
    mock.resetHistory();
    return out;
  };
  return { client, mock, calls };
}

/**
 * Calls (exact: counted once) of registering `n` partitions twice on one adapter, a cold container
 * (descriptor lookup) then a warm one, and the median wall time of a warm registration (tinybench).
 */
async function ours(n: number, existing: 'none' | 'all') {
  const { client, mock, calls } = glue(existing);
  const catalog = new GluePartitionCatalog(client);
  const request = { database: DATABASE, table: TABLE, partitions: partitions(n) };
  const cold = { ...(await catalog.registerPartitions(request)), ...calls() };
  const warm = { ...(await catalog.registerPartitions(request)), ...calls() };
  const { medianMs } = await measure({ run: () => catalog.registerPartitions(request) }, TIMING);
  mock.restore();
  return { cold, warm: { ...warm, wallMs: medianMs } };
}

async function naive(n: number) {
  const { client, mock, calls } = glue('none');
  const specs = partitions(n);
  const created = await naiveRegister(client, specs);
  const counted = calls();
  const { medianMs } = await measure({ run: () => naiveRegister(client, specs) }, TIMING);
  mock.restore();
  return { ...counted, created, wallMs: medianMs };
}

export const partitionsSuite: Suite = {
  name: 'partitions',
  async run(): Promise<BenchRow[]> {
    const rows: BenchRow[] = [];
    for (const n of SIZES) {
      const { cold, warm } = await ours(n, 'none');
      const { warm: again } = await ours(n, 'all');
      const base = await naive(n);
      const target = Math.ceil(n / 100);
      rows.push({
        benchmark: 'partition registration',
        case: `${fmt(n)} partition${n === 1 ? '' : 's'}`,
        measured:
          `${fmt(warm.total)} Glue call${warm.total === 1 ? '' : 's'} (BatchCreatePartition) when the table descriptor is cached, ` +
          `${fmt(cold.total)} on a cold container (+1 GetTable); ${fmt(warm.wallMs, 1)} ms; ` +
          `all ${fmt(n)} already registered (replay): ${fmt(again.total)} calls (${fmt(again.batchCreate)} create + ${fmt(again.batchUpdate)} update)`,
        baseline: `one CreatePartition per partition: ${fmt(base.total)} Glue calls (${fmt(base.create)} CreatePartition + 1 GetTable); ${fmt(base.wallMs, 1)} ms`,
        target: `⌈P/100⌉ = ${target} registration call${target === 1 ? '' : 's'}`,
        met:
          warm.total === target && cold.batchCreate === target && cold.created === n && again.updated === n,
        values: { partitions: n, cold, warm, alreadyRegistered: again },
        baselineValues: { naive: base },
        runs: TIMING.iterations,
      });
    }
    return rows;
  },
};
