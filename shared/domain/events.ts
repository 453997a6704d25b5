import { decodeS3Key } from './object-key';
import { MalformedEventError, MedallionError } from './errors';

/**
 * Normalises the three ways a landing reaches us (SQS carrying S3 notifications, EventBridge
 * "Object Created", direct S3 notification) into delivery units: one unit per SQS message (the unit
 * that can be retried), or one unit for a direct event.
 */

/** One object version that landed. */
export interface LandedObject {
  readonly bucket: string;
  /** The decoded key. */
  readonly key: string;
  readonly size: number;
  readonly eTag?: string;
  readonly versionId?: string;
  readonly sequencer?: string;
  readonly eventTime: string;
  /** Identity of this object version: the idempotency key of the ledger. */
  readonly objectId: string;
}

export type DeliveredRecord =
  | { readonly kind: 'object'; readonly object: LandedObject }
  | { readonly kind: 'test-event' }
  | { readonly kind: 'ignored'; readonly reason: string }
  | { readonly kind: 'malformed'; readonly error: MedallionError };

export interface DeliveryUnit {
  /** SQS messageId, or `direct` for an EventBridge / S3 event invoking the function directly. */
  readonly id: string;
  readonly records: readonly DeliveredRecord[];
}

export type DeliveryShape = 'sqs' | 'eventbridge' | 's3' | 's3-test-event';

/**
 * An object version's identity, the idempotency key of the ledger: bucket/key plus
 * - the versionId when it is a real version (a versioning-suspended bucket reports "null" for every
 *   overwrite: no identity at all);
 * - else the sequencer, which S3 repeats on a duplicate delivery of one event and changes on an
 *   overwrite, with size and eTag (so an overwrite of equal sequencer text still differs);
 * - else size and eTag.
 */
export function objectIdentity(o: {
  bucket: string;
  key: string;
  size: number;
  versionId?: string | undefined;
  sequencer?: string | undefined;
  eTag?: string | undefined;
}): string {
  const version = o.versionId && o.versionId !== 'null' ? o.versionId : undefined;
  const token = version
    ? `v:${version}`
    : o.sequencer
      ? `s:${o.sequencer}:${o.size}:${o.eTag ?? ''}`
      : o.eTag
        ? `e:${o.eTag}:${o.size}`
        : undefined;
  if (!token)
    throw new MalformedEventError(
      `object "${o.key}" has no versionId, sequencer or eTag to identify its version`,
    );
  return `${o.bucket}/${o.key}#${token}`;
}

/** A 0-byte key ending in "/": what the S3 console's "Create folder" writes. Not data. */
export const isFolderMarker = (o: { key: string; size: number }): boolean =>
  o.size === 0 && o.key.endsWith('/');

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const str = (v: unknown, field: string): string => {
  if (typeof v !== 'string' || v === '')
    throw new MalformedEventError(`missing or empty string field "${field}"`);
  return v;
};
const optStr = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown, field: string): number => {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
    throw new MalformedEventError(`field "${field}" must be a non-negative number`);
  return v;
};

const isTestEvent = (v: Record<string, unknown>): boolean => v['Event'] === 's3:TestEvent';

function landed(fields: {
  bucket: string;
  key: string;
  size: number;
  eTag: string | undefined;
  versionId: string | undefined;
  sequencer: string | undefined;
  eventTime: string;
}): LandedObject {
  // Built in place (no spreads): on-landing makes one per record, 10,000 to a batch.
  const o: { -readonly [K in keyof LandedObject]?: LandedObject[K] } = {
    bucket: fields.bucket,
    key: fields.key,
    size: fields.size,
    eventTime: fields.eventTime,
  };
  if (fields.eTag) o.eTag = fields.eTag;
  if (fields.versionId) o.versionId = fields.versionId;
  if (fields.sequencer) o.sequencer = fields.sequencer;
  o.objectId = objectIdentity(fields);
  return o as LandedObject;
}

function fromS3Record(record: unknown, index: number): DeliveredRecord {
  try {
    if (!isRecord(record)) throw new MalformedEventError(`Records[${index}] is not an object`);
    const eventName = str(record['eventName'], `Records[${index}].eventName`);
    if (!eventName.startsWith('ObjectCreated:')) return { kind: 'ignored', reason: `event ${eventName}` };
    const s3 = record['s3'];
    if (!isRecord(s3) || !isRecord(s3['bucket']) || !isRecord(s3['object'])) {
      throw new MalformedEventError(`Records[${index}].s3 must hold bucket and object`);
    }
    const obj = s3['object'];
    const object = landed({
      bucket: str(s3['bucket']['name'], `Records[${index}].s3.bucket.name`),
      key: decodeS3Key(str(obj['key'], `Records[${index}].s3.object.key`)),
      size: num(obj['size'] ?? 0, `Records[${index}].s3.object.size`),
      eTag: optStr(obj['eTag']),
      versionId: optStr(obj['versionId']),
      sequencer: optStr(obj['sequencer']),
      eventTime: str(record['eventTime'], `Records[${index}].eventTime`),
    });
    return isFolderMarker(object) ? { kind: 'ignored', reason: 'folder marker' } : { kind: 'object', object };
  } catch (error) {
    return { kind: 'malformed', error: asMalformed(error) };
  }
}

