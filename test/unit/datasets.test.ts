import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileRegistry, loadDeployedRegistry } from '../../shared/config/deployed-registry';
import { checkRegistry, parseRegistry } from '../../shared/config/dataset-files';
import type { DatasetSource } from '../../shared/domain/datasets';
import { DatasetConfigError } from '../../shared/domain/errors';
import { shippedRegistry } from '../helpers/registry';

const ordersYaml = readFileSync(join(process.cwd(), 'datasets', 'orders', 'dataset.yml'), 'utf8');
const goldSql = readFileSync(join(process.cwd(), 'datasets', 'orders', 'gold.sql'), 'utf8');
const source = (
  text: string,
  folder = 'orders',
  files: Record<string, string> = { 'gold.sql': goldSql },
): DatasetSource => ({
  folder,
  file: `datasets/${folder}/dataset.yml`,
  text,
  files,
});

const problemsOf = (sources: DatasetSource[]): readonly string[] => {
  try {
    parseRegistry(sources);
  } catch (error) {
    if (error instanceof DatasetConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected the registry to be rejected');
};

describe('dataset registry', () => {
  it('accepts the shipped datasets, with defaults filled in', () => {
    const registry = shippedRegistry();
    const orders = registry.get('orders');

    expect(orders.landing.prefix).toBe('landing/shop/orders/');
    expect(orders.partitionKeys.map((k) => k.name)).toEqual(['year', 'month', 'day']);
    expect(orders.stages.silver.glueJob).toBe('medallion-silver');
    expect(orders.stages.bronze.arguments).toEqual({});
    expect(orders.quarantine.spike).toEqual({ lookback: 14, k: 3, minRecords: 100 });
    expect(orders.goldSql).toContain('FROM silver');
  });

  it('reports every problem at once, each naming the file and the field', () => {
    const broken = ordersYaml
      .replace('prefix: landing/shop/orders/', 'prefix: /landing/shop/orders')
      .replace('onSpike: alert', 'onSpike: page-everyone\n  colour: red')
      .replace('maxRatio: 0.05', 'maxRatio: 5');

    const problems = problemsOf([source(broken)]);

    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^datasets\/orders\/dataset\.yml: landing\.prefix: /),
        expect.stringMatching(/^datasets\/orders\/dataset\.yml: quarantine\.onSpike: /),
        expect.stringMatching(/^datasets\/orders\/dataset\.yml: quarantine: .*\(colour\)/),
        expect.stringMatching(/^datasets\/orders\/dataset\.yml: quarantine\.maxRatio: /),
      ]),
    );
    expect(problems).toHaveLength(4);
  });

  it('nullValues and numberFormat: defaults, and a null token that could never match is refused', () => {
    const orders = shippedRegistry().get('orders');
    expect([orders.nullValues, orders.numberFormat]).toEqual([[], 'plain']);

    const problems = problemsOf([
      source(`${ordersYaml}\nnullValues: ['null', ' N/A', '']\nnumberFormat: fancy\n`),
    ]);

    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/dataset\.yml: nullValues\[2\]: /),
        expect.stringMatching(/dataset\.yml: numberFormat: /),
      ]),
    );
    expect(problemsOf([source(`${ordersYaml}\nnullValues: ['null', ' N/A']\n`)])).toEqual([
      'datasets/orders/dataset.yml: nullValues[1]: " N/A" has surrounding whitespace (values are compared after trimming)',
    ]);
  });

  it('gold.window: a whole number of partitions up to 31, only for a dataset with a date in its keys', () => {
    const windowed = (value: string, yaml = ordersYaml) =>
      source(yaml.replace(/^gold:\n/m, `gold:\n  window: { partitions: ${value} }\n`));
    expect(parseRegistry([windowed('7')]).get('orders').gold.window).toEqual({ partitions: 7 });
    expect(problemsOf([windowed('0')])).toEqual([
      'datasets/orders/dataset.yml: gold.window.partitions: must be 1 (the partition alone) or more',
    ]);
    expect(problemsOf([windowed('40')])).toEqual([
      'datasets/orders/dataset.yml: gold.window.partitions: must be at most 31',
    ]);
    const noDate = ordersYaml.replace(
      /partitionKeys:\n(?: {2}- .*\n)+/,
      () => "partitionKeys:\n  - { name: shop, pattern: '^[a-z]+$' }\n",
    );
    expect(problemsOf([windowed('3', noDate)])).toEqual([
      'datasets/orders/dataset.yml: gold.window: a window of 3 partitions needs a date in the partition keys (year/month/day, or a key such as dt=YYYY-MM-DD); shop hold none',
    ]);
  });

  it('trigger.settleSeconds: 0 by default, a whole number of seconds up to an hour, a bad one named', () => {
    expect(shippedRegistry().get('orders').trigger).toEqual({ settleSeconds: 0 });
    const settle = (value: string) => source(`${ordersYaml}\ntrigger:\n  settleSeconds: ${value}\n`);

    expect(parseRegistry([settle('300')]).get('orders').trigger.settleSeconds).toBe(300);
    expect(problemsOf([settle('-1')])).toEqual([
      'datasets/orders/dataset.yml: trigger.settleSeconds: must be 0 (no wait) or more',
    ]);
    expect(problemsOf([settle('2.5')])).toEqual([
      'datasets/orders/dataset.yml: trigger.settleSeconds: must be a whole number of seconds',
    ]);
    expect(problemsOf([settle('soon')])).toEqual([
      'datasets/orders/dataset.yml: trigger.settleSeconds: must be a whole number of seconds',
    ]);
    expect(problemsOf([settle('7200')])).toEqual([
      'datasets/orders/dataset.yml: trigger.settleSeconds: must be at most 3600 (an hour; a longer wait is a schedule)',
    ]);
    expect(problemsOf([source(`${ordersYaml}\ntrigger:\n  settle: 300\n`)])).toEqual([
      expect.stringMatching(/^datasets\/orders\/dataset\.yml: trigger: .*settle/),
    ]);
  });

  it('onDrift: halt by default, alert accepted, anything else named', () => {
    expect(shippedRegistry().get('orders').onDrift).toBe('halt');
    expect(parseRegistry([source(`${ordersYaml}\nonDrift: alert\n`)]).get('orders').onDrift).toBe('alert');
    expect(problemsOf([source(`${ordersYaml}\nonDrift: ignore\n`)])).toEqual([
      'datasets/orders/dataset.yml: onDrift: must be alert or halt',
    ]);
  });

  it('mode: cdc: its operation, sequence and key named and checked, dedup refused', () => {
    expect(shippedRegistry().get('orders').mode).toBe('append');
    const cdc = (spec: string) => source(`${ordersYaml}\nmode: cdc\n${spec}`);
    const good =
      'cdc:\n  operation: { column: status, insert: placed, update: paid, delete: cancelled }\n  sequence: updated_at\n  key: [order_id]\n';

    expect(problemsOf([cdc('')])).toEqual([
      'datasets/orders/dataset.yml: cdc: mode: cdc needs cdc (operation, sequence, key)',
      'datasets/orders/dataset.yml: dedup: a CDC dataset keeps the latest change per cdc.key: remove dedup',
    ]);
    const noDedup = (text: string) => text.replace(/\ndedup:\n( {2}.*\n)+/, '\n');
    expect(
      parseRegistry([source(noDedup(`${ordersYaml}\nmode: cdc\n${good}`))]).get('orders').cdc?.key,
    ).toEqual(['order_id']);
    expect(
      problemsOf([
        source(
          noDedup(
            `${ordersYaml}\nmode: cdc\ncdc:\n  operation: { column: op, insert: I, update: I, delete: D }\n  sequence: currency\n  key: [id]\n`,
          ),
        ),
      ]),
    ).toEqual([
      'datasets/orders/dataset.yml: cdc.key[0]: unknown column "id"',
      'datasets/orders/dataset.yml: cdc.sequence: "currency" is string: a sequence must be a number, a date or a timestamp',
      'datasets/orders/dataset.yml: cdc.operation.column: unknown column "op"',
      'datasets/orders/dataset.yml: cdc.operation: insert, update and delete must be three different values',
    ]);
    expect(problemsOf([source(`${ordersYaml}\n${good}`)])).toEqual([
      'datasets/orders/dataset.yml: mode: cdc is set: set mode: cdc (or remove cdc)',
    ]);
    // A CDC dataset's gold reads its whole current state: a trailing window would mean nothing.
    const windowed = noDedup(`${ordersYaml}\nmode: cdc\n${good}`).replace(
      'gold:\n  sql: gold.sql\n',
      'gold:\n  sql: gold.sql\n  window: { partitions: 7 }\n',
    );
    expect(problemsOf([source(windowed)])).toEqual([
      "datasets/orders/dataset.yml: gold.window: a CDC dataset's gold reads its whole current state, not partitions: remove gold.window",
    ]);
  });

  it('checks references between fields: rule columns, dedup key, gold SQL file, folder name', () => {
    const broken = ordersYaml
      .replace('{ column: currency, check: accepted_values', '{ column: curency, check: accepted_values')
      .replace('orderBy: updated_at', 'orderBy: changed_at')
      .replace('name: orders', 'name: sales');

    const problems = problemsOf([source(broken, 'orders', {})]);

    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining('rules[4].column: unknown column "curency"'),
        expect.stringContaining('dedup.orderBy: unknown column "changed_at"'),
        expect.stringContaining('gold.sql: file "gold.sql" not found'),
        expect.stringContaining('name: must equal its folder name "orders"'),
      ]),
    );
  });

  it('rejects two datasets on the same landing prefix and names both', () => {
    const twin = ordersYaml.replace('name: orders', 'name: orders_copy');

    const problems = problemsOf([source(ordersYaml), source(twin, 'orders_copy')]);

    expect(problems).toEqual([
      'datasets/orders: landing.prefix: "landing/shop/orders/" is also used by orders_copy',
      'datasets/orders_copy: landing.prefix: "landing/shop/orders/" is already used by orders',
    ]);
  });

  it('reports a schema problem, a cross-field problem and a rule the engines cannot run in one pass', () => {
    // Prepare: an unknown key (schema), a dedup on a missing column (cross-field) in one file; a rule
    // pattern with a backslash (compiled SQL) in another
    const twoKinds = ordersYaml
      .replace('owner: data-platform@example.com', 'owner: data-platform@example.com\ncolour: red')
      .replace('orderBy: updated_at', 'orderBy: changed_at');
    const backslash = ordersYaml
      .replace('name: orders', 'name: orders_copy')
      .replace('prefix: landing/shop/orders/', 'prefix: landing/shop/orders_copy/')
      .replace("pattern: '^ORD-[0-9]{8}$'", () => "pattern: '^ORD-\\d{8}$'");

    // Act
    const problems = problemsOf([source(twoKinds), source(backslash, 'orders_copy')]);

    // Assess
    expect(problems).toEqual([
      'datasets/orders/dataset.yml: (root): Unrecognized key: "colour" (colour)',
      'datasets/orders/dataset.yml: dedup.orderBy: unknown column "changed_at"',
      expect.stringMatching(
        /^datasets\/orders_copy\/dataset\.yml: rules\[0\]\.pattern: contains a backslash/,
      ),
    ]);
  });

  it('keeps the valid datasets and names each invalid one with its own problems', () => {
    const broken = ordersYaml
      .replace('name: orders', 'name: returns')
      .replace('prefix: landing/shop/orders/', 'prefix: landing/shop/returns/')
      .replace('maxRatio: 0.05', 'maxRatio: 5');

    const checked = checkRegistry([source(ordersYaml), source(broken, 'returns')]);

    expect(checked.registry.datasets.map((d) => d.name)).toEqual(['orders']);
    expect(checked.invalid).toEqual([
      {
        folder: 'returns',
        file: 'datasets/returns/dataset.yml',
        problems: [expect.stringMatching(/^datasets\/returns\/dataset\.yml: quarantine\.maxRatio: /)],
      },
    ]);
    expect(checked.problems).toEqual(checked.invalid[0]?.problems);
  });

  it('names the file of a YAML syntax error', () => {
    const problems = problemsOf([source('name: orders\n  landing: [unclosed')]);

    expect(problems[0]).toMatch(/^datasets\/orders\/dataset\.yml: YAML: /);
  });

  it('rejects Glue reserved job arguments', () => {
    const broken = ordersYaml.replace("--enable-auto-scaling: 'true'", "--JOB_NAME: 'mine'");

    expect(problemsOf([source(broken)])).toEqual([
      expect.stringContaining('stages.gold.arguments: must not set Glue reserved'),
    ]);
  });
});

describe('the compiled registry the Lambdas read', () => {
  const dir = () => mkdtempSync(join(tmpdir(), 'registry-'));

  it('holds exactly what the validated datasets hold', () => {
    const file = join(dir(), 'datasets.json');
    writeFileSync(file, compileRegistry(shippedRegistry()));

    const deployed = loadDeployedRegistry(file);

    expect(deployed.datasets).toEqual(shippedRegistry().datasets);
    expect(deployed.get('orders').landing.prefix).toBe('landing/shop/orders/');
  });

  it('says how to produce it when it is missing or not a compiled registry', () => {
    const missing = join(dir(), 'nope.json');
    const wrong = join(dir(), 'wrong.json');
    writeFileSync(wrong, JSON.stringify({ version: 9, datasets: [] }));

    expect(() => loadDeployedRegistry(missing)).toThrow(
      /nope\.json: cannot read the compiled dataset registry.*npm run package/,
    );
    expect(() => loadDeployedRegistry(wrong)).toThrow(
      /wrong\.json: not a compiled dataset registry of version 1/,
    );
  });
});
