import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeS3Key } from '../../local/lake';

const cache = new Map<string, unknown>();

/** A real AWS event shape from test/fixtures/events/, cloned per call. */
export function loadEvent<T = Record<string, unknown>>(name: string): T {
  if (!cache.has(name)) {
    cache.set(
      name,
      JSON.parse(readFileSync(join(process.cwd(), 'test', 'fixtures', 'events', `${name}.json`), 'utf8')),
    );
  }
  return structuredClone(cache.get(name)) as T;
}

interface S3Record {
  eventTime: string;
  s3: {
    bucket: { name: string };
    object: { key: string; size: number; sequencer?: string; versionId?: string; eTag?: string };
  };
}

/** An S3 notification record for a decoded key, derived from the real fixture (key URL-encoded like S3). */
export function s3Record(
  key: string,
  opts: { sequencer?: string; size?: number; versionId?: string | null } = {},
): S3Record {
  const record = loadEvent<{ Records: S3Record[] }>('s3-notification').Records[0] as S3Record;
  record.s3.object.key = encodeS3Key(key);
  record.s3.object.size = opts.size ?? 1000;
  record.s3.object.sequencer = opts.sequencer ?? '0065A5063318B4F4A1';
  if (opts.versionId === null) delete record.s3.object.versionId;
  else if (opts.versionId !== undefined) record.s3.object.versionId = opts.versionId;
  return record;
}

/** An SQS event whose messages each carry one S3 notification of the given records. */
export function sqsEvent(
  records: readonly unknown[],
  idPrefix = 'msg',
): { Records: Array<Record<string, unknown>> } {
  const template = loadEvent<{ Records: Array<Record<string, unknown>> }>('sqs-with-s3-notifications')
    .Records[0] as Record<string, unknown>;
  return {
    Records: records.map((r, i) => ({
      ...structuredClone(template),
      messageId: `${idPrefix}-${i}`,
      body: JSON.stringify({ Records: [r] }),
    })),
  };
}

/** `n` distinct orders objects spread round-robin over `partitions` days of January 2024. */
export function ordersBatch(n: number, partitions: number, seqBase = 0): S3Record[] {
  return Array.from({ length: n }, (_, i) => {
    const day = String((i % partitions) + 1).padStart(2, '0');
    const seq = (seqBase + i).toString(16).toUpperCase().padStart(18, '0');
    return s3Record(`landing/shop/orders/year=2024/month=01/day=${day}/part ${i}.jsonl`, {
      sequencer: seq,
      size: 100,
      versionId: null,
    });
  });
}
