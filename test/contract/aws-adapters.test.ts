import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { AwsQueryProtocol } from '@aws-sdk/core/protocols';
import {
  CreateDatabaseCommand,
  CreateTableCommand,
  GetPartitionCommand,
  GlueClient,
} from '@aws-sdk/client-glue';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateStateMachineCommand,
  ListExecutionsCommand,
  SFNClient,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { CloudWatchMetrics } from '../../shared/aws/cloudwatch-metrics';
import { GluePartitionCatalog } from '../../shared/aws/glue-catalog';
import { S3ManifestStore } from '../../shared/aws/s3-manifests';
import { SfnRunStarter } from '../../shared/aws/sfn-run-starter';
import { SnsAlerter } from '../../shared/aws/sns-alerter';
import { CatalogTableError } from '../../shared/domain/pipeline-errors';
import type { RunInput } from '../../shared/domain/run';
import { FileCatalog, FileManifestStore, FileMetrics } from '../../local/system-store';
import type {
  ManifestStore,
  MetricsReader,
  MetricsSink,
  PartitionCatalog,
  StageMetrics,
} from '../../shared/ports';
import { useMoto } from '../helpers/moto';

/**
 * The other AWS adapters against real APIs over HTTP (moto server, real SDK v3 clients), in the same
 * contract style as the ledger: where a local twin exists, the same cases run against both.
 */

const moto = useMoto();
let n = 0;
const unique = (prefix: string) => `${prefix}-${process.pid}-${++n}`;
const tmp = () => mkdtempSync(join(tmpdir(), 'adapters-'));

const TABLE_SD = {
  Columns: [{ Name: 'order_id', Type: 'string' }],
  InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
  SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
  Location: 's3://lake/silver/orders/',
};
const partitions = (count: number, from = 0) =>
  Array.from({ length: count }, (_, i) => {
    const day = new Date(Date.UTC(2024, 0, 1) + (from + i) * 86_400_000)
      .toISOString()
      .slice(0, 10)
      .split('-');
    return { values: day, location: `s3://lake/silver/orders/year=${day[0]}/month=${day[1]}/day=${day[2]}/` };
  });

async function glueTable(): Promise<{ glue: GlueClient; database: string }> {
  const glue = new GlueClient(moto().clientConfig);
  const database = unique('shop_lake');
  await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: database } }));
  await glue.send(
    new CreateTableCommand({
      DatabaseName: database,
      TableInput: {
        Name: 'orders_silver',
        StorageDescriptor: TABLE_SD,
        PartitionKeys: ['year', 'month', 'day'].map((Name) => ({ Name, Type: 'string' })),
      },
    }),
  );
  return { glue, database };
}

describe.each<[string, () => Promise<{ catalog: PartitionCatalog; database: string }>]>([
  [
    'local catalog file',
    async () => ({ catalog: new FileCatalog(join(tmp(), 'catalog.json')), database: 'shop_lake' }),
  ],
  [
    'Glue Data Catalog (moto server)',
    async () => {
      const { glue, database } = await glueTable();
      return { catalog: new GluePartitionCatalog(glue), database };
    },
  ],
])('partition catalog: %s', (_name, make) => {
  it('creates new partitions past the 100-per-call limit, updates those that exist, sends nothing for none', async () => {
    const { catalog, database } = await make();
    const request = (p: ReturnType<typeof partitions>) => ({
      database,
      table: 'orders_silver',
      partitions: p,
    });

    const first = await catalog.registerPartitions(request(partitions(120)));
    const again = await catalog.registerPartitions(request([...partitions(5, 115), ...partitions(2, 120)]));
    const none = await catalog.registerPartitions(request([]));

    expect(first).toEqual({ created: 120, updated: 0 });
    expect(again).toEqual({ created: 2, updated: 5 });
    expect(none).toEqual({ created: 0, updated: 0 });
  });
});

describe('Glue Data Catalog adapter (moto server)', () => {
  it('gives each partition the table’s StorageDescriptor with its own Location', async () => {
    const { glue, database } = await glueTable();
    const [p] = partitions(1, 40);

    await new GluePartitionCatalog(glue).registerPartitions({
      database,
      table: 'orders_silver',
      partitions: [p!],
    });

    const got = await glue.send(
      new GetPartitionCommand({
        DatabaseName: database,
        TableName: 'orders_silver',
        PartitionValues: p!.values,
      }),
    );
    expect(got.Partition?.StorageDescriptor).toMatchObject({ ...TABLE_SD, Location: p!.location });
  });

  it('names the table when it cannot be read', async () => {
    const { glue, database } = await glueTable();

    await expect(
      new GluePartitionCatalog(glue).registerPartitions({
        database,
        table: 'nope',
        partitions: partitions(1),
      }),
    ).rejects.toThrow(CatalogTableError);
    await expect(
      new GluePartitionCatalog(glue).registerPartitions({
        database,
        table: 'nope',
        partitions: partitions(1),
      }),
    ).rejects.toThrow(/nope.*EntityNotFoundException/);
  });
});

