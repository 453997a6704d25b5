#!/usr/bin/env node
// The `medallion` CLI. Runs the TypeScript sources directly (tsx), so the CLI and the Lambdas share
// one codebase with no build step.
const { register } = require('tsx/esm/api');
const { pathToFileURL } = require('node:url');
const { join } = require('node:path');

register();
import(pathToFileURL(join(__dirname, '..', 'cli', 'main.ts')).href);
