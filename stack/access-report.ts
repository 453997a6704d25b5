import { PARAMETER_METADATA, PRINCIPAL_PARAMS } from './lake-formation';
import type { Cfn } from './context';

/**
 * The access review as a command (`medallion access-report`): from a packaged template, per
 * principal (each IAM role of the stack, each principal of the Lake Formation parameters) the S3
 * prefixes it can read and write (its roles' inline policies: s3:GetObject reads, s3:PutObject or
 * s3:DeleteObject writes) and the tables and columns Lake Formation lets it select or change (its
 * PrincipalPermissions, LF-Tag expressions resolved against the template's tag associations the way
 * Lake Formation resolves them: a column's tag, else its table's).
 */

export interface TableGrant {
  /** `database.table`, or `database.*` for every table of a database. */
  readonly table: string;
  readonly permissions: readonly string[];
  /** The columns it may use; undefined = every column. */
  readonly columns: readonly string[] | undefined;
}

export interface PrincipalAccess {
  /** The role's logical id, or the principal's ARN. */
  readonly principal: string;
  /** What it is: `IAM role (<description>)`, or the parameter that lists it. */
  readonly kind: string;
  readonly s3Read: readonly string[];
  readonly s3Write: readonly string[];
  readonly tables: readonly TableGrant[];
  /** Data locations it may create catalog entries in (DATA_LOCATION_ACCESS). */
  readonly dataLocations: readonly string[];
  /** The tag expression it is granted by, when it is (`key in (a, b)`). */
  readonly tagExpressions: readonly string[];
}

export class TemplateShapeError extends Error {
  override readonly name = 'TemplateShapeError';
}

interface Template {
  Resources: Record<string, { Type: string; Properties?: Cfn; Metadata?: Record<string, unknown> }>;
  Parameters?: Record<string, { Default?: unknown }>;
}

/** An intrinsic rendered as text: `${Name}` for what only a deploy knows. */
export function render(value: Cfn): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(render).join(',');
  if (value && typeof value === 'object') {
    if ('Fn::Sub' in value) {
      const sub = value['Fn::Sub'];
      return typeof sub === 'string' ? sub : render(sub[0]);
    }
    if ('Fn::Join' in value) {
      const [sep, parts] = value['Fn::Join'] as [string, Cfn[]];
      return parts.map(render).join(sep);
    }
    if ('Ref' in value) return `\${${String(value['Ref'])}}`;
    if ('Fn::GetAtt' in value) {
      const [id, attr] = value['Fn::GetAtt'] as [string, string];
      return `\${${id}.${attr}}`;
    }
  }
  return JSON.stringify(value);
}

/** `arn:${AWS::Partition}:s3:::bucket/key*` → `s3://bucket/key*`; `${X.Arn}/key` → `s3://${X}/key`. */
function s3Location(arn: string): string {
  const plain = /^arn:(?:\$\{AWS::Partition\}|[^:]*):s3:::(.*)$/.exec(arn);
  if (plain) return `s3://${plain[1]}`;
  const att = /^\$\{(\w+)\.Arn\}(.*)$/.exec(arn);
  if (att) return `s3://\${${att[1]}}${att[2]}`;
  return arn;
}

const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const uniqueSorted = (items: string[]): string[] => [...new Set(items)].sort();

