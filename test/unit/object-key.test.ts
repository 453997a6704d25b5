import { parseRegistry } from '../../shared/config/dataset-files';
import {
  InvalidObjectKeyError,
  NoDatasetMatchError,
  type InvalidKeyReason,
} from '../../shared/domain/errors';
import { decodeS3Key, KeyParser } from '../../shared/domain/object-key';
import { shippedRegistry } from '../helpers/registry';

const parser = new KeyParser(shippedRegistry());
const day = 'landing/shop/orders/year=2024/month=01/day=15';

const reasonOf = (key: string): InvalidKeyReason | 'no-dataset' => {
  try {
    parser.parse(key);
  } catch (error) {
    if (error instanceof InvalidObjectKeyError) return error.reason;
    if (error instanceof NoDatasetMatchError) return 'no-dataset';
    throw error;
  }
  throw new Error(`expected "${key}" to be rejected`);
};

describe('decodeS3Key', () => {
  it.each([
    ['orders+batch+001.jsonl', 'orders batch 001.jsonl'],
    ['c%2B%2B.csv', 'c++.csv'],
    ['year%3D2024/month%3D01', 'year=2024/month=01'],
    ['caf%C3%A9+%E2%82%AC.csv', 'café €.csv'],
    ['a%3Ab%2Cc.csv', 'a:b,c.csv'],
  ])('decodes %s as S3 encodes it', (raw, decoded) => {
    expect(decodeS3Key(raw)).toBe(decoded);
  });

  it('rejects invalid percent-encoding with a typed error', () => {
    expect(() => decodeS3Key('bad%E0%A4%A.csv')).toThrow(InvalidObjectKeyError);
    expect(() => decodeS3Key('bad%zz.csv')).toThrow(/bad-encoding/);
  });
});

describe('KeyParser', () => {
  it('maps a key to its dataset and partition in declared order', () => {
    const parsed = parser.parse(`${day}/orders batch 001.jsonl`);

    expect(parsed.dataset.name).toBe('orders');
    expect(parsed.partition.values).toEqual([
      ['year', '2024'],
      ['month', '01'],
      ['day', '15'],
    ]);
    expect(parsed.partition.path).toBe('year=2024/month=01/day=15');
    expect(parsed.fileName).toBe('orders batch 001.jsonl');
    expect(parsed.format).toBe('jsonl');
  });

  it('recognises CSV and gzip-compressed files', () => {
    expect(parser.parse(`${day}/feed.CSV`).format).toBe('csv');
    expect(parser.parse(`${day}/feed.jsonl.gz`).format).toBe('jsonl');
  });

  it('keeps unicode file names', () => {
    expect(parser.parse(`${day}/commandes été 🌞.csv`).fileName).toBe('commandes été 🌞.csv');
  });

  it('picks the dataset with the longest matching prefix', () => {
    const orders = shippedRegistry().get('orders');
    const registry = parseRegistry(
      [
        { name: 'shop', prefix: 'landing/shop/' },
        { name: 'orders', prefix: 'landing/shop/orders/' },
      ].map(({ name, prefix }) => ({
        folder: name,
        file: `datasets/${name}/dataset.yml`,
        text: JSON.stringify({ ...stripDerived(orders), name, landing: { ...orders.landing, prefix } }),
        files: { 'gold.sql': orders.goldSql },
      })),
    );
    const nested = new KeyParser(registry);

    expect(nested.parse(`${day}/a.csv`).dataset.name).toBe('orders');
    expect(nested.parse('landing/shop/year=2024/month=01/day=15/a.csv').dataset.name).toBe('shop');
  });

  it.each<[string, InvalidKeyReason | 'no-dataset']>([
    ['landing/crm/contacts/export.csv', 'no-dataset'],
    ['landing/shop/ordersX/year=2024/month=01/day=15/a.csv', 'no-dataset'],
    [`landing/shop/orders/../../secrets/year=2024/month=01/day=15/a.csv`, 'traversal'],
    [`${day}/../day=16/a.csv`, 'traversal'],
    [`${day}/./a.csv`, 'traversal'],
    ['landing/shop/orders/year=2024//month=01/day=15/a.csv', 'empty-segment'],
    [`${day}/`, 'not-a-file'],
    ['landing/shop/orders/year=2024/month=01/a.csv', 'missing-partition'],
    ['landing/shop/orders/a.csv', 'missing-partition'],
    ['landing/shop/orders/month=01/year=2024/day=15/a.csv', 'unexpected-partition-key'],
    ['landing/shop/orders/2024/01/15/a.csv', 'unexpected-partition-key'],
    ['landing/shop/orders/year=2024/month=13/day=15/a.csv', 'invalid-partition-value'],
    ['landing/shop/orders/year=/month=01/day=15/a.csv', 'invalid-partition-value'],
    [`${day}/hour=10/a.csv`, 'nested-below-partition'],
    [`${day}/_SUCCESS`, 'unsupported-format'],
    [`${day}/report.parquet`, 'unsupported-format'],
    [`${day}/a\u0000.csv`, 'bad-encoding'],
    ['landing/shop/orders/year=2024/month=02/day=30/a.csv', 'impossible-date'],
    ['landing/shop/orders/year=2023/month=02/day=29/a.csv', 'impossible-date'],
    ['landing/shop/orders/year=2024/month=04/day=31/a.csv', 'impossible-date'],
    // Keys of no dataset are skipped before any check of a dataset key.
    ['landing/other/../x.csv', 'no-dataset'],
    ['elsewhere/a\u0001b.csv', 'no-dataset'],
  ])('rejects %s (%s)', (key, reason) => {
    expect(reasonOf(key)).toBe(reason);
  });

  it('accepts 29 February of a leap year, and names an impossible date with its own error', () => {
    expect(parser.parse('landing/shop/orders/year=2024/month=02/day=29/a.csv').partition.path).toBe(
      'year=2024/month=02/day=29',
    );
    expect(() => parser.parse('landing/shop/orders/year=2023/month=02/day=29/a.csv')).toThrow(
      expect.objectContaining({
        name: 'InvalidPartitionDateError',
        message: expect.stringContaining('year=2023/month=02/day=29 is not a calendar date'),
      }),
    );
  });

  it('says what layout it expected', () => {
    expect(() => parser.parse('landing/shop/orders/year=2024/month=01/a.csv')).toThrow(
      /expects year=…\/month=…\/day=…\/<file>.*"day" is missing/,
    );
  });
});

function stripDerived<T extends { folder: string; goldSql: string }>(d: T): Omit<T, 'folder' | 'goldSql'> {
  const { folder: _folder, goldSql: _goldSql, ...rest } = d;
  return rest;
}
