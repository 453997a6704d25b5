import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lakeRows, useDemoLake } from '../helpers/demo-lake';
import { runCliCaptured } from '../helpers/cli';

/** `medallion catalog`: the data dictionary an analyst reads, from a lake the demo filled. */
describe('medallion catalog (data dictionary)', () => {
  const { root, pipeline } = useDemoLake('catalog-lake-');

  const cli = runCliCaptured;

  const count = async (sql: string): Promise<number> => Number((await lakeRows(pipeline, sql))[0]?.['n']);

  test('every dataset with its description, owner, keys, freshness, tables per zone and gold SQL', async () => {
    const { code, out } = await cli(['catalog', '--lake', root]);

    expect(code).toBe(0);
    for (const d of pipeline.registry.datasets) {
      expect(out).toContain(`## ${d.name}\n\n${d.description}`);
      expect(out).toContain(`**Owner:** ${d.owner ?? 'not declared'}`);
      expect(out).toContain(`**Partition keys:** ${d.partitionKeys.map((k) => `\`${k.name}\``).join(', ')}`);
      for (const zone of ['bronze', 'silver', 'gold', 'quarantine'] as const)
        expect(out).toContain(`### ${zone}: \`${d.catalog.database}.${d.catalog.tables[zone]}\``);
      expect(out).toContain(d.goldSql.trim());
    }
    // The demo's orders ran: fresh minutes ago, not "never".
    expect(out).toMatch(/## orders[\s\S]*?\*\*Fresh:\*\* last successful run \d+ min ago/);
    // Silver columns carry their declared constraints and rule names.
    expect(out).toContain(
      '| `order_id` | VARCHAR | internal | Order number (ORD- and 8 digits), the same for every version of an order | not null, order_id_pattern |',
    );
    expect(out).toContain(
      '| `currency` | VARCHAR | public | ISO 4217 currency code of the amount (EUR, USD, GBP) | currency_accepted_values |',
    );
    // Each column's classification and description from dataset.yml, in every zone, gold's from its contract.
    expect(out).toMatch(
      /### silver: `shop_lake.orders_silver`[\s\S]*?\| `customer_id` \| VARCHAR \| pii \| The shop's customer number/,
    );
    expect(out).toMatch(
      /### gold: `shop_lake.orders_daily_revenue`[\s\S]*?\| `revenue` \| DECIMAL\(14,2\) \| confidential \| Revenue of those orders/,
    );
    expect(out).toContain('| `year` | VARCHAR | internal | Partition key | partition key |');
    expect(out).toContain('**Tags:** `sales`, `e-commerce`');
  });

  test('row counts and the latest partitions are those of the lake', async () => {
    const { out } = await cli(['catalog', '--lake', root]);
    const silverRows = await count('SELECT count(*) AS n FROM orders_silver');
    const day17 = await count(`SELECT count(*) AS n FROM orders_silver WHERE day = '17'`);
    const partitions = await count('SELECT count(DISTINCT (year, month, day)) AS n FROM orders_silver');

    expect(out).toContain(
      `### silver: \`shop_lake.orders_silver\`\n\n${silverRows} rows in ${partitions} partitions.`,
    );
    expect(out).toMatch(
      new RegExp(`### silver: [\\s\\S]*?\\| \`year=2024/month=01/day=17\` \\| ${day17} \\|`),
    );
  });

  test('--format html writes one page with a section per dataset and table', async () => {
    const file = join(root, 'dictionary.html');
    const { code } = await cli(['catalog', '--lake', root, '--format', 'HTML', '--out', file]);
    const page = readFileSync(file, 'utf8');

    expect(code).toBe(0);
    expect(page.startsWith('<!doctype html>')).toBe(true);
    for (const d of pipeline.registry.datasets) {
      expect(page).toContain(`<article class="dataset" id="${d.name}">`);
      expect(page).toContain(`<section class="table" data-table="${d.catalog.tables.gold}">`);
    }
    expect(page).toContain(
      `<td><code>user_id</code></td><td>VARCHAR</td><td><span class="classification pii">pii</span></td><td>Signed-in user's id`,
    );
    expect(page).not.toMatch(/<script/);
  });

  test('a lake that does not exist is a usage error, and nothing is created', async () => {
    const missing = join(root, 'no-such-lake');
    const { code, err } = await cli(['catalog', '--lake', missing]);

    expect(code).toBe(2);
    expect(err).toContain(missing);
    expect(existsSync(missing)).toBe(false);
  });
});
