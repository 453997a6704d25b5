import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { loadRegistry } from '../../shared/config/registry';
import {
  PACKAGE_TIMEOUT_MS,
  ROOT,
  asArray,
  ensurePackaged,
  loadTemplate,
  policyStatements,
  type Template,
} from './packaged';

let template: Template;

beforeAll(() => {
  ensurePackaged();
  template = loadTemplate();
}, PACKAGE_TIMEOUT_MS);

/** Logical ids a node refers to: Ref, Fn::GetAtt and the ${X} / ${X.Attr} of Fn::Sub. */
function references(node: unknown, local: ReadonlySet<string> = new Set()): string[] {
  if (Array.isArray(node)) return node.flatMap((n) => references(n, local));
  if (!node || typeof node !== 'object') return [];
  const out: string[] = [];
  for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
    if (key === 'Ref' && typeof value === 'string') out.push(value);
    else if (key === 'Fn::GetAtt')
      out.push(Array.isArray(value) ? String(value[0]) : String(value).split('.')[0]!);
    else if (key === 'Fn::Sub') {
      const [text, vars] = Array.isArray(value)
        ? [value[0] as string, (value[1] ?? {}) as Record<string, unknown>]
        : [value as string, {}];
      const names = new Set([...local, ...Object.keys(vars)]);
      for (const [, name] of text.matchAll(/\$\{([^}!]+)\}/g)) {
        const id = name!.split('.')[0]!;
        if (!names.has(id)) out.push(id);
      }
      out.push(...references(vars, local));
    } else out.push(...references(value, local));
  }
  return out.filter((id) => !id.startsWith('AWS::'));
}

describe('template integrity', () => {
  test('every Ref, GetAtt, Sub variable and DependsOn names a resource or parameter of the template', () => {
    const known = new Set(Object.keys(template.Resources));
    const dangling = Object.entries(template.Resources).flatMap(([id, r]) =>
      [...references(r.Properties), ...asArray(r.DependsOn)]
        .filter((ref) => !known.has(ref))
        .map((ref) => `${id} → ${ref}`),
    );

    expect(dangling).toEqual([]);
  });

  test('resources depend on each other without a cycle (CloudFormation would refuse the stack)', () => {
    const edges = new Map(
      Object.entries(template.Resources).map(([id, r]) => [
        id,
        new Set([...references(r.Properties), ...asArray(r.DependsOn)]),
      ]),
    );
    const state = new Map<string, 'visiting' | 'done'>();
    const cycles: string[] = [];
    const visit = (id: string, path: string[]): void => {
      if (state.get(id) === 'done') return;
      if (state.get(id) === 'visiting') {
        cycles.push([...path.slice(path.indexOf(id)), id].join(' → '));
        return;
      }
      state.set(id, 'visiting');
      for (const next of edges.get(id) ?? []) if (edges.has(next)) visit(next, [...path, id]);
      state.set(id, 'done');
    };
    for (const id of edges.keys()) visit(id, []);

    expect(cycles).toEqual([]);
  });

  test('conditions used by resources are defined', () => {
    const used = Object.values(template.Resources).flatMap((r) => asArray(r.Condition));

    for (const name of used) expect(Object.keys(template.Conditions ?? {})).toContain(name);
  });
});

describe('parameter variants (generator run directly, no re-packaging)', () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const generate = (params: Record<string, unknown>): any =>
    JSON.parse(
      execFileSync(process.execPath, [join(ROOT, 'stack', 'build.cjs'), JSON.stringify(params)], {
        cwd: ROOT,
        encoding: 'utf8',
      }),
    );
  const registry = loadRegistry(join(ROOT, 'datasets'));

  test('an existing lake bucket: no bucket created, the queue accepts it, its notification config is an output', () => {
    const out = generate({ lakeBucketParam: 'acme-existing-lake' });
    const resources = out.resources.Resources;

    expect(resources.LakeBucket).toBeUndefined();
    expect(resources.LakeBucketPolicy).toBeUndefined();
    expect(
      resources.LandingQueuePolicy.Properties.PolicyDocument.Statement[0].Condition.ArnLike['aws:SourceArn'],
    ).toBe('arn:aws:s3:::acme-existing-lake');
    const [text, vars] = out.resources.Outputs.LandingNotificationConfiguration.Value['Fn::Sub'];
    const config = JSON.parse(text);
    expect(
      config.QueueConfigurations.map(
        (q: { Filter: { Key: { FilterRules: Array<{ Value: string }> } } }) =>
          q.Filter.Key.FilterRules[0]!.Value,
      ),
    ).toEqual(registry.datasets.map((d) => d.landing.prefix));
    expect(vars.QueueArn).toEqual({ 'Fn::GetAtt': ['LandingQueue', 'Arn'] });
    expect(out.env.LAKE_BUCKET).toBe('acme-existing-lake');
    expect(
      JSON.stringify(resources.GlueTableOrdersSilver.Properties.TableInput.StorageDescriptor.Location),
    ).toContain('acme-existing-lake');
  });

  test('tracing adds the X-Ray permissions to the state machine and every function role, and only then', () => {
    const xrayGrants = (out: { resources: { Resources: Template['Resources'] } }) =>
      policyStatements({ Resources: out.resources.Resources })
        .filter(({ statement }) =>
          asArray(statement['Action'] as string | string[]).includes('xray:PutTraceSegments'),
        )
        .map(({ where }) => where.split('.')[0]);

    const traced = xrayGrants(generate({ tracing: true }));
    const untraced = xrayGrants(generate({ tracing: false }));

    expect(traced).toEqual(expect.arrayContaining(['StateMachineRole', 'OnLandingRole', 'RecordStageRole']));
    expect(untraced).toEqual([]);
  });

  test('a placeholder the stack cannot bind fails the build, naming it', () => {
    let message = '';
    try {
      execFileSync(
        process.execPath,
        [
          '-e',
          `
        const fs = require('node:fs'); const path = require('node:path'); const os = require('node:os');
        const root = fs.mkdtempSync(path.join(os.tmpdir(), 'medallion-asl-'));
        for (const d of ['datasets', 'functions', 'shared', 'glue']) fs.cpSync(path.join(${JSON.stringify(ROOT)}, d), path.join(root, d), { recursive: true });
        fs.symlinkSync(path.join(${JSON.stringify(ROOT)}, 'node_modules'), path.join(root, 'node_modules'));
        fs.mkdirSync(path.join(root, 'state-machines'));
        fs.writeFileSync(path.join(root, 'state-machines', 'medallion-pipeline.asl.json'), JSON.stringify({ StartAt: 'A', States: { A: { Type: 'Pass', Result: '\${NoSuchThing}', End: true } } }));
        require(${JSON.stringify(join(ROOT, 'stack', 'build.cjs'))}).build({ root, stage: 'dev', lakeBucketParam: '', tracing: false, glueWorkers: 2, glueMaxConcurrentRuns: 20 })
          .then(() => process.exit(0), (e) => { console.error(e.message); fs.rmSync(root, { recursive: true, force: true }); process.exit(1); });
      `,
        ],
        { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
      );
    } catch (error) {
      message = String((error as { stderr?: string }).stderr);
    }

    expect(message).toContain('$.States.A.Result: unknown placeholder ${NoSuchThing}');
  });
});
