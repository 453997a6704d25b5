import { watch, type FSWatcher } from 'chokidar';
import { readRegistry } from '../shared/config/registry';
import type { InvalidDataset } from '../shared/config/dataset-files';
import { makeRegistry, type Dataset, type Registry } from '../shared/domain/datasets';

/**
 * `medallion watch` follows datasets/: when a dataset.yml or a gold SQL file changes (chokidar), every
 * dataset is checked again. A dataset that became invalid is reported with every problem and keeps
 * running its last valid definition; the valid ones run their new definition from the next landing on.
 */

export interface DatasetChange {
  /** The datasets to run from now on. */
  readonly registry: Registry;
  /** Datasets whose definition is new, changed or gone, by name. */
  readonly added: readonly string[];
  readonly changed: readonly string[];
  readonly removed: readonly string[];
  /** Datasets whose files are invalid, each with its problems (and whether its last valid definition runs on). */
  readonly invalid: ReadonlyArray<InvalidDataset & { readonly kept: boolean }>;
}

const fingerprint = (d: Dataset): string => JSON.stringify(d);

/** The datasets to run after a change: the valid ones, plus the last valid definition of an invalid one. */
export function nextDatasets(previous: Registry, dir: string): DatasetChange {
  const checked = readRegistry(dir);
  const before = new Map(previous.datasets.map((d) => [d.name, d]));
  const datasets = [...checked.registry.datasets];
  const invalid = checked.invalid.map((bad) => {
    const last = before.get(bad.folder);
    const kept = last !== undefined && !datasets.some((d) => d.name === last.name);
    if (kept) datasets.push(last);
    return { ...bad, kept };
  });
  datasets.sort((a, b) => a.name.localeCompare(b.name));
  const after = new Map(datasets.map((d) => [d.name, d]));
  const names = (filter: (name: string) => boolean, from: Map<string, Dataset>) =>
    [...from.keys()].filter(filter).sort();
  return {
    registry: makeRegistry(datasets),
    added: names((n) => !before.has(n), after),
    changed: names((n) => {
      const old = before.get(n);
      return old !== undefined && fingerprint(old) !== fingerprint(after.get(n) as Dataset);
    }, after),
    removed: names((n) => !after.has(n), before),
    invalid,
  };
}

export interface DatasetWatcherOptions {
  /** The datasets folder (default: datasets/, or DATASETS_DIR). */
  readonly dir: string;
  /** The datasets running now. */
  readonly registry: Registry;
  /** Called after each change of the folder (debounced), with what it changed. */
  readonly onChange: (change: DatasetChange) => void;
  /** Quiet time after the last file event before the folder is read again (default 200 ms). */
  readonly debounceMs?: number;
}

export class DatasetWatcher {
  private registry: Registry;
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly watcher: FSWatcher,
    private readonly options: DatasetWatcherOptions,
  ) {
    this.registry = options.registry;
    watcher.on('all', () => this.schedule());
  }

  /** Starts following the folder; resolves once the watcher has read it (changes from then on count). */
  static async start(options: DatasetWatcherOptions): Promise<DatasetWatcher> {
    const watcher = watch(options.dir, {
      ignoreInitial: true,
      // An editor's save is a burst of events (a temp file, a rename): wait until the file holds still.
      awaitWriteFinish: { stabilityThreshold: 100, pollInterval: 25 },
    });
    const self = new DatasetWatcher(watcher, options);
    await new Promise<void>((resolve, reject) => {
      watcher.once('ready', () => resolve());
      watcher.once('error', reject);
    });
    return self;
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const change = nextDatasets(this.registry, this.options.dir);
      this.registry = change.registry;
      this.options.onChange(change);
    }, this.options.debounceMs ?? 200);
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    await this.watcher.close();
  }
}
