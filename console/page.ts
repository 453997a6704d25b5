import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MedallionError } from '../shared/domain/errors';
import type { ConsoleData } from './model';

/**
 * The run console as one self-contained HTML page: the browser code and its libraries
 * (dist/console.js and dist/console.css, bundled by bin/build-cli.cjs) and the lake's data are
 * inlined, so the file opens offline and `medallion ui` serves the very same page.
 */

/** The page's code is not built and cannot be (esbuild missing). */
export class ConsoleAssetsError extends MedallionError {
  readonly retryable = false;
}

export interface ConsoleAssets {
  readonly script: string;
  readonly style: string;
}

/** The repository folder: the first parent holding package.json (from console/ or from dist/). */
function repositoryRoot(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'bin', 'build-cli.cjs'))) return dir;
    if (dirname(dir) === dir) throw new ConsoleAssetsError(`cannot find the repository above ${__dirname}`);
  }
}

interface Builder {
  readonly CONSOLE_SCRIPT: string;
  readonly CONSOLE_STYLE: string;
  isStale(): boolean;
}

/**
 * The page's code, built first when a source changed since the last build (as bin/medallion.cjs
 * does). The build runs in a node process of its own: the builder decides which npm packages stay
 * outside the CLI bundle by what plain `require` resolves, which a test runner's module registry
 * would answer differently.
 */
export function consoleAssets(): ConsoleAssets {
  const root = repositoryRoot();
  const script = join(root, 'bin', 'build-cli.cjs');
  const builder = require(script) as Builder;
  if (builder.isStale()) {
    const built = spawnSync(process.execPath, [script], { cwd: root, encoding: 'utf8' });
    if (built.status !== 0 || builder.isStale())
      throw new ConsoleAssetsError(
        `the run console's page code (dist/console.js) is out of date and could not be built: ${(built.stderr || built.stdout || String(built.error ?? '')).trim()} (run "npm ci" with devDependencies)`,
      );
  }
  return {
    script: readFileSync(builder.CONSOLE_SCRIPT, 'utf8'),
    style: readFileSync(builder.CONSOLE_STYLE, 'utf8'),
  };
}

/** `</script` (or `</style`) inside inlined text would end the element early. */
const inlineSafe = (text: string, element: 'script' | 'style'): string =>
  text.replace(new RegExp(`</(${element})`, 'gi'), '<\\/$1');

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The data as JSON that is safe inside a `<script type="application/json">` element. */
const jsonForScript = (data: ConsoleData): string =>
  JSON.stringify(data)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');

export function renderPage(data: ConsoleData, assets: ConsoleAssets): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>medallion run console · ${escapeHtml(data.lake)}</title>
<style>${inlineSafe(assets.style, 'style')}</style>
</head>
<body>
<noscript>The run console needs JavaScript (everything it shows is inside this file).</noscript>
<div id="app"></div>
<script id="console-data" type="application/json">${jsonForScript(data)}</script>
<script>${inlineSafe(assets.script, 'script')}</script>
</body>
</html>
`;
}
