import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { MedallionError } from '../shared/domain/errors';

/**
 * The local lake: a folder laid out like the lake bucket (object key = path below the folder).
 * System state (ledger, executions, catalog, metrics, alerts) lives below `_system/`.
 */
export class LocalLake {
  readonly root: string;
  constructor(root: string = process.env['MEDALLION_LAKE'] ?? '.lake') {
    this.root = resolve(root);
  }
  /** The pretend bucket name used in events and locations. */
  readonly bucket = 'local-lake';
  path(key: string): string {
    return join(this.root, ...key.split('/'));
  }
  keyOf(path: string): string {
    return relative(this.root, path).split(sep).join('/');
  }
  system(name: string): string {
    return join(this.root, '_system', name);
  }
  /** Whether the folder is a lake: it exists and holds `_system/` or `landing/`. */
  exists(): boolean {
    return existsSync(join(this.root, '_system')) || existsSync(join(this.root, 'landing'));
  }
  /** This lake, or LakeNotFoundError when the folder is not one (a mistyped --lake is never created). */
  existing(): this {
    if (!this.exists()) throw new LakeNotFoundError(this.root);
    return this;
  }
}

/** A command that reads a lake was pointed at a folder that is not one (missing, or no _system/ nor landing/). */
export class LakeNotFoundError extends MedallionError {
  readonly retryable = false;
  constructor(readonly root: string) {
    super(
      existsSync(root)
        ? `${root} is not a lake (no _system/ nor landing/ in it): check --lake or MEDALLION_LAKE`
        : `no lake at ${root}: check --lake or MEDALLION_LAKE ("medallion demo", "sample" or "watch" create one)`,
    );
  }
}

/** Encodes a key the way S3 does in event notifications (form encoding, `/` kept). */
export const encodeS3Key = (key: string): string =>
  key
    .split('/')
    .map((s) =>
      encodeURIComponent(s)
        .replace(/%20/g, '+')
        .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
    )
    .join('/');

/**
 * The local twin of "S3 → SQS": one SQS message per landed file, each carrying an S3 notification
 * with the URL-encoded key, size, eTag and a sequencer derived from the file's write time.
 */
export function sqsEventFor(
  lake: LocalLake,
  keys: readonly string[],
  region = 'local',
): { Records: unknown[] } {
  return {
    Records: keys.map((key, i) => {
      const path = lake.path(key);
      const stat = statSync(path);
      const eTag = createHash('md5').update(readFileSync(path)).digest('hex');
      const eventTime = stat.mtime.toISOString();
      const sequencer = Math.round(stat.mtimeMs * 1000)
        .toString(16)
        .toUpperCase()
        .padStart(16, '0');
      const notification = {
        Records: [
          {
            eventVersion: '2.1',
            eventSource: 'aws:s3',
            awsRegion: region,
            eventTime,
            eventName: 'ObjectCreated:Put',
            s3: {
              s3SchemaVersion: '1.0',
              bucket: { name: lake.bucket, arn: `arn:aws:s3:::${lake.bucket}` },
              object: { key: encodeS3Key(key), size: stat.size, eTag, sequencer },
            },
          },
        ],
      };
      return {
        messageId: `local-${eTag.slice(0, 8)}-${i}`,
        body: JSON.stringify(notification),
        eventSource: 'aws:sqs',
        eventSourceARN: `arn:aws:sqs:${region}:000000000000:local-landing`,
        awsRegion: region,
      };
    }),
  };
}
