import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateDatabaseCommand,
  CreateTableCommand,
  GetPartitionsCommand,
  GlueClient,
} from '@aws-sdk/client-glue';
import { GluePartitionCatalog } from '../../shared/aws/glue-catalog';
import { loadRegistry } from '../../shared/config/registry';
import { recordStage, type RecordStageInput } from '../../shared/core/record-stage';
import { isIcebergTable } from '../../shared/domain/cdc';
import { makeRegistry, type Dataset } from '../../shared/domain/datasets';
import { InvalidManifestError } from '../../shared/domain/pipeline-errors';
import type { PartitionCatalog } from '../../shared/ports';
import { FileCatalog } from '../../local/system-store';
import { memoryLog } from '../helpers/registry';
import { useMoto } from '../helpers/moto';
import { MemoryManifests, MemoryMetrics } from '../state-machines/harness';

/**
 * The registration step and Iceberg tables, one rule on both catalogs (the local catalog file and the
 * Glue Data Catalog on moto server): a CDC dataset's silver is an Iceberg table with no partitions,
 * so a CDC silver run registers only its quarantine partition, and a manifest that names a partition
 * of the Iceberg table is refused (naming the field) before anything is registered.
 */

const moto = useMoto();
const CDC_DATASETS = join(process.cwd(), 'test', 'glue', 'cdc', 'datasets');
const customers = loadRegistry(CDC_DATASETS).get('customers');
const RUN_ID = 'customers-2024-03-02-abc';
const LOCATION = `s3://lake/_manifests/customers/silver/${RUN_ID}.json`;
const QUARANTINE = 's3://lake/quarantine/customers/dt=2024-03-02/';

const input: RecordStageInput = {
  stage: 'silver',
  dataset: 'customers',
  partitionPath: 'dt=2024-03-02',
  partitionValues: ['2024-03-02'],
  runId: RUN_ID,
  manifestLocation: LOCATION,
  jobRun: { Id: 'jr_1', JobName: 'medallion-silver', JobRunState: 'SUCCEEDED' },
};

/** A CDC silver run's manifest as the jobs write it: the quarantine partition, no silver partition. */
const manifest = (outputPartitions: Array<{ table: string; location: string }>) =>
  JSON.stringify({
    version: 1,
    dataset: 'customers',
    stage: 'silver',
    runId: RUN_ID,
    jobRunId: 'jr_1',
    startedAt: '2024-03-02T10:00:00.000Z',
    completedAt: '2024-03-02T10:01:00.000Z',
    recordsIn: 10,
    recordsOut: 8,
    recordsQuarantined: 2,
    outputPartitions: outputPartitions.map((p) => ({ ...p, values: ['2024-03-02'] })),
    quarantineLocation: QUARANTINE,
  });

interface Side {
  catalog: PartitionCatalog;
  dataset: Dataset;
  /** The partition values registered in a table of the dataset. */
  partitions: (table: string) => Promise<ReadonlyArray<readonly string[]>>;
}

const local = async (): Promise<Side> => {
  const catalog = new FileCatalog(join(mkdtempSync(join(tmpdir(), 'iceberg-reg-')), 'catalog.json'));
  return {
    catalog,
    dataset: customers,
    partitions: async (table) =>
      catalog
        .all()
        .filter((e) => e.database === customers.catalog.database && e.table === table)
        .map((e) => e.values),
  };
};

const glue = async (): Promise<Side> => {
  const client = new GlueClient(moto().clientConfig);
  const database = `conformance_${process.pid}_${Date.now()}`;
  await client.send(new CreateDatabaseCommand({ DatabaseInput: { Name: database } }));
  for (const zone of ['silver', 'quarantine'] as const) {
    await client.send(
      new CreateTableCommand({
        DatabaseName: database,
        TableInput: {
          Name: customers.catalog.tables[zone],
          StorageDescriptor: {
            Columns: [{ Name: 'customer_id', Type: 'string' }],
            Location: `s3://lake/${zone}/customers/`,
          },
          PartitionKeys: isIcebergTable(customers, zone) ? [] : [{ Name: 'dt', Type: 'string' }],
        },
      }),
    );
  }
  const dataset = { ...customers, catalog: { ...customers.catalog, database } };
  return {
    catalog: new GluePartitionCatalog(client),
    dataset,
    partitions: async (table) =>
      (
        (await client.send(new GetPartitionsCommand({ DatabaseName: database, TableName: table })))
          .Partitions ?? []
      ).map((p) => p.Values ?? []),
  };
};

describe.each<[string, () => Promise<Side>]>([
  ['local catalog file', local],
  ['Glue Data Catalog (moto server)', glue],
])('registering a CDC silver run: %s', (_name, make) => {
  const deps = (side: Side, text: string) => {
    const manifests = new MemoryManifests();
    manifests.objects.set(LOCATION, text);
    const metrics = new MemoryMetrics([]);
    return {
      registry: makeRegistry([side.dataset]),
      manifests,
      catalog: side.catalog,
      metrics,
      baseline: metrics,
      log: memoryLog(),
    };
  };

  it('registers the quarantine partition and nothing in the Iceberg table', async () => {
    const side = await make();

    const result = await recordStage(
      input,
      deps(side, manifest([{ table: 'customers_quarantine', location: QUARANTINE }])),
    );

    expect(result.partitions).toMatchObject({ created: 1, updated: 0 });
    expect(await side.partitions('customers_quarantine')).toEqual([['2024-03-02']]);
    expect(await side.partitions('customers_silver')).toEqual([]);
  });

  it('refuses a manifest naming a partition of the Iceberg table, registering nothing', async () => {
    const side = await make();
    const text = manifest([
      { table: 'customers_silver', location: 's3://lake/silver/customers/dt=2024-03-02/' },
      { table: 'customers_quarantine', location: QUARANTINE },
    ]);

    const run = recordStage(input, deps(side, text));

    await expect(run).rejects.toThrow(InvalidManifestError);
    await expect(run).rejects.toThrow(
      /outputPartitions\[0\]\.table: "customers_silver" is an Iceberg table .* no partitions to register/,
    );
    expect(await side.partitions('customers_silver')).toEqual([]);
    expect(await side.partitions('customers_quarantine')).toEqual([]);
  });
});
