import { join } from 'node:path';
import { loadRegistry } from '../../shared/config/registry';
import { isIcebergTable } from '../../shared/domain/cdc';
import { columnGovernance } from '../../shared/domain/governance';
import {
  PACKAGE_TIMEOUT_MS,
  ROOT,
  ensurePackaged,
  loadTemplate,
  resourcesOfType,
  type Template,
} from './packaged';

/**
 * Describe and classify: every Glue table of the packaged stack carries the registry's description,
 * owner, tags and classifications, so Athena's and Glue's consoles show what a column means and who
 * may read it.
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

const ZONES = ['bronze', 'silver', 'gold', 'quarantine'] as const;
const datasets = loadRegistry(join(ROOT, 'datasets')).datasets;
let template: Template;

beforeAll(() => {
  ensurePackaged();
  template = loadTemplate();
}, PACKAGE_TIMEOUT_MS);

const tableInput = (name: string): Loose =>
  (
    resourcesOfType(template, 'AWS::Glue::Table').find(
      ([, r]) => (r.Properties?.['TableInput'] as { Name: string }).Name === name,
    )?.[1].Properties as Loose
  ).TableInput;

test('every table: the dataset description, the owner, and parameters for dataset, layer, owner, tags, classification', () => {
  for (const d of datasets) {
    for (const zone of ZONES) {
      const input = tableInput(d.catalog.tables[zone]);

      expect(input.Description).toBe(`${d.name} ${zone}: ${d.description}`);
      expect(input.Owner).toBe(d.owner);
      expect(input.Parameters).toMatchObject({
        // Glue's own data-format key stays Glue's (an Iceberg table's format parameters are Glue's own).
        ...(isIcebergTable(d, zone) ? {} : { classification: 'parquet' }),
        'medallion.dataset': d.name,
        'medallion.layer': zone,
        'medallion.owner': d.owner,
        'medallion.tags': d.tags.join(','),
      });
    }
  }
});

test('every column: its classification and description as the comment, and the table lists its columns per classification', () => {
  let pii = 0;
  for (const d of datasets) {
    for (const zone of ZONES) {
      const input = tableInput(d.catalog.tables[zone]);
      const columns = [...input.StorageDescriptor.Columns, ...input.PartitionKeys] as Loose[];
      const byClass: Record<string, string[]> = {};
      for (const c of columns) {
        const g = columnGovernance(d, zone, c.Name);
        expect(g.declared).toBe(true);
        expect(c.Comment).toBe(`[${g.classification}] ${g.description}`);
        if (!input.PartitionKeys.includes(c)) (byClass[g.classification] ??= []).push(c.Name);
        if (g.classification === 'pii') pii += 1;
      }
      for (const [cls, names] of Object.entries(byClass))
        expect(input.Parameters[`medallion.columns.${cls}`]).toBe(names.join(','));
      const most = ['pii', 'confidential', 'internal', 'public'].find((c) => byClass[c]);
      expect(input.Parameters['medallion.classification']).toBe(most);
    }
  }
  // customer_id in orders' bronze, silver and quarantine; session_id, user_id, referrer in page_views';
  // customer_id, email, full_name in customers'; user_id in sign_ins'.
  expect(pii).toBe(3 + 3 * 3 + 3 * 3 + 3);
});

test("the gold tables' columns carry the gold contract's descriptions", () => {
  const orders = datasets.find((d) => d.name === 'orders')!;
  const revenue = (tableInput(orders.catalog.tables.gold).StorageDescriptor.Columns as Loose[]).find(
    (c) => c.Name === 'revenue',
  );

  expect(revenue.Comment).toBe('[confidential] Revenue of those orders in the currency (business-sensitive)');
});
