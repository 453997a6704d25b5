'use strict';
// The inputs of the packaged stack and their hash: the stack tests re-package only when one of
// them changed since the last `npm run package` (the hash is written next to the template).
//   node scripts/stack-inputs.cjs          prints the hash
//   node scripts/stack-inputs.cjs --fresh  exits 0 when .serverless/ was packaged from these inputs
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
/** Where package.sh records the hash of the inputs it packaged. */
const STAMP = path.join('.serverless', 'stack-inputs.sha256');
const TEMPLATE = path.join('.serverless', 'cloudformation-template-update-stack.json');

/** @param {string} root @param {string} dir @returns {string[]} */
function files(root, dir) {
  const abs = path.join(root, dir);
  if (!fs.existsSync(abs)) return [];
  return fs
    .readdirSync(abs, { withFileTypes: true })
    .filter((e) => !SKIP.has(e.name) && !e.name.endsWith('.pyc'))
    .flatMap((e) => (e.isDirectory() ? files(root, path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

/** sha256 over the sorted input paths and contents (and the packaging stage/region). */
function inputsHash(root = process.cwd(), env = process.env) {
  const hash = createHash('sha256');
  hash.update(`stage=${env.MEDALLION_STAGE ?? 'dev'} region=${env.MEDALLION_REGION ?? 'eu-west-1'}\n`);
  const all = [
    ...INPUT_FILES.filter((f) => fs.existsSync(path.join(root, f))),
    ...INPUT_DIRS.flatMap((d) => files(root, d)),
  ];
  for (const file of all.map((f) => f.split(path.sep).join('/')).sort()) {
    hash.update(`${file}\n`);
    hash.update(fs.readFileSync(path.join(root, file)));
    hash.update('\n');
  }
  return hash.digest('hex');
}

function isFresh(root = process.cwd()) {
  const stamp = path.join(root, STAMP);
  if (!fs.existsSync(stamp) || !fs.existsSync(path.join(root, TEMPLATE))) return false;
  return fs.readFileSync(stamp, 'utf8').trim() === inputsHash(root);
}

module.exports = { inputsHash, isFresh, STAMP, TEMPLATE };

if (require.main === module) {
  if (process.argv.includes('--fresh')) process.exit(isFresh() ? 0 : 1);
  if (process.argv.includes('--stamp')) {
    fs.writeFileSync(path.join(process.cwd(), STAMP), `${inputsHash()}\n`);
  } else console.log(inputsHash());
}
