import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { compilePlan } from '../shared/domain/sql';
import { datasetNamed, registry } from './datasets';

export interface CompileOptions {
  readonly out: string;
  readonly dataset?: string;
  readonly json: boolean;
}

/** `medallion compile`: writes DIR/<dataset>.json, the plan the Glue jobs read. */
export async function compile(options: CompileOptions): Promise<number> {
  const reg = registry();
  const datasets = options.dataset ? [datasetNamed(reg, options.dataset)] : reg.datasets;
  const out = resolve(options.out);
  mkdirSync(out, { recursive: true });
  const written: string[] = [];
  for (const dataset of datasets) {
    const file = join(out, `${dataset.name}.json`);
    writeFileSync(file, `${JSON.stringify(compilePlan(dataset), null, 2)}\n`);
    written.push(file);
  }
  if (options.json) console.log(JSON.stringify({ written }, null, 2));
  else for (const file of written) console.log(`wrote ${file}`);
  return 0;
}
