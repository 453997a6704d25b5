import { DuckDBInstance } from '@duckdb/node-api';
import { join } from 'node:path';
import { loadRegistry } from '../../shared/config/registry';
import { stageDatabaseName } from '../../shared/domain/stage-names';
import {
  PACKAGE_TIMEOUT_MS,
  ROOT,
  ensurePackaged,
  serverlessDefaults,
  loadTemplate,
  props,
  resource,
  resourcesOfType,
  type Template,
} from './packaged';

/**
 * Athena ready: the stage's workgroup enforces encrypted results, a bytes-scanned cutoff from a
 * parameter and its engine; every dataset's gold table has a saved query in it, and that query runs
 * against the gold table as the catalog declares it.
 */

// Template JSON: assertions navigate it loosely.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

const STAGE = 'dev';
const datasets = loadRegistry(join(ROOT, 'datasets')).datasets;
const defaults = serverlessDefaults();
let template: Template;

beforeAll(() => {
  ensurePackaged();
  template = loadTemplate();
}, PACKAGE_TIMEOUT_MS);

const queries = () =>
  resourcesOfType(template, 'AWS::Athena::NamedQuery').map(([id, q]) => [id, q.Properties as Loose] as const);

test('the workgroup enforces its settings: encrypted results under the artifacts bucket, the cutoff parameter, engine 3', () => {
  const wg = props(template, 'AthenaWorkGroup') as Loose;

  expect(wg.Name).toBe(`medallion-${STAGE}`);
  expect(wg.WorkGroupConfiguration).toMatchObject({
    EnforceWorkGroupConfiguration: true,
    PublishCloudWatchMetricsEnabled: true,
    BytesScannedCutoffPerQuery: { Ref: 'AthenaBytesScannedCutoff' },
    EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
    ResultConfiguration: {
      OutputLocation: { 'Fn::Join': ['', ['s3://', { Ref: 'ArtifactsBucket' }, '/athena-results/']] },
      EncryptionConfiguration: { EncryptionOption: 'SSE_S3' },
    },
  });
  const rules = (props(template, 'ArtifactsBucket') as Loose).LifecycleConfiguration.Rules as Loose[];
  expect(rules.find((r) => r.Prefix === 'athena-results/')).toMatchObject({ Status: 'Enabled' });
});

test("the cutoff is a template parameter defaulting to the serverless param, no lower than Athena's 10 MB", () => {
  const p = (template as Loose).Parameters.AthenaBytesScannedCutoff;

  expect(p.Type).toBe('Number');
  expect(p.MinValue).toBe(10 * 1024 * 1024);
  expect(Number(p.Default)).toBe(Number(defaults['athenaBytesScannedCutoff']));
  expect(Number(p.Default)).toBeGreaterThanOrEqual(p.MinValue);
});

test('every dataset has one saved gold query, in the workgroup and its stage database, made after its table', () => {
  expect(
    queries()
      .map(([, q]) => q.Name)
      .sort(),
  ).toEqual(datasets.map((d) => `${d.name} gold`).sort());
  for (const d of datasets) {
    const [id, q] = queries().find(([, q]) => q.Name === `${d.name} gold`)!;
    expect(q.WorkGroup).toEqual({ Ref: 'AthenaWorkGroup' });
    expect(q.Database).toBe(stageDatabaseName(d.catalog.database, STAGE));
    expect(q.QueryString).toContain(
      `"${stageDatabaseName(d.catalog.database, STAGE)}"."${d.catalog.tables.gold}"`,
    );
    expect(resource(template, id).DependsOn).toEqual(
      expect.arrayContaining([expect.stringMatching(/Gold$/)]),
    );
  }
});

test('each saved query runs against its gold table as the catalog declares it (columns and partition keys)', async () => {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    for (const [, table] of resourcesOfType(template, 'AWS::Glue::Table')) {
      const t = (table.Properties as Loose).TableInput;
      const database = (table.Properties as Loose).DatabaseName as string;
      const columns = [...t.StorageDescriptor.Columns, ...t.PartitionKeys].map(
        (c: Loose) => `"${c.Name}" VARCHAR`,
      );
      await connection.run(`CREATE SCHEMA IF NOT EXISTS "${database}"`);
      await connection.run(`CREATE TABLE "${database}"."${t.Name}" (${columns.join(', ')})`);
    }
    for (const [, q] of queries()) {
      // Athena's SQL for this query (quoted identifiers, ORDER BY, LIMIT) is plain SQL DuckDB reads alike.
      const reader = await connection.runAndReadAll(q.QueryString as string);
      expect({ query: q.Name, rows: reader.getRows().length }).toEqual({ query: q.Name, rows: 0 });
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
});
