import { join } from 'node:path';
import { loadRegistry } from '../../shared/config/registry';
import {
  CLASSIFICATIONS,
  columnGovernance,
  mayRead,
  readableClassifications,
  type AccessLevel,
} from '../../shared/domain/governance';
import { stageDatabaseName } from '../../shared/domain/stage-names';
import { principalsParam } from '../../stack/lake-formation';
import {
  PACKAGE_TIMEOUT_MS,
  ROOT,
  VARIANTS,
  ensurePackaged,
  ensureVariant,
  loadTemplate,
  pascal,
  props,
  resourcesOfType,
  type Template,
} from './packaged';

/**
 * Lake Formation as code: the packaged stack tags every column of every table with its registry
 * classification, grants the reader and full-access parameters by LF-Tag expression, registers the
 * lake in hybrid access mode and grants the stack's roles their tables. The grants are evaluated
 * here as Lake Formation evaluates them (a column's tag, else its table's): a reader selects exactly
 * the columns the domain's rule lets it, the rule `medallion query --as` applies locally.
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

const ZONES = ['bronze', 'silver', 'gold', 'quarantine'] as const;
const datasets = loadRegistry(join(ROOT, 'datasets')).datasets;
const READERS = VARIANTS.params.params.lakeFormationReaders.split(',');
const FULL = VARIANTS.params.params.lakeFormationFullAccess.split(',');
let template: Template;
let withPrincipals: Template;

beforeAll(() => {
  ensurePackaged();
  template = loadTemplate();
  withPrincipals = loadTemplate(ensureVariant('params'));
}, 2 * PACKAGE_TIMEOUT_MS);

const of = (t: Template, type: string): Loose[] => resourcesOfType(t, type).map(([id, r]) => ({ id, ...r }));
const tableColumns = (t: Template, database: string, table: string): string[] => {
  const input = of(t, 'AWS::Glue::Table').find(
    (r) => r.Properties.DatabaseName === database && r.Properties.TableInput.Name === table,
  ).Properties.TableInput;
  return [...input.StorageDescriptor.Columns, ...input.PartitionKeys].map((c: Loose) => c.Name);
};

/** Each column's LF-Tag value as Lake Formation resolves it: the column's own, else its table's. */
function effectiveTags(t: Template, key: string, database: string, table: string): Map<string, string> {
  const associations = of(t, 'AWS::LakeFormation::TagAssociation');
  const value = (a: Loose): string => {
    expect(a.Properties.LFTags).toHaveLength(1);
    expect(a.Properties.LFTags[0].TagKey).toBe(key);
    expect(a.Properties.LFTags[0].TagValues).toHaveLength(1);
    return a.Properties.LFTags[0].TagValues[0];
  };
  const tableLevel = associations.filter(
    (a) =>
      a.Properties.Resource.Table?.DatabaseName === database && a.Properties.Resource.Table?.Name === table,
  );
  expect(tableLevel).toHaveLength(1);
  const out = new Map<string, string>();
  for (const a of associations) {
    const r = a.Properties.Resource.TableWithColumns;
    if (r?.DatabaseName !== database || r.Name !== table) continue;
    for (const c of r.ColumnNames as string[]) {
      expect({ column: c, taggedOnce: !out.has(c) }).toEqual({ column: c, taggedOnce: true });
      out.set(c, value(a));
    }
  }
  for (const c of tableColumns(t, database, table)) if (!out.has(c)) out.set(c, value(tableLevel[0]));
  return out;
}

describe('LF-Tags', () => {
  test("one classification tag whose key carries the stage, with the registry's classifications as values", () => {
    const tags = of(template, 'AWS::LakeFormation::Tag');

    expect(tags).toHaveLength(1);
    expect(tags[0].Properties).toEqual({
      CatalogId: { Ref: 'AWS::AccountId' },
      TagKey: 'medallion-dev-classification',
      TagValues: [...CLASSIFICATIONS],
    });
  });

  test('every column of every table of every dataset carries its classification; each table its most restricted', () => {
    let columns = 0;
    for (const d of datasets) {
      const database = stageDatabaseName(d.catalog.database, 'dev');
      for (const zone of ZONES) {
        const table = d.catalog.tables[zone];
        const tags = effectiveTags(template, 'medallion-dev-classification', database, table);
        for (const column of tableColumns(template, database, table)) {
          expect({ table, column, tag: tags.get(column) }).toEqual({
            table,
            column,
            tag: columnGovernance(d, zone, column).classification,
          });
          columns += 1;
        }
      }
    }
    expect(columns).toBeGreaterThan(60);
  });

  test('every association is made after its tag and its table', () => {
    for (const a of of(template, 'AWS::LakeFormation::TagAssociation')) {
      const r = a.Properties.Resource.Table ?? a.Properties.Resource.TableWithColumns;
      const d = datasets.find((x) => Object.values(x.catalog.tables).includes(r.Name))!;
      const zone = ZONES.find((z) => d.catalog.tables[z] === r.Name)!;
      expect(a.DependsOn).toEqual(
        expect.arrayContaining([
          'LakeFormationClassificationTag',
          `GlueTable${pascal(d.name)}${pascal(zone)}`,
        ]),
      );
    }
  });
});

