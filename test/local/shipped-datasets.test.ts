import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CDC_STATE_FOLDER } from '../../shared/domain/cdc';
import type { Dataset } from '../../shared/domain/datasets';
import { compilePlan, INGESTED_AT, SOURCE_FILE } from '../../shared/domain/sql';
import { Duck, sqlString } from '../../local/duck';
import { runGlueJob } from '../../local/glue-runner';
import { LocalLake } from '../../local/lake';
import { localGlueArguments, writePlans } from '../../local/plans';
import { writeFile } from '../../local/sample';
import { zoneColumns } from '../../local/zone-columns';
import { hiveType } from '../../stack/catalog-columns';
import { catalogColumns } from '../helpers/catalog';
import { shippedRegistry } from '../helpers/registry';

/**
 * Properties every shipped dataset must have, whatever its columns and gold SQL: checked over each
 * dataset of datasets/, so a new dataset is checked the day it is added.
 */

const registry = shippedRegistry();
const datasets = registry.datasets;

/** A value of a column's declared type, chosen to pass the column's rules where a rule gives one. */
function valueFor(dataset: Dataset, column: Dataset['columns'][number]): string {
  const rules = dataset.rules.filter((r) => r.column === column.name);
  const accepted = rules.find((r) => r.check === 'accepted_values');
  if (accepted?.check === 'accepted_values') return accepted.values[0] ?? 'x';
  const range = rules.find((r) => r.check === 'range');
  const low = range?.check === 'range' ? (range.min ?? range.max ?? 1) : 1;
  switch (column.type) {
    case 'string':
      return 'x';
    case 'boolean':
      return 'true';
    case 'date':
      return '2024-01-15';
    case 'timestamp':
      return '2024-01-15 10:00:00';
    default:
      return String(Math.max(low, 1));
  }
}

/** DuckDB types of Parquet columns → Glue catalog types, by the stack's own mapping. */
const hiveTypes = (types: readonly string[]): string[] => types.map((t) => hiveType(t, 'parquet'));

/** A partition of the dataset: for each key, the first candidate its pattern accepts. */
function somePartition(dataset: Dataset) {
  const values = dataset.partitionKeys.map(
    (k) =>
      ['2024', '01', '1', '2024-01-15', 'x'].find((v) => !k.pattern || new RegExp(k.pattern).test(v)) ?? 'x',
  );
  return { path: dataset.partitionKeys.map((k, i) => `${k.name}=${values[i]}`).join('/'), values };
}

test('the examples are at least two datasets with different layouts, so no test can assume one', () => {
  expect(datasets.length).toBeGreaterThanOrEqual(2);
  const layouts = new Set(datasets.map((d) => d.partitionKeys.map((k) => k.name).join('/')));
  expect(layouts.size).toBeGreaterThanOrEqual(2);
  expect(new Set(datasets.map((d) => d.catalog.database)).size).toBeGreaterThanOrEqual(2);
});

describe.each(datasets.map((d) => [d.name, d] as const))('shipped dataset %s', (_name, dataset) => {
  test('every gold SQL keeps a row whose nullable columns are NULL, unless it filters that column explicitly', async () => {
    // Prepare: silver rows typed as the silver stage writes them; one row the gold SQL keeps
    const silverColumns = (await zoneColumns(dataset)).silver;
    const base = Object.fromEntries(dataset.columns.map((c) => [c.name, valueFor(dataset, c)]));
    const gold = compilePlan(dataset).sql.gold.select;
    const goldRows = async (row: Record<string, string | null>) => {
      const duck = await Duck.open();
      try {
        const values = silverColumns.map((c) => {
          const v =
            c.name === INGESTED_AT ? '2024-01-15 11:00:00' : c.name === SOURCE_FILE ? 'f' : row[c.name];
          return `CAST(${v === null || v === undefined ? 'NULL' : sqlString(v)} AS ${c.type}) AS ${c.name}`;
        });
        await duck.run(`CREATE TABLE silver AS SELECT ${values.join(', ')}`);
        return Number(await duck.scalar(`SELECT count(*) FROM (${gold}) g`));
      } finally {
        duck.close();
      }
    };
    expect(await goldRows(base)).toBeGreaterThan(0);
    // Act: each nullable column NULL in turn
    const dropped: string[] = [];
    for (const column of dataset.columns.filter((c) => c.nullable)) {
      const explicit = new RegExp(`\\b${column.name}\\s+IS\\s+NOT\\s+NULL\\b`, 'i').test(gold);
      if ((await goldRows({ ...base, [column.name]: null })) === 0 && !explicit) dropped.push(column.name);
    }
    // Assess
    expect(dropped).toEqual([]);
  });

  test('the Parquet the local engine writes has the catalog’s column types, in every table', async () => {
    // Prepare: one row that passes and one that is quarantined, landed in the dataset's first format
    const lake = new LocalLake(mkdtempSync(join(tmpdir(), 'types-')));
    writePlans(lake, registry);
    const partition = somePartition(dataset);
    const good = Object.fromEntries(dataset.columns.map((c) => [c.name, valueFor(dataset, c)]));
    const bad = Object.fromEntries(
      dataset.columns.map((c) => [c.name, c.type === 'string' ? '' : 'not a value']),
    );
    const format = dataset.landing.formats[0];
    const names = dataset.columns.map((c) => c.name);
    const text =
      format === 'csv'
        ? [names.join(','), ...[good, bad].map((r) => names.map((n) => r[n]).join(','))].join('\n') + '\n'
        : [good, bad].map((r) => JSON.stringify(r)).join('\n') + '\n';
    writeFile(lake.path(`${dataset.landing.prefix}${partition.path}/rows.${format}`), text);
    // Act
    for (const stage of ['bronze', 'silver', 'gold'] as const)
      await runGlueJob(localGlueArguments(lake, dataset, stage, 'run-1', partition));
    // Assess
    const catalog = catalogColumns()[dataset.name] ?? {};
    const duck = await Duck.open();
    const written: Record<string, string[]> = {};
    try {
      for (const zone of ['bronze', 'silver', 'gold', 'quarantine'] as const) {
        // A CDC dataset's silver is its current state, one folder (shared/domain/cdc.ts).
        const folder = zone === 'silver' && dataset.mode === 'cdc' ? CDC_STATE_FOLDER : partition.path;
        const file = join(lake.path(`${zone}/${dataset.name}/${folder}`), 'part-00000.parquet');
        const columns = await duck.rows(
          `DESCRIBE SELECT * FROM read_parquet(${sqlString(file)}, hive_partitioning = false)`,
        );
        const types = hiveTypes(columns.map((c) => String(c['column_type'])));
        written[zone] = columns.map((c, i) => `${String(c['column_name'])} ${types[i] ?? '?'}`);
      }
    } finally {
      duck.close();
      rmSync(lake.root, { recursive: true, force: true });
    }
    const declared = Object.fromEntries(
      (['bronze', 'silver', 'gold', 'quarantine'] as const).map((zone) => [
        zone,
        (catalog[zone] ?? []).map((c) => `${c.Name} ${c.Type}`),
      ]),
    );
    expect(written).toEqual(declared);
  }, 60_000);
});
