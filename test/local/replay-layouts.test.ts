import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../cli/program';
import { loadRegistry } from '../../shared/config/registry';
import { replayCommand } from '../../shared/domain/alert-text';
import type { Dataset } from '../../shared/domain/datasets';
import { dateKeyValues, dateLayoutOf } from '../../shared/domain/partition-dates';
import { LOCAL_STATE_MACHINE_ARN } from '../../local/run-starter';

/**
 * Every partition scheme is first class: `replay --from/--to` for any date-like layout, `--partition`
 * for any dataset, and the alert's replay command right for every shipped and test dataset.
 */

const ordersYml = readFileSync(join('datasets', 'orders', 'dataset.yml'), 'utf8');

/** A dataset like orders, under another name, prefix and tables, with other partition keys. */
function datasetLike(name: string, partitionKeys: string): string {
  const keys = /partitionKeys:\n(?: {2}- .*\n)+/;
  if (!keys.test(ordersYml))
    throw new Error('datasets/orders/dataset.yml: no partitionKeys block to replace');
  return ordersYml
    .replace(/^name: orders$/m, `name: ${name}`)
    .replace('prefix: landing/shop/orders/', `prefix: landing/test/${name}/`)
    .replace(/orders_(bronze|silver|daily_revenue|quarantine)/g, `${name}_$1`)
    .replace(keys, () => `partitionKeys:\n${partitionKeys}\n`);
}

const TEST_DATASETS: Record<string, string> = {
  // region=…/dt=YYYY-MM-DD: the date told by the pattern, region from --where.
  clicks:
    "  - { name: region, pattern: '^[a-z]+-[a-z]+$' }\n  - { name: dt, pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' }",
  // ds=YYYYMMDD/hour=HH: a compact date, then a key that is not the date.
  logs: "  - { name: ds, pattern: '^[0-9]{8}$' }\n  - { name: hour, pattern: '^[0-9]{2}$' }",
  // year/month/day without leading zeros (day=5).
  events:
    "  - { name: year, pattern: '^[0-9]{4}$' }\n  - { name: month, pattern: '^([1-9]|1[0-2])$' }\n  - { name: day, pattern: '^([1-9]|[12][0-9]|3[01])$' }",
  // date=…: no pattern, told by its name.
  sessions: '  - { name: date }',
  // shop=…: no date at all.
  stores: "  - { name: shop, pattern: '^[a-z]+$' }",
};

const root = mkdtempSync(join(tmpdir(), 'replay-layouts-'));
const datasetsDir = join(root, 'datasets');
const lake = join(root, 'lake');
const savedDatasetsDir = process.env['DATASETS_DIR'];

beforeAll(() => {
  cpSync('datasets', datasetsDir, { recursive: true });
  for (const [name, keys] of Object.entries(TEST_DATASETS)) {
    mkdirSync(join(datasetsDir, name));
    writeFileSync(join(datasetsDir, name, 'dataset.yml'), datasetLike(name, keys));
    cpSync(join('datasets', 'orders', 'gold.sql'), join(datasetsDir, name, 'gold.sql'));
  }
  mkdirSync(join(lake, 'landing'), { recursive: true });
  process.env['DATASETS_DIR'] = datasetsDir;
});
afterAll(() => {
  if (savedDatasetsDir === undefined) delete process.env['DATASETS_DIR'];
  else process.env['DATASETS_DIR'] = savedDatasetsDir;
  rmSync(root, { recursive: true, force: true });
});

/** Runs the CLI in-process; stdout and stderr as text. */
async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const log = jest
    .spyOn(console, 'log')
    .mockImplementation((...a: unknown[]) => void out.push(`${a.join(' ')}\n`));
  try {
    const code = await runCli(args, { writeOut: (t) => void out.push(t), writeErr: (t) => void err.push(t) });
    return { code, out: out.join(''), err: err.join('') };
  } finally {
    log.mockRestore();
  }
}

/** The partitions a dry run would replay. */
async function dryRun(args: string[]): Promise<string[]> {
  const result = await cli(['replay', ...args, '--dry-run', '--json', '--lake', lake]);
  if (result.code !== 0) throw new Error(`replay ${args.join(' ')} exited ${result.code}: ${result.err}`);
  return (JSON.parse(result.out) as Array<{ partition: string }>).map((p) => p.partition);
}

describe('date layouts from the declared partition keys', () => {
  const layoutOf = (name: string) => dateLayoutOf(loadRegistry(datasetsDir).get(name));

  test.each([
    ['orders', { year: '2024', month: '03', day: '05' }],
    ['events', { year: '2024', month: '3', day: '5' }],
    ['clicks', { dt: '2024-03-05' }],
    ['logs', { ds: '20240305' }],
    ['sessions', { date: '2024-03-05' }],
  ])('%s writes 2024-03-05 as %j', (name, values) => {
    const layout = layoutOf(name);
    expect(layout).toBeDefined();
    expect(dateKeyValues(layout as NonNullable<typeof layout>, '2024-03-05')).toEqual(values);
  });

  test('a dataset whose keys hold no date has no date layout', () => {
    expect(layoutOf('stores')).toBeUndefined();
  });
});