describe('grants', () => {
  const policyGrants = (t: Template) =>
    of(t, 'AWS::LakeFormation::PrincipalPermissions').filter((g) => g.Properties.Resource.LFTagPolicy);

  test('with empty reader and full-access parameters the stack packages and grants no one by tag', () => {
    expect(policyGrants(template)).toEqual([]);
  });

  test.each([
    ['reader', READERS],
    ['full', FULL],
  ] as const)(
    'each %s principal: SELECT and DESCRIBE by LF-Tag expression, no grant option, DESCRIBE on the databases',
    (level, principals) => {
      const grants = policyGrants(withPrincipals).filter((g) =>
        principals.includes(g.Properties.Principal.DataLakePrincipalIdentifier),
      );

      expect(grants.map((g) => g.Properties.Principal.DataLakePrincipalIdentifier).sort()).toEqual(
        [...principals].sort(),
      );
      for (const g of grants) {
        expect(g.Properties).toMatchObject({
          Resource: {
            LFTagPolicy: {
              CatalogId: { Ref: 'AWS::AccountId' },
              ResourceType: 'TABLE',
              Expression: [
                { TagKey: 'medallion-dev-classification', TagValues: readableClassifications(level) },
              ],
            },
          },
          Permissions: ['SELECT', 'DESCRIBE'],
          PermissionsWithGrantOption: [],
        });
        const databases = of(withPrincipals, 'AWS::LakeFormation::PrincipalPermissions')
          .filter(
            (d) =>
              d.Properties.Principal.DataLakePrincipalIdentifier ===
                g.Properties.Principal.DataLakePrincipalIdentifier && d.Properties.Resource.Database,
          )
          .map((d) => [d.Properties.Resource.Database.Name, d.Properties.Permissions]);
        expect(databases.sort()).toEqual(
          [...new Set(datasets.map((d) => stageDatabaseName(d.catalog.database, 'dev')))]
            .sort()
            .map((n) => [n, ['DESCRIBE']]),
        );
      }
    },
  );

  test('evaluated as Lake Formation does, a reader selects exactly the columns the registry policy allows, full access every column', () => {
    const selectable = (level: AccessLevel, database: string, table: string): string[] => {
      const [grant] = policyGrants(withPrincipals).filter(
        (g) =>
          g.Properties.Principal.DataLakePrincipalIdentifier === (level === 'reader' ? READERS[0] : FULL[0]),
      );
      const values: string[] = grant.Properties.Resource.LFTagPolicy.Expression[0].TagValues;
      const tags = effectiveTags(withPrincipals, 'medallion-dev-classification', database, table);
      return [...tags.entries()].filter(([, v]) => values.includes(v)).map(([c]) => c);
    };
    for (const d of datasets) {
      const database = stageDatabaseName(d.catalog.database, 'dev');
      for (const zone of ZONES) {
        const table = d.catalog.tables[zone];
        const all = tableColumns(withPrincipals, database, table);
        for (const level of ['reader', 'full'] as const) {
          expect({ level, table, columns: selectable(level, database, table).sort() }).toEqual({
            level,
            table,
            columns: all.filter((c) => mayRead(level, columnGovernance(d, zone, c).classification)).sort(),
          });
        }
      }
    }
    expect(selectable('reader', 'shop_lake_dev', 'orders_silver')).not.toContain('customer_id');
    expect(selectable('full', 'shop_lake_dev', 'orders_silver')).toContain('customer_id');
  });

  test("the stack's roles: record-stage may register partitions in the stage's databases and the lake location", () => {
    const record = of(template, 'AWS::LakeFormation::PrincipalPermissions').filter(
      (g) =>
        JSON.stringify(g.Properties.Principal) ===
        JSON.stringify({ DataLakePrincipalIdentifier: { 'Fn::GetAtt': ['RecordStageRole', 'Arn'] } }),
    );

    // one grant per database of the shipped datasets, and the lake location
    const databases = new Set(datasets.map((d) => d.catalog.database));
    expect(record.map((g) => g.Properties.Permissions).sort()).toEqual([
      ...[...databases].map(() => ['ALTER', 'DESCRIBE']),
      ['DATA_LOCATION_ACCESS'],
    ]);
    expect(
      record.find((g) => g.Properties.Resource.DataLocation).Properties.Resource.DataLocation.ResourceArn,
    ).toEqual(props(template, 'LakeFormationLakeLocation').ResourceArn);
  });
});

describe('the lake location and account-wide settings', () => {
  test('the lake bucket is registered in hybrid access mode with the service-linked role, after the bucket exists', () => {
    const [location] = of(template, 'AWS::LakeFormation::Resource');

    expect(location.Properties).toEqual({
      ResourceArn: {
        'Fn::Sub': 'arn:${AWS::Partition}:s3:::medallion-dev-lake-${AWS::AccountId}-${AWS::Region}',
      },
      UseServiceLinkedRole: true,
      HybridAccessEnabled: true,
    });
    expect(location.DependsOn).toEqual(['LakeBucket']);
  });

  test('an existing lake bucket is registered by its name', () => {
    const [location] = of(withPrincipals, 'AWS::LakeFormation::Resource');

    expect(location.Properties.ResourceArn).toEqual({
      'Fn::Sub': 'arn:${AWS::Partition}:s3:::acme-existing-lake',
    });
    expect(location.DependsOn).toBeUndefined();
  });

  test('nothing replaces account-wide settings: no DataLakeSettings (the data lake administrators list)', () => {
    for (const t of [template, withPrincipals]) {
      expect(of(t, 'AWS::LakeFormation::DataLakeSettings')).toEqual([]);
      expect(of(t, 'AWS::LakeFormation::Permissions')).toEqual([]);
    }
  });
});

test('a principal that is not an IAM role or user ARN is refused at packaging, naming the parameter', () => {
  expect(() => principalsParam('lakeFormationReaders', 'arn:aws:iam::123456789012:role/a, analysts')).toThrow(
    'serverless param lakeFormationReaders: "analysts" is not an IAM role or user ARN',
  );
  expect(principalsParam('lakeFormationReaders', ' ')).toEqual([]);
});
