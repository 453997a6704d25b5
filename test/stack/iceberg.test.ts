import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDeployedRegistry } from '../../shared/config/deployed-registry';
import { loadRegistry } from '../../shared/config/registry';
import { GLUE_ARGS, glueArguments } from '../../shared/domain/glue-args';
import { venvPython } from '../helpers/python-env';
import { CDC_DELETED, cdcStatePrefix } from '../../shared/domain/cdc';
import { columnGovernance } from '../../shared/domain/governance';
import { runPython } from '../glue/python';
import {
  PACKAGE_TIMEOUT_MS,
  ROOT,
  VARIANTS,
  asArray,
  ensureVariant,
  loadTemplate,
  props,
  resourcesOfType,
  type Template,
} from './packaged';

/**
 * Iceberg tables on AWS, on the package of the shipped datasets plus the CDC test dataset `customers`
 * (test/glue/cdc/datasets): its silver, the current state the silver job merges into, is an Apache
 * Iceberg table in the Glue Data Catalog; the jobs that use it run with Glue's Iceberg and the
 * `glue_catalog` Spark catalog glue/medallion_glue/cdc.py names; their roles may load and commit it
 * and nothing more; Glue's table optimizers compact it and expire its snapshots. (cfn-lint and
 * checkov run on this package too: test/stack/linters.test.ts.)
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

const STAGE_DB = 'conformance_dev';
const customers = loadRegistry(join(ROOT, VARIANTS.cdc.datasets)).get('customers');
let template: Template;

beforeAll(() => {
  template = loadTemplate(ensureVariant('cdc'));
}, PACKAGE_TIMEOUT_MS);

const lake = (key: string) => ({ 'Fn::Join': ['', ['s3://', { Ref: 'LakeBucket' }, `/${key}`]] });
const arn = (rest: string) => ({
  'Fn::Sub': `arn:\${AWS::Partition}:glue:\${AWS::Region}:\${AWS::AccountId}:${rest}`,
});
const TABLE_ARNS = [arn('catalog'), arn(`database/${STAGE_DB}`), arn(`table/${STAGE_DB}/customers_silver`)];
const statements = (roleId: string): Loose[] =>
  props(template, roleId).Policies.flatMap((p: Loose) => p.PolicyDocument.Statement);
/** The statements of a role that allow a Glue action, as (action, resources). */
const glueGrants = (roleId: string): Array<[string, Loose[]]> =>
  statements(roleId).flatMap((s) =>
    asArray<string>(s.Action)
      .filter((a) => a.startsWith('glue:'))
      .map((a): [string, Loose[]] => [a, asArray(s.Resource)]),
  );

describe('the CDC state is an Iceberg table in the Glue Data Catalog', () => {
  test('Iceberg format version 2 created by Glue, no partition keys, at silver/<dataset>/current/', () => {
    const table = props(template, 'GlueTableCustomersSilver');

    expect(table.OpenTableFormatInput).toEqual({
      IcebergInput: { MetadataOperation: 'CREATE', Version: '2' },
    });
    expect(table.DatabaseName).toBe(STAGE_DB);
    expect(table.TableInput).toMatchObject({
      Name: 'customers_silver',
      TableType: 'EXTERNAL_TABLE',
      PartitionKeys: [],
    });
    expect(table.TableInput.StorageDescriptor.Location).toEqual(lake('silver/customers/current/'));
    expect(cdcStatePrefix('customers')).toBe('silver/customers/current/');
    // Iceberg's metadata says how its files are laid out: no Hive formats or SerDe.
    expect(Object.keys(table.TableInput.StorageDescriptor).sort()).toEqual(['Columns', 'Location']);
  });

  test('its columns are what the silver job merges: declared, lineage, and the tombstone flag', () => {
    const columns = props(template, 'GlueTableCustomersSilver').TableInput.StorageDescriptor
      .Columns as Loose[];

    expect(columns.map(({ Name, Type }) => ({ Name, Type }))).toEqual([
      ...customers.columns.map((c) => ({ Name: c.name, Type: c.type })),
      { Name: '_ingested_at', Type: 'timestamp' },
      { Name: '_source_file', Type: 'string' },
      { Name: CDC_DELETED, Type: 'boolean' },
    ]);
  });

  test('governed as every table: comments, dataset and layer parameters, LF-Tags on its columns', () => {
    const input = props(template, 'GlueTableCustomersSilver').TableInput;
    const tombstone = columnGovernance(customers, 'silver', CDC_DELETED);

    expect(input.Parameters).toMatchObject({ 'medallion.dataset': 'customers', 'medallion.layer': 'silver' });
    // Glue writes table_type and metadata_location itself; the Parquet format key does not apply.
    expect(input.Parameters.classification).toBeUndefined();
    expect(input.StorageDescriptor.Columns.find((c: Loose) => c.Name === CDC_DELETED).Comment).toBe(
      `[internal] ${tombstone.description}`,
    );
    const tagged = resourcesOfType(template, 'AWS::LakeFormation::TagAssociation')
      .map(([, r]) => (r.Properties as Loose).Resource.TableWithColumns)
      .filter((t) => t?.Name === 'customers_silver')
      .flatMap((t) => t.ColumnNames as string[]);
    // Every column tagged, and no partition key (the table has none: Lake Formation would refuse it).
    expect(tagged.sort()).toEqual(input.StorageDescriptor.Columns.map((c: Loose) => c.Name).sort());
  });

  test('the other tables stay Parquet, partitioned', () => {
    const others = resourcesOfType(template, 'AWS::Glue::Table').filter(
      ([id]) => id !== 'GlueTableCustomersSilver',
    );

    expect(others.length).toBeGreaterThanOrEqual(7);
    for (const [, t] of others) {
      expect((t.Properties as Loose).OpenTableFormatInput).toBeUndefined();
      expect((t.Properties as Loose).TableInput.PartitionKeys.length).toBeGreaterThan(0);
    }
  });
});

