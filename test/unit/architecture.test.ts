import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * The dependency direction (.dependency-cruiser.cjs, run by `npm run lint`) refuses an import against
 * it: each case plants one import in a small tree laid out like the repository and runs the real
 * dependency-cruiser with the real rules on it. `npm run lint` checks the repository itself.
 */

const ROOT = process.cwd();
const DEPCRUISE = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruiser.mjs');

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

/** Every module the planted imports point at, each an empty module of the layout. */
const TARGETS = [
  'shared/domain/datasets.ts',
  'shared/domain/run.ts',
  'shared/ports.ts',
  'shared/core/landing.ts',
  'shared/aws/sns-alerter.ts',
  'shared/config/registry.ts',
  'functions/notify/handler.ts',
  'local/lake.ts',
  'cli/main.ts',
  'bench/lib.ts',
  'test/helpers/ledgers.ts',
  'test/helpers/fixtures.ts',
];

/** [what is planted, the file, what it imports, the rule that must refuse it]. */
const PLANTED: ReadonlyArray<readonly [string, string, string, string]> = [
  ['the domain importing a port', 'shared/domain/planted.ts', '../ports', 'domain-is-pure'],
  [
    'the domain importing the local product',
    'shared/domain/planted-local.ts',
    '../../local/lake',
    'domain-is-pure',
  ],
  [
    'a flow importing an AWS adapter',
    'shared/core/planted.ts',
    '../aws/sns-alerter',
    'core-uses-domain-and-ports',
  ],
  [
    'an AWS adapter importing a flow',
    'shared/aws/planted.ts',
    '../core/landing',
    'adapters-use-ports-and-domain',
  ],
  [
    'shared code importing a handler',
    'shared/config/planted.ts',
    '../../functions/notify/handler',
    'shared-is-below-everything',
  ],
  [
    'a handler importing the local product',
    'functions/notify/planted.ts',
    '../../local/lake',
    'handlers-wire-shared-code-only',
  ],
  ['the local product importing the CLI', 'local/planted.ts', '../cli/main', 'local-is-below-the-cli'],
  [
    'the CLI importing a test helper',
    'cli/planted.ts',
    '../test/helpers/ledgers',
    'cli-uses-no-tests-or-benchmarks',
  ],
  [
    'the benchmark importing a test helper that is not an input',
    'bench/planted.ts',
    '../test/helpers/ledgers',
    'bench-uses-no-tests',
  ],
];

let tree: string;

const plant = (file: string, text: string) => {
  mkdirSync(dirname(join(tree, file)), { recursive: true });
  writeFileSync(join(tree, file), text);
};

function cruise(): Violation[] {
  const out = execFileSync(
    process.execPath,
    [
      DEPCRUISE,
      '--config',
      join(ROOT, '.dependency-cruiser.cjs'),
      '--output-type',
      'json',
      '--no-progress',
      '.',
    ],
    { cwd: tree, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  return (JSON.parse(out) as { summary: { violations: Violation[] } }).summary.violations;
}

beforeAll(() => {
  tree = mkdtempSync(join(tmpdir(), 'medallion-architecture-'));
  plant(
    'tsconfig.json',
    JSON.stringify({ compilerOptions: { module: 'preserve', moduleResolution: 'bundler' } }),
  );
  for (const file of TARGETS) plant(file, 'export const x = 1;\n');
});

afterAll(() => rmSync(tree, { recursive: true, force: true }));

test('a tree laid out by the rules passes, and every import against the direction is refused by its rule', () => {
  // Allowed: each layer using the one below it, and the benchmark using its two input helpers.
  plant('shared/core/allowed.ts', "export * from '../domain/datasets';\nexport * from '../ports';\n");
  plant(
    'local/allowed.ts',
    "export * from '../functions/notify/handler';\nexport * from '../shared/aws/sns-alerter';\n",
  );
  plant('bench/allowed.ts', "export * from '../test/helpers/fixtures';\nexport * from '../local/lake';\n");
  expect(cruise()).toEqual([]);

  for (const [, file, target] of PLANTED) plant(file, `export * from '${target}';\n`);
  // A cycle between two domain modules.
  plant('shared/domain/cycle-a.ts', "export * from './cycle-b';\nexport const a = 1;\n");
  plant('shared/domain/cycle-b.ts', "export * from './cycle-a';\nexport const b = 1;\n");
  const violations = cruise();

  for (const [what, file, , rule] of PLANTED)
    expect({ what, refusedBy: violations.filter((v) => v.from === file).map((v) => v.rule.name) }).toEqual({
      what,
      refusedBy: expect.arrayContaining([rule]),
    });
  const cycles = violations.filter((v) => v.rule.name === 'no-circular');
  expect(cycles.length).toBeGreaterThan(0);
  for (const v of cycles) expect(['shared/domain/cycle-a.ts', 'shared/domain/cycle-b.ts']).toContain(v.from);
  expect(
    violations.filter((v) => !PLANTED.some(([, file]) => file === v.from) && v.rule.name !== 'no-circular'),
  ).toEqual([]);
});

test('docs/architecture.svg is the picture the code draws now (npm run architecture redraws it)', () => {
  const out = execFileSync(process.execPath, [join(ROOT, 'scripts', 'architecture.mjs'), '--check'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  expect(out).toContain('is current');
});
