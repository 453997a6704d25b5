import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseRegistry } from './dataset-files';
import type { DatasetSource, Registry } from '../domain/datasets';
import { DatasetConfigError } from '../domain/errors';

/** Where dataset folders live: env DATASETS_DIR, else ./datasets (the Lambda bundle ships it there). */
export const defaultDatasetsDir = (): string => resolve(process.env['DATASETS_DIR'] ?? 'datasets');

/** Reads every datasets/<name>/dataset.yml (and its sibling files) and validates them together. */
export function loadRegistry(dir: string = defaultDatasetsDir()): Registry {
  let folders: string[];
  try {
    folders = readdirSync(dir).filter((f) => statSync(join(dir, f)).isDirectory());
  } catch (error) {
    throw new DatasetConfigError([`${dir}: cannot read the datasets folder (${(error as Error).message})`]);
  }
  const sources: DatasetSource[] = [];
  const problems: string[] = [];
  for (const folder of folders.sort()) {
    const names = readdirSync(join(dir, folder));
    if (!names.includes('dataset.yml')) {
      problems.push(`datasets/${folder}: missing dataset.yml`);
      continue;
    }
    const files: Record<string, string> = {};
    for (const name of names) {
      if (name !== 'dataset.yml' && statSync(join(dir, folder, name)).isFile()) {
        files[name] = readFileSync(join(dir, folder, name), 'utf8');
      }
    }
    sources.push({
      folder,
      file: `datasets/${folder}/dataset.yml`,
      text: readFileSync(join(dir, folder, 'dataset.yml'), 'utf8'),
      files,
    });
  }
  if (sources.length === 0 && problems.length === 0) problems.push(`${dir}: no dataset folders found`);
  let registry: Registry | undefined;
  try {
    registry = parseRegistry(sources);
  } catch (error) {
    if (!(error instanceof DatasetConfigError)) throw error;
    problems.push(...error.problems);
  }
  if (problems.length > 0 || !registry) throw new DatasetConfigError(problems);
  return registry;
}
