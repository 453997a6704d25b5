#!/usr/bin/env node
// Draws docs/architecture.svg from the code: dependency-cruiser's graph of the layers (folders under
// shared/ and the top-level folders), with the rules of .dependency-cruiser.cjs, rendered by Graphviz
// (compiled to WebAssembly: no system package). `npm run architecture` rewrites it;
// `node scripts/architecture.mjs --check` exits 1 when the committed picture is stale (a test runs it).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { Graphviz } from '@hpcc-js/wasm-graphviz';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'docs', 'architecture.svg');
const LAYERS = '^(shared/[^/]+|[^/]+)';

const dot = execFileSync(
  process.execPath,
  [
    join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruiser.mjs'),
    '--config',
    '.dependency-cruiser.cjs',
    '--output-type',
    'dot',
    '--collapse',
    LAYERS,
    '--include-only',
    '^(shared|functions|local|console|cli|bin|stack|state-machines)/',
    '--no-progress',
    'shared',
    'functions',
    'local',
    'console',
    'cli',
    'bin',
    'stack',
  ],
  { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
);
const graphviz = await Graphviz.load();
const svg = graphviz.dot(dot, 'svg');
if (process.argv.includes('--check')) {
  let committed = '';
  try {
    committed = readFileSync(OUT, 'utf8');
  } catch {
    // missing: stale
  }
  if (committed !== svg) {
    console.error('docs/architecture.svg is stale: run `npm run architecture` and commit it.');
    process.exit(1);
  }
  console.log('docs/architecture.svg is current.');
} else {
  writeFileSync(OUT, svg);
  console.log(`wrote ${OUT} (${svg.length} bytes)`);
}
