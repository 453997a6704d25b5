import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LandedObject } from '../shared/domain/events';
import { SystemLock } from './system-lock';
import { mergeFollowUp } from '../shared/domain/lease';
import {
  decideClaim,
  mayAcquireLease,
  mayConfirm,
  mayAssignWaiting,
  mayDefer,
  mayJoinWaiting,
  mayMarkRead,
  mayRelease,
  mayWait,
} from '../shared/domain/ledger';
import { joinWaiting, mayRepairSlots, mayTakeSlot, queueOrder } from '../shared/domain/run-slots';
import type {
  AssignOutcome,
  ClaimOutcome,
  FollowUpRequest,
  LeaseOutcome,
  LedgerEntry,
  MarkReadRequest,
  ObjectLedger,
  PartitionKey,
  PartitionLease,
  PartitionLeases,
  QueuedRun,
  RunSlot,
  RunSlots,
  RunSlotState,
  SlotOutcome,
  WaitingRun,
} from '../shared/ports';

/** The execution slots as the file keeps them (`ledger.slots.json`). */
interface SlotsFile {
  holders: Record<string, string>;
  budget?: number;
  repairedAt?: string;
}

/**
 * The local twin of the DynamoDB ledger: the same rules (shared/domain/ledger.ts), kept in one JSON file that a person can
 * open (`.lake/_system/ledger.json`), and the partition leases in a sibling file
 * (`ledger.leases.json`). Each change holds the lake's `_system/` lock (local/system-lock.ts),
 * reads both files afresh, and writes them atomically: two processes on one lake (`watch` and
 * `replay`) see and keep each other's claims and leases.
 */
export class FileObjectLedger implements ObjectLedger, PartitionLeases, RunSlots {
  private entries: Map<string, LedgerEntry> | undefined;
  private leases: Map<PartitionKey, PartitionLease> | undefined;
  private slots: SlotsFile | undefined;
  private readonly slotsPath: string | null;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly leasePath: string | null;
  private readonly lock: SystemLock | null;

  /** `path` null: kept in memory only (same rules, no file; for the model-based test's many worlds). */
  constructor(private readonly path: string | null) {
    this.leasePath = path === null ? null : path.replace(/(\.json)?$/, '.leases.json');
    this.slotsPath = path === null ? null : path.replace(/(\.json)?$/, '.slots.json');
    this.lock = path === null ? null : SystemLock.of(path);
  }

  static inMemory(): FileObjectLedger {
    return new FileObjectLedger(null);
  }

  claim(
    objectIds: readonly string[],
    executionName: string,
    now: Date,
    reclaimable?: ReadonlySet<string>,
  ): Promise<ClaimOutcome[]> {
    return this.mutate((entries) =>
      objectIds.map((objectId): ClaimOutcome => {
        const existing = entries.get(objectId);
        const outcome = decideClaim(existing, reclaimable);
        if (outcome === 'claimed') {
          entries.set(objectId, { objectId, executionName, state: 'pending', claimedAt: now.toISOString() });
          return { objectId, outcome };
        }
        const owner = existing?.executionName ?? 'unknown';
        return outcome === 'duplicate'
          ? { objectId, outcome, executionName: owner }
          : { objectId, outcome, executionName: owner, claimedAt: existing?.claimedAt ?? now.toISOString() };
      }),
    );
  }

  confirm(objectIds: readonly string[], executionName: string, now: Date): Promise<void> {
    return this.mutate((entries) => {
      for (const id of objectIds) {
        const e = entries.get(id);
        if (e && mayConfirm(e, executionName))
          entries.set(id, { ...e, state: 'started', startedAt: now.toISOString() });
      }
    });
  }