/** Records of an S3 notification document (direct, or the body of an SQS message). */
function fromS3Notification(doc: unknown): DeliveredRecord[] {
  if (!isRecord(doc))
    return [{ kind: 'malformed', error: new MalformedEventError('S3 notification is not a JSON object') }];
  if (isTestEvent(doc)) return [{ kind: 'test-event' }];
  const records = doc['Records'];
  if (!Array.isArray(records)) {
    return [{ kind: 'malformed', error: new MalformedEventError('S3 notification has no "Records" array') }];
  }
  if (records.length === 0) return [{ kind: 'ignored', reason: 'notification with no records' }];
  return records.map(fromS3Record);
}

/**
 * EventBridge keys: whether S3 URL-encodes them there is not documented. A key that still holds a
 * character S3's form-encoding never leaves raw (space, `=`, `:`, non-ASCII...) is clearly not
 * encoded; otherwise it is decoded. Hive keys always contain `=`, so dataset keys are never ambiguous.
 */
export function eventBridgeKey(raw: string): string {
  return /[ =:,;@&$?\u0080-\uffff]/.test(raw) ? raw : decodeS3Key(raw);
}

function fromEventBridge(event: Record<string, unknown>): DeliveredRecord {
  try {
    const detailType = event['detail-type'];
    // Object Deleted, Object Restore Completed, Object Tags Added...: not a landing.
    if (detailType !== 'Object Created') return { kind: 'ignored', reason: `event ${String(detailType)}` };
    const detail = event['detail'];
    if (!isRecord(detail) || !isRecord(detail['bucket']) || !isRecord(detail['object'])) {
      throw new MalformedEventError('EventBridge event has no detail.bucket / detail.object');
    }
    const obj = detail['object'];
    const object = landed({
      bucket: str(detail['bucket']['name'], 'detail.bucket.name'),
      key: eventBridgeKey(str(obj['key'], 'detail.object.key')),
      size: num(obj['size'] ?? 0, 'detail.object.size'),
      eTag: optStr(obj['etag']),
      versionId: optStr(obj['version-id']),
      sequencer: optStr(obj['sequencer']),
      eventTime: str(event['time'], 'time'),
    });
    return isFolderMarker(object) ? { kind: 'ignored', reason: 'folder marker' } : { kind: 'object', object };
  } catch (error) {
    return { kind: 'malformed', error: asMalformed(error) };
  }
}

const asMalformed = (error: unknown): MedallionError =>
  error instanceof MedallionError ? error : new MalformedEventError(String(error), { cause: error });

/** Recognises the delivery shape of a Lambda event. */
export function deliveryShape(event: unknown): DeliveryShape {
  if (!isRecord(event)) throw new MalformedEventError('event is not a JSON object');
  if (isTestEvent(event)) return 's3-test-event';
  if (event['source'] === 'aws.s3' && typeof event['detail-type'] === 'string') return 'eventbridge';
  const records = event['Records'];
  if (Array.isArray(records)) {
    const first: unknown = records[0];
    if (isRecord(first) && first['eventSource'] === 'aws:sqs') return 'sqs';
    if (isRecord(first) && first['eventSource'] === 'aws:s3') return 's3';
    if (records.length === 0) return 's3';
  }
  throw new MalformedEventError(
    'unrecognised event: expected SQS messages carrying S3 notifications, an EventBridge event of source aws.s3 or an S3 notification',
  );
}

/** Splits a Lambda event into delivery units. Never throws for a bad record: it becomes `malformed`. */
export function toDeliveryUnits(event: unknown): { shape: DeliveryShape; units: DeliveryUnit[] } {
  const shape = deliveryShape(event);
  const e = event as Record<string, unknown>;
  switch (shape) {
    case 's3-test-event':
      return { shape, units: [{ id: 'direct', records: [{ kind: 'test-event' }] }] };
    case 'eventbridge':
      return { shape, units: [{ id: 'direct', records: [fromEventBridge(e)] }] };
    case 's3':
      return { shape, units: [{ id: 'direct', records: fromS3Notification(e) }] };
    case 'sqs': {
      const messages = e['Records'] as unknown[];
      return {
        shape,
        units: messages.map((m, i) => {
          const id = isRecord(m) && typeof m['messageId'] === 'string' ? m['messageId'] : `#${i}`;
          if (!isRecord(m) || typeof m['body'] !== 'string') {
            return {
              id,
              records: [
                { kind: 'malformed', error: new MalformedEventError(`SQS message ${id} has no string body`) },
              ],
            };
          }
          let body: unknown;
          try {
            body = JSON.parse(m['body']);
          } catch (error) {
            return {
              id,
              records: [
                {
                  kind: 'malformed',
                  error: new MalformedEventError(`SQS message ${id}: body is not JSON`, { cause: error }),
                },
              ],
            };
          }
          return { id, records: fromS3Notification(body) };
        }),
      };
    }
  }
}
