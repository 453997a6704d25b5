import { GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { S3ManifestStore } from '../../shared/aws/s3-manifests';

const s3Mock = mockClient(S3Client);
const store = () => new S3ManifestStore(new S3Client({ region: 'eu-west-1' }));

beforeEach(() => s3Mock.reset());

describe('S3 manifest store', () => {
  it('reads the object at an s3:// location', async () => {
    s3Mock
      .on(GetObjectCommand)
      .resolves({ Body: { transformToString: async () => '{"version":1}' } as never });

    const text = await store().read('s3://lake/_manifests/orders/silver/run-1.json');

    expect(text).toBe('{"version":1}');
    expect(s3Mock.commandCalls(GetObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: 'lake',
      Key: '_manifests/orders/silver/run-1.json',
    });
  });

  it('reads a missing object as undefined, and lets other errors through', async () => {
    s3Mock
      .on(GetObjectCommand)
      .rejectsOnce(new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} }))
      .rejectsOnce(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));

    const missing = await store().read('s3://lake/_manifests/x.json');
    const denied = store().read('s3://lake/_manifests/x.json');

    expect(missing).toBeUndefined();
    await expect(denied).rejects.toThrow('Access Denied');
  });

  it('refuses a location that is not s3://bucket/key', async () => {
    await expect(store().read('file:///tmp/x.json')).rejects.toThrow(
      'Not an s3:// object location: "file:///tmp/x.json"',
    );
  });
});
