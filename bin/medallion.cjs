#!/usr/bin/env node
'use strict';
// The `medallion` CLI: runs dist/cli.cjs, compiled once from cli/ by bin/build-cli.cjs (at `npm ci`,
// and again here whenever a source changed), so a command starts without compiling TypeScript.
const { BUNDLE, buildCli, isStale } = require('./build-cli.cjs');

// Node ≥ 22.1 keeps the compiled code of the bundle on disk between runs (a faster start).
require('node:module').enableCompileCache?.();

if (isStale()) {
  try {
    buildCli();
  } catch (error) {
    const missing = error && error.code === 'MODULE_NOT_FOUND';
    console.error(
      missing
        ? 'medallion: dist/cli.cjs is missing or out of date and esbuild is not installed: run "npm ci" (with devDependencies) in the repository.'
        : `medallion: compiling the CLI failed: ${error instanceof Error ? error.message : String(error)}`,
    );
    process.exit(1);
  }
}
require(BUNDLE);
