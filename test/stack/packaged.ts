import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/**
 * The packaged stack: `npm run package` output. Packages first when .serverless/ is missing or was
 * packaged from other inputs (scripts/stack-inputs.cjs), so the stack tests run on a fresh clone.
 */

export const ROOT = process.cwd();
export const SERVERLESS_DIR = join(ROOT, '.serverless');
/** serverless.yml's `params.default`: the values a stage gets unless a deploy overrides them. */
export const serverlessDefaults = (): Record<string, unknown> =>
  (
    parse(readFileSync(join(ROOT, 'serverless.yml'), 'utf8'), { logLevel: 'silent' }) as {
      params: { default: Record<string, unknown> };
    }
  ).params.default;

/** Packaging runs esbuild for every function and serverless itself: allow for a slow CI machine. */
export const PACKAGE_TIMEOUT_MS = 300_000;

export interface Resource {
  Type: string;
  Properties?: Record<string, unknown> & { [key: string]: unknown };
  DependsOn?: string | string[];
  Condition?: string;
}

export interface Template {
  Resources: Record<string, Resource>;
  Outputs?: Record<string, unknown>;
  Conditions?: Record<string, unknown>;
}

export function ensurePackaged(): void {
  execFileSync('bash', [join(ROOT, 'scripts', 'package.sh'), '--if-stale'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: PACKAGE_TIMEOUT_MS,
  });
}

export const TEMPLATE_FILE = 'cloudformation-template-update-stack.json';

export function loadTemplate(dir: string = SERVERLESS_DIR): Template {
  return JSON.parse(readFileSync(join(dir, TEMPLATE_FILE), 'utf8')) as Template;
}

/**
 * The packages the stack tests check besides the default one (stage dev, default parameters): a
 * second stage, every parameter switched away from its default, and the shipped datasets plus the
 * CDC test dataset (`customers`, test/glue/cdc/datasets: its silver is an Iceberg table).
 */
export const VARIANTS = {
  // As long as a stage may be: the names of any stage fit AWS's limits (test/stack/stages.test.ts).
  second: { stage: 'prod-eu-central', params: {} },
  params: {
    stage: 'dev',
    params: {
      lakeBucketName: 'acme-existing-lake',
      onCallEmail: 'oncall@example.com',
      tracing: 'true',
      logRetentionDays: '90',
      glueWorkers: '4',
      landingMaxConcurrency: '20',
      glueRunQuota: '200',
      glueRunBudget: '120',
      executionBudget: '25',
      lakeFormationReaders:
        'arn:aws:iam::123456789012:role/analyst,arn:aws:iam::123456789012:role/bi-dashboards',
      lakeFormationFullAccess: 'arn:aws:iam::123456789012:role/data-steward',
      waitingRunAlarmMinutes: '30',
    },
  },
  cdc: { stage: 'dev', params: {}, datasets: 'test/glue/cdc/datasets' },
} as const satisfies Record<string, { stage: string; params: Record<string, string>; datasets?: string }>;
export type VariantName = keyof typeof VARIANTS;

/** Where a variant is packaged (its own folder: packaging wipes the folder it writes). */
export const variantDir = (name: VariantName): string => join(ROOT, '.serverless-variants', name);

/** Packages a variant unless it was packaged from the current inputs; returns its folder. */
export function ensureVariant(name: VariantName): string {
  const variant: { stage: string; params: Record<string, string>; datasets?: string } = VARIANTS[name];
  const { stage, params } = variant;
  execFileSync(
    'bash',
    [
      join(ROOT, 'scripts', 'package.sh'),
      '--if-stale',
      '--out',
      variantDir(name),
      ...(variant.datasets ? ['--extra-datasets', join(ROOT, variant.datasets)] : []),
      ...Object.entries(params).map(([k, v]) => `--param=${k}=${v}`),
    ],
    {
      cwd: ROOT,
      env: { ...process.env, MEDALLION_STAGE: stage },
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: PACKAGE_TIMEOUT_MS,
    },
  );
  return variantDir(name);
}

export const resourcesOfType = (template: Template, type: string): Array<[string, Resource]> =>
  Object.entries(template.Resources).filter(([, r]) => r.Type === type);

export function resource(template: Template, logicalId: string): Resource {
  const found = template.Resources[logicalId];
  if (!found) throw new Error(`resource ${logicalId} is not in the packaged template`);
  return found;
}

/** Properties of a resource, typed loosely for assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const props = (template: Template, logicalId: string): any => resource(template, logicalId).Properties;

/** The function folders of the tree (functions/<folder>/handler.ts). */
export const functionFolders = (): string[] =>
  readdirSync(join(ROOT, 'functions'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(ROOT, 'functions', d.name, 'handler.ts')))
    .map((d) => d.name)
    .sort();

/** serverless.yml function key and CloudFormation logical id of a function folder. */
export const functionKey = (folder: string): string =>
  folder.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
export const pascal = (folder: string): string =>
  folder
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join('');
export const lambdaLogicalId = (folder: string): string => `${pascal(folder)}LambdaFunction`;

/** REQUIRED_ENV as written in a handler's source (read, not imported: importing runs the module). */
export function requiredEnvOf(folder: string): string[] {
  const source = readFileSync(join(ROOT, 'functions', folder, 'handler.ts'), 'utf8');
  const match = /export const REQUIRED_ENV\s*=\s*\[([^\]]*)\]/.exec(source);
  if (!match) throw new Error(`functions/${folder}/handler.ts does not export REQUIRED_ENV = [...]`);
  return [...match[1]!.matchAll(/['"]([A-Z0-9_]+)['"]/g)].map((m) => m[1]!).sort();
}

/** Every IAM-style policy statement in the template, with where it sits. */
export function policyStatements(
  template: Template,
): Array<{ where: string; statement: Record<string, unknown> }> {
  const out: Array<{ where: string; statement: Record<string, unknown> }> = [];
  const visit = (node: unknown, where: string): void => {
    if (Array.isArray(node)) {
      node.forEach((n, i) => visit(n, `${where}[${i}]`));
      return;
    }
    if (!node || typeof node !== 'object') return;
    const record = node as Record<string, unknown>;
    if (Array.isArray(record['Statement'])) {
      (record['Statement'] as Array<Record<string, unknown>>).forEach((statement, i) =>
        out.push({ where: `${where}.Statement[${i}]`, statement }),
      );
    }
    for (const [key, value] of Object.entries(record)) {
      if (key !== 'Statement') visit(value, `${where}.${key}`);
    }
  };
  for (const [id, r] of Object.entries(template.Resources)) visit(r.Properties, id);
  return out;
}

export const asArray = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];
