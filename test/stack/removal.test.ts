import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { startMoto, type MotoServer } from '../helpers/moto';
import { ROOT } from './packaged';

import { MedallionArtifactsPlugin as ArtifactsPlugin } from '../../stack/artifacts-plugin';

/**
 * `osls remove` on a stage: the versioned artifacts bucket is emptied (every version and delete
 * marker) so that CloudFormation can delete it, against moto's S3; what holds data is named as kept.
 */

class ServerlessError extends Error {}
const STACK_OUTPUTS = [
  { OutputKey: 'ArtifactsBucketName', OutputValue: 'medallion-dev-artifacts' },
  { OutputKey: 'LakeBucketName', OutputValue: 'medallion-dev-lake' },
  { OutputKey: 'LedgerTableName', OutputValue: 'medallion-dev-ledger' },
];

let moto: MotoServer;
let s3: S3Client;

beforeAll(async () => {
  moto = await startMoto();
  s3 = new S3Client({ ...moto.clientConfig, forcePathStyle: true });
}, 60_000);

afterAll(async () => {
  s3?.destroy();
  await moto?.stop();
});

function plugin(outputs: typeof STACK_OUTPUTS | 'missing') {
  const logs: string[] = [];
  const serverless = {
    serviceDir: ROOT,
    classes: { Error: ServerlessError },
    getProvider: () => ({ naming: { getStackName: () => 'medallion-orchestrator-dev' } }),
  };
  const cfn = {
    async send() {
      if (outputs === 'missing') throw new Error('Stack with id medallion-orchestrator-dev does not exist');
      return { Stacks: [{ Outputs: outputs }] };
    },
  };
  const p = new ArtifactsPlugin(
    serverless,
    {},
    { log: { notice: (m: string) => logs.push(m), warning: () => {} } },
  );
  return { run: () => p.emptyForRemoval({ cfn, s3 }), logs, hooks: p.hooks as Record<string, unknown> };
}

describe('osls remove', () => {
  test('empties every version of the artifacts bucket so it can be deleted, and names what is kept', async () => {
    const Bucket = 'medallion-dev-artifacts';
    await s3.send(new CreateBucketCommand({ Bucket }));
    await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    for (const body of ['v1', 'v2'])
      await s3.send(new PutObjectCommand({ Bucket, Key: 'glue/medallion_silver.py', Body: body }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'plans/orders.json', Body: '{}' }));
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'plans/orders.json' }));
    const { run, logs, hooks } = plugin(STACK_OUTPUTS);

    const result = await run();

    expect(Object.keys(hooks)).toContain('before:remove:remove');
    expect(result.emptied).toBe(4);
    const left = await s3.send(new ListObjectVersionsCommand({ Bucket }));
    expect([...(left.Versions ?? []), ...(left.DeleteMarkers ?? [])]).toEqual([]);
    await expect(s3.send(new DeleteBucketCommand({ Bucket }))).resolves.toBeDefined();
    expect(logs.join('\n')).toContain(
      'Kept (they hold data): lake bucket medallion-dev-lake, ledger table medallion-dev-ledger.',
    );
  });

  test('a stage that was never deployed: nothing to empty, no error', async () => {
    await expect(plugin('missing').run()).resolves.toEqual({ emptied: 0 });
  });
});
