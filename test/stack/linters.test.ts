import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import { venvPython } from '../helpers/python-env';
import {
  PACKAGE_TIMEOUT_MS,
  ROOT,
  SERVERLESS_DIR,
  TEMPLATE_FILE,
  VARIANTS,
  ensurePackaged,
  ensureVariant,
  type VariantName,
} from './packaged';

/**
 * AWS's linters on the packaged templates: the default package, a second stage and the parameter
 * variant. cfn-lint must report no error; every warning of cfn-lint and every failed check of
 * checkov must be listed, with its reason, in stack/lint-exceptions.yml, and every entry there must
 * still match a finding. One run of each linter covers all templates.
 */

const EXCEPTIONS_FILE = join(ROOT, 'stack', 'lint-exceptions.yml');
/** Both linters start a Python interpreter and load their rule sets: allow a slow, shared machine. */
const LINT_TIMEOUT_MS = 180_000;

interface Exception {
  check?: string;
  resources?: string[];
  reason: string;
}
interface Exceptions {
  'cfn-lint': Record<string, Exception>;
  checkov: Record<string, Exception>;
}
interface Finding {
  tool: 'cfn-lint' | 'checkov';
  rule: string;
  level: string;
  resource: string;
  template: string;
  message: string;
}

const exceptions = parse(readFileSync(EXCEPTIONS_FILE, 'utf8')) as Exceptions;
const venvBin = (tool: string): string => join(venvPython(), '..', tool);
const glob = (pattern: string): RegExp =>
  new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);

let templates: string[];
let findings: Finding[];

/** Runs a linter that exits non-zero when it finds something; its report is on stdout either way. */
function run(file: string, args: string[]): string {
  try {
    return execFileSync(file, args, {
      cwd: ROOT,
      env: { ...process.env, BC_SKIP_MAPPING: 'TRUE' },
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; status?: number };
    if (!e.stdout?.trim()) throw new Error(`${file} failed (exit ${e.status}): ${e.stderr ?? String(error)}`);
    return e.stdout;
  }
}

function cfnLint(): Finding[] {
  const out = run(venvBin('cfn-lint'), ['--format', 'json', ...templates]);
  const report = JSON.parse(out) as Array<{
    Rule: { Id: string };
    Level: string;
    Message: string;
    Filename: string;
    Location: { Path?: Array<string | number> };
  }>;
  return report.map((r) => ({
    tool: 'cfn-lint',
    rule: r.Rule.Id,
    level: r.Level,
    resource: r.Location.Path?.[0] === 'Resources' ? String(r.Location.Path[1]) : '',
    template: r.Filename ? relative(ROOT, r.Filename) : '',
    message: r.Message,
  }));
}

function checkov(): Finding[] {
  // --skip-download: checkov would otherwise fetch guidelines from Prisma Cloud; no traffic leaves the machine.
  const out = run(venvBin('checkov'), [
    '--skip-download',
    '--framework',
    'cloudformation',
    '--output',
    'json',
    '--quiet',
    '--compact',
    ...templates.flatMap((t) => ['-f', t]),
  ]);
  const parsed = JSON.parse(out) as unknown;
  const reports = (Array.isArray(parsed) ? parsed : [parsed]) as Array<{
    results?: {
      failed_checks: Array<{ check_id: string; check_name: string; resource: string; file_abs_path: string }>;
    };
  }>;
  return reports.flatMap((report) =>
    (report.results?.failed_checks ?? []).map((c) => ({
      tool: 'checkov' as const,
      rule: c.check_id,
      level: 'FAILED',
      resource: c.resource,
      template: relative(ROOT, c.file_abs_path),
      message: c.check_name,
    })),
  );
}

const listed = (f: Finding): Exception | undefined => {
  const entry = exceptions[f.tool][f.rule];
  if (!entry) return undefined;
  if (entry.resources && !entry.resources.some((p) => glob(p).test(f.resource))) return undefined;
  return entry;
};

beforeAll(() => {
  ensurePackaged();
  templates = [
    join(SERVERLESS_DIR, TEMPLATE_FILE),
    ...(Object.keys(VARIANTS) as VariantName[]).map((v) => join(ensureVariant(v), TEMPLATE_FILE)),
  ].map((t) => relative(ROOT, t));
  findings = [...cfnLint(), ...checkov()];
}, PACKAGE_TIMEOUT_MS + LINT_TIMEOUT_MS);

describe("AWS's linters on the packaged templates", () => {
  test('linted: the default package, a second stage, the parameter variant and the CDC variant', () => {
    expect(templates).toHaveLength(1 + Object.keys(VARIANTS).length);
  });

  test('cfn-lint reports no error', () => {
    const errors = findings.filter((f) => f.tool === 'cfn-lint' && f.level === 'Error');

    expect(errors.map((f) => `${f.template}: ${f.rule} ${f.resource}: ${f.message}`)).toEqual([]);
  });

  test('every warning and failed check is listed in stack/lint-exceptions.yml', () => {
    const unlisted = findings.filter((f) => !(f.tool === 'cfn-lint' && f.level === 'Error') && !listed(f));

    expect(
      unlisted.map((f) => `${f.tool} ${f.rule} (${f.message}) on ${f.resource} in ${f.template}`),
    ).toEqual([]);
  });

  test('every exception gives a reason and still matches a finding (none is stale)', () => {
    for (const tool of ['cfn-lint', 'checkov'] as const) {
      for (const [rule, entry] of Object.entries(exceptions[tool] ?? {})) {
        expect({ tool, rule, reason: entry.reason.trim().length > 20 }).toEqual({ tool, rule, reason: true });
        for (const pattern of entry.resources ?? ['*']) {
          const matched = findings.some(
            (f) => f.tool === tool && f.rule === rule && glob(pattern).test(f.resource),
          );
          expect({ tool, rule, pattern, matched }).toEqual({ tool, rule, pattern, matched: true });
        }
      }
    }
  });
});
