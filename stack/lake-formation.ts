import { createHash } from 'node:crypto';
import { isIcebergTable } from '../shared/domain/cdc';
import type { Dataset } from '../shared/domain/datasets';
import {
  CLASSIFICATIONS,
  columnGovernance,
  mostRestricted,
  readableClassifications,
  type AccessLevel,
  type Classification,
} from '../shared/domain/governance';
import { ZONES, type Zone } from './constants';
import { pascal, type Resources, type StackContext } from './context';
import type { CatalogColumn } from './catalog-columns';

/**
 * Lake Formation as code: the registry's column policy (shared/domain/governance.ts) granted on AWS.
 *
 * - One LF-Tag, `medallion-<stage>-classification`, whose values are the classifications. LF-Tag keys
 *   are unique per account (and region), so the key carries the stage: two stages in one account
 *   each own theirs, and removing one leaves the other's grants alone.
 * - Every table is tagged with its most restricted column's classification and every column
 *   (partition keys included) with its own: a column's tag overrides the table's for that column.
 * - Readers (serverless param `lakeFormationReaders`) are granted SELECT and DESCRIBE by LF-Tag
 *   expression on the columns a reader may read (`public`, `internal`); full-access principals
 *   (`lakeFormationFullAccess`) on every classification. Both get DESCRIBE on the stage's databases.
 * - The lake bucket is registered with Lake Formation in hybrid access mode: principals that are not
 *   opted in (the Glue jobs, the functions, existing IAM users) keep their IAM access; an opted-in
 *   principal gets exactly its Lake Formation grants.
 * - The stack's own roles get what they need: each Glue job role its datasets' tables (read the zones
 *   it reads, write the zones it writes), record-stage ALTER on the stage's tables and data location
 *   access to the lake (hybrid mode still enforces CREATE_PARTITION).
 *
 * Nothing here changes account-wide settings (no AWS::LakeFormation::DataLakeSettings: that resource
 * replaces the data lake administrators list); the deployer must already be a data lake
 * administrator (docs/governance.md).
 */

export const CLASSIFICATION_TAG_ID = 'LakeFormationClassificationTag';
export const LAKE_LOCATION_ID = 'LakeFormationLakeLocation';

/** The serverless params listing the principals of each access level. */
export const PRINCIPAL_PARAMS: Record<AccessLevel, string> = {
  reader: 'lakeFormationReaders',
  full: 'lakeFormationFullAccess',
};
/** The Metadata key naming, on a principal's grant, the param that listed it. */
export const PARAMETER_METADATA = 'medallion:parameter';

/** The stage's LF-Tag key (lower case: Lake Formation stores keys in lower case). */
export const classificationTagKey = (stage: string): string => `medallion-${stage}-classification`;

/** The tables a stack role reads and writes in Lake Formation terms. */
export interface TableAccess {
  /** The role's logical id. */
  role: string;
  /** Per dataset, the zones read and the zones written. */
  datasets: ReadonlyArray<{ dataset: Dataset; reads: readonly Zone[]; writes: readonly Zone[] }>;
}

const ARN = /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]{1,512}$/;

/** The principals a comma-separated serverless param lists, checked. */
export function principalsParam(name: string, value: string): string[] {
  const list = value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  for (const p of list) {
    if (!ARN.test(p))
      throw new Error(
        `serverless param ${name}: "${p}" is not an IAM role or user ARN (arn:aws:iam::<account>:role/<name>)`,
      );
  }
  if (new Set(list).size !== list.length)
    throw new Error(`serverless param ${name}: a principal is listed twice`);
  return list;
}

const catalogId = { Ref: 'AWS::AccountId' };
const short = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 10);

/** The column names of each classification in one table (partition keys included; an Iceberg table has none). */
export function columnsByClassification(
  dataset: Dataset,
  zone: Zone,
  columns: readonly CatalogColumn[],
): Map<Classification, string[]> {
  const out = new Map<Classification, string[]>();
  const keys = isIcebergTable(dataset, zone) ? [] : dataset.partitionKeys.map((k) => k.name);
  const names = [...columns.map((c) => c.Name), ...keys];
  for (const name of names) {
    const c = columnGovernance(dataset, zone, name).classification;
    out.set(c, [...(out.get(c) ?? []), name]);
  }
  return new Map(CLASSIFICATIONS.filter((c) => out.has(c)).map((c) => [c, out.get(c)!]));
}

