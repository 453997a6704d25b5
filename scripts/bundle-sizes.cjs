'use strict';
// Reports each packaged function: zip size, bundle size, source map size, number of files.
// Prints a table and writes .serverless/bundle-sizes.json (deterministic: no timestamps).
const fs = require('node:fs');
const path = require('node:path');
const { zipEntries } = require('./zip-entries.cjs');

const root = process.cwd();
const dir = path.join(root, '.serverless');
const state = JSON.parse(fs.readFileSync(path.join(dir, 'serverless-state.json'), 'utf8'));
const functions = state.service.functions;

const rows = Object.keys(functions)
  .sort()
  .map((name) => {
    const zip = path.join(dir, `${name}.zip`);
    const entries = zipEntries(zip);
    const bundle = entries.filter((e) => e.name.endsWith('.mjs'));
    const maps = entries.filter((e) => e.name.endsWith('.map'));
    const sum = (/** @type {{size: number}[]} */ list) => list.reduce((a, e) => a + e.size, 0);
    return {
      function: name,
      handler: functions[name].handler,
      zipBytes: fs.statSync(zip).size,
      bundleBytes: sum(bundle),
      sourceMapBytes: sum(maps),
      unzippedBytes: sum(entries),
      files: entries.length,
    };
  });

const kb = (/** @type {number} */ n) => `${(n / 1024).toFixed(1)} KiB`;
console.log('\nFunction bundles (.serverless/*.zip)');
console.log(['function', 'zip', 'bundle (.mjs)', 'source map', 'files'].join('\t'));
for (const r of rows)
  console.log([r.function, kb(r.zipBytes), kb(r.bundleBytes), kb(r.sourceMapBytes), r.files].join('\t'));

fs.mkdirSync(path.join(root, 'bench'), { recursive: true });
fs.writeFileSync(
  path.join(root, '.serverless', 'bundle-sizes.json'),
  `${JSON.stringify({ source: 'npm run package (scripts/bundle-sizes.cjs)', functions: rows }, null, 2)}\n`,
);