describe('medallion replay for every partition scheme', () => {
  test('--from/--to on every date-like layout, other keys from --where', async () => {
    expect(await dryRun(['--dataset', 'orders', '--from', '2024-02-28', '--to', '2024-03-01'])).toEqual([
      'year=2024/month=02/day=28',
      'year=2024/month=02/day=29',
      'year=2024/month=03/day=01',
    ]);
    expect(await dryRun(['--dataset', 'events', '--from', '2024-01-09', '--to', '2024-01-10'])).toEqual([
      'year=2024/month=1/day=9',
      'year=2024/month=1/day=10',
    ]);
    expect(
      await dryRun([
        '--dataset',
        'clicks',
        '--from',
        '2024-05-01',
        '--to',
        '2024-05-02',
        '--where',
        'region=us-east',
        '--where',
        'region=eu-west',
      ]),
    ).toEqual([
      'region=us-east/dt=2024-05-01',
      'region=eu-west/dt=2024-05-01',
      'region=us-east/dt=2024-05-02',
      'region=eu-west/dt=2024-05-02',
    ]);
    expect(
      await dryRun(['--dataset', 'logs', '--from', '2023-12-31', '--to', '2024-01-01', '--where', 'hour=07']),
    ).toEqual(['ds=20231231/hour=07', 'ds=20240101/hour=07']);
    expect(await dryRun(['--dataset', 'sessions', '--from', '2024-05-01', '--to', '2024-05-01'])).toEqual([
      'date=2024-05-01',
    ]);
  });

  test('--partition works for any dataset, repeatable, each partition checked like a landing key', async () => {
    expect(
      await dryRun([
        '--dataset',
        'clicks',
        '--partition',
        'region=us-east/dt=2024-05-01',
        '--partition',
        'region=ap-south/dt=2024-05-03/',
      ]),
    ).toEqual(['region=us-east/dt=2024-05-01', 'region=ap-south/dt=2024-05-03']);
    expect(await dryRun(['--dataset', 'stores', '--partition', 'shop=lyon'])).toEqual(['shop=lyon']);
    const wrong = await cli(['replay', '--dataset', 'clicks', '--partition', 'dt=2024-05-01', '--dry-run']);
    expect(wrong.code).toBe(2);
    expect(wrong.err).toContain('partition "dt=2024-05-01" of dataset clicks');
    const impossible = await cli([
      'replay',
      '--dataset',
      'clicks',
      '--partition',
      'region=us-east/dt=2024-02-30',
      '--dry-run',
    ]);
    expect(impossible.code).toBe(2);
    expect(impossible.err).toContain('dt=2024-02-30 is not a calendar date');
  });

  test('a replay by dates names what is missing: a --where key, or a date in the keys', async () => {
    const noRegion = await cli([
      'replay',
      '--dataset',
      'clicks',
      '--from',
      '2024-05-01',
      '--to',
      '2024-05-01',
    ]);
    expect(noRegion.code).toBe(2);
    expect(noRegion.err.split('\n')[0]).toBe(
      'error: dataset clicks is partitioned by region/dt: give --where region=… with --from/--to, or --partition',
    );
    const dateInWhere = await cli([
      'replay',
      '--dataset',
      'clicks',
      '--from',
      '2024-05-01',
      '--to',
      '2024-05-01',
      '--where',
      'dt=2024-05-02',
    ]);
    expect(dateInWhere.code).toBe(2);
    expect(dateInWhere.err).toContain(
      '--where dt=2024-05-02: expected key=value with a key of dataset clicks other than its date (region)',
    );
    const noDate = await cli(['replay', '--dataset', 'stores', '--from', '2024-05-01', '--to', '2024-05-01']);
    expect(noDate.code).toBe(2);
    expect(noDate.err).toContain('dataset stores is partitioned by shop, none of which holds a date');
  });
});

describe("the alert's replay command", () => {
  const AWS_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:medallion-prod-pipeline';

  /** One partition path of each dataset, as a landing would give it. */
  const partitionOf = (d: Dataset): string =>
    d.partitionKeys
      .map((k) => {
        const layout = dateLayoutOf(d);
        const date = layout ? dateKeyValues(layout, '2024-01-15')[k.name] : undefined;
        const other: Record<string, string> = { region: 'us-east', hour: '23', shop: 'lyon' };
        return `${k.name}=${date ?? other[k.name] ?? 'x'}`;
      })
      .join('/');

  test('replays exactly the failed partition for every shipped and test dataset; the AWS form only on AWS', async () => {
    const registry = loadRegistry(datasetsDir);
    expect(registry.datasets.map((d) => d.name)).toEqual(
      expect.arrayContaining(['orders', ...Object.keys(TEST_DATASETS)]),
    );
    for (const dataset of registry.datasets) {
      const state = { dataset: dataset.name, partitionPath: partitionOf(dataset) };
      const onAws = replayCommand(state, 'silver', AWS_ARN);
      const local = replayCommand(state, 'silver', LOCAL_STATE_MACHINE_ARN);
      expect(onAws).toContain(`--state-machine-arn ${AWS_ARN}`);
      expect(local).not.toContain('--state-machine-arn');
      for (const command of [onAws, local]) {
        const [npx, medallion, ...args] = command.split(' ');
        expect([npx, medallion]).toEqual(['npx', 'medallion']);
        const result = await cli([...args, '--dry-run', '--json', '--lake', lake]);
        expect({ command, code: result.code, err: result.err }).toEqual({ command, code: 0, err: '' });
        expect(JSON.parse(result.out)).toEqual([
          { dataset: dataset.name, partition: state.partitionPath, fromStage: 'silver' },
        ]);
      }
    }
  });

  test('a local state machine ARN given to replay is refused, naming the local form', async () => {
    const result = await cli([
      'replay',
      '--dataset',
      'orders',
      '--partition',
      'year=2024/month=01/day=15',
      '--state-machine-arn',
      LOCAL_STATE_MACHINE_ARN,
      '--dry-run',
    ]);
    expect(result.code).toBe(2);
    expect(result.err).toContain("is the local pipeline's: leave it out to replay on the local lake");
  });
});
