/* global __filename */
'use strict';
// serverless loads plugins as CommonJS: this entry runs the typed plugin (stack/artifacts-plugin.ts)
// through tsx, which compiles it in memory (no build step, packaging stays offline).
const { require: tsxRequire } = require('tsx/cjs/api');

/** @type {typeof import('./artifacts-plugin')} */
const plugin = tsxRequire('./artifacts-plugin.ts', __filename);
module.exports = plugin.MedallionArtifactsPlugin;
