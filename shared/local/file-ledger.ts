import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { decideClaim, DEFAULT_STALE_CLAIM_MS } from '../domain/ledger';
import type { ClaimOutcome, LedgerEntry, ObjectLedger } from '../ports';

/**
 * The local twin of the DynamoDB ledger: the same claim rule, kept in one JSON file that a person can
 * open (`.lake/_system/ledger.json`). Calls are serialised, and each one is written atomically.
 */
export class FileObjectLedger implements ObjectLedger {
  private entries: Map<string, LedgerEntry> | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly path: string,
    private readonly staleAfterMs: number = DEFAULT_STALE_CLAIM_MS,
  ) {}

  claim(objectIds: readonly string[], executionName: string, now: Date): Promise<ClaimOutcome[]> {
    return this.mutate((entries) =>
      objectIds.map((objectId): ClaimOutcome => {
        const existing = entries.get(objectId);
        const outcome = decideClaim(existing, executionName, now, this.staleAfterMs);
        if (outcome === 'claimed') {
          entries.set(objectId, { objectId, executionName, state: 'pending', claimedAt: now.toISOString() });
          return { objectId, outcome };
        }
        return { objectId, outcome, executionName: existing?.executionName ?? 'unknown' };
      }),
    );
  }

  confirm(objectIds: readonly string[], executionName: string, now: Date): Promise<void> {
    return this.mutate((entries) => {
      for (const id of objectIds) {
        const e = entries.get(id);
        if (e?.executionName === executionName)
          entries.set(id, { ...e, state: 'started', startedAt: now.toISOString() });
      }
    });
  }

  release(objectIds: readonly string[], executionName: string): Promise<void> {
    return this.mutate((entries) => {
      for (const id of objectIds) {
        const e = entries.get(id);
        if (e?.executionName === executionName && e.state === 'pending') entries.delete(id);
      }
    });
  }

  async lookup(objectId: string): Promise<LedgerEntry | undefined> {
    await this.queue;
    return this.load().get(objectId);
  }

  /** Every entry, for the CLI and tests. */
  async all(): Promise<LedgerEntry[]> {
    await this.queue;
    return [...this.load().values()];
  }

  private load(): Map<string, LedgerEntry> {
    if (!this.entries) {
      let list: LedgerEntry[] = [];
      try {
        list = JSON.parse(readFileSync(this.path, 'utf8')) as LedgerEntry[];
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
      this.entries = new Map(list.map((e) => [e.objectId, e]));
    }
    return this.entries;
  }

  private mutate<R>(change: (entries: Map<string, LedgerEntry>) => R): Promise<R> {
    const run = this.queue.then(() => {
      const entries = this.load();
      const result = change(entries);
      mkdirSync(dirname(this.path), { recursive: true });
      const tmp = `${this.path}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify([...entries.values()], null, 1));
      renameSync(tmp, this.path);
      return result;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}
