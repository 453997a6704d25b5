import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type {
  Alert,
  Alerter,
  ManifestStore,
  MetricsReader,
  MetricsSink,
  PartitionCatalog,
  PartitionSpec,
  RegisteredPartitions,
  StageMetrics,
} from '../shared/ports';
import { localPath } from './glue-runner';
import { SystemLock } from './system-lock';

/**
 * The local twins of the Glue Data Catalog, CloudWatch metrics, SNS alerts and the lake bucket's
 * manifests: plain files under `.lake/_system/` that a person can open, and that `medallion query`
 * exposes as the tables `catalog`, `metrics` and `alerts`.
 */

function readLines<T>(path: string): T[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

/** Appends one JSON line holding the lake's `_system/` lock (another process may be appending too). */
function appendLine(path: string, value: unknown): Promise<void> {
  return SystemLock.of(path).run(() => {
    mkdirSync(dirname(path), { recursive: true });
    appendFileSync(path, `${JSON.stringify(value)}\n`);
  });
}

/** One catalog partition as stored in `catalog.json`. */
export interface CatalogEntry {
  readonly database: string;
  readonly table: string;
  readonly values: readonly string[];
  readonly location: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/**
 * Catalog partitions in one JSON file, read and rewritten (atomically) under the lake's `_system/`
 * lock; create or update like BatchCreate/Update.
 */
export class FileCatalog implements PartitionCatalog {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly path: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  registerPartitions(request: {
    readonly database: string;
    readonly table: string;
    readonly partitions: readonly PartitionSpec[];
  }): Promise<RegisteredPartitions> {
    const run = this.queue.then(() =>
      SystemLock.of(this.path).run(() => {
        const entries = this.all();
        const at = this.now().toISOString();
        let created = 0;
        let updated = 0;
        for (const p of request.partitions) {
          const i = entries.findIndex(
            (e) =>
              e.database === request.database &&
              e.table === request.table &&
              e.values.join('\u0000') === p.values.join('\u0000'),
          );
          const existing = i >= 0 ? entries[i] : undefined;
          if (existing) {
            entries[i] = { ...existing, location: p.location, updatedAt: at };
            updated++;
          } else {
            entries.push({
              database: request.database,
              table: request.table,
              values: [...p.values],
              location: p.location,
              createdAt: at,
              updatedAt: at,
            });
            created++;
          }
        }
        mkdirSync(dirname(this.path), { recursive: true });
        const tmp = `${this.path}.${process.pid}.tmp`;
        writeFileSync(tmp, JSON.stringify(entries, null, 1));
        renameSync(tmp, this.path);
        return { created, updated };
      }),
    );
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Every registered partition. */
  all(): CatalogEntry[] {
    try {
      return JSON.parse(readFileSync(this.path, 'utf8')) as CatalogEntry[];
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }
}

/** A stage metrics data point as stored in `metrics.jsonl` (timestamp as ISO text). */
export type MetricsLine = Omit<StageMetrics, 'timestamp'> & { readonly timestamp: string };

/** Stage metrics appended to `metrics.jsonl`; also the baseline reader of the quarantine spike rule. */
export class FileMetrics implements MetricsSink, MetricsReader {
  constructor(private readonly path: string) {}

  async publishStage(metrics: StageMetrics): Promise<void> {
    const line: MetricsLine = { ...metrics, timestamp: metrics.timestamp.toISOString() };
    await appendLine(this.path, line);
  }

  async recentQuarantineRatios(query: {
    readonly dataset: string;
    readonly stage: StageMetrics['stage'];
    readonly limit: number;
    readonly before: Date;
  }): Promise<number[]> {
    const before = query.before.getTime();
    return this.all()
      .filter(
        (m) => m.dataset === query.dataset && m.stage === query.stage && Date.parse(m.timestamp) < before,
      )
      .sort((a, b) => b.timestamp.localeCompare(a.timestamp))
      .slice(0, query.limit)
      .map((m) => m.quarantineRatio);
  }

  all(): MetricsLine[] {
    return readLines<MetricsLine>(this.path);
  }
}

export interface AlertLine extends Alert {
  readonly messageId: string;
  readonly publishedAt: string;
}

/** Alerts appended to `alerts.jsonl` (the local SNS topic), optionally echoed to a listener. */
export class FileAlerter implements Alerter {
  constructor(
    private readonly path: string,
    private readonly listener?: (alert: AlertLine) => void,
  ) {}

  async publish(alert: Alert): Promise<{ readonly messageId: string }> {
    const line: AlertLine = { ...alert, messageId: randomUUID(), publishedAt: new Date().toISOString() };
    await appendLine(this.path, line);
    this.listener?.(line);
    return { messageId: line.messageId };
  }

  all(): AlertLine[] {
    return readLines<AlertLine>(this.path);
  }
}

/** Reads run manifests from file:// locations. */
export class FileManifestStore implements ManifestStore {
  async read(location: string): Promise<string | undefined> {
    try {
      return readFileSync(localPath(location), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }
}