/**
 * CloudWatch speaks both awsJson1_0 (the SDK's default) and awsQuery (it is awsQueryCompatible);
 * moto 5.2 serves only the latter, so the test client picks it. The adapter's requests are the same.
 */
const cloudWatchOnMoto = () => new CloudWatchClient({ ...moto().clientConfig, protocol: AwsQueryProtocol });

const stageMetrics = (at: Date, ratio: number, over: Partial<StageMetrics> = {}): StageMetrics => ({
  dataset: 'orders',
  stage: 'silver',
  timestamp: at,
  durationSeconds: 60,
  recordsIn: 1000,
  recordsOut: 1000 - ratio * 1000,
  recordsQuarantined: ratio * 1000,
  schemaDriftColumns: 0,
  quarantineRatio: ratio,
  ...over,
});

describe.each<[string, () => MetricsSink & MetricsReader]>([
  ['local metrics file', () => new FileMetrics(join(tmp(), 'metrics.jsonl'))],
  ['CloudWatch (moto server)', () => new CloudWatchMetrics(unique('Medallion'), cloudWatchOnMoto())],
])('stage metrics: %s', (_name, make) => {
  it('reads back the last quarantine ratios of one dataset and stage before an instant, newest first', async () => {
    const metrics = make();
    const base = Math.floor(Date.now() / 3600_000) * 3600_000 - 6 * 3600_000;
    const at = (h: number) => new Date(base + h * 3600_000);
    await metrics.publishStage(stageMetrics(at(0), 0.01));
    await metrics.publishStage(stageMetrics(at(1), 0.02));
    await metrics.publishStage(stageMetrics(at(2), 0.03));
    await metrics.publishStage(stageMetrics(at(1), 0.5, { stage: 'bronze' }));
    await metrics.publishStage(stageMetrics(at(1), 0.6, { dataset: 'returns' }));

    const latest = await metrics.recentQuarantineRatios({
      dataset: 'orders',
      stage: 'silver',
      limit: 2,
      before: at(3),
    });
    const earlier = await metrics.recentQuarantineRatios({
      dataset: 'orders',
      stage: 'silver',
      limit: 5,
      before: at(1.5),
    });

    expect(latest).toEqual([0.03, 0.02]);
    expect(earlier).toEqual([0.02, 0.01]);
  });
});

describe.each<
  [
    string,
    () => Promise<{
      store: ManifestStore;
      locationOf: (key: string) => string;
      put: (key: string, text: string) => Promise<void>;
    }>,
  ]
>([
  [
    'local files',
    async () => {
      const root = tmp();
      const { mkdirSync, writeFileSync } = await import('node:fs');
      const { dirname } = await import('node:path');
      return {
        store: new FileManifestStore(),
        locationOf: (key) => pathToFileURL(join(root, key)).href,
        put: async (key, text) => {
          mkdirSync(dirname(join(root, key)), { recursive: true });
          writeFileSync(join(root, key), text);
        },
      };
    },
  ],
  [
    'S3 (moto server)',
    async () => {
      const s3 = new S3Client({ ...moto().clientConfig, forcePathStyle: true });
      const bucket = unique('lake');
      await s3.send(
        new CreateBucketCommand({
          Bucket: bucket,
          CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
        }),
      );
      return {
        store: new S3ManifestStore(s3),
        locationOf: (key) => `s3://${bucket}/${key}`,
        put: async (key, text) => {
          await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: text }));
        },
      };
    },
  ],
])('manifest store: %s', (_name, make) => {
  it('reads a manifest’s text, and a missing one as undefined', async () => {
    const { store, locationOf, put } = await make();
    await put('_manifests/orders/silver/run 1.json', '{"version":1}');

    expect(await store.read(locationOf('_manifests/orders/silver/run 1.json'))).toBe('{"version":1}');
    expect(await store.read(locationOf('_manifests/orders/silver/missing.json'))).toBeUndefined();
  });
});

