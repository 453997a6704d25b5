import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ui } from '../../cli/console';
import type { Browser, Page } from 'playwright-core';
import { runCli } from '../../cli/program';
import type { ConsoleData } from '../../console/model';
import { runDemo, type DemoResult } from '../../local/demo-scenario';
import { LocalLake } from '../../local/lake';
import { LocalPipeline } from '../../local/pipeline';
import { launchChromium } from '../helpers/chromium';

/**
 * The run console as a person sees it: the demo scenario on a fresh lake (ten successful
 * executions and one failed), `medallion report` writes the page, real headless Chromium opens the
 * file with every network request refused, and the test reads what is drawn. `medallion ui` serves
 * the same page on loopback and stops on Ctrl-C.
 */

/** Where the screenshots are kept (git-ignored). */
const ARTIFACTS = resolve('test-artifacts');

const quietly = async (argv: string[]): Promise<{ code: number; out: string }> => {
  const out: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((text: string) => void out.push(text));
  try {
    return { code: await runCli(argv), out: out.join('\n') };
  } finally {
    log.mockRestore();
  }
};

/** The data a page carries (`<script id="console-data">`). */
const dataOf = (html: string): ConsoleData =>
  JSON.parse(
    /<script id="console-data" type="application\/json">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? 'null',
  ) as ConsoleData;

/** How many pixels of the canvas are (nearly) this colour: what the chart drew with it. */
const pixelsOf = (page: Page, selector: string, hex: string): Promise<number> =>
  page.$eval(
    selector,
    (canvas, color) => {
      // The page's canvas (this file is compiled without the DOM types).
      const c = canvas as unknown as {
        width: number;
        height: number;
        getContext(kind: '2d'): { getImageData(...box: number[]): { data: Uint8ClampedArray } } | null;
      };
      const ctx = c.getContext('2d');
      if (!ctx) return -1;
      const { data } = ctx.getImageData(0, 0, c.width, c.height);
      const [r, g, b] = [1, 3, 5].map((i) => parseInt(color.slice(i, i + 2), 16)) as [number, number, number];
      let n = 0;
      for (let i = 0; i < data.length; i += 4) {
        const [pr, pg, pb, pa] = [data[i] ?? 0, data[i + 1] ?? 0, data[i + 2] ?? 0, data[i + 3] ?? 0];
        if (pa > 200 && Math.abs(pr - r) < 24 && Math.abs(pg - g) < 24 && Math.abs(pb - b) < 24) n++;
      }
      return n;
    },
    hex,
  );

