import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { loadRegistry } from '../../shared/config/registry';
import { stageDatabaseName, stageJobName } from '../../shared/domain/stage-names';
import {
  PACKAGE_TIMEOUT_MS,
  ROOT,
  VARIANTS,
  ensurePackaged,
  ensureVariant,
  loadTemplate,
  type Resource,
  type Template,
} from './packaged';

/**
 * Two stages side by side in one account and region: every name that is unique per account (and
 * region) carries the stage, within AWS's length limit, and the default stage and a second one
 * share none. The second stage is as long as a stage may be, so the limits are met by any stage.
 */

/** Resource types whose name is unique per account / region: where the name is, and its limit. */
const NAMED: Record<string, { path: string[]; max: number }> = {
  'AWS::S3::Bucket': { path: ['BucketName'], max: 63 },
  'AWS::SQS::Queue': { path: ['QueueName'], max: 80 },
  'AWS::DynamoDB::Table': { path: ['TableName'], max: 255 },
  'AWS::SNS::Topic': { path: ['TopicName'], max: 256 },
  'AWS::KMS::Alias': { path: ['AliasName'], max: 256 },
  'AWS::Logs::LogGroup': { path: ['LogGroupName'], max: 512 },
  'AWS::CloudWatch::Alarm': { path: ['AlarmName'], max: 255 },
  'AWS::CloudWatch::Dashboard': { path: ['DashboardName'], max: 255 },
  'AWS::StepFunctions::StateMachine': { path: ['StateMachineName'], max: 80 },
  'AWS::Lambda::Function': { path: ['FunctionName'], max: 64 },
  'AWS::Events::Rule': { path: ['Name'], max: 64 },
  'AWS::Glue::Job': { path: ['Name'], max: 255 },
  'AWS::Glue::Database': { path: ['DatabaseInput', 'Name'], max: 255 },
  'AWS::Glue::SecurityConfiguration': { path: ['Name'], max: 255 },
  'AWS::Athena::WorkGroup': { path: ['Name'], max: 128 },
  'AWS::IAM::Role': { path: ['RoleName'], max: 64 },
  // LF-Tag keys are unique per account and region (and stored in lower case).
  'AWS::LakeFormation::Tag': { path: ['TagKey'], max: 128 },
};
/** Types the stack names itself (IAM roles are left to CloudFormation: their names are global). */
const MUST_BE_NAMED = Object.keys(NAMED).filter((t) => t !== 'AWS::IAM::Role');

/** Worst cases for the pseudo parameters in a name: a 12-digit account, the longest region name. */
const PSEUDO: Record<string, string> = {
  'AWS::AccountId': '123456789012',
  'AWS::Region': 'ap-southeast-2',
  'AWS::Partition': 'aws-us-gov',
};

/** A name as text: Fn::Sub and Fn::Join rendered, pseudo parameters at their longest. */
function render(value: unknown, where: string): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if (v['Fn::Sub'] !== undefined) {
    const [text, vars] = Array.isArray(v['Fn::Sub'])
      ? (v['Fn::Sub'] as [string, Record<string, unknown>])
      : [v['Fn::Sub'] as string, {}];
    return text.replace(/\$\{([^}]+)\}/g, (_, name: string) =>
      name in vars ? render(vars[name], where) : (PSEUDO[name] ?? `<${name}>`),
    );
  }
  if (v['Fn::Join'] !== undefined) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map((p) => render(p, where)).join(sep);
  }
  if (typeof v['Ref'] === 'string') return PSEUDO[v['Ref']] ?? `<${v['Ref']}>`;
  throw new Error(`${where}: a name that is not text: ${JSON.stringify(value)}`);
}

function names(template: Template): Array<{ id: string; type: string; name: string | undefined }> {
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type in NAMED)
    .map(([id, r]: [string, Resource]) => {
      const spec = NAMED[r.Type]!;
      const raw = spec.path.reduce<unknown>(
        (node, key) => (node as Record<string, unknown> | undefined)?.[key],
        r.Properties,
      );
      return { id, type: r.Type, name: raw === undefined ? undefined : render(raw, id) };
    });
}

const SECOND = VARIANTS.second.stage;
let dev: ReturnType<typeof names>;
let second: ReturnType<typeof names>;
let secondDir: string;

beforeAll(() => {
  ensurePackaged();
  dev = names(loadTemplate());
  secondDir = ensureVariant('second');
  second = names(loadTemplate(secondDir));
}, 2 * PACKAGE_TIMEOUT_MS);

describe('stages side by side in one account', () => {
  test('the second stage is as long as a stage may be', () => {
    expect(SECOND).toHaveLength(15);
  });

  test('every account- or region-wide name carries the stage, within its AWS length limit', () => {
    const stageText = [SECOND, SECOND.replace(/-/g, '_')];
    // A resource without a name gets one from CloudFormation, made of the stack name (which holds
    // the stage) and a random suffix: unique by construction.
    for (const { id, type, name } of second.filter((n) => n.name !== undefined)) {
      expect({ id, name, staged: stageText.some((s) => name!.includes(s)) }).toEqual({
        id,
        name,
        staged: true,
      });
      expect({ id, name, length: name!.length <= NAMED[type]!.max }).toEqual({ id, name, length: true });
    }
    // Each kind of name the stack gives: Glue jobs, databases and security configuration, buckets,
    // table, queues, topic, key aliases, log groups, alarms, dashboard, state machine, functions, rule.
    for (const type of MUST_BE_NAMED) {
      expect({ type, named: second.some((n) => n.type === type && n.name !== undefined) }).toEqual({
        type,
        named: true,
      });
    }
  });

  test('the two stages share no name', () => {
    const devNames = new Set(dev.map((n) => `${n.type} ${n.name}`));
    const shared = second.filter((n) => n.name !== undefined && devNames.has(`${n.type} ${n.name}`));

    expect(shared).toEqual([]);
    expect(second.filter((n) => n.name !== undefined).length).toBeGreaterThan(20);
  });

  test("the Glue jobs and databases are the datasets' declared names with the stage", () => {
    const registry = loadRegistry(join(ROOT, 'datasets'));
    const jobs = second.filter((n) => n.type === 'AWS::Glue::Job').map((n) => n.name);
    const databases = second.filter((n) => n.type === 'AWS::Glue::Database').map((n) => n.name);

    for (const d of registry.datasets) {
      for (const s of ['bronze', 'silver', 'gold'] as const)
        expect(jobs).toContain(stageJobName(d.stages[s].glueJob, SECOND));
      expect(databases).toContain(stageDatabaseName(d.catalog.database, SECOND));
    }
  });

  test('the functions of a stage plan its Glue jobs and register in its databases (compiled registry in the zip)', () => {
    const shipped = JSON.parse(
      execFileSync(
        'python3',
        [
          '-c',
          'import sys, zipfile; print(zipfile.ZipFile(sys.argv[1]).read("build/datasets.json").decode())',
          join(secondDir, 'prepareRun.zip'),
        ],
        { encoding: 'utf8' },
      ),
    ) as { datasets: Array<{ stages: Record<string, { glueJob: string }>; catalog: { database: string } }> };
    const jobs = second.filter((n) => n.type === 'AWS::Glue::Job').map((n) => n.name);
    const databases = second.filter((n) => n.type === 'AWS::Glue::Database').map((n) => n.name);

    for (const d of shipped.datasets) {
      for (const s of Object.values(d.stages)) expect(jobs).toContain(s.glueJob);
      expect(databases).toContain(d.catalog.database);
    }
  });
});