describe('S3 manifest store (moto server)', () => {
  it('refuses a location that is not s3://bucket/key', async () => {
    await expect(
      new S3ManifestStore(new S3Client(moto().clientConfig)).read('file:///tmp/x.json'),
    ).rejects.toThrow('Not an s3:// object location: "file:///tmp/x.json"');
  });

  it('lets an error other than a missing key through (a missing bucket)', async () => {
    const s3 = new S3Client({ ...moto().clientConfig, forcePathStyle: true });

    await expect(new S3ManifestStore(s3).read(`s3://${unique('no-bucket')}/m.json`)).rejects.toMatchObject({
      name: 'NoSuchBucket',
    });
  });
});

describe('SNS alerter (moto server)', () => {
  it('publishes subject, body and the four String message attributes that filter policies route on', async () => {
    const sns = new SNSClient(moto().clientConfig);
    const sqs = new SQSClient(moto().clientConfig);
    const topic = await sns.send(new CreateTopicCommand({ Name: unique('alerts') }));
    const queue = await sqs.send(new CreateQueueCommand({ QueueName: unique('on-call') }));
    const attrs = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queue.QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    await sns.send(
      new SubscribeCommand({
        TopicArn: topic.TopicArn,
        Protocol: 'sqs',
        Endpoint: attrs.Attributes?.['QueueArn'],
      }),
    );

    const sent = await new SnsAlerter(topic.TopicArn ?? '', sns).publish({
      subject: '[CRITICAL] orders 2024-01-15 failed at silver',
      body: 'line 1\nline 2',
      attributes: { severity: 'critical', kind: 'run-failed', dataset: 'orders', stage: 'silver' },
    });

    const received = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queue.QueueUrl, WaitTimeSeconds: 1 }),
    );
    const envelope = JSON.parse(received.Messages?.[0]?.Body ?? '{}') as Record<string, unknown>;
    expect(envelope).toMatchObject({
      MessageId: sent.messageId,
      Subject: '[CRITICAL] orders 2024-01-15 failed at silver',
      Message: 'line 1\nline 2',
      MessageAttributes: {
        severity: { Type: 'String', Value: 'critical' },
        kind: { Type: 'String', Value: 'run-failed' },
        dataset: { Type: 'String', Value: 'orders' },
        stage: { Type: 'String', Value: 'silver' },
      },
    });
  });
});

describe('Step Functions run starter (moto server)', () => {
  const input = (objects: number): RunInput => ({
    dataset: 'orders',
    partition: { year: '2024', month: '01', day: '15' },
    partitionValues: ['2024', '01', '15'],
    partitionPath: 'year=2024/month=01/day=15',
    trigger: 'landing',
    fromStage: 'bronze',
    requestedAt: '2024-01-15T10:21:09.000Z',
    objects: {
      count: objects,
      bytes: 0,
      firstLandedAt: null,
      lastLandedAt: null,
      inline: [],
      notListed: objects,
    },
  });

  it('starts one execution per name, whatever the retries, and reads its status', async () => {
    const sfn = new SFNClient(moto().clientConfig);
    const machine = await sfn.send(
      new CreateStateMachineCommand({
        name: unique('pipeline'),
        roleArn: 'arn:aws:iam::123456789012:role/medallion',
        definition: JSON.stringify({
          StartAt: 'W',
          States: { W: { Type: 'Wait', Seconds: 3600, End: true } },
        }),
      }),
    );
    const starter = new SfnRunStarter(machine.stateMachineArn ?? '', sfn);

    const first = await starter.start({ name: 'orders-2024-01-15-abc', input: input(1) });
    const retry = await starter.start({ name: 'orders-2024-01-15-abc', input: input(1) });
    const otherInput = await starter.start({ name: 'orders-2024-01-15-abc', input: input(2) });
    const running = await starter.status('orders-2024-01-15-abc');
    await sfn.send(new StopExecutionCommand({ executionArn: first.executionArn }));

    expect(first.outcome).toBe('started');
    expect(retry.executionArn).toBe(first.executionArn);
    expect(otherInput).toEqual({ outcome: 'already-started', executionArn: first.executionArn });
    expect(
      (await sfn.send(new ListExecutionsCommand({ stateMachineArn: machine.stateMachineArn }))).executions,
    ).toHaveLength(1);
    expect([running, await starter.status('orders-2024-01-15-abc'), await starter.status('never')]).toEqual([
      'RUNNING',
      'ABORTED',
      'NOT_FOUND',
    ]);
  });
});
