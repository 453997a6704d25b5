import { loadRegistry } from '../shared/config/registry';
import type { Dataset, Registry } from '../shared/domain/datasets';
import { UsageError } from './options';

/** The registry (every dataset.yml validated together; DatasetConfigError lists every problem). */
export const registry = (): Registry => loadRegistry();

/** The dataset a --dataset option names, or a usage error naming the known ones. */
export function datasetNamed(reg: Registry, name: string): Dataset {
  const found = reg.datasets.find((d) => d.name === name);
  if (!found)
    throw new UsageError(
      `unknown dataset "${name}" (known: ${reg.datasets.map((d) => d.name).join(', ')}; see datasets/)`,
    );
  return found;
}
