import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { makeRegistry, type Dataset, type Registry } from '../domain/datasets';
import { DatasetConfigError } from '../domain/errors';

/**
 * The dataset registry as the Lambdas read it: validated from datasets/ at package time (the same
 * zod schema as everywhere else, every problem reported then) and shipped in each zip as one JSON
 * file, so no function bundles zod or a YAML parser, or parses YAML at cold start.
 */
export const COMPILED_REGISTRY_VERSION = 1;

/** Where the packaged zip holds it, relative to the function's working directory (/var/task). */
export const DEFAULT_REGISTRY_FILE = 'build/datasets.json';

export const compileRegistry = (registry: Registry): string =>
  `${JSON.stringify({ version: COMPILED_REGISTRY_VERSION, datasets: registry.datasets }, null, 1)}\n`;

/** Reads the compiled registry (env DATASETS_FILE, else build/datasets.json). */
export function loadDeployedRegistry(
  file: string = process.env['DATASETS_FILE'] ?? DEFAULT_REGISTRY_FILE,
): Registry {
  const path = resolve(file);
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new DatasetConfigError([
      `${path}: cannot read the compiled dataset registry (${(error as Error).message}); it is written by packaging (npm run package)`,
    ]);
  }
  const { version, datasets } = (doc ?? {}) as { version?: unknown; datasets?: unknown };
  if (version !== COMPILED_REGISTRY_VERSION || !Array.isArray(datasets) || datasets.length === 0) {
    throw new DatasetConfigError([
      `${path}: not a compiled dataset registry of version ${COMPILED_REGISTRY_VERSION} with at least one dataset (repackage)`,
    ]);
  }
  return makeRegistry(datasets as Dataset[]);
}
