import {
  BatchCreatePartitionCommand,
  BatchUpdatePartitionCommand,
  GetTableCommand,
  GlueClient,
} from '@aws-sdk/client-glue';
import { mockClient } from 'aws-sdk-client-mock';
import { GluePartitionCatalog } from '../../shared/aws/glue-catalog';
import { PartitionRegistrationError } from '../../shared/domain/pipeline-errors';

const glueMock = mockClient(GlueClient);
const TABLE_SD = {
  Columns: [{ Name: 'order_id', Type: 'string' }],
  InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
  SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
  Location: 's3://lake/silver/orders/',
};

const partitions = (n: number) =>
  Array.from({ length: n }, (_, i) => {
    const day = new Date(Date.UTC(2024, 0, 1) + i * 86_400_000).toISOString().slice(0, 10).split('-');
    return {
      values: day,
      location: `s3://lake/silver/orders/year=${day[0]}/month=${day[1]}/day=${day[2]}/`,
    };
  });

beforeEach(() => {
  glueMock.reset();
  glueMock.on(GetTableCommand).resolves({ Table: { Name: 'orders_silver', StorageDescriptor: TABLE_SD } });
  glueMock.on(BatchCreatePartitionCommand).resolves({ Errors: [] });
  glueMock.on(BatchUpdatePartitionCommand).resolves({ Errors: [] });
});

const catalog = () => new GluePartitionCatalog(new GlueClient({ region: 'eu-west-1' }));

/** Per-partition errors moto cannot produce; the rest runs on moto server in test/contract/aws-adapters.test.ts. */
describe('Glue partition catalog', () => {
  it('updates partitions that already exist, and fails naming every partition with another error', async () => {
    const input = partitions(5);
    glueMock.on(BatchCreatePartitionCommand).resolves({
      Errors: [
        {
          PartitionValues: input[1]?.values,
          ErrorDetail: { ErrorCode: 'AlreadyExistsException', ErrorMessage: 'exists' },
        },
        {
          PartitionValues: input[3]?.values,
          ErrorDetail: { ErrorCode: 'AlreadyExistsException', ErrorMessage: 'exists' },
        },
        {
          PartitionValues: input[4]?.values,
          ErrorDetail: { ErrorCode: 'InvalidInputException', ErrorMessage: 'bad location' },
        },
      ],
    });

    const attempt = catalog().registerPartitions({
      database: 'shop_lake',
      table: 'orders_silver',
      partitions: input,
    });

    await expect(attempt).rejects.toThrow(PartitionRegistrationError);
    await expect(attempt).rejects.toThrow(
      'Could not register 1 partition(s) in shop_lake: orders_silver (2024, 01, 05): InvalidInputException: bad location',
    );
    const updates = glueMock.commandCalls(BatchUpdatePartitionCommand).map((c) => c.args[0].input);
    expect(updates).toHaveLength(1);
    expect(updates[0]?.Entries?.map((e) => e.PartitionValueList)).toEqual([
      input[1]?.values,
      input[3]?.values,
    ]);
    expect(updates[0]?.Entries?.[0]?.PartitionInput?.StorageDescriptor?.Location).toBe(input[1]?.location);
  });

  it('reports created and updated counts, and names a partition whose update fails', async () => {
    const input = partitions(3);
    glueMock.on(BatchCreatePartitionCommand).resolves({
      Errors: input.map((p) => ({
        PartitionValues: p.values,
        ErrorDetail: { ErrorCode: 'AlreadyExistsException' },
      })),
    });
    glueMock.on(BatchUpdatePartitionCommand).resolvesOnce({ Errors: [] });

    const ok = await catalog().registerPartitions({
      database: 'shop_lake',
      table: 'orders_silver',
      partitions: input,
    });
    glueMock.on(BatchUpdatePartitionCommand).resolves({
      Errors: [
        {
          PartitionValueList: input[2]?.values,
          ErrorDetail: { ErrorCode: 'EntityNotFoundException', ErrorMessage: 'gone' },
        },
      ],
    });
    const failing = catalog().registerPartitions({
      database: 'shop_lake',
      table: 'orders_silver',
      partitions: input,
    });

    expect(ok).toEqual({ created: 0, updated: 3 });
    await expect(failing).rejects.toThrow('orders_silver (2024, 01, 03): EntityNotFoundException: gone');
  });
});