describe('run console (medallion report / ui) in headless Chromium', () => {
  const root = mkdtempSync(join(tmpdir(), 'console-lake-'));
  const reportFile = join(root, 'out', 'console.html');
  let demo: DemoResult;
  let browser: Browser;
  let html: string;
  let failedName: string;
  let succeededName: string;

  beforeAll(async () => {
    demo = await runDemo(new LocalPipeline({ lake: new LocalLake(root) }), { rows: 100 });
    failedName = demo.runs.find((r) => r.status === 'FAILED')?.name ?? '?';
    succeededName = demo.runs.find((r) => r.status === 'SUCCEEDED')?.name ?? '?';
    const written = await quietly(['report', '--lake', root, '--out', reportFile]);
    expect(written).toEqual({ code: 0, out: expect.stringContaining(`Wrote ${reportFile}`) });
    html = readFileSync(reportFile, 'utf8');
    browser = await launchChromium();
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    rmSync(root, { recursive: true, force: true });
  });

  /** The report opened from its file, every request that is not the file itself refused and counted. */
  const openReport = async (hash = ''): Promise<{ page: Page; requests: string[]; errors: string[] }> => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const requests: string[] = [];
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file://')) return route.continue();
      requests.push(url);
      return route.abort();
    });
    await page.goto(`file://${reportFile}${hash}`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 10_000 });
    return { page, requests, errors };
  };

  test('the report is one file that needs no network, with the demo’s executions inside', async () => {
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/i);
    const data = dataOf(html);
    // orders' 5 runs (one failed), customers' and sign_ins' 3 each
    expect(data.executions.map((e) => e.status).sort()).toEqual([
      'FAILED',
      ...Array.from({ length: 10 }, () => 'SUCCEEDED'),
    ]);
    const { page, requests, errors } = await openReport();
    try {
      expect(requests).toEqual([]);
      expect(errors).toEqual([]);
      await expect(page.title()).resolves.toContain('medallion run console');
    } finally {
      await page.close();
    }
  });

  test('the graph shows the failed execution’s path: the bronze job caught, the run failed', async () => {
    const { page } = await openReport();
    try {
      await page.click(`tr[data-execution="${failedName}"]`);
      const status = (state: string) =>
        page.getAttribute(`#graph g.state[data-state="${state}"]`, 'data-status');
      expect(await status('Take partition lease')).toBe('succeeded');
      expect(await status('Run bronze job')).toBe('caught');
      expect(await status('Run failed')).toBe('failed');
      expect(await status('Run silver job')).toBe('not-run');
      expect(await status('__end__')).toBe('failed');
      // The path in bold: the transitions the execution took, and only those.
      const taken = await page.$$eval('#graph g.edge.taken', (edges) =>
        [
          ...new Set(edges.map((e) => `${e.getAttribute('data-from')} → ${e.getAttribute('data-to')}`)),
        ].sort(),
      );
      expect(taken).toEqual(
        [
          '__start__ → Take partition lease',
          'Take partition lease → Start at requested stage',
          'Start at requested stage → Run bronze job',
          "Run bronze job → Keep the run's error",
          "Keep the run's error → Release partition lease after failure",
          'Release partition lease after failure → Alert on-call of failure',
          'Alert on-call of failure → Run failed',
          'Run failed → __end__',
        ].sort(),
      );
      // The bronze job is detailed with the error class the cause names.
      const details = await page.textContent('#execution-details');
      expect(details).toContain('Caught error');
      expect(details).toContain('MalformedLandingFileError');
      expect(await page.textContent('#state-machine h2')).toContain(failedName);
      // The box is drawn where a person sees it (the whole graph is scaled to the panel, so its size
      // depends on how many states the definition has), with its colour.
      const box = await page.locator('#graph g.state[data-state="Run failed"] rect').boundingBox();
      expect(box?.width).toBeGreaterThan(30);
      expect(box?.height).toBeGreaterThan(8);

      await page.click(`tr[data-execution="${succeededName}"]`);
      expect(await status('Run gold job')).toBe('succeeded');
      expect(await status('Release partition lease')).toBe('succeeded');
      expect(await status('Run failed')).toBe('not-run');
      expect(await status('__end__')).toBe('succeeded');

      // A click on a state details it.
      await page.click('#graph g.state[data-state="Run silver job"]');
      expect(await page.textContent('#execution-details .state-details h3')).toBe('Run silver job');
      expect(await page.textContent('#execution-details .state-details')).toContain('glue:startJobRun.sync');
    } finally {
      await page.close();
    }
  });

  test('the runs list holds both outcomes and its filters narrow it', async () => {
    const { page } = await openReport();
    const listed = () =>
      page.$$eval('#executions tbody tr[data-execution]', (rows) =>
        rows.map((r) => `${r.getAttribute('data-execution')} ${r.getAttribute('data-status')}`),
      );
    try {
      expect((await listed()).sort()).toEqual(demo.runs.map((r) => `${r.name} ${r.status}`).sort());
      await page.selectOption('#filter-status', 'FAILED');
      expect(await listed()).toEqual([`${failedName} FAILED`]);
      expect(await page.textContent('#executions-count')).toBe('1 of 11 executions');
      await page.selectOption('#filter-status', 'SUCCEEDED');
      expect(await listed()).toHaveLength(10);
      await page.selectOption('#filter-status', '');
      await page.selectOption('#filter-dataset', 'orders');
      expect(await listed()).toHaveLength(5);
    } finally {
      await page.close();
    }
    // The filter is kept in the address: a reload (or a shared link) shows the same list.
    const again = await openReport('#status=FAILED');
    try {
      expect(await again.page.inputValue('#filter-status')).toBe('FAILED');
      expect(await again.page.$$eval('#executions tbody tr[data-execution]', (rows) => rows.length)).toBe(1);
    } finally {
      await again.page.close();
    }
  });

  test('the charts are drawn: durations, records and the quarantine ratio against its baseline', async () => {
    const { page } = await openReport();
    try {
      const chart = (name: string) => `.dataset[data-dataset="orders"] .chart[data-chart="${name}"]`;
      // 12 stage metrics (4 runs × 3 stages); 4 silver runs judged against the baseline.
      expect(await page.getAttribute(chart('durations'), 'data-points')).toBe('12');
      expect(Number(await page.getAttribute(chart('ratio'), 'data-points'))).toBeGreaterThanOrEqual(4 + 4);
      // Each series is on the canvas in its colour (console/app/charts.ts COLORS).
      expect(await pixelsOf(page, `${chart('durations')} canvas`, '#b5651d')).toBeGreaterThan(30);
      expect(await pixelsOf(page, `${chart('durations')} canvas`, '#d4a017')).toBeGreaterThan(30);
      expect(await pixelsOf(page, `${chart('records')} canvas`, '#0073bb')).toBeGreaterThan(30);
      expect(await pixelsOf(page, `${chart('records')} canvas`, '#d13212')).toBeGreaterThan(30);
      expect(await pixelsOf(page, `${chart('ratio')} canvas`, '#d13212')).toBeGreaterThan(30);
      expect(await pixelsOf(page, `${chart('ratio')} canvas`, '#ec7211')).toBeGreaterThan(30);
      const titles = await page.$$eval('.chart .u-title', (t) => t.map((e) => e.textContent));
      // the same three charts for each dataset that ran (orders, customers, sign_ins)
      expect(titles).toEqual(
        Array.from({ length: 3 }, () => [
          'Stage durations',
          'Records, silver',
          'Quarantine ratio, silver, against its baseline',
        ]).flat(),
      );
      // Another stage's records redraw the chart.
      await page.selectOption('.dataset[data-dataset="orders"] select.stage-pick', 'gold');
      expect(await page.textContent(`${chart('records')} .u-title`)).toBe('Records, gold');
      expect(await pixelsOf(page, `${chart('records')} canvas`, '#1d8102')).toBeGreaterThan(30);
    } finally {
      await page.close();
    }
  });

  test('the alerts are listed, and one leads to its execution', async () => {
    const { page } = await openReport();
    try {
      const alerts = await page.$$eval('#alerts li.alert', (items) =>
        items.map((li) => `${li.getAttribute('data-kind')}: ${li.querySelector('.subject')?.textContent}`),
      );
      expect(alerts).toEqual([
        expect.stringMatching(
          /^run-failed: \[CRITICAL\] orders year=2024\/month=01\/day=18 bronze run failed/,
        ),
        expect.stringMatching(
          /^quarantine-spike: \[WARNING\] orders year=2024\/month=01\/day=17 silver quarantine spike/,
        ),
      ]);
      await page.click('#alerts li.alert[data-kind="run-failed"] button.link');
      expect(await page.getAttribute('#executions tr.selected', 'data-execution')).toBe(failedName);
      expect(await page.getAttribute('#graph g.state[data-state="Run failed"]', 'data-status')).toBe(
        'failed',
      );

      mkdirSync(ARTIFACTS, { recursive: true });
      const shot = join(ARTIFACTS, 'run-console.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(statSync(shot).size).toBeGreaterThan(20_000);
      process.stdout.write(`run console screenshot: ${shot}\n`);
    } finally {
      await page.close();
    }
  });

  test('medallion ui serves the same page on 127.0.0.1 and stops on Ctrl-C', async () => {
    const child: ChildProcess = spawn(process.execPath, ['bin/medallion.cjs', 'ui', '--lake', root], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    try {
      const url = await new Promise<string>((done, fail) => {
        const timer = setTimeout(() => fail(new Error(`no URL printed: ${stdout}${stderr}`)), 20_000);
        child.stdout?.on('data', () => {
          const m = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(stdout);
          if (m) {
            clearTimeout(timer);
            done(m[0]);
          }
        });
        void exited.then((code) => fail(new Error(`medallion ui exited ${code}: ${stderr}`)));
      });
      const served = await (await fetch(url)).text();
      // The very page the report wrote, read afresh (only the time it was read differs).
      const { generatedAt: _a, ...servedData } = dataOf(served);
      const { generatedAt: _b, ...reportData } = dataOf(html);
      expect(servedData).toEqual(reportData);
      const code = (text: string) => text.replace(/<script id="console-data"[\s\S]*?<\/script>/, '');
      expect(code(served)).toBe(code(html));
      expect((await fetch(new URL('/nothing', url))).status).toBe(404);
      // A request for another host name (a rebound domain) is refused.
      const port = Number(new URL(url).port);
      const rebound = await new Promise<number | undefined>((done, fail) =>
        request(
          { host: '127.0.0.1', port, path: '/', headers: { host: `attacker.example:${port}` } },
          (r) => {
            r.resume();
            done(r.statusCode);
          },
        )
          .on('error', fail)
          .end(),
      );
      expect(rebound).toBe(403);

      const page = await browser.newPage();
      try {
        await page.goto(url);
        await page.waitForSelector('body[data-ready="true"]');
        expect(await page.$$eval('#executions tbody tr[data-execution]', (rows) => rows.length)).toBe(
          demo.runs.length,
        );
      } finally {
        await page.close();
      }

      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(stdout).toContain('Run console stopped.');
      await expect(fetch(url)).rejects.toThrow();
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  test('the data dictionary, once published into the lake, is linked from the report and served by ui', async () => {
    // Before: no link.
    expect(dataOf(html).dictionary).toBeUndefined();
    const published = await quietly(['catalog', '--lake', root, '--publish']);
    const file = join(root, '_system', 'data-dictionary.html');
    expect(published).toEqual({ code: 0, out: expect.stringContaining(`wrote ${file}`) });

    const linked = join(root, 'out', 'linked.html');
    expect((await quietly(['report', '--lake', root, '--out', linked])).code).toBe(0);
    const href = dataOf(readFileSync(linked, 'utf8')).dictionary;
    expect(href).toBe(pathToFileURL(file).href);
    const page = await browser.newPage();
    try {
      await page.goto(pathToFileURL(linked).href);
      await page.waitForSelector('body[data-ready="true"]');
      expect(await page.$eval('#dictionary-link', (a) => a.getAttribute('href'))).toBe(href);
      await page.click('#dictionary-link');
      await page.waitForSelector('article.dataset#orders');
      expect(await page.title()).toBe('Data dictionary');
    } finally {
      await page.close();
    }

    let stop: () => void = () => undefined;
    const until = new Promise<void>((done) => (stop = done));
    const out: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((text: string) => void out.push(text));
    try {
      const running = ui({ lake: root, port: 0, until });
      const url = await new Promise<string>((done, fail) => {
        const started = Date.now();
        const poll = setInterval(() => {
          const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(out.join('\n'));
          if (m) {
            clearInterval(poll);
            done(m[0]);
          } else if (Date.now() - started > 20_000) {
            clearInterval(poll);
            fail(new Error(`no URL printed: ${out.join('\n')}`));
          }
        }, 50);
      });
      expect(dataOf(await (await fetch(url)).text()).dictionary).toBe('/data-dictionary.html');
      const served = await fetch(new URL('/data-dictionary.html', url));
      expect(served.status).toBe(200);
      expect(await served.text()).toBe(readFileSync(file, 'utf8'));
      stop();
      expect(await running).toBe(0);
    } finally {
      stop();
      log.mockRestore();
    }
  });

  test('medallion ui and report name a lake that is not one (usage error, nothing created)', async () => {
    const missing = join(root, 'no-such-lake');
    const err: string[] = [];
    const error = jest.spyOn(process.stderr, 'write').mockImplementation((text) => {
      err.push(String(text));
      return true;
    });
    try {
      expect(await runCli(['report', '--lake', missing, '--out', join(root, 'x.html')])).toBe(2);
      expect(await runCli(['ui', '--lake', missing])).toBe(2);
      expect(await runCli(['ui', '--port', '70000'])).toBe(2);
    } finally {
      error.mockRestore();
    }
    expect(err.join('')).toContain(`no lake at ${missing}`);
    expect(err.join('')).toContain('Expected a port, 0 to 65535.');
    expect(() => statSync(missing)).toThrow();
  });
});
