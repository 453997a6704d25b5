import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCliCaptured as cli } from '../helpers/cli';
import { watch } from '../../cli/watch';
import { ExecutionHistoryStore, stageReports } from '../../local/history';
import { LocalLake } from '../../local/lake';
import { writeFile } from '../../local/sample';

/**
 * No surprises with datasets/: one invalid dataset.yml is named with all its problems and blocks no
 * other dataset; `watch` follows the folder, runs a changed definition from the next landing on, and
 * keeps a dataset that turned invalid on its last valid definition.
 */

const root = mkdtempSync(join(tmpdir(), 'dataset-reload-'));
const datasetsDir = join(root, 'datasets');
const savedDatasetsDir = process.env['DATASETS_DIR'];
const ymlOf = (name: string) => join(datasetsDir, name, 'dataset.yml');
const shipped = (name: string) => readFileSync(join('datasets', name, 'dataset.yml'), 'utf8');

/** A page_views landing file of one day: a view from a `device`, and a desktop view. */
const views = (dt: string, device: string): [string, string] => [
  `landing/web/page_views/dt=${dt}/views.csv`,
  [
    'view_id,session_id,user_id,page,referrer,device,duration_ms,viewed_at',
    `PV-0000000001,S1,U1,/,-,${device},1200,${dt} 10:00:00`,
    `PV-0000000002,S1,U1,/cart,/,desktop,-,${dt} 10:00:05`,
  ].join('\n'),
];

beforeAll(() => {
  cpSync('datasets', datasetsDir, { recursive: true });
  process.env['DATASETS_DIR'] = datasetsDir;
});
afterAll(() => {
  if (savedDatasetsDir === undefined) delete process.env['DATASETS_DIR'];
  else process.env['DATASETS_DIR'] = savedDatasetsDir;
  rmSync(root, { recursive: true, force: true });
});

/** Quarantined records of each run of a dataset, oldest first. */
function quarantined(lake: string, dataset: string): Array<[string, string, number | undefined]> {
  return new ExecutionHistoryStore(new LocalLake(lake).system('executions'))
    .list()
    .filter((h) => h.dataset === dataset)
    .reverse()
    .map((h) => [
      h.partition,
      h.status,
      stageReports(h).find((s) => s.stage === 'silver')?.recordsQuarantined,
    ]);
}

