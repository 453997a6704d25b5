'use strict';
// Compiles the `medallion` CLI (cli/main.ts and what it imports from the repository) once into
// dist/cli.cjs with esbuild, so a command starts without compiling TypeScript. npm packages stay
// external (required from node_modules by the command that needs them), but for ESM-only ones.
// Also bundles the run console's browser code (console/app/main.ts, its chart and graph-layout
// libraries and CSS) into dist/console.js and dist/console.css, which `medallion ui` and
// `medallion report` inline into one page that needs no network.
// Run by `npm ci`/`npm install` (the `prepare` script) and by bin/medallion.cjs whenever a source
// file changed since the last build.
const { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const ROOT = join(__dirname, '..');
const BUNDLE = join(ROOT, 'dist', 'cli.cjs');
const META = join(ROOT, 'dist', 'cli.meta.json');
const CONSOLE_SCRIPT = join(ROOT, 'dist', 'console.js');
const CONSOLE_STYLE = join(ROOT, 'dist', 'console.css');

/** Writes `text` to `path` atomically (readers never see a half-written file). */
function writeAtomic(path, text) {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** True when dist/cli.cjs is missing or older than one of the sources it was built from. */
function isStale() {
  let meta;
  try {
    meta = JSON.parse(readFileSync(META, 'utf8'));
    for (const output of [BUNDLE, CONSOLE_SCRIPT, CONSOLE_STYLE]) statSync(output);
  } catch {
    return true;
  }
  for (const input of meta.inputs) {
    try {
      if (statSync(join(ROOT, input)).mtimeMs > meta.startedAt) return true;
    } catch {
      return true;
    }
  }
  return false;
}

/**
 * The npm packages left out of the bundle: every dependency that `require` can load from
 * node_modules. One that exports only an `import` condition (@middy/core) is bundled instead.
 */
function externalPackages() {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const names = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies });
  return names
    .filter((name) => {
      try {
        require.resolve(name, { paths: [ROOT] });
        return true;
      } catch {
        return false;
      }
    })
    .flatMap((name) => [name, `${name}/*`]);
}

/**
 * The run console's page code for the browser: one minified script and one style sheet, every
 * library bundled in (the page is opened offline, from a file).
 */
function buildConsole(esbuild) {
  const result = esbuild.buildSync({
    absWorkingDir: ROOT,
    entryPoints: ['console/app/main.ts'],
    outfile: CONSOLE_SCRIPT,
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: ['chrome110', 'firefox110', 'safari16'],
    minify: true,
    write: false,
    metafile: true,
    logLevel: 'silent',
    legalComments: 'inline',
    charset: 'utf8',
  });
  const output = (ext) => result.outputFiles.find((f) => f.path.endsWith(ext));
  return {
    inputs: Object.keys(result.metafile.inputs),
    script: output('.js').contents,
    style: output('.css').contents,
  };
}

/** Builds dist/cli.cjs and the console's page code; throws when esbuild is not installed (devDependencies omitted). */
function buildCli() {
  const esbuild = require('esbuild');
  const startedAt = Date.now();
  const page = buildConsole(esbuild);
  const result = esbuild.buildSync({
    absWorkingDir: ROOT,
    entryPoints: ['cli/main.ts'],
    outfile: BUNDLE,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    external: externalPackages(),
    write: false,
    metafile: true,
    logLevel: 'silent',
    legalComments: 'none',
  });
  mkdirSync(join(ROOT, 'dist'), { recursive: true });
  const inputs = [...new Set([...Object.keys(result.metafile.inputs), ...page.inputs])];
  writeAtomic(CONSOLE_SCRIPT, page.script);
  writeAtomic(CONSOLE_STYLE, page.style);
  writeAtomic(BUNDLE, result.outputFiles[0].contents);
  writeAtomic(META, `${JSON.stringify({ startedAt, inputs }, null, 2)}\n`);
  return BUNDLE;
}

module.exports = { BUNDLE, CONSOLE_SCRIPT, CONSOLE_STYLE, buildCli, isStale };

if (require.main === module) {
  try {
    buildCli();
    console.log(`built ${BUNDLE}`);
  } catch (error) {
    if (error && error.code === 'MODULE_NOT_FOUND' && String(error.message).includes("'esbuild'")) {
      console.log('esbuild is not installed (devDependencies omitted): dist/cli.cjs not built');
    } else {
      console.error(error instanceof Error ? error.message : String(error));
      process.exitCode = 1;
    }
  }
}
