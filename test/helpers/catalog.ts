import { execFileSync } from 'node:child_process';

/** Glue columns per dataset and table, as the stack declares them in the catalog. */
export type CatalogColumns = Record<string, Record<string, Array<{ Name: string; Type: string }>>>;

/** The catalog's columns as the stack generates them (stack/catalog-columns.ts, run as the packager runs it). */
export function catalogColumns(): CatalogColumns {
  const script = [
    "const { require: tsx } = require('tsx/cjs/api');",
    "const { loadRegistry } = tsx('./shared/config/registry.ts', __filename);",
    "const { tableColumns } = tsx('./stack/catalog-columns.ts', __filename);",
    "tableColumns(loadRegistry(require('node:path').join(process.cwd(), 'datasets')).datasets)",
    '  .then((m) => process.stdout.write(JSON.stringify(Object.fromEntries(m))));',
  ].join('\n');
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as CatalogColumns;
}
