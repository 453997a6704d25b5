import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { loadRegistry } from '../../shared/config/registry';
import type { Dataset } from '../../shared/domain/datasets';
import { accessReport, type PrincipalAccess } from '../../stack/access-report';
import { runCliCaptured as cli } from '../helpers/cli';
import {
  PACKAGE_TIMEOUT_MS,
  ROOT,
  TEMPLATE_FILE,
  VARIANTS,
  ensurePackaged,
  ensureVariant,
  loadTemplate,
  pascal,
  resourcesOfType,
  type Template,
} from './packaged';

/**
 * `medallion access-report`, and what it shows: each Glue job has its own role, scoped to the
 * datasets it serves and to its stage, so no job role reads another dataset's landing files; readers
 * select only the non-sensitive columns.
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

const datasets = loadRegistry(join(ROOT, 'datasets')).datasets;
let template: Template;

beforeAll(() => {
  ensurePackaged();
  template = loadTemplate();
}, PACKAGE_TIMEOUT_MS);

/** The Glue jobs of a template: role logical id → the datasets its job serves and its stage. */
function jobsOf(t: Template): Array<{ role: string; job: string; datasets: string[]; stage: string }> {
  return resourcesOfType(t, 'AWS::Glue::Job').map(([, r]) => {
    const p = r.Properties as Loose;
    const [, stage, list] = /^medallion (\w+) stage \(datasets: ([^)]*)\)$/.exec(p.Description)!;
    return { role: p.Role['Fn::GetAtt'][0], job: p.Name, datasets: list!.split(', '), stage: stage! };
  });
}

