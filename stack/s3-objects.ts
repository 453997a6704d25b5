import {
  DeleteObjectsCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
} from '@aws-sdk/client-s3';

/** S3 calls the deploy and removal steps share, over an SDK v3 client or a test's stand-in. */

export interface Sender {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  send(command: any): Promise<any>;
}

/** A named error of the caller's kind (serverless' error class, so the CLI prints it plainly). */
export type Fail = (message: string) => Error;

export async function exists(s3: Sender, bucket: string, key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (error) {
    const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404) return false;
    throw error;
  }
}

export async function listKeys(s3: Sender, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

/** DeleteObjects takes at most 1,000 keys and reports per-key failures without throwing: they throw here. */
export async function deleteKeys(
  s3: Sender,
  bucket: string,
  objects: Array<{ Key: string; VersionId?: string }>,
  fail: Fail,
): Promise<void> {
  for (let i = 0; i < objects.length; i += 1000) {
    const out = await s3.send(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects.slice(i, i + 1000) } }),
    );
    if (out.Errors?.length) {
      const failed = out.Errors.map(
        (e: { Key: string; VersionId?: string; Code: string }) =>
          `${e.Key}${e.VersionId ? ` ${e.VersionId}` : ''}: ${e.Code}`,
      );
      throw fail(`Could not delete from s3://${bucket}: ${failed.join(', ')}`);
    }
  }
}

/** Deletes every version and delete marker of a bucket; returns how many. */
export async function deleteAllVersions(s3: Sender, bucket: string, fail: Fail): Promise<number> {
  let deleted = 0;
  let marker: { KeyMarker?: string; VersionIdMarker?: string } = {};
  for (;;) {
    const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, ...marker }));
    const objects = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map(
      (v: { Key: string; VersionId: string }) => ({ Key: v.Key, VersionId: v.VersionId }),
    );
    await deleteKeys(s3, bucket, objects, fail);
    deleted += objects.length;
    if (!page.IsTruncated) return deleted;
    marker = { KeyMarker: page.NextKeyMarker, VersionIdMarker: page.NextVersionIdMarker };
  }
}
