import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { checkRegistry, type RegistryCheck } from './dataset-files';
import type { DatasetSource, Registry } from '../domain/datasets';
import { DatasetConfigError } from '../domain/errors';

/** Where dataset folders live: env DATASETS_DIR, else ./datasets (the Lambda bundle ships it there). */
export const defaultDatasetsDir = (): string => resolve(process.env['DATASETS_DIR'] ?? 'datasets');

/**
 * Reads every datasets/<name>/dataset.yml (and its sibling files) and checks them together: the valid
 * datasets, and every problem of every other one (shared/domain/dataset-schema.ts). Throws only when
 * the folder itself cannot be read.
 */
export function readRegistry(dir: string = defaultDatasetsDir()): RegistryCheck {
  let folders: string[];
  try {
    folders = readdirSync(dir).filter((f) => statSync(join(dir, f)).isDirectory());
  } catch (error) {
    throw new DatasetConfigError([`${dir}: cannot read the datasets folder (${(error as Error).message})`]);
  }
  const sources: DatasetSource[] = [];
  const missing: RegistryCheck['invalid'][number][] = [];
  for (const folder of folders.sort()) {
    const names = readdirSync(join(dir, folder));
    if (!names.includes('dataset.yml')) {
      const file = `datasets/${folder}/dataset.yml`;
      missing.push({ folder, file, problems: [`datasets/${folder}: missing dataset.yml`] });
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
  const checked = checkRegistry(sources);
  const invalid = [...missing, ...checked.invalid].sort((a, b) => a.folder.localeCompare(b.folder));
  const problems = invalid.flatMap((d) => d.problems);
  if (sources.length === 0 && missing.length === 0) problems.push(`${dir}: no dataset folders found`);
  return { registry: checked.registry, problems, invalid };
}

/** Every dataset, all valid: else one DatasetConfigError listing every problem of every file. */
export function loadRegistry(dir: string = defaultDatasetsDir()): Registry {
  const { registry, problems } = readRegistry(dir);
  if (problems.length > 0) throw new DatasetConfigError(problems);
  return registry;
}
