import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadRegistry } from '../shared/config/registry';
import { compilePlan } from '../shared/domain/sql';
import { parseCommand, usageError } from './args';

const HELP = `medallion compile — compile every dataset (definition + generated silver/gold SQL) into the
plan the Glue jobs and the local runner read (--dataset_plan).

Usage: medallion compile --out DIR [--dataset NAME] [--json]

Options:
  --out DIR         where to write <dataset>.json (created if missing)
  --dataset NAME    compile only this dataset
  --json            print the written files as JSON
  -h, --help        show this help

Exit codes: 0 written, 1 a dataset is invalid (every problem is listed), 2 usage error.`;

export async function compile(args: string[]): Promise<number> {
  const parsed = parseCommand(args, HELP, {
    out: { type: 'string' },
    dataset: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  if (!values.out) {
    return usageError(`--out DIR is required.`, HELP);
  }
  const registry = loadRegistry();
  const datasets = values.dataset ? [registry.get(values.dataset)] : registry.datasets;
  const out = resolve(values.out);
  mkdirSync(out, { recursive: true });
  const written: string[] = [];
  for (const dataset of datasets) {
    const file = join(out, `${dataset.name}.json`);
    writeFileSync(file, `${JSON.stringify(compilePlan(dataset), null, 2)}\n`);
    written.push(file);
  }
  if (values.json) console.log(JSON.stringify({ written }, null, 2));
  else for (const file of written) console.log(`wrote ${file}`);
  return 0;
}
