import { MalformedEventError } from '../../shared/domain/errors';
import { deliveryShape, eventBridgeKey, objectIdentity, toDeliveryUnits } from '../../shared/domain/events';
import { loadEvent } from '../helpers/fixtures';

describe('delivery shapes', () => {
  it('reads a direct S3 notification, decoding the key', () => {
    const { shape, units } = toDeliveryUnits(loadEvent('s3-notification'));

    expect(shape).toBe('s3');
    expect(units).toHaveLength(1);
    expect(units[0]?.records[0]).toMatchObject({
      kind: 'object',
      object: {
        bucket: 'example-lake',
        key: 'landing/shop/orders/year=2024/month=01/day=15/orders batch 001.jsonl',
        size: 48213,
        versionId: '096fKKXTRTtl3on89fVO.nfljtsv6qko',
        eventTime: '2024-01-15T10:21:07.412Z',
      },
    });
  });

  it('reads SQS messages, one delivery unit per message, test events acknowledged', () => {
    const { shape, units } = toDeliveryUnits(loadEvent('sqs-with-s3-notifications'));

    expect(shape).toBe('sqs');
    expect(units.map((u) => u.id)).toEqual([
      '0b8c9d2e-1111-4c6e-9a7f-000000000001',
      '0b8c9d2e-1111-4c6e-9a7f-000000000002',
    ]);
    expect(units[0]?.records).toEqual([{ kind: 'test-event' }]);
    expect(units[1]?.records[0]).toMatchObject({ kind: 'object' });
  });

  it('reads an EventBridge Object Created event', () => {
    const { shape, units } = toDeliveryUnits(loadEvent('eventbridge-object-created'));

    expect(shape).toBe('eventbridge');
    expect(units[0]?.records[0]).toMatchObject({
      kind: 'object',
      object: {
        key: 'landing/shop/orders/year=2024/month=01/day=15/orders batch 002.csv',
        versionId: 'IYV3p45BT0ac8hjHg1houSdS1a.Mro8e',
        sequencer: '0065A50633AB8D2E77',
      },
    });
  });

  it('handles EventBridge keys both raw and URL-encoded', () => {
    expect(eventBridgeKey('landing/x/year=2024/a b+c.csv')).toBe('landing/x/year=2024/a b+c.csv');
    expect(eventBridgeKey('landing/x/year%3D2024/a+b%2Bc.csv')).toBe('landing/x/year=2024/a b+c.csv');
  });

  it('acknowledges a direct s3:TestEvent', () => {
    expect(toDeliveryUnits(loadEvent('s3-test-event')).units[0]?.records).toEqual([{ kind: 'test-event' }]);
  });

  it('turns a non-JSON SQS body into a malformed record naming the message', () => {
    const event = loadEvent<{ Records: Array<{ body: string }> }>('sqs-with-s3-notifications');
    (event.Records[1] as { body: string }).body = '{"Records": [';

    const record = toDeliveryUnits(event).units[1]?.records[0];

    expect(record).toMatchObject({ kind: 'malformed' });
    expect(record?.kind === 'malformed' && record.error.message).toContain(
      '0b8c9d2e-1111-4c6e-9a7f-000000000002',
    );
  });

  it('names the missing field of a broken S3 record', () => {
    const event = loadEvent<{ Records: Array<{ s3: { object: { key?: string } } }> }>('s3-notification');
    delete event.Records[0]?.s3.object.key;

    const record = toDeliveryUnits(event).units[0]?.records[0];

    expect(record?.kind === 'malformed' && record.error.message).toContain('Records[0].s3.object.key');
  });

  it('skips removals', () => {
    const event = loadEvent<{ Records: Array<{ eventName: string }> }>('s3-notification');
    (event.Records[0] as { eventName: string }).eventName = 'ObjectRemoved:Delete';

    expect(toDeliveryUnits(event).units[0]?.records).toEqual([
      { kind: 'ignored', reason: 'event ObjectRemoved:Delete' },
    ]);
  });

  it('rejects an unrecognised event with a named error', () => {
    expect(() => deliveryShape({ hello: 'world' })).toThrow(MalformedEventError);
  });
});

describe('objectIdentity', () => {
  it('prefers a real versionId, then the sequencer with size and eTag, then size and eTag', () => {
    const base = { bucket: 'b', key: 'k', size: 10 };
    expect(objectIdentity({ ...base, versionId: 'v1', sequencer: 's1', eTag: 'e1' })).toBe('b/k#v:v1');
    expect(objectIdentity({ ...base, sequencer: 's1', eTag: 'e1' })).toBe('b/k#s:s1:10:e1');
    expect(objectIdentity({ ...base, eTag: 'e1' })).toBe('b/k#e:e1:10');
    expect(() => objectIdentity(base)).toThrow(/no versionId, sequencer or eTag/);
  });

  it('tells overwrites in a versioning-suspended bucket apart: versionId "null" is no version', () => {
    const base = { bucket: 'b', key: 'k', size: 10, versionId: 'null' };
    const first = objectIdentity({ ...base, sequencer: '0065A5063318B4F4A1', eTag: 'e1' });
    const redelivered = objectIdentity({ ...base, sequencer: '0065A5063318B4F4A1', eTag: 'e1' });
    const overwrite = objectIdentity({ ...base, sequencer: '0065A5063318B4F4B7', eTag: 'e2' });

    expect(redelivered).toBe(first);
    expect(overwrite).not.toBe(first);
  });
});

describe('what is not data is skipped, not failed', () => {
  it('skips folder markers (0-byte keys ending in "/") in S3 notifications and EventBridge', () => {
    const s3 = loadEvent<{ Records: Array<{ s3: { object: { key: string; size: number } } }> }>(
      's3-notification',
    );
    const first = s3.Records[0] as { s3: { object: { key: string; size: number } } };
    first.s3.object.key = 'landing/shop/orders/year%3D2024/';
    first.s3.object.size = 0;
    const eb = loadEvent<{ detail: { object: { key: string; size: number } } }>('eventbridge-object-created');
    eb.detail.object.key = 'landing/shop/orders/';
    eb.detail.object.size = 0;

    expect(toDeliveryUnits(s3).units[0]?.records).toEqual([{ kind: 'ignored', reason: 'folder marker' }]);
    expect(toDeliveryUnits(eb).units[0]?.records).toEqual([{ kind: 'ignored', reason: 'folder marker' }]);
  });

  it('skips EventBridge events of S3 other than Object Created (Object Deleted...)', () => {
    const deleted = { ...loadEvent('eventbridge-object-created'), 'detail-type': 'Object Deleted' };

    expect(toDeliveryUnits(deleted)).toEqual({
      shape: 'eventbridge',
      units: [{ id: 'direct', records: [{ kind: 'ignored', reason: 'event Object Deleted' }] }],
    });
  });
});