/** The effective LF-Tag values of every column of every table: the column's, else the table's. */
function effectiveTags(
  template: Template,
): Map<string, { columns: string[]; byKey: Map<string, Map<string, string>> }> {
  // table → tag key → column → value
  const columnsOf = new Map<string, string[]>();
  for (const r of Object.values(template.Resources)) {
    if (r.Type !== 'AWS::Glue::Table') continue;
    const input = r.Properties.TableInput;
    const name = `${render(r.Properties.DatabaseName)}.${render(input.Name)}`;
    columnsOf.set(name, [
      ...asArray<Cfn>(input.StorageDescriptor?.Columns).map((c) => String(c.Name)),
      ...asArray<Cfn>(input.PartitionKeys).map((c) => String(c.Name)),
    ]);
  }
  const tableTags = new Map<string, Map<string, string>>();
  const columnTags = new Map<string, Map<string, Map<string, string>>>();
  for (const r of Object.values(template.Resources)) {
    if (r.Type !== 'AWS::LakeFormation::TagAssociation') continue;
    const res = r.Properties.Resource;
    for (const tag of asArray<Cfn>(r.Properties.LFTags)) {
      const key = render(tag.TagKey);
      const value = render(asArray<Cfn>(tag.TagValues)[0]);
      if (res.Table?.Name) {
        const table = `${render(res.Table.DatabaseName)}.${render(res.Table.Name)}`;
        if (!tableTags.has(table)) tableTags.set(table, new Map());
        tableTags.get(table)!.set(key, value);
      } else if (res.TableWithColumns) {
        const table = `${render(res.TableWithColumns.DatabaseName)}.${render(res.TableWithColumns.Name)}`;
        if (!columnTags.has(table)) columnTags.set(table, new Map());
        const byKey = columnTags.get(table)!;
        if (!byKey.has(key)) byKey.set(key, new Map());
        for (const c of asArray<Cfn>(res.TableWithColumns.ColumnNames)) byKey.get(key)!.set(String(c), value);
      }
    }
  }
  const out = new Map<string, { columns: string[]; byKey: Map<string, Map<string, string>> }>();
  for (const [table, columns] of columnsOf) {
    const keys = new Set([...(tableTags.get(table)?.keys() ?? []), ...(columnTags.get(table)?.keys() ?? [])]);
    const byKey = new Map<string, Map<string, string>>();
    for (const key of keys) {
      const values = new Map<string, string>();
      for (const c of columns) {
        const v = columnTags.get(table)?.get(key)?.get(c) ?? tableTags.get(table)?.get(key);
        if (v !== undefined) values.set(c, v);
      }
      byKey.set(key, values);
    }
    out.set(table, { columns, byKey });
  }
  return out;
}

/** The principal a grant names: a role of the template (logical id) or an ARN. */
function principalOf(grant: Cfn): string {
  const id = grant.Principal?.DataLakePrincipalIdentifier;
  if (id && typeof id === 'object' && 'Fn::GetAtt' in id) return String(id['Fn::GetAtt'][0]);
  return render(id);
}