  release(objectIds: readonly string[], executionName: string): Promise<void> {
    return this.mutate((entries) => {
      for (const id of objectIds) {
        const e = entries.get(id);
        if (mayRelease(e, executionName)) entries.delete(id);
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

  acquireLease(
    partitionKey: PartitionKey,
    executionName: string,
    now: Date,
    ttlMs: number,
    takeOver?: { readonly holder: string; readonly acquiredAt: string },
  ): Promise<LeaseOutcome> {
    return this.mutateLeases((_, leases) => {
      const current = leases.get(partitionKey);
      if (current && !mayAcquireLease(current, executionName, now, takeOver))
        return { acquired: false, lease: current };
      // A taken-over (expired) lease keeps its follow-up request: those objects still need their run.
      // The holder's own waiting mark stays (a retried delivery of a waiting run's batch).
      const lease: PartitionLease = {
        partitionKey,
        holder: executionName,
        acquiredAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + ttlMs).toISOString(),
        ...(current?.followUp ? { followUp: current.followUp } : {}),
        ...(current?.waiting && current.holder === executionName ? { waiting: current.waiting } : {}),
      };
      leases.set(partitionKey, lease);
      return { acquired: true, lease };
    });
  }

  deferToFollowUp(request: {
    partitionKey: PartitionKey;
    holder: string;
    followUpName: string;
    claimedBy: string;
    objects: readonly LandedObject[];
    now: Date;
  }): Promise<boolean> {
    return this.mutateLeases((entries, leases) => {
      const lease = leases.get(request.partitionKey);
      if (!lease || lease.holder !== request.holder) return false;
      const mine = request.objects.filter((o) =>
        mayDefer(lease, request.holder, entries.get(o.objectId), request.claimedBy),
      );
      // Like DynamoDB's one transaction: every object is still ours, or nothing changes.
      if (mine.length !== request.objects.length) return false;
      leases.set(request.partitionKey, {
        ...lease,
        followUp: mergeFollowUp(lease.followUp, request.followUpName, mine, request.now),
      });
      for (const o of mine) {
        const e = entries.get(o.objectId);
        if (e) entries.set(o.objectId, { ...e, executionName: request.followUpName, state: 'deferred' });
      }
      return true;
    });
  }

  async readLease(partitionKey: PartitionKey): Promise<PartitionLease | undefined> {
    await this.queue;
    return this.loadLeases().get(partitionKey);
  }

  markRead(request: MarkReadRequest): Promise<string[]> {
    return this.mutateLeases((entries, leases) =>
      request.objectIds.filter((id) => {
        const e = entries.get(id);
        if (!e || !mayMarkRead(leases.get(request.partitionKey), request.holder, e, request.followUpName))
          return false;
        if (e.state !== 'started')
          entries.set(id, {
            ...e,
            executionName: request.holder,
            state: 'started',
            startedAt: request.now.toISOString(),
          });
        return true;
      }),
    );
  }

  replaceFollowUp(request: {
    partitionKey: PartitionKey;
    holder: string;
    previous: FollowUpRequest;
    next: FollowUpRequest | undefined;
  }): Promise<boolean> {
    return this.mutateLeases((_, leases) => {
      const lease = leases.get(request.partitionKey);
      // Compared as DynamoDB compares the stored request: its exact text.
      if (
        !lease ||
        lease.holder !== request.holder ||
        JSON.stringify(lease.followUp) !== JSON.stringify(request.previous)
      )
        return false;
      const { followUp: _replaced, ...rest } = lease;
      leases.set(request.partitionKey, request.next ? { ...rest, followUp: request.next } : rest);
      return true;
    });
  }

  handOverLease(
    partitionKey: PartitionKey,
    from: string,
    to: string,
    now: Date,
    ttlMs: number,
  ): Promise<boolean> {
    return this.mutateLeases((_, leases) => {
      const lease = leases.get(partitionKey);
      if (!lease || lease.holder !== from) return false;
      leases.set(partitionKey, {
        partitionKey,
        holder: to,
        acquiredAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + ttlMs).toISOString(),
      });
      return true;
    });
  }

  releaseLease(
    partitionKey: PartitionKey,
    executionName: string,
  ): Promise<'released' | 'follow-up-pending' | 'not-held'> {
    return this.mutateLeases((_, leases) => {
      const lease = leases.get(partitionKey);
      if (!lease || lease.holder !== executionName) return 'not-held';
      if (lease.followUp) return 'follow-up-pending';
      leases.delete(partitionKey);
      return 'released';
    });
  }

  /** Every lease, for the CLI and tests. */
  async allLeases(): Promise<PartitionLease[]> {
    await this.queue;
    return [...this.loadLeases().values()];
  }

  takeSlot(request: {
    executionName: string;
    now: Date;
    budget: number;
    handOverFrom?: string;
    overBudget?: boolean;
  }): Promise<SlotOutcome> {
    return this.mutateSlots((slots): SlotOutcome => {
      const { executionName, handOverFrom } = request;
      if (!request.overBudget && !mayTakeSlot(slots.holders, executionName, request.budget, handOverFrom))
        return { taken: false, holders: slotList(slots) };
      if (handOverFrom !== undefined && handOverFrom !== executionName) delete slots.holders[handOverFrom];
      slots.holders[executionName] = request.now.toISOString();
      if (!request.overBudget) slots.budget = request.budget;
      return { taken: true, inFlight: Object.keys(slots.holders).length };
    });
  }

  releaseSlot(executionName: string): Promise<boolean> {
    return this.mutateSlots((slots) => {
      if (!Object.hasOwn(slots.holders, executionName)) return false;
      delete slots.holders[executionName];
      return true;
    });
  }

  async readSlots(): Promise<RunSlotState> {
    await this.queue;
    const slots = this.loadSlots();
    return {
      holders: slotList(slots),
      ...(slots.budget !== undefined ? { budget: slots.budget } : {}),
      ...(slots.repairedAt !== undefined ? { repairedAt: slots.repairedAt } : {}),
    };
  }

  freeSlots(seen: readonly RunSlot[]): Promise<number> {
    return this.mutateSlots((slots) => {
      let freed = 0;
      for (const { executionName, takenAt } of seen) {
        if (slots.holders[executionName] !== takenAt) continue;
        delete slots.holders[executionName];
        freed++;
      }
      return freed;
    });
  }

  claimSlotRepair(now: Date): Promise<boolean> {
    return this.mutateSlots((slots) => {
      if (!mayRepairSlots(slots.repairedAt, now)) return false;
      slots.repairedAt = now.toISOString();
      return true;
    });
  }

  waitForSlot(request: {
    partitionKey: PartitionKey;
    executionName: string;
    waiting: WaitingRun;
    objectIds: readonly string[];
  }): Promise<boolean> {
    return this.mutateLeases((entries, leases) => {
      const { partitionKey, executionName } = request;
      const lease = leases.get(partitionKey);
      if (!lease || !mayWait(lease, executionName)) return false;
      const marked: PartitionLease = { ...lease, waiting: lease.waiting ?? request.waiting };
      leases.set(partitionKey, marked);
      deferTo(entries, marked, executionName, executionName, request.objectIds);
      return true;
    });
  }

  joinWaitingRun(request: {
    partitionKey: PartitionKey;
    holder: string;
    claimedBy: string;
    objects: readonly LandedObject[];
    now: Date;
  }): Promise<boolean> {
    return this.mutateLeases((entries, leases) => {
      const { partitionKey, holder, claimedBy } = request;
      const lease = leases.get(partitionKey);
      if (!lease?.waiting || lease.holder !== holder) return false;
      const ids = request.objects.map((o) => o.objectId);
      // Like DynamoDB's one transaction: every object is still ours, or nothing changes.
      if (!ids.every((id) => mayJoinWaiting(lease, holder, entries.get(id), claimedBy))) return false;
      if (claimedBy !== holder)
        leases.set(partitionKey, {
          ...lease,
          waiting: joinWaiting(lease.waiting, request.objects, request.now),
        });
      deferTo(entries, lease, holder, claimedBy, ids);
      return true;
    });
  }

  async waitingRuns(limit: number): Promise<QueuedRun[]> {
    await this.queue;
    return queued(this.loadLeases()).slice(0, limit);
  }

  async countWaitingRuns(): Promise<number> {
    await this.queue;
    return queued(this.loadLeases()).length;
  }

  assignSlot(request: {
    executionName: string;
    partitionKey: PartitionKey;
    now: Date;
    budget: number;
    handOverFrom?: string;
  }): Promise<AssignOutcome> {
    return this.mutateLeases((_, leases): AssignOutcome => {
      const { executionName, partitionKey, handOverFrom } = request;
      const lease = leases.get(partitionKey);
      if (!lease?.waiting || !mayAssignWaiting(lease, executionName)) return { kind: 'not-waiting' };
      const slots = this.loadSlots();
      if (!Object.hasOwn(slots.holders, executionName)) {
        if (!mayTakeSlot(slots.holders, executionName, request.budget, handOverFrom)) return { kind: 'full' };
        if (handOverFrom !== undefined && handOverFrom !== executionName) delete slots.holders[handOverFrom];
        slots.holders[executionName] = request.now.toISOString();
        slots.budget = request.budget;
        if (this.slotsPath !== null) writeAtomically(this.slotsPath, slots);
      }
      const waiting = { ...lease.waiting, startingAt: lease.waiting.startingAt ?? request.now.toISOString() };
      leases.set(partitionKey, { ...lease, waiting });
      return { kind: 'assigned', input: waiting.input, since: waiting.since };
    });
  }

  endWait(request: {
    partitionKey: PartitionKey;
    executionName: string;
    now: Date;
    ttlMs: number;
  }): Promise<boolean> {
    return this.mutateLeases((_, leases) => {
      const lease = leases.get(request.partitionKey);
      if (!lease || lease.holder !== request.executionName) return false;
      const { waiting: _started, ...rest } = lease;
      leases.set(request.partitionKey, {
        ...rest,
        acquiredAt: request.now.toISOString(),
        expiresAt: new Date(request.now.getTime() + request.ttlMs).toISOString(),
      });
      return true;
    });
  }

  private loadSlots(): SlotsFile {
    // A file-backed ledger reads the file each time: another process may have changed it.
    if (!this.slots || this.slotsPath !== null) {
      let file: SlotsFile = { holders: {} };
      try {
        if (this.slotsPath !== null) file = JSON.parse(readFileSync(this.slotsPath, 'utf8')) as SlotsFile;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
      this.slots = file;
    }
    return this.slots;
  }

  private mutateSlots<R>(change: (slots: SlotsFile) => R): Promise<R> {
    return this.mutate(() => {
      const slots = this.loadSlots();
      const result = change(slots);
      if (this.slotsPath !== null) writeAtomically(this.slotsPath, slots);
      return result;
    });
  }

  private loadLeases(): Map<PartitionKey, PartitionLease> {
    // A file-backed ledger reads the file each time: another process may have changed it.
    if (!this.leases || this.leasePath !== null) {
      let list: PartitionLease[] = [];
      try {
        if (this.leasePath !== null)
          list = JSON.parse(readFileSync(this.leasePath, 'utf8')) as PartitionLease[];
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
      this.leases = new Map(list.map((l) => [l.partitionKey, l]));
    }
    return this.leases;
  }

  /** Changes leases (and possibly entries) in one serialised step; both files are rewritten. */
  private mutateLeases<R>(
    change: (entries: Map<string, LedgerEntry>, leases: Map<PartitionKey, PartitionLease>) => R,
  ): Promise<R> {
    return this.mutate((entries) => {
      const leases = this.loadLeases();
      const result = change(entries, leases);
      if (this.leasePath !== null) writeAtomically(this.leasePath, [...leases.values()]);
      return result;
    });
  }

  private load(): Map<string, LedgerEntry> {
    if (!this.entries || this.path !== null) {
      let list: LedgerEntry[] = [];
      try {
        if (this.path !== null) list = JSON.parse(readFileSync(this.path, 'utf8')) as LedgerEntry[];
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
      this.entries = new Map(list.map((e) => [e.objectId, e]));
    }
    return this.entries;
  }

  private mutate<R>(change: (entries: Map<string, LedgerEntry>) => R): Promise<R> {
    const step = () => {
      const entries = this.load();
      const result = change(entries);
      if (this.path !== null) writeAtomically(this.path, [...entries.values()]);
      return result;
    };
    const run = this.queue.then(() => (this.lock ? this.lock.run(step) : step()));
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/** The pending claims of `claimedBy` among `ids` that may join `holder`'s waiting run become `deferred` to it. */
function deferTo(
  entries: Map<string, LedgerEntry>,
  lease: PartitionLease,
  holder: string,
  claimedBy: string,
  ids: readonly string[],
): void {
  for (const id of ids) {
    const e = entries.get(id);
    if (e && mayJoinWaiting(lease, holder, e, claimedBy))
      entries.set(id, { ...e, executionName: holder, state: 'deferred' });
  }
}

const queued = (leases: Map<PartitionKey, PartitionLease>): QueuedRun[] =>
  [...leases.values()]
    .flatMap((l) =>
      l.waiting ? [{ executionName: l.holder, partitionKey: l.partitionKey, since: l.waiting.since }] : [],
    )
    .sort(queueOrder);

const slotList = (slots: SlotsFile): RunSlot[] =>
  Object.entries(slots.holders).map(([executionName, takenAt]) => ({ executionName, takenAt }));

function writeAtomically(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(value, null, 1));
  renameSync(tmp, path);
}
