import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DatasetConfigError } from '../shared/domain/errors';
import { planFileText } from '../shared/domain/sql';
import { zoneColumns } from '../local/zone-columns';
import { readRegistry } from '../shared/config/registry';
import { datasetNamed } from './datasets';

export interface CompileOptions {
  readonly out: string;
  readonly dataset?: string;
  readonly json: boolean;
}

/** `medallion compile`: writes DIR/<dataset>.json, the plan the Glue jobs read. */
export async function compile(options: CompileOptions): Promise<number> {
  // Plans are what gets deployed: compiling every dataset needs every dataset valid; `--dataset`
  // needs that one only.
  const checked = readRegistry();
  const reg = { ...checked.registry, invalid: checked.invalid };
  const datasets = options.dataset ? [datasetNamed(reg, options.dataset)] : reg.datasets;
  // The gold SQL must run over the dataset's silver columns: checked here (DuckDB, over an empty
  // silver), every dataset's problem listed at once, before anything is written.
  const problems: string[] = options.dataset ? [] : [...checked.problems];
  for (const dataset of datasets) {
    try {
      await zoneColumns(dataset);
    } catch (error) {
      const message = (error instanceof Error ? error.message : String(error)).split('\n')[0];
      problems.push(
        `datasets/${dataset.folder}/${dataset.gold.sql}: the gold SQL does not run over the silver columns: ${message}`,
      );
    }
  }
  if (problems.length > 0) throw new DatasetConfigError(problems);
  const out = resolve(options.out);
  mkdirSync(out, { recursive: true });
  const written: string[] = [];
  for (const dataset of datasets) {
    const file = join(out, `${dataset.name}.json`);
    writeFileSync(file, planFileText(dataset));
    written.push(file);
  }
  if (options.json) console.log(JSON.stringify({ written }, null, 2));
  else for (const file of written) console.log(`wrote ${file}`);
  return 0;
}
