import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRegistry } from '../../shared/config/dataset-files';
import type { DatasetSource } from '../../shared/domain/datasets';
import { DatasetConfigError } from '../../shared/domain/errors';
import {
  CLASSIFICATIONS,
  columnGovernance,
  mayRead,
  mostRestricted,
  readableClassifications,
} from '../../shared/domain/governance';
import { shippedRegistry } from '../helpers/registry';

/** Describe and classify in the registry: the closed list, its validation and the one column policy. */

const ordersYaml = readFileSync(join(process.cwd(), 'datasets', 'orders', 'dataset.yml'), 'utf8');
const goldSql = readFileSync(join(process.cwd(), 'datasets', 'orders', 'gold.sql'), 'utf8');
const source = (text: string): DatasetSource => ({
  folder: 'orders',
  file: 'datasets/orders/dataset.yml',
  text,
  files: { 'gold.sql': goldSql },
});
const problemsOf = (text: string): readonly string[] => {
  try {
    parseRegistry([source(text)]);
  } catch (error) {
    if (error instanceof DatasetConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected the registry to be rejected');
};

describe('dataset.yml classification, description and tags', () => {
  test('a classification outside the closed list names the file, the field and the list', () => {
    const text = ordersYaml.replace('classification: pii', 'classification: secret');

    expect(problemsOf(text)).toEqual([
      'datasets/orders/dataset.yml: columns[1].classification: must be one of public, internal, confidential, pii',
    ]);
  });

  test('a gold column is checked the same way, and a description longer than a Glue comment is refused', () => {
    const text = ordersYaml
      .replace(
        'classification: confidential\n      description: Revenue',
        'classification: PII\n      description: Revenue',
      )
      .replace('description: Number of items in the order', `description: ${'x'.repeat(256)}`);

    expect(problemsOf(text)).toEqual([
      'datasets/orders/dataset.yml: columns[6].description: must be at most 255 characters (the Glue column comment limit)',
      'datasets/orders/dataset.yml: gold.columns[4].classification: must be one of public, internal, confidential, pii',
    ]);
  });

  test('table tags are lower-case words', () => {
    expect(problemsOf(ordersYaml.replace('tags: [sales, e-commerce]', 'tags: [Sales]'))).toEqual([
      'datasets/orders/dataset.yml: tags[0]: must be lower-case letters, digits, - or _ (at most 50)',
    ]);
  });

  test('a column without a classification is confidential: withheld from readers until classified', () => {
    const text = ordersYaml.replace('    classification: pii\n', '');
    const orders = parseRegistry([source(text)]).get('orders');

    expect(columnGovernance(orders, 'silver', 'customer_id')).toEqual({
      description: "The shop's customer number of the buyer; identifies a person",
      classification: 'confidential',
      declared: false,
    });
    expect(mayRead('reader', columnGovernance(orders, 'silver', 'customer_id').classification)).toBe(false);
  });
});

describe('the shipped datasets are described and classified', () => {
  const registry = shippedRegistry();

  test('every column and gold column declares a description and a classification, every dataset an owner', () => {
    for (const d of registry.datasets) {
      expect(d.owner).toBeTruthy();
      for (const c of [...d.columns, ...d.gold.columns]) {
        expect({ dataset: d.name, column: c.name, described: !!c.description }).toEqual({
          dataset: d.name,
          column: c.name,
          described: true,
        });
        expect(CLASSIFICATIONS).toContain(c.classification);
      }
    }
  });

  test('the identifiers of people are pii', () => {
    const classOf = (dataset: string, column: string) =>
      columnGovernance(registry.get(dataset), 'silver', column).classification;

    expect(classOf('orders', 'customer_id')).toBe('pii');
    expect(classOf('page_views', 'user_id')).toBe('pii');
    expect(classOf('page_views', 'session_id')).toBe('pii');
    expect(classOf('page_views', 'referrer')).toBe('pii');
    // Business figures are confidential, in silver and in gold.
    expect(classOf('orders', 'amount')).toBe('confidential');
    expect(columnGovernance(registry.get('orders'), 'gold', 'revenue').classification).toBe('confidential');
  });

  test('the columns the stages add and the partition keys are internal', () => {
    const orders = registry.get('orders');

    for (const column of ['_ingested_at', '_source_file', 'year'])
      expect(columnGovernance(orders, 'bronze', column).classification).toBe('internal');
    expect(columnGovernance(orders, 'quarantine', '_quarantine_reasons').classification).toBe('internal');
  });
});

describe('the column policy', () => {
  test('readers select public and internal columns, full access everything', () => {
    expect(readableClassifications('reader')).toEqual(['public', 'internal']);
    expect(readableClassifications('full')).toEqual(['public', 'internal', 'confidential', 'pii']);
    expect(mayRead('reader', 'pii')).toBe(false);
    expect(mayRead('full', 'pii')).toBe(true);
  });

  test("a table's classification is its most restricted column's", () => {
    expect(mostRestricted(['public', 'pii', 'internal'])).toBe('pii');
    expect(mostRestricted(['public', 'internal'])).toBe('internal');
  });
});
