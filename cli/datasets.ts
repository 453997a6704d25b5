import { readRegistry } from '../shared/config/registry';
import type { InvalidDataset } from '../shared/config/dataset-files';
import type { Dataset, Registry } from '../shared/domain/datasets';
import { DatasetConfigError } from '../shared/domain/errors';
import { UsageError } from './options';

/** The valid datasets, and the ones left out with their problems. */
export interface CliRegistry extends Registry {
  readonly invalid: readonly InvalidDataset[];
}

/**
 * The datasets a command works with: every dataset.yml checked together, every problem of an invalid
 * one printed on stderr at once, naming it, and the command goes on with the others. Only when no
 * dataset is valid does it fail (DatasetConfigError: exit 1).
 */
export function registry(warn: (line: string) => void = (line) => console.error(line)): CliRegistry {
  const checked = readRegistry();
  for (const d of checked.invalid) {
    warn(`warning: dataset ${d.folder} is left out until ${d.file} is fixed:`);
    for (const problem of d.problems) warn(`  - ${problem}`);
  }
  if (checked.registry.datasets.length === 0) throw new DatasetConfigError(checked.problems);
  return { ...checked.registry, invalid: checked.invalid };
}

/**
 * The dataset a --dataset option names: an invalid one fails with its problems (exit 1), an unknown
 * one is a usage error naming the known ones.
 */
export function datasetNamed(reg: CliRegistry, name: string): Dataset {
  const found = reg.datasets.find((d) => d.name === name);
  if (found) return found;
  const invalid = reg.invalid.find((d) => d.folder === name);
  if (invalid) throw new DatasetConfigError(invalid.problems);
  throw new UsageError(
    `unknown dataset "${name}" (known: ${reg.datasets.map((d) => d.name).join(', ')}; see datasets/)`,
  );
}