export function lakeFormationResources(
  ctx: StackContext,
  columns: Map<string, Record<Zone, CatalogColumn[]>>,
  roles: readonly TableAccess[],
  recordStageRole: string | undefined,
): Resources {
  const key = classificationTagKey(ctx.stage);
  const tag = (values: string[]) => [{ CatalogId: catalogId, TagKey: key, TagValues: values }];
  const tableId = (d: Dataset, zone: Zone) => `GlueTable${pascal(d.name)}${pascal(zone)}`;
  const table = (d: Dataset, zone: Zone) => ({
    CatalogId: catalogId,
    DatabaseName: ctx.databaseName(d.catalog.database),
    Name: d.catalog.tables[zone],
  });
  const resources: Resources = {
    [CLASSIFICATION_TAG_ID]: {
      Type: 'AWS::LakeFormation::Tag',
      Properties: { CatalogId: catalogId, TagKey: key, TagValues: [...CLASSIFICATIONS] },
    },
    [LAKE_LOCATION_ID]: {
      Type: 'AWS::LakeFormation::Resource',
      // A bucket the stack creates must exist before it is registered.
      ...(ctx.existingLake ? {} : { DependsOn: ['LakeBucket'] }),
      Properties: {
        ResourceArn: ctx.lakeBucketArn,
        UseServiceLinkedRole: true,
        // Lake Formation permissions for opted-in principals only; everyone else keeps IAM access.
        HybridAccessEnabled: true,
      },
    },
  };

  for (const d of ctx.datasets) {
    for (const zone of ZONES) {
      const byClass = columnsByClassification(d, zone, columns.get(d.name)![zone]);
      const base = `LfTag${pascal(d.name)}${pascal(zone)}`;
      resources[base] = {
        Type: 'AWS::LakeFormation::TagAssociation',
        DependsOn: [CLASSIFICATION_TAG_ID, tableId(d, zone)],
        Properties: {
          Resource: { Table: table(d, zone) },
          LFTags: tag([mostRestricted([...byClass.keys()])]),
        },
      };
      for (const [classification, names] of byClass) {
        resources[`${base}${pascal(classification)}Columns`] = {
          Type: 'AWS::LakeFormation::TagAssociation',
          DependsOn: [CLASSIFICATION_TAG_ID, tableId(d, zone)],
          Properties: {
            Resource: { TableWithColumns: { ...table(d, zone), ColumnNames: names } },
            LFTags: tag([classification]),
          },
        };
      }
    }
  }

  const databases = [...new Set(ctx.datasets.map((d) => d.catalog.database))].sort();
  const grantPolicy = (level: AccessLevel, principals: readonly string[]) => {
    // The serverless param that lists the principal (medallion access-report reads it).
    const Metadata = { [PARAMETER_METADATA]: PRINCIPAL_PARAMS[level] };
    for (const principal of principals) {
      const id = `Lf${pascal(level)}${short(principal)}`;
      resources[id] = {
        Type: 'AWS::LakeFormation::PrincipalPermissions',
        DependsOn: [CLASSIFICATION_TAG_ID],
        Metadata,
        Properties: {
          Principal: { DataLakePrincipalIdentifier: principal },
          Resource: {
            LFTagPolicy: {
              CatalogId: catalogId,
              ResourceType: 'TABLE',
              Expression: [{ TagKey: key, TagValues: readableClassifications(level) }],
            },
          },
          Permissions: ['SELECT', 'DESCRIBE'],
          PermissionsWithGrantOption: [],
        },
      };
      for (const db of databases) {
        resources[`${id}Database${pascal(db)}`] = {
          Type: 'AWS::LakeFormation::PrincipalPermissions',
          Metadata,
          DependsOn: [`GlueDatabase${pascal(db)}`],
          Properties: {
            Principal: { DataLakePrincipalIdentifier: principal },
            Resource: { Database: { CatalogId: catalogId, Name: ctx.databaseName(db) } },
            Permissions: ['DESCRIBE'],
            PermissionsWithGrantOption: [],
          },
        };
      }
    }
  };
  grantPolicy('reader', ctx.params.lakeReaders);
  grantPolicy('full', ctx.params.lakeFullAccess);

  const roleArn = (role: string) => ({ 'Fn::GetAtt': [role, 'Arn'] });
  for (const access of roles) {
    for (const { dataset, reads, writes } of access.datasets) {
      for (const zone of ZONES.filter((z) => reads.includes(z) || writes.includes(z))) {
        resources[`${access.role}Lf${pascal(dataset.name)}${pascal(zone)}`] = {
          Type: 'AWS::LakeFormation::PrincipalPermissions',
          DependsOn: [tableId(dataset, zone)],
          Properties: {
            Principal: { DataLakePrincipalIdentifier: roleArn(access.role) },
            Resource: { Table: table(dataset, zone) },
            // Committing to an Iceberg table updates the table itself (its metadata_location): ALTER.
            Permissions: writes.includes(zone)
              ? [
                  'SELECT',
                  'INSERT',
                  'DELETE',
                  'DESCRIBE',
                  ...(isIcebergTable(dataset, zone) ? ['ALTER'] : []),
                ]
              : ['SELECT', 'DESCRIBE'],
            PermissionsWithGrantOption: [],
          },
        };
      }
    }
  }
  if (recordStageRole) {
    for (const db of databases) {
      resources[`${recordStageRole}LfTables${pascal(db)}`] = {
        Type: 'AWS::LakeFormation::PrincipalPermissions',
        DependsOn: ctx.datasets
          .filter((d) => d.catalog.database === db)
          .flatMap((d) => ZONES.map((z) => tableId(d, z))),
        Properties: {
          Principal: { DataLakePrincipalIdentifier: roleArn(recordStageRole) },
          // Every table of the stage's database: register partitions (BatchCreatePartition/Update).
          Resource: {
            Table: { CatalogId: catalogId, DatabaseName: ctx.databaseName(db), TableWildcard: {} },
          },
          Permissions: ['ALTER', 'DESCRIBE'],
          PermissionsWithGrantOption: [],
        },
      };
    }
    resources[`${recordStageRole}LfLakeLocation`] = {
      Type: 'AWS::LakeFormation::PrincipalPermissions',
      DependsOn: [LAKE_LOCATION_ID],
      Properties: {
        Principal: { DataLakePrincipalIdentifier: roleArn(recordStageRole) },
        Resource: { DataLocation: { CatalogId: catalogId, ResourceArn: ctx.lakeBucketArn } },
        Permissions: ['DATA_LOCATION_ACCESS'],
        PermissionsWithGrantOption: [],
      },
    };
  }
  return resources;
}
