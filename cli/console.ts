import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { readConsoleData } from '../console/data';
import { consoleAssets, renderPage } from '../console/page';
import { startConsoleServer } from '../console/server';
import { DICTIONARY_FILE } from '../local/data-dictionary';
import { LocalLake } from '../local/lake';
import { registry } from './datasets';
import { ms } from './format';

/** `medallion ui` and `medallion report`: the run console of a local lake (console/). */

export interface ConsolePageOptions {
  readonly lake?: string;
}

/** Where `medallion ui` serves the lake's published data dictionary. */
export const DICTIONARY_PATH = `/${DICTIONARY_FILE}`;

/** The console page of the lake as it is now (`served`: by `medallion ui`, which serves the dictionary). */
export async function consolePage(options: ConsolePageOptions, served = false): Promise<string> {
  const lake = new LocalLake(options.lake).existing();
  return renderPage(
    await readConsoleData({
      lake,
      registry: registry(),
      ...(served ? { dictionaryHref: DICTIONARY_PATH } : {}),
    }),
    consoleAssets(),
  );
}

export interface ReportOptions extends ConsolePageOptions {
  readonly out: string;
  readonly json: boolean;
}

/** `medallion report --out F.html`: writes the console as one file that opens offline. */
export async function report(options: ReportOptions): Promise<number> {
  const started = performance.now();
  const html = await consolePage(options);
  const out = resolve(options.out);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, html);
  const written = { file: out, bytes: Buffer.byteLength(html), ms: Math.round(performance.now() - started) };
  console.log(
    options.json
      ? JSON.stringify(written)
      : `Wrote ${out} (${(written.bytes / 1024).toFixed(0)} KB in ${ms(written.ms)}): open it in a browser, no network needed.`,
  );
  return 0;
}

export interface UiOptions extends ConsolePageOptions {
  readonly port: number;
  /** Resolves when the console should stop (default: Ctrl-C or SIGTERM). */
  readonly until?: Promise<void>;
}

const signalled = (): Promise<void> =>
  new Promise((resolveStop) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolveStop();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });

/** `medallion ui`: serves the console on 127.0.0.1 until Ctrl-C. */
export async function ui(options: UiOptions): Promise<number> {
  // A lake that is not one is a usage error now, not at the first page load.
  new LocalLake(options.lake).existing();
  const until = options.until ?? signalled();
  const server = await startConsoleServer({
    port: options.port,
    page: () => consolePage(options, true),
    pages: {
      [DICTIONARY_PATH]: () => {
        const file = new LocalLake(options.lake).system(DICTIONARY_FILE);
        return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
      },
    },
    onError: (error) =>
      console.error(`medallion ui: ${error instanceof Error ? error.message : String(error)}`),
  });
  console.log(`Run console of ${new LocalLake(options.lake).root}: ${server.url}  (Ctrl-C stops it)`);
  await until;
  await server.close();
  console.log('Run console stopped.');
  return 0;
}
