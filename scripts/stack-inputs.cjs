'use strict';
// The inputs of a packaged stack and their hash: the stack tests re-package only when one of them
// changed since the last packaging (the hash is written next to the template).
//   node scripts/stack-inputs.cjs [--fresh|--stamp] [--dir D] [--stage S] [--region R]
//     [--extra-datasets D] [-- osls args]
//     prints the hash; --fresh exits 0 when D (default .serverless) was packaged from these inputs;
//     --stamp records the hash in D.
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const INPUT_FILES = ['serverless.yml', 'package.json', 'package-lock.json', 'tsconfig.json'];
const INPUT_DIRS = [
  'stack',
  'scripts',
  'functions',
  'shared',
  'state-machines',
  'datasets',
  'glue',
  'cli',
  'bin',
];
const SKIP = new Set(['__pycache__', 'node_modules', 'tests']);
const STAMP_FILE = 'stack-inputs.sha256';
const TEMPLATE_FILE = 'cloudformation-template-update-stack.json';

/** @param {string} root @param {string} dir @returns {string[]} */
function files(root, dir) {
  const abs = path.join(root, dir);
  if (!fs.existsSync(abs)) return [];
  return fs
    .readdirSync(abs, { withFileTypes: true })
    .filter((e) => !SKIP.has(e.name) && !e.name.endsWith('.pyc'))
    .flatMap((e) => (e.isDirectory() ? files(root, path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

/**
 * sha256 over the sorted input paths and contents, the stage, the region and the packaging arguments.
 * @param {{ root?: string, stage?: string, region?: string, args?: string[], extraDatasets?: string }} p
 */
function inputsHash({
  root = process.cwd(),
  stage = 'dev',
  region = 'eu-west-1',
  args = [],
  extraDatasets = undefined,
} = {}) {
  const hash = createHash('sha256');
  hash.update(`stage=${stage} region=${region} args=${JSON.stringify(args)}\n`);
  const extra = extraDatasets ? path.relative(root, path.resolve(root, extraDatasets)) : undefined;
  hash.update(`extra-datasets=${extra ?? ''}\n`);
  const all = [
    ...INPUT_FILES.filter((f) => fs.existsSync(path.join(root, f))),
    ...INPUT_DIRS.flatMap((d) => files(root, d)),
    ...(extra ? files(root, extra) : []),
  ];
  for (const file of all.map((f) => f.split(path.sep).join('/')).sort()) {
    hash.update(`${file}\n`);
    hash.update(fs.readFileSync(path.join(root, file)));
    hash.update('\n');
  }
  return hash.digest('hex');
}

/** @param {{ root?: string, dir?: string, stage?: string, region?: string, args?: string[], extraDatasets?: string }} p */
function isFresh(p = {}) {
  const root = p.root ?? process.cwd();
  const dir = path.resolve(root, p.dir ?? '.serverless');
  const stamp = path.join(dir, STAMP_FILE);
  if (!fs.existsSync(stamp) || !fs.existsSync(path.join(dir, TEMPLATE_FILE))) return false;
  return fs.readFileSync(stamp, 'utf8').trim() === inputsHash({ ...p, root });
}

module.exports = { inputsHash, isFresh, STAMP_FILE, TEMPLATE_FILE };

if (require.main === module) {
  const argv = process.argv.slice(2);
  const dash = argv.indexOf('--');
  const own = dash < 0 ? argv : argv.slice(0, dash);
  const args = dash < 0 ? [] : argv.slice(dash + 1);
  const opt = (/** @type {string} */ name) => {
    const i = own.indexOf(name);
    return i < 0 ? undefined : own[i + 1];
  };
  const p = {
    dir: opt('--dir') ?? '.serverless',
    stage: opt('--stage') ?? process.env.MEDALLION_STAGE ?? 'dev',
    region: opt('--region') ?? process.env.MEDALLION_REGION ?? 'eu-west-1',
    args,
    extraDatasets: opt('--extra-datasets'),
  };
  if (own.includes('--fresh')) process.exit(isFresh(p) ? 0 : 1);
  if (own.includes('--stamp')) fs.writeFileSync(path.join(p.dir, STAMP_FILE), `${inputsHash(p)}\n`);
  else console.log(inputsHash(p));
}