describe('the Glue jobs that use it', () => {
  const args = (job: string): Record<string, Loose> => props(template, job).DefaultArguments;

  test("silver and gold run with Glue's Iceberg and the glue_catalog catalog cdc.py expects; bronze without", () => {
    const python = runPython<{ catalog: string }>(
      'import json\nfrom medallion_glue import cdc\nprint(json.dumps({"catalog": cdc.GLUE_CATALOG}))',
    );
    const catalog = `spark.sql.catalog.${python.catalog}`;

    for (const job of ['GlueJobMedallionSilver', 'GlueJobMedallionGold']) {
      expect(args(job)['--datalake-formats']).toBe('iceberg');
      const conf = args(job)['--conf']['Fn::Join'];
      // One --conf argument holding every setting, joined as Glue reads it.
      expect(conf[0]).toBe(' --conf ');
      expect(conf[1]).toEqual([
        'spark.sql.extensions=org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions',
        `${catalog}=org.apache.iceberg.spark.SparkCatalog`,
        `${catalog}.catalog-impl=org.apache.iceberg.aws.glue.GlueCatalog`,
        `${catalog}.io-impl=org.apache.iceberg.aws.s3.S3FileIO`,
        { 'Fn::Join': ['', [`${catalog}.warehouse=s3://`, { Ref: 'LakeBucket' }, '/silver/']] },
      ]);
    }
    expect(args('GlueJobMedallionBronze')['--datalake-formats']).toBeUndefined();
    expect(args('GlueJobMedallionBronze')['--conf']).toBeUndefined();
  });

  test("each run is told the stage's database, the one the stack declares the table in", () => {
    // The registry prepare-run ships (build/datasets.json in its zip), unzipped as Lambda would.
    const dir = mkdtempSync(join(tmpdir(), 'iceberg-registry-'));
    execFileSync(venvPython(), [
      '-c',
      'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("build/datasets.json", sys.argv[2])',
      join(ensureVariant('cdc'), 'prepareRun.zip'),
      dir,
    ]);
    const deployed = loadDeployedRegistry(join(dir, 'build', 'datasets.json')).get('customers');

    const args = glueArguments({
      lakeRoot: 's3://lake/',
      planLocation: 's3://artifacts/plans/customers.json',
      dataset: deployed.name,
      catalogDatabase: deployed.catalog.database,
      landingPrefix: deployed.landing.prefix,
      stage: 'silver',
      runId: 'customers-2024-03-02-abc',
      partitionPath: 'dt=2024-03-02',
      partitionValues: ['2024-03-02'],
    });

    expect(args[GLUE_ARGS.catalogDatabase]).toBe(props(template, 'GlueTableCustomersSilver').DatabaseName);
  });

  test('the silver role may load and commit the table, the gold role only load it, bronze neither', () => {
    expect(glueGrants('GlueJobRoleMedallionSilver')).toEqual([
      ['glue:GetTable', TABLE_ARNS],
      ['glue:UpdateTable', TABLE_ARNS],
    ]);
    expect(glueGrants('GlueJobRoleMedallionGold')).toEqual([['glue:GetTable', TABLE_ARNS]]);
    expect(glueGrants('GlueJobRoleMedallionBronze')).toEqual([]);
    // Its files are under the silver prefix the silver role already writes and the gold role reads.
    const writes = statements('GlueJobRoleMedallionSilver').find((s) => s.Sid === 'WriteLakeZones');
    expect(JSON.stringify(writes.Resource)).toContain('/silver/customers/*');
  });

  test('in Lake Formation terms the silver role may alter (commit to) the Iceberg table', () => {
    const grant = props(template, 'GlueJobRoleMedallionSilverLfCustomersSilver');

    expect(grant.Resource.Table).toMatchObject({ DatabaseName: STAGE_DB, Name: 'customers_silver' });
    expect(grant.Permissions).toEqual(['SELECT', 'INSERT', 'DELETE', 'DESCRIBE', 'ALTER']);
    expect(props(template, 'GlueJobRoleMedallionSilverLfCustomersQuarantine').Permissions).not.toContain(
      'ALTER',
    );
  });

  test('record-stage may register partitions in every table but the Iceberg one', () => {
    const register = statements('RecordStageRole').find((s) =>
      asArray<string>(s.Action).includes('glue:BatchCreatePartition'),
    );
    const resources = JSON.stringify(register.Resource);

    expect(resources).toContain(`table/${STAGE_DB}/customers_quarantine`);
    expect(resources).not.toContain(`table/${STAGE_DB}/customers_silver`);
  });
});