async function until(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('one invalid dataset.yml blocks no other dataset', () => {
  const lake = join(root, 'lake-invalid');
  afterAll(() => writeFileSync(ymlOf('orders'), shipped('orders')));

  test('commands go on with the valid datasets and name the invalid one with every problem at once', async () => {
    // Prepare: orders has a schema problem and a cross-field problem; a page_views file has landed
    writeFileSync(
      ymlOf('orders'),
      shipped('orders')
        .replace('maxRatio: 0.05', 'maxRatio: 5')
        .replace('orderBy: updated_at', 'orderBy: changed_at'),
    );
    const [key, csv] = views('2024-05-01', 'mobile');
    writeFile(join(lake, key), csv);

    // Act
    const watched = await cli(['watch', '--once', '--lake', lake]);
    const runs = await cli(['runs', '--lake', lake, '--json']);
    const ordersRuns = await cli(['runs', '--dataset', 'orders', '--lake', lake]);
    const compileAll = await cli(['compile', '--out', join(root, 'plans')]);
    const compileOne = await cli(['compile', '--out', join(root, 'plans'), '--dataset', 'page_views']);
    const query = await cli(['query', '--lake', lake, 'SELECT count(*) AS n FROM page_views_silver']);

    // Assess: page_views ran; orders is named, with both problems, in one report
    expect(watched.code).toBe(0);
    expect(watched.err).toContain(
      'warning: dataset orders is left out until datasets/orders/dataset.yml is fixed:',
    );
    expect(watched.err).toContain('datasets/orders/dataset.yml: quarantine.maxRatio:');
    expect(watched.err).toContain('datasets/orders/dataset.yml: dedup.orderBy: unknown column "changed_at"');
    expect(
      (JSON.parse(runs.out) as Array<{ dataset: string; status: string }>).map((r) => [r.dataset, r.status]),
    ).toEqual([['page_views', 'SUCCEEDED']]);
    expect(ordersRuns.code).toBe(1);
    expect(ordersRuns.err).toContain('quarantine.maxRatio');
    expect(compileAll.code).toBe(1);
    expect(compileAll.err).toContain('datasets/orders/dataset.yml: dedup.orderBy');
    expect(compileOne).toMatchObject({ code: 0, out: expect.stringContaining('page_views.json') });
    expect(query).toMatchObject({ code: 0, out: expect.stringMatching(/\b2\b/) });
  }, 60_000);
});

describe('watch follows datasets/', () => {
  const lake = join(root, 'lake-watch');
  afterAll(() => {
    writeFileSync(ymlOf('page_views'), shipped('page_views'));
    writeFileSync(ymlOf('orders'), shipped('orders'));
  });

  test('a changed rule runs from the next landing; a definition that turns invalid is reported and its last valid one keeps running', async () => {
    // Prepare: watch running on a fresh lake
    mkdirSync(join(lake, 'landing'), { recursive: true });
    const out: string[] = [];
    const err: string[] = [];
    const log = jest
      .spyOn(console, 'log')
      .mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
    const error = jest
      .spyOn(console, 'error')
      .mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
    let stop = () => undefined as void;
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    const said = (text: string) => () => out.some((l) => l.includes(text));
    const runsOf = (n: number) => () =>
      quarantined(lake, 'page_views').filter(([, s]) => s !== 'RUNNING').length >= n;
    try {
      const watching = watch({
        once: false,
        interval: 20,
        batchWindow: 0.05,
        batchSize: 10,
        lake,
        engine: 'duckdb',
        until: stopped,
      });
      await until('watch to start', said('Watching'));

      // Act 1: a view from a watch lands (not an accepted device: quarantined)
      writeFile(join(lake, views('2024-05-01', 'watch')[0]), views('2024-05-01', 'watch')[1]);
      await until('the first run', runsOf(1));
      // Act 2: the rule accepts watches from now on
      writeFileSync(
        ymlOf('page_views'),
        shipped('page_views').replace(
          'values: [desktop, mobile, tablet]',
          'values: [desktop, mobile, tablet, watch]',
        ),
      );
      await until('the reload', said('datasets  page_views reloaded'));
      writeFile(join(lake, views('2024-05-02', 'watch')[0]), views('2024-05-02', 'watch')[1]);
      await until('the second run', runsOf(2));
      // Act 3: an edit that breaks the file
      writeFileSync(
        ymlOf('page_views'),
        readFileSync(ymlOf('page_views'), 'utf8').replace('maxRatio: 0.1', 'maxRatio: 2'),
      );
      await until('the report', said('datasets  page_views is invalid'));
      writeFile(join(lake, views('2024-05-03', 'watch')[0]), views('2024-05-03', 'watch')[1]);
      await until('the third run', runsOf(3));
      stop();

      // Assess
      expect(await watching).toBe(0);
      expect(quarantined(lake, 'page_views')).toEqual([
        ['dt=2024-05-01', 'SUCCEEDED', 1],
        ['dt=2024-05-02', 'SUCCEEDED', 0],
        ['dt=2024-05-03', 'SUCCEEDED', 0],
      ]);
      expect(out).toContainEqual(
        'datasets  page_views is invalid (datasets/page_views/dataset.yml, 1 problem(s)): its last valid definition keeps running',
      );
      expect(err).toContainEqual(
        expect.stringContaining('datasets/page_views/dataset.yml: quarantine.maxRatio:'),
      );
    } finally {
      stop();
      log.mockRestore();
      error.mockRestore();
    }
  }, 90_000);
});
