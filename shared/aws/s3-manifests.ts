import { GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import type { ManifestStore } from '../ports';

/** Run manifests on S3: `s3://bucket/key` locations. A missing object reads as `undefined`. */
export class S3ManifestStore implements ManifestStore {
  constructor(private readonly client: S3Client = new S3Client({})) {}

  async read(location: string): Promise<string | undefined> {
    const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(location);
    if (!match) throw new TypeError(`Not an s3:// object location: "${location}"`);
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: match[1], Key: match[2] }));
      return (await out.Body?.transformToString('utf8')) ?? '';
    } catch (error) {
      if (error instanceof NoSuchKey || (error as Error).name === 'NoSuchKey') return undefined;
      throw error;
    }
  }
}
