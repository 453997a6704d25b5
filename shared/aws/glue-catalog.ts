import {
  BatchCreatePartitionCommand,
  BatchUpdatePartitionCommand,
  GetTableCommand,
  GlueClient,
  type PartitionInput,
  type StorageDescriptor,
} from '@aws-sdk/client-glue';
import { chunk } from '../domain/chunk';
import { describeError } from '../domain/errors';
import {
  CatalogTableError,
  PartitionRegistrationError,
  type PartitionFailure,
} from '../domain/pipeline-errors';
import type { PartitionCatalog, PartitionSpec, RegisteredPartitions } from '../ports';

/** BatchCreatePartition and BatchUpdatePartition accept at most 100 partitions per call. */
export const PARTITION_BATCH = 100;
const ALREADY_EXISTS = 'AlreadyExistsException';

const key = (values: readonly string[]) => JSON.stringify(values);

/**
 * Partitions in the Glue Data Catalog. Each partition gets the table's StorageDescriptor (formats,
 * SerDe, columns) with its own Location. BatchCreatePartition reports per-partition failures in
 * `Errors` instead of throwing: existing ones are updated, any other failure is collected and
 * reported at the end, naming every partition.
 */
export class GluePartitionCatalog implements PartitionCatalog {
  private readonly descriptors = new Map<string, StorageDescriptor>();

  constructor(private readonly client: GlueClient = new GlueClient({ maxAttempts: 6 })) {}

  private async descriptor(database: string, table: string): Promise<StorageDescriptor> {
    const cacheKey = `${database}.${table}`;
    let sd = this.descriptors.get(cacheKey);
    if (!sd) {
      let out;
      try {
        out = await this.client.send(new GetTableCommand({ DatabaseName: database, Name: table }));
      } catch (error) {
        const { name, message } = describeError(error);
        throw new CatalogTableError(database, table, `${name}: ${message}`, { cause: error });
      }
      if (!out.Table?.StorageDescriptor) {
        throw new CatalogTableError(database, table, 'the table has no StorageDescriptor to copy');
      }
      sd = out.Table.StorageDescriptor;
      this.descriptors.set(cacheKey, sd);
    }
    return sd;
  }

  async registerPartitions(request: {
    database: string;
    table: string;
    partitions: readonly PartitionSpec[];
  }): Promise<RegisteredPartitions> {
    const { database, table } = request;
    if (request.partitions.length === 0) return { created: 0, updated: 0 };
    const sd = await this.descriptor(database, table);
    // The same partition twice in one request would fail as AlreadyExists against itself.
    const unique = [...new Map(request.partitions.map((p) => [key(p.values), p])).values()];
    const input = (p: PartitionSpec): PartitionInput => ({
      Values: [...p.values],
      StorageDescriptor: { ...sd, Location: p.location },
    });

    let created = 0;
    let updated = 0;
    const failures: PartitionFailure[] = [];
    const existing: PartitionSpec[] = [];
    for (const batch of chunk(unique, PARTITION_BATCH)) {
      const out = await this.client.send(
        new BatchCreatePartitionCommand({
          DatabaseName: database,
          TableName: table,
          PartitionInputList: batch.map(input),
        }),
      );
      const errors = out.Errors ?? [];
      const failed = new Set<string>();
      for (const e of errors) {
        const values = e.PartitionValues ?? [];
        failed.add(key(values));
        const code = e.ErrorDetail?.ErrorCode ?? 'UnknownError';
        if (code === ALREADY_EXISTS) {
          const spec = batch.find((p) => key(p.values) === key(values));
          if (spec) existing.push(spec);
        } else {
          failures.push({ table, values, code, message: e.ErrorDetail?.ErrorMessage ?? '' });
        }
      }
      created += batch.filter((p) => !failed.has(key(p.values))).length;
    }

    for (const batch of chunk(existing, PARTITION_BATCH)) {
      const out = await this.client.send(
        new BatchUpdatePartitionCommand({
          DatabaseName: database,
          TableName: table,
          Entries: batch.map((p) => ({ PartitionValueList: [...p.values], PartitionInput: input(p) })),
        }),
      );
      const errors = out.Errors ?? [];
      for (const e of errors) {
        failures.push({
          table,
          values: e.PartitionValueList ?? [],
          code: e.ErrorDetail?.ErrorCode ?? 'UnknownError',
          message: e.ErrorDetail?.ErrorMessage ?? '',
        });
      }
      updated += batch.length - errors.length;
    }

    if (failures.length > 0) throw new PartitionRegistrationError(database, failures);
    return { created, updated };
  }
}