const lakeKey = (location: string): string => location.replace(/^s3:\/\/[^/]+\//, '');

function assertJobRolesScoped(report: PrincipalAccess[], t: Template, all: readonly Dataset[]): number {
  let checked = 0;
  const roles = new Set<string>();
  for (const job of jobsOf(t)) {
    const access = report.find((p) => p.principal === job.role)!;
    expect(access).toBeDefined();
    roles.add(job.role);
    const lakeReads = access.s3Read.filter((l) => !l.startsWith('s3://${')).map(lakeKey);
    for (const d of all) {
      const readsLanding = lakeReads.some((k) => k.startsWith(d.landing.prefix));
      const serves = job.datasets.includes(d.name);
      // No Glue job role reads a landing prefix of a dataset it does not serve, nor any landing
      // prefix unless it is a bronze job.
      expect({ role: job.role, dataset: d.name, readsLanding }).toEqual({
        role: job.role,
        dataset: d.name,
        readsLanding: serves && job.stage === 'bronze',
      });
      // Nor any zone of such a dataset.
      if (!serves)
        expect(
          lakeReads.filter((k) => k.split('/')[1] === d.name || k.startsWith(`_manifests/${d.name}/`)),
        ).toEqual([]);
      checked += 1;
    }
  }
  // One role per job.
  expect(roles.size).toBe(jobsOf(t).length);
  return checked;
}

describe('each Glue job has its own role, scoped to its datasets and stage', () => {
  test('in the packaged stack: one role per job; only the bronze job reads landing, only its datasets', () => {
    const report = accessReport(template as Loose);

    expect(assertJobRolesScoped(report, template, datasets)).toBe(jobsOf(template).length * datasets.length);
    expect(resourcesOfType(template, 'AWS::IAM::Role').map(([id]) => id)).not.toContain('GlueJobRole');
    const silver = report.find((p) => p.principal === 'GlueJobRoleMedallionSilver')!;
    expect(
      silver.s3Write
        .filter((l) => !l.startsWith('s3://${'))
        .map(lakeKey)
        .filter((k) => !k.startsWith('_manifests/'))
        .sort(),
    ).toEqual(datasets.flatMap((d) => [`quarantine/${d.name}/*`, `silver/${d.name}/*`]).sort());
  });

  test('datasets with jobs of their own: no job role can read the landing prefix of the other dataset', () => {
    const root = mkdtempSync(join(tmpdir(), 'medallion-access-'));
    try {
      for (const dir of ['datasets', 'functions', 'shared', 'glue', 'state-machines'])
        cpSync(join(ROOT, dir), join(root, dir), { recursive: true });
      symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));
      const file = join(root, 'datasets', 'page_views', 'dataset.yml');
      const def = parse(readFileSync(file, 'utf8'));
      for (const stage of ['bronze', 'silver', 'gold']) def.stages[stage].glueJob = `web-${stage}`;
      writeFileSync(file, stringify(def));
      const out = JSON.parse(
        execFileSync(process.execPath, [join(ROOT, 'stack', 'build.cjs'), JSON.stringify({ root })], {
          cwd: ROOT,
          encoding: 'utf8',
        }),
      );
      const generated = { Resources: out.resources.Resources } as Template;
      const report = accessReport(generated as Loose);

      expect(jobsOf(generated)).toHaveLength(6);
      expect(assertJobRolesScoped(report, generated, datasets)).toBe(6 * datasets.length);
      const webBronze = report.find((p) => p.principal === `GlueJobRole${pascal('web-bronze')}`)!;
      expect(webBronze.s3Read.map(lakeKey).filter((k) => k.startsWith('landing/'))).toEqual([
        'landing/web/page_views/*',
      ]);
      expect(webBronze.tables.map((t) => t.table)).toEqual(['web_lake_dev.page_views_bronze']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('medallion access-report', () => {
  test('prints every role of the stack and says the principal parameters are empty', async () => {
    const { code, out } = await cli(['access-report']);

    expect(code).toBe(0);
    for (const [id] of resourcesOfType(template, 'AWS::IAM::Role')) expect(out).toContain(`${id}: IAM role`);
    expect(out).toContain(
      '(lakeFormationReaders): the lakeFormationReaders parameter is empty: no principal',
    );
    expect(out).toMatch(
      /GlueJobRoleMedallionBronze: IAM role[^\n]*\n {2}S3 read:\n(?: {4}[^\n]*\n)*? {4}s3:\/\/medallion-dev-lake-\$\{AWS::AccountId\}-\$\{AWS::Region\}\/landing\/shop\/orders\/\*/,
    );
  }, 30_000);

  test(
    'each reader principal: the tables and, per table, the columns it may select (no pii, no confidential)',
    async () => {
      const file = join(ensureVariant('params'), TEMPLATE_FILE);
      const { code, out } = await cli(['access-report', '--template', file, '--json']);
      const report = JSON.parse(out) as PrincipalAccess[];

      expect(code).toBe(0);
      for (const reader of VARIANTS.params.params.lakeFormationReaders.split(',')) {
        const access = report.find((p) => p.principal === reader)!;
        expect(access.kind).toBe('listed in the lakeFormationReaders parameter');
        const silver = access.tables.find((t) => t.table === 'shop_lake_dev.orders_silver')!;
        expect(silver.permissions).toEqual(['SELECT', 'DESCRIBE']);
        expect(silver.columns).toContain('order_id');
        expect(silver.columns).not.toContain('customer_id');
        expect(silver.columns).not.toContain('amount');
        expect(access.s3Read).toEqual([]);
      }
      const steward = report.find((p) => p.principal === VARIANTS.params.params.lakeFormationFullAccess)!;
      expect(steward.kind).toBe('listed in the lakeFormationFullAccess parameter');
      expect(steward.tables.find((t) => t.table === 'web_lake_dev.page_views_silver')!.columns).toContain(
        'user_id',
      );
    },
    PACKAGE_TIMEOUT_MS,
  );

  test('no template there is a usage error that says how to make one', async () => {
    const { code, err } = await cli(['access-report', '--template', join(tmpdir(), 'no-such-template.json')]);

    expect(code).toBe(2);
    expect(err).toContain('no packaged template (run "npm run package", or give --template <file>)');
  });
});