describe("maintenance: Glue's table optimizers", () => {
  const optimizers = () =>
    resourcesOfType(template, 'AWS::Glue::TableOptimizer').map(([id, r]) => ({ id, ...(r as Loose) }));

  test('compaction, snapshot retention and orphan file deletion on the Iceberg table, under the optimizer role', () => {
    const found = optimizers();

    expect(found.map((o) => o.Properties.Type).sort()).toEqual([
      'compaction',
      'orphan_file_deletion',
      'retention',
    ]);
    for (const o of found) {
      expect(o.Properties).toMatchObject({
        CatalogId: { Ref: 'AWS::AccountId' },
        DatabaseName: STAGE_DB,
        TableName: 'customers_silver',
      });
      expect(o.Properties.TableOptimizerConfiguration).toMatchObject({
        RoleArn: { 'Fn::GetAtt': ['IcebergOptimizerRole', 'Arn'] },
        Enabled: true,
      });
      expect(asArray(o.DependsOn)).toContain('GlueTableCustomersSilver');
    }
    const config = (type: string) =>
      found.find((o) => o.Properties.Type === type).Properties.TableOptimizerConfiguration;
    expect(config('retention').RetentionConfiguration).toEqual({
      IcebergConfiguration: {
        SnapshotRetentionPeriodInDays: 7,
        NumberOfSnapshotsToRetain: 1,
        CleanExpiredFiles: true,
      },
    });
    expect(config('orphan_file_deletion').OrphanFileDeletionConfiguration).toEqual({
      IcebergConfiguration: { OrphanFileRetentionPeriodInDays: 3 },
    });
  });

  test('the optimizer role: assumed by Glue, the Iceberg files only, load and commit the Iceberg table only', () => {
    const role = props(template, 'IcebergOptimizerRole');
    const byId = Object.fromEntries(statements('IcebergOptimizerRole').map((s) => [s.Sid, s]));

    expect(role.AssumeRolePolicyDocument.Statement).toEqual([
      { Effect: 'Allow', Principal: { Service: 'glue.amazonaws.com' }, Action: 'sts:AssumeRole' },
    ]);
    expect(byId['TableFiles'].Resource).toEqual([
      { 'Fn::Join': ['', [expect.anything(), '/silver/customers/current/*']] },
    ]);
    expect(byId['ListTableFiles'].Action).toEqual(['s3:ListBucket', 's3:GetBucketLocation']);
    expect(byId['CommitTables'].Action).toEqual(['glue:GetTable', 'glue:UpdateTable']);
    expect(byId['CommitTables'].Resource).toEqual(TABLE_ARNS);
    expect(JSON.stringify(byId['OptimizerLogs'].Resource)).toContain('/aws-glue/iceberg-compaction/logs:*');
    expect(props(template, 'IcebergOptimizerRoleLfCustomersSilver').Resource.Table).toMatchObject({
      DatabaseName: STAGE_DB,
      Name: 'customers_silver',
    });
  });
});
