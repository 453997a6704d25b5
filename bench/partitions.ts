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
import { fmt, medianOf, repeat, timed, type BenchRow, type Suite } from './lib';
import { STUB_CLIENT_CONFIG } from './sdk-stub';

/**
 * Partition registration through the issue-3 catalog adapter (GluePartitionCatalog, mocked GlueClient)
 * against the naive way: one CreatePartition per partition.
 */

const SIZES = [1, 100, 1_000] as const;
const RUNS = 5;
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
  wallMs: number;
  getTable: number;
  batchCreate: number;
  batchUpdate: number;
  create: number;
  total: number;
  created: number;
  updated: number;
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
  const calls = () => ({
    getTable: mock.commandCalls(GetTableCommand).length,
    batchCreate: mock.commandCalls(BatchCreatePartitionCommand).length,
    batchUpdate: mock.commandCalls(BatchUpdatePartitionCommand).length,
    create: mock.commandCalls(CreatePartitionCommand).length,
    total: mock.calls().length,
  });
  return { client, mock, calls };
}

/** Registers `n` partitions twice on one adapter: a cold container (descriptor lookup) then a warm one. */
async function ours(n: number, existing: 'none' | 'all'): Promise<{ cold: Calls; warm: Calls }> {
  const { client, mock, calls } = glue(existing);
  const catalog = new GluePartitionCatalog(client);
  const specs = partitions(n);
  const first = await timed(() =>
    catalog.registerPartitions({ database: DATABASE, table: TABLE, partitions: specs }),
  );
  const cold = { wallMs: first.wallMs, ...calls(), ...first.result };
  mock.resetHistory();
  const second = await timed(() =>
    catalog.registerPartitions({ database: DATABASE, table: TABLE, partitions: specs }),
  );
  const warm = { wallMs: second.wallMs, ...calls(), ...second.result };
  mock.restore();
  return { cold, warm };
}

async function naive(n: number): Promise<Calls> {
  const { client, mock, calls } = glue('none');
  const { result, wallMs } = await timed(() => naiveRegister(client, partitions(n)));
  const out = { wallMs, ...calls(), created: result, updated: 0 };
  mock.restore();
  return out;
}

const med = (samples: readonly Calls[]): Calls => ({
  wallMs: medianOf(samples, (s) => s.wallMs),
  getTable: medianOf(samples, (s) => s.getTable),
  batchCreate: medianOf(samples, (s) => s.batchCreate),
  batchUpdate: medianOf(samples, (s) => s.batchUpdate),
  create: medianOf(samples, (s) => s.create),
  total: medianOf(samples, (s) => s.total),
  created: medianOf(samples, (s) => s.created),
  updated: medianOf(samples, (s) => s.updated),
});

export const partitionsSuite: Suite = {
  name: 'partitions',
  async run(): Promise<BenchRow[]> {
    const rows: BenchRow[] = [];
    for (const n of SIZES) {
      const fresh = await repeat(RUNS, () => ours(n, 'none'));
      const rerun = await repeat(RUNS, () => ours(n, 'all'));
      const cold = med(fresh.map((r) => r.cold));
      const warm = med(fresh.map((r) => r.warm));
      const again = med(rerun.map((r) => r.warm));
      const base = med(await repeat(RUNS, () => naive(n)));
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
        runs: RUNS,
      });
    }
    return rows;
  },
};
