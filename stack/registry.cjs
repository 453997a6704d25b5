/* global __filename */
'use strict';
// The dataset registry for the stack generators: the very loader the Lambdas use
// (shared/config/registry.ts, validated with zod, every problem reported at once), run through tsx
// so deploy-time resources and run-time behaviour can never read datasets differently.
const { join } = require('node:path');
const { require: tsxRequire } = require('tsx/cjs/api');

/** @type {Map<string, unknown>} */
const cache = new Map();

/**
 * @param {string} root the repository root (serverless service directory)
 * @returns {{ datasets: readonly any[] }}
 */
function loadRegistry(root) {
  const dir = join(root, 'datasets');
  if (!cache.has(dir)) {
    const mod = tsxRequire(join(root, 'shared', 'config', 'registry.ts'), __filename);
    cache.set(dir, mod.loadRegistry(dir));
  }
  return /** @type {{ datasets: readonly any[] }} */ (cache.get(dir));
}

module.exports = { loadRegistry };
