import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parse, stringify } from 'yaml';
import { join } from 'node:path';
import { loadRegistry } from '../../shared/config/registry';
import { ROOT, asArray, policyStatements, type Template } from './packaged';

// Generated JSON: assertions navigate it loosely.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

// Dangling Ref / GetAtt / Sub / DependsOn, dependency cycles and undefined conditions are cfn-lint's
// (E1012, E1010, E1019, E3005, E3004, E8002): test/stack/linters.test.ts runs it on every template.

describe('parameter variants (generator run directly, no re-packaging)', () => {
  const generate = (params: Record<string, unknown>): Loose =>
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
    ).toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:s3:::acme-existing-lake' });
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

  /** A scratch copy of the inputs the generator reads, changed by `edit`; returns the generator's stderr or output. */
  function generateIn(edit: (root: string) => void): { error: string } | { out: Loose } {
    const root = mkdtempSync(join(tmpdir(), 'medallion-stack-'));
    try {
      for (const dir of ['datasets', 'functions', 'shared', 'glue', 'state-machines']) {
        cpSync(join(ROOT, dir), join(root, dir), { recursive: true });
      }
      symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));
      edit(root);
      try {
        return { out: generate({ root }) };
      } catch (error) {
        return { error: String((error as { stderr?: string }).stderr) };
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }

  /** Adds dataset `name` as a copy of orders with the given landing prefix and table prefix. */
  function addDataset(root: string, name: string, prefix: string, tablePrefix: string): void {
    const dir = join(root, 'datasets', name);
    cpSync(join(root, 'datasets', 'orders'), dir, { recursive: true });
    const def = parse(readFileSync(join(dir, 'dataset.yml'), 'utf8'));
    def.name = name;
    def.landing.prefix = prefix;
    for (const zone of ['bronze', 'silver', 'gold', 'quarantine'])
      def.catalog.tables[zone] = `${tablePrefix}_${zone}`;
    writeFileSync(join(dir, 'dataset.yml'), stringify(def));
  }

  test("a landing prefix nested in another dataset's is covered by the outer notification (S3 refuses overlaps)", () => {
    const result = generateIn((root) =>
      addDataset(root, 'orders_eu', 'landing/shop/orders/eu/', 'orders_eu'),
    );

    expect('out' in result).toBe(true);
    const rules = (
      result as { out: Loose }
    ).out.resources.Resources.LakeBucket.Properties.NotificationConfiguration.QueueConfigurations.map(
      (q: Loose) => q.Filter.S3Key.Rules[0].Value,
    );
    // one notification per shipped dataset; none for the nested prefix
    expect([...rules].sort()).toEqual(
      loadRegistry(join(ROOT, 'datasets'))
        .datasets.map((d) => d.landing.prefix)
        .sort(),
    );
    expect(rules).toContain('landing/shop/orders/');
    expect(rules).not.toContain('landing/shop/orders/eu/');
    expect((result as { out: Loose }).out.resources.Resources.GlueTableOrdersEuSilver).toBeDefined();
  });

  test('a stage may run its Glue job as Flex; a job shared with a standard stage fails the build', () => {
    const flexGold = (root: string, job: string) => {
      addDataset(root, 'returns', 'landing/shop/returns/', 'returns');
      const file = join(root, 'datasets', 'returns', 'dataset.yml');
      const def = parse(readFileSync(file, 'utf8'));
      def.stages.gold = { ...def.stages.gold, glueJob: job, executionClass: 'flex' };
      writeFileSync(file, stringify(def));
    };

    const own = generateIn((root) => flexGold(root, 'medallion-gold-flex'));
    const shared = generateIn((root) => flexGold(root, 'medallion-gold'));

    expect('out' in own).toBe(true);
    const jobs = (own as { out: Loose }).out.resources.Resources;
    expect(jobs.GlueJobMedallionGoldFlex.Properties.ExecutionClass).toBe('FLEX');
    expect(jobs.GlueJobMedallionGold.Properties.ExecutionClass).toBe('STANDARD');
    expect(shared).toEqual({
      error: expect.stringMatching(
        /^datasets\/returns\/dataset.yml: stages.gold.executionClass: "flex" but Glue job "medallion-gold" is standard for [a-z_, ]*\borders\b/,
      ),
    });
  });

  test('two datasets declaring the same Glue table fail the build, naming both files', () => {
    const result = generateIn((root) => addDataset(root, 'returns', 'landing/shop/returns/', 'orders'));

    expect(result).toEqual({
      error: expect.stringContaining('Glue table "shop_lake.orders_bronze" is declared by both'),
    });
    expect((result as { error: string }).error).toContain('datasets/returns/dataset.yml');
  });

  test('a stage that cannot name an S3 bucket fails the build, saying why', () => {
    let stderr = '';
    try {
      generate({ stage: 'Prod' });
    } catch (error) {
      stderr = String((error as { stderr?: string }).stderr);
    }

    expect(stderr).toContain('stage "Prod": use 1-15 lower-case letters');
  });

  test('a placeholder the stack cannot bind fails the build, naming it', () => {
    const result = generateIn((root) =>
      writeFileSync(
        join(root, 'state-machines', 'medallion-pipeline.asl.json'),
        JSON.stringify({
          StartAt: 'A',
          States: { A: { Type: 'Pass', Result: '${NoSuchThing}', End: true } },
        }),
      ),
    );

    expect(result).toEqual({
      error: expect.stringContaining('$.States.A.Result: unknown placeholder ${NoSuchThing}'),
    });
  });
});
