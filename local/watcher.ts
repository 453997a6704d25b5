import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidObjectKeyError, NoDatasetMatchError } from '../shared/domain/errors';
import type { Registry } from '../shared/domain/datasets';
import { KeyParser } from '../shared/domain/object-key';
import type { LocalPipeline } from './pipeline';

/**
 * `medallion watch`: polls the lake folder for landed files and delivers them to the real on-landing
 * handler in batches, like the SQS event source (up to `batchSize` files, or `batchWindowMs` after
 * the first one). A file is delivered once its size and mtime hold still between two polls. Files
 * that match no dataset, or break its key layout, are reported once and left alone.
 */

const ZONE_FOLDERS = new Set(['bronze', 'silver', 'gold', 'quarantine', '_manifests', '_system']);

export type WatchEvent =
  | { readonly kind: 'ignored'; readonly key: string; readonly reason: string }
  | { readonly kind: 'delivered'; readonly keys: readonly string[]; readonly failed: number };

export interface WatchOptions {
  readonly intervalMs?: number;
  readonly batchWindowMs?: number;
  readonly batchSize?: number;
  /** How often runs waiting for an execution slot are swept (with a budget; default 5 s). */
  readonly sweepEveryMs?: number;
  readonly onEvent?: (event: WatchEvent) => void;
}

export class LandingWatcher {
  private parser: KeyParser;
  private parserFor: Registry;
  private readonly state = new Map<string, string>();
  private readonly done = new Set<string>();
  /** Files left alone: looked at again when the datasets change (a dataset fixed or added). */
  private readonly ignored = new Set<string>();
  private batch: string[] = [];
  private batchOpenedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private busy: Promise<void> = Promise.resolve();

  constructor(
    private readonly pipeline: LocalPipeline,
    private readonly options: WatchOptions = {},
  ) {
    this.parserFor = pipeline.registry;
    this.parser = new KeyParser(pipeline.registry);
  }

  /** After a reload of the pipeline's datasets: the new layouts, and the files left alone looked at again. */
  private followDatasets(): void {
    if (this.parserFor === this.pipeline.registry) return;
    this.parserFor = this.pipeline.registry;
    this.parser = new KeyParser(this.parserFor);
    for (const key of this.ignored) {
      this.done.delete(key);
      this.state.delete(key);
    }
    this.ignored.clear();
  }

  private list(dir = this.pipeline.lake.root, top = true): string[] {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return [];
    }
    return entries.flatMap((e) => {
      if (top && ZONE_FOLDERS.has(e.name)) return [];
      const path = join(dir, e.name);
      if (e.isDirectory()) return this.list(path, false);
      return e.isFile() ? [this.pipeline.lake.keyOf(path)] : [];
    });
  }

  /** Files that are new and stable since the last poll (or all new ones when `settle` is false). */
  private poll(settle: boolean): string[] {
    this.followDatasets();
    const ready: string[] = [];
    for (const key of this.list()) {
      if (this.done.has(key)) continue;
      let signature: string;
      try {
        const s = statSync(this.pipeline.lake.path(key));
        signature = `${s.size}:${s.mtimeMs}`;
      } catch {
        continue;
      }
      const previous = this.state.get(key);
      this.state.set(key, signature);
      if (settle && previous !== signature) continue;
      this.done.add(key);
      try {
        this.parser.parse(key);
        ready.push(key);
      } catch (error) {
        const reason =
          error instanceof NoDatasetMatchError
            ? 'matches no dataset landing prefix; left alone'
            : error instanceof InvalidObjectKeyError
              ? `${error.message}; left alone`
              : String(error);
        this.ignored.add(key);
        this.options.onEvent?.({ kind: 'ignored', key, reason });
      }
    }
    return ready.sort();
  }

  private async deliver(keys: readonly string[]): Promise<void> {
    const size = this.options.batchSize ?? 10;
    for (let i = 0; i < keys.length; i += size) {
      const chunk = keys.slice(i, i + size);
      const response = await this.pipeline.land(chunk);
      const failed = 'batchItemFailures' in response ? response.batchItemFailures.length : 0;
      // Failed messages are redelivered, as SQS would after the visibility timeout.
      if (failed > 0) for (const k of chunk) this.done.delete(k);
      this.options.onEvent?.({ kind: 'delivered', keys: chunk, failed });
    }
  }

  /** Delivers every file present now, then waits for the runs to end (and those waiting for a slot). */
  async once(): Promise<void> {
    await this.deliver(this.poll(false));
    await this.settle();
  }

  /** Waits for the runs to end; a sweep then starts any run still waiting for a slot, until none starts. */
  private async settle(): Promise<void> {
    for (;;) {
      await this.pipeline.idle();
      const swept = await this.pipeline.sweepSlots();
      if (!swept || swept.started.length === 0) return;
    }
  }

  start(): void {
    const interval = this.options.intervalMs ?? 500;
    const window = this.options.batchWindowMs ?? 2000;
    let sweptAt = Date.now();
    const tick = () => {
      this.busy = this.busy.then(async () => {
        // The slot sweep, as AWS runs it every minute (here every few seconds).
        if (Date.now() - sweptAt >= (this.options.sweepEveryMs ?? 5000)) {
          sweptAt = Date.now();
          await this.pipeline.sweepSlots();
        }
        const ready = this.poll(true);
        if (ready.length > 0 && this.batch.length === 0) this.batchOpenedAt = Date.now();
        this.batch.push(...ready);
        if (
          this.batch.length >= (this.options.batchSize ?? 10) ||
          (this.batch.length > 0 && Date.now() - this.batchOpenedAt >= window)
        ) {
          const keys = this.batch;
          this.batch = [];
          await this.deliver(keys);
        }
      });
      this.timer = setTimeout(tick, interval);
    };
    tick();
  }

  /** Stops polling; resolves when the current delivery and every run it started have ended. */
  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    await this.busy;
    if (this.batch.length > 0) {
      const keys = this.batch;
      this.batch = [];
      await this.deliver(keys);
    }
    await this.settle();
  }
}