export function accessReport(template: Template): PrincipalAccess[] {
  if (!template || typeof template.Resources !== 'object')
    throw new TemplateShapeError('not a CloudFormation template: no Resources');
  const tags = effectiveTags(template);
  const report = new Map<
    string,
    {
      kind: string;
      s3Read: string[];
      s3Write: string[];
      tables: TableGrant[];
      dataLocations: string[];
      tagExpressions: string[];
    }
  >();
  const entry = (principal: string, kind: string) => {
    let e = report.get(principal);
    if (!e) {
      e = { kind, s3Read: [], s3Write: [], tables: [], dataLocations: [], tagExpressions: [] };
      report.set(principal, e);
    }
    return e;
  };

  for (const [id, r] of Object.entries(template.Resources).sort(([a], [b]) => a.localeCompare(b))) {
    if (r.Type !== 'AWS::IAM::Role') continue;
    const e = entry(
      id,
      `IAM role${r.Properties?.Description ? ` (${String(r.Properties.Description)})` : ''}`,
    );
    for (const policy of asArray<Cfn>(r.Properties?.Policies)) {
      for (const st of asArray<Cfn>(policy.PolicyDocument?.Statement)) {
        if (st.Effect !== 'Allow') continue;
        const actions = asArray<string>(st.Action);
        const resources = asArray<Cfn>(st.Resource).map((x) => s3Location(render(x)));
        if (actions.includes('s3:GetObject')) e.s3Read.push(...resources);
        if (actions.includes('s3:PutObject') || actions.includes('s3:DeleteObject'))
          e.s3Write.push(...resources);
      }
    }
  }

  for (const [, r] of Object.entries(template.Resources)) {
    if (r.Type !== 'AWS::LakeFormation::PrincipalPermissions') continue;
    const p = r.Properties;
    const principal = principalOf(p);
    const param = r.Metadata?.[PARAMETER_METADATA];
    const e = entry(principal, typeof param === 'string' ? `listed in the ${param} parameter` : 'principal');
    const permissions = asArray<string>(p.Permissions);
    const res = p.Resource;
    if (res.Table) {
      const table = `${render(res.Table.DatabaseName)}.${res.Table.Name ? render(res.Table.Name) : '*'}`;
      e.tables.push({ table, permissions, columns: undefined });
    } else if (res.TableWithColumns) {
      e.tables.push({
        table: `${render(res.TableWithColumns.DatabaseName)}.${render(res.TableWithColumns.Name)}`,
        permissions,
        columns: asArray<Cfn>(res.TableWithColumns.ColumnNames).map(String),
      });
    } else if (res.Database) {
      e.tables.push({ table: `${render(res.Database.Name)} (database)`, permissions, columns: undefined });
    } else if (res.DataLocation) {
      e.dataLocations.push(s3Location(render(res.DataLocation.ResourceArn)));
    } else if (res.LFTagPolicy) {
      const expression = asArray<Cfn>(res.LFTagPolicy.Expression).map((x) => ({
        key: render(x.TagKey),
        values: asArray<Cfn>(x.TagValues).map(render),
      }));
      e.tagExpressions.push(expression.map((x) => `${x.key} in (${x.values.join(', ')})`).join(' and '));
      for (const [table, { columns: all, byKey }] of [...tags.entries()].sort(([a], [b]) =>
        a.localeCompare(b),
      )) {
        // A column matches when, for every key of the expression, its value is one of the listed.
        const columns = all.filter((c) =>
          expression.every((x) => x.values.includes(byKey.get(x.key)?.get(c) ?? '')),
        );
        if (columns.length > 0) e.tables.push({ table, permissions, columns });
      }
    }
  }

  for (const param of Object.values(PRINCIPAL_PARAMS)) {
    const listed = [...report.values()].some((e) => e.kind === `listed in the ${param} parameter`);
    if (!listed) entry(`(${param})`, `the ${param} parameter is empty: no principal`);
  }

  return [...report.entries()].map(([principal, e]) => ({
    principal,
    kind: e.kind,
    s3Read: uniqueSorted(e.s3Read),
    s3Write: uniqueSorted(e.s3Write),
    tables: e.tables.sort((a, b) => a.table.localeCompare(b.table)),
    dataLocations: uniqueSorted(e.dataLocations),
    tagExpressions: uniqueSorted(e.tagExpressions),
  }));
}

/** The report as text, one block per principal. */
export function accessReportText(report: readonly PrincipalAccess[]): string {
  const lines: string[] = [];
  for (const p of report) {
    lines.push(`${p.principal}: ${p.kind}`);
    const list = (label: string, items: readonly string[]) => {
      if (items.length === 0) return;
      lines.push(`  ${label}:`);
      for (const i of items) lines.push(`    ${i}`);
    };
    list('S3 read', p.s3Read);
    list('S3 write', p.s3Write);
    list('Lake Formation data locations', p.dataLocations);
    list('Lake Formation by LF-Tag', p.tagExpressions);
    list(
      'Lake Formation tables',
      p.tables.map(
        (t) => `${t.table} [${t.permissions.join(', ')}]${t.columns ? `: ${t.columns.join(', ')}` : ''}`,
      ),
    );
    if (p.s3Read.length + p.s3Write.length + p.tables.length + p.dataLocations.length === 0)
      lines.push('  no S3 object or Lake Formation access');
    lines.push('');
  }
  return lines.join('\n');
}
