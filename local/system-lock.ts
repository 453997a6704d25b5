import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { lock } from 'proper-lockfile';

/**
 * The one lock of a lake's `_system/` folder: every read-modify-write of its shared files (ledger and
 * leases, catalog, metrics, alerts, the executions journal) holds it, so two processes on one lake
 * (`watch` and `replay`) never lose each other's writes. Across processes it is proper-lockfile's lock
 * (an atomic mkdir of `_system/.lock`, taken over when stale, i.e. its holder died); within a process
 * the callers queue, so one process never contends with itself.
 *
 * Not locked, on purpose: an execution's own history file (one writer, the process running it; written
 * whole by a rename) and the compiled plans (written whole by a rename, the same text for the same
 * dataset).
 */

/** How long a lock whose holder stopped refreshing it is honoured (proper-lockfile's `stale`). */
const STALE_MS = 10_000;

const queues = new Map<string, Promise<unknown>>();

export class SystemLock {
  private readonly path: string;

  /** `systemDir`: the lake's `_system/` folder. */
  constructor(systemDir: string) {
    this.path = resolve(systemDir);
  }

  /** The lock of the `_system/` folder that holds `file`. */
  static of(file: string): SystemLock {
    return new SystemLock(dirname(file));
  }

  /** Runs `work` holding the lock (waits for it, up to about a minute, then fails naming the folder). */
  run<T>(work: () => T | Promise<T>): Promise<T> {
    const previous = queues.get(this.path) ?? Promise.resolve();
    const next = previous.then(async () => {
      mkdirSync(this.path, { recursive: true });
      const release = await lock(this.path, {
        lockfilePath: join(this.path, '.lock'),
        stale: STALE_MS,
        retries: { retries: 2000, factor: 1.2, minTimeout: 5, maxTimeout: 50, randomize: true },
      });
      try {
        return await work();
      } finally {
        await release();
      }
    });
    const settled = next.catch(() => undefined);
    queues.set(this.path, settled);
    void settled.then(() => {
      if (queues.get(this.path) === settled) queues.delete(this.path);
    });
    return next;
  }
}
