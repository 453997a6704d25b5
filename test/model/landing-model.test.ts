import fc from 'fast-check';
import { processLanding } from '../../shared/core/landing';
import { finishExecution, prepareRun } from '../../shared/core/run-lease';
import { sweepWaitingRuns } from '../../shared/core/run-slots';
import { leaseTtlMs } from '../../shared/domain/lease';
import { objectIdentity } from '../../shared/domain/events';
import { MANIFEST_VERSION, type RunManifest } from '../../shared/domain/manifest';
import type { SourceFile } from '../../shared/domain/source-files';
import { START_GRACE_MS } from '../../shared/domain/ledger';
import { PartitionBusyError } from '../../shared/domain/pipeline-errors';
import type { RunInput } from '../../shared/domain/run';
import { FileObjectLedger } from '../../local/file-ledger';
import type {
  ExecutionStatus,
  ExecutionStatusReader,
  Log,
  ManifestStore,
  ObjectLedger,
  PartitionLeases,
  RunSlots,
  RunStarter,
  StartResult,
} from '../../shared/ports';
import { s3Record } from '../helpers/fixtures';
import { shippedRegistry } from '../helpers/registry';

/**
 * Model-based test of "nothing strands" (issue #11): random interleavings of landings, deliveries
 * (any subset of the queue in one batch, duplicates included), crashes at any port call of a handler
 * (before or after the call took effect), time passing, executions stepping or ending in any state,
 * EventBridge status-change events, and re-uploads. The real landing, prepare-run and finish-run code
 * runs against the real ledger rules (the file ledger kept in memory).
 *
 * A run's bronze reads its partition's landing folder when it takes the lease: the latest version of
 * every key landed in that partition so far, whether delivered yet or not. Its manifest lists them
 * (sourceFiles); a successful run's last state hands objects deferred to its follow-up that it read to
 * the run itself (issue #11, item 7), so a follow-up run only starts for the others.
 *
 * Runs are bounded by an execution budget of one slot (issue #13): a landing whose run finds the slot
 * held records it as waiting in the ledger and is acknowledged; a later landing of the partition joins
 * it; whoever frees the slot (finish-run on every path, the sweep) starts the oldest waiting run. The
 * sweep runs as a command too, with crashes like any handler.
 *
 * After every step: no object is read by two runs for it, no two runs of a partition hold it at once,
 * every acknowledged object is in the ledger, and an object the ledger gives to a run after it read its
 * partition was in that run's manifest (or was overwritten before: it lists a newer version of the
 * key). After each sequence, once everything is delivered and every run has ended: every landed
 * object version was read by exactly one run, or is in the DLQ.
 */

const registry = shippedRegistry();
const T0 = Date.parse('2024-01-15T10:30:00Z');
const DAYS = ['15', '16'];
const FILES = ['a.jsonl', 'b.jsonl', 'c.jsonl'];
const MAX_RECEIVES = 5;
/** Executions in flight at most: one, so that runs wait as often as they can. */
const BUDGET = 1;
const quiet: Log = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

class SimulatedCrash extends Error {
  override readonly name = 'SimulatedCrash';
}

interface Message {
  readonly id: string;
  readonly record: ReturnType<typeof s3Record>;
  readonly objectId: string;
  receives: number;
}

interface Execution {
  readonly name: string;
  readonly input: RunInput;
  status: ExecutionStatus;
  /**
   * `holding`: took its lease and runs its stages; `finishing`: in its last state (finish-run, which
   * may die and be retried, but runs no stage again).
   */
  phase: 'waiting' | 'holding' | 'finishing' | 'ended';
  /** Landings before it started (`World.seq`): the batch it was started for is among them. */
  readonly startSeq: number;
  /** Where its bronze wrote the manifest (planned by prepare-run), once it read its partition. */
  bronzeManifest?: string;
  /** Ended without running its last state: its EventBridge status change is still to be delivered. */
  finishPending: boolean;
}

/** Crash plan of one handler invocation: the port call at which the process dies. */
interface Crash {
  readonly at: number;
  /** The call took effect before the process died (its response was lost). */
  readonly after: boolean;
}

/** Deferred objects runs found they had read at their end, over every interleaving (not vacuous). */
let readAtFinish = 0;
/** Runs recorded as waiting for the slot, and landings that joined one, over every interleaving. */
const waited = { recorded: 0, joined: 0, assigned: 0 };

class World {
  now = T0;
  private seq = 0;
  private messages = 0;
  readonly ledger = FileObjectLedger.inMemory();
  /** Object id → where and when it landed; `seq` orders the landings (a later one of a key overwrites). */
  readonly landed = new Map<string, { day: string; landedAt: number; seq: number; source: SourceFile }>();
  /**
   * The bronze manifests the runs wrote, by location: what each listed of its partition, and the
   * landing `seq` of the version it listed of each key.
   */
  readonly manifests = new Map<
    string,
    { run: string; sources: SourceFile[]; listedSeq: ReadonlyMap<string, number> }
  >();
  queue: Message[] = [];
  readonly dlq: Message[] = [];
  readonly executions = new Map<string, Execution>();
  /** Object id → the runs that took it (its ledger entry named them when they read, or ended unread). */
  readonly readBy = new Map<string, string[]>();

  // ---- the ports, with a crash plan ------------------------------------------------------------
  private calls = 0;
  private dead = false;
  private plan: Crash | undefined;

  private async gate<T>(op: () => Promise<T>): Promise<T> {
    if (this.dead) throw new SimulatedCrash('the process is dead');
    this.calls++;
    if (this.plan && this.calls === this.plan.at) {
      this.dead = true;
      if (this.plan.after) await op();
      throw new SimulatedCrash(`crashed at call ${this.calls}`);
    }
    return op();
  }

  /** Runs one handler invocation under a crash plan; true if it died. */
  private async invoke(plan: Crash | undefined, body: () => Promise<unknown>): Promise<boolean> {
    this.calls = 0;
    this.dead = false;
    this.plan = plan;
    try {
      await body();
    } catch (error) {
      if (!(error instanceof SimulatedCrash) && !this.dead) throw error;
    }
    const died = this.dead;
    this.plan = undefined;
    this.dead = false;
    return died;
  }

  readonly store: ObjectLedger & PartitionLeases & RunSlots = (() => {
    const l = this.ledger;
    const g = <T>(op: () => Promise<T>) => this.gate(op);
    return {
      claim: (ids, name, now, reclaimable) => g(() => l.claim(ids, name, now, reclaimable)),
      confirm: (ids, name, now) => g(() => l.confirm(ids, name, now)),
      release: (ids, name) => g(() => l.release(ids, name)),
      lookup: (id) => g(() => l.lookup(id)),
      acquireLease: (key, name, now, ttl, takeOver) => g(() => l.acquireLease(key, name, now, ttl, takeOver)),
      deferToFollowUp: (request) => g(() => l.deferToFollowUp(request)),
      readLease: (key) => g(() => l.readLease(key)),
      markRead: (request) => g(() => l.markRead(request)),
      replaceFollowUp: (request) => g(() => l.replaceFollowUp(request)),
      handOverLease: (key, from, to, now, ttl) => g(() => l.handOverLease(key, from, to, now, ttl)),
      releaseLease: (key, name) => g(() => l.releaseLease(key, name)),
      takeSlot: (request) => g(() => l.takeSlot(request)),
      releaseSlot: (name) => g(() => l.releaseSlot(name)),
      readSlots: () => g(() => l.readSlots()),
      freeSlots: (seen) => g(() => l.freeSlots(seen)),
      claimSlotRepair: (now) => g(() => l.claimSlotRepair(now)),
      waitForSlot: (request) =>
        g(async () => {
          const recorded = await l.waitForSlot(request);
          if (recorded) waited.recorded++;
          return recorded;
        }),
      joinWaitingRun: (request) =>
        g(async () => {
          const joined = await l.joinWaitingRun(request);
          if (joined) waited.joined++;
          return joined;
        }),
      waitingRuns: (limit) => g(() => l.waitingRuns(limit)),
      countWaitingRuns: () => g(() => l.countWaitingRuns()),
      assignSlot: (request) =>
        g(async () => {
          const outcome = await l.assignSlot(request);
          if (outcome.kind === 'assigned') waited.assigned++;
          return outcome;
        }),
      endWait: (request) => g(() => l.endWait(request)),
    };
  })();

  private readonly budget = { slots: this.store, budget: BUDGET };

  readonly manifestStore: ManifestStore = {
    read: (location) =>
      this.gate(async () => {
        const m = this.manifests.get(location);
        if (!m) return undefined;
        const manifest: RunManifest = {
          version: MANIFEST_VERSION,
          dataset: 'orders',
          stage: 'bronze',
          runId: m.run,
          jobRunId: `jr_${m.run}`,
          startedAt: new Date(T0).toISOString(),
          completedAt: new Date(T0).toISOString(),
          recordsIn: m.sources.length,
          recordsOut: m.sources.length,
          recordsQuarantined: 0,
          outputPartitions: [],
          quarantineLocation: null,
          sourceFiles: m.sources,
        };
        return JSON.stringify(manifest);
      }),
  };

  readonly runs: RunStarter & ExecutionStatusReader = {
    start: (request) => this.gate(async (): Promise<StartResult> => this.startExecution(request)),
    status: (name) => this.gate(async () => this.executions.get(name)?.status ?? 'NOT_FOUND'),
  };

  private startExecution({ name, input }: { name: string; input: RunInput }): StartResult {
    const executionArn = `arn:aws:states:eu-west-1:1:execution:p:${name}`;
    if (this.executions.has(name)) return { outcome: 'already-started', executionArn };
    this.executions.set(name, {
      name,
      input,
      status: 'RUNNING',
      phase: 'waiting',
      startSeq: this.seq,
      finishPending: false,
    });
    return { outcome: 'started', executionArn };
  }

  private readonly clock = () => new Date(this.now);

  // ---- commands ----------------------------------------------------------------------------------
  land(day: string, file: string): void {
    const sequencer = (++this.seq).toString(16).toUpperCase().padStart(18, '0');
    const key = `landing/shop/orders/year=2024/month=01/day=${day}/${file}`;
    const record = s3Record(key, { sequencer, versionId: null, size: 100 + this.seq });
    const o = record.s3.object;
    if (!o.eTag) throw new Error('the notification fixture carries no eTag');
    const objectId = objectIdentity({ bucket: 'example-lake', key, size: o.size, sequencer, eTag: o.eTag });
    this.landed.set(objectId, {
      day,
      landedAt: this.now,
      seq: this.seq,
      source: { key, size: o.size, eTag: o.eTag },
    });
    this.queue.push({ id: `m${++this.messages}`, record, objectId, receives: 0 });
  }

  /** S3 notifies the same event twice (at-least-once). */
  duplicate(index: number): void {
    const m = this.queue[index % Math.max(1, this.queue.length)];
    if (m) this.queue.push({ ...m, id: `m${++this.messages}`, receives: 0 });
  }

  async deliver(picks: readonly number[], crash: Crash | undefined): Promise<void> {
    const batch = [...new Set(picks.map((i) => i % Math.max(1, this.queue.length)))]
      .map((i) => this.queue[i])
      .filter((m): m is Message => m !== undefined);
    if (batch.length === 0) return;
    const event = {
      Records: batch.map((m) => ({
        messageId: m.id,
        eventSource: 'aws:sqs',
        body: JSON.stringify({ Records: [{ ...m.record, eventSource: 'aws:s3' }] }),
      })),
    };
    let failed: string[] = [];
    const died = await this.invoke(crash, async () => {
      const result = await processLanding(event, {
        registry,
        ledger: this.store,
        leases: this.store,
        starter: this.runs,
        executions: this.runs,
        executionBudget: this.budget,
        log: quiet,
        now: this.clock,
      });
      failed = result.failedUnits;
    });
    const unacked = new Set(died ? batch.map((m) => m.id) : failed);
    for (const m of batch) {
      if (!unacked.has(m.id)) {
        this.queue = this.queue.filter((q) => q !== m);
        continue;
      }
      if (++m.receives >= MAX_RECEIVES) {
        this.queue = this.queue.filter((q) => q !== m);
        this.dlq.push(m);
      }
    }
  }

  private running(): Execution[] {
    return [...this.executions.values()].filter((e) => e.status === 'RUNNING');
  }

  /** One execution moves on: takes its lease (and reads its partition), or runs its last state. */
  async step(index: number, crash: Crash | undefined): Promise<void> {
    const running = this.running();
    const e = running[index % Math.max(1, running.length)];
    if (!e) return;
    if (e.phase === 'waiting') {
      await this.invoke(crash, async () => {
        let prepared;
        try {
          prepared = await prepareRun(
            { executionName: e.name, input: e.input },
            {
              registry,
              leases: this.store,
              executions: this.runs,
              lakeRoot: 'file:///lake/',
              plansLocation: 'file:///plans/',
              log: quiet,
              now: this.clock,
            },
          );
        } catch (error) {
          if (error instanceof PartitionBusyError) return;
          throw error;
        }
        e.phase = 'holding';
        // Bronze reads the partition now: the objects the ledger gives this run are read for it, and
        // its manifest lists what the landing folder holds (the latest version of each key).
        await this.take(e);
        const latest = new Map<string, SourceFile>();
        const listedSeq = new Map<string, number>();
        for (const l of this.landed.values())
          if (l.day === e.input.partition['day']) {
            latest.set(l.source.key, l.source);
            listedSeq.set(l.source.key, l.seq);
          }
        e.bronzeManifest = prepared.run.jobs.bronze.manifestLocation;
        this.manifests.set(e.bronzeManifest, { run: e.name, sources: [...latest.values()], listedSeq });
      });
      return;
    }
    // Its last state. The model used to keep a run whose finish-run died in `holding`, and failed on
    // seed 22: finish-run released the lease and the slot and died before returning, the next
    // landing's run took the lease, and the model saw two runs holding the partition. "Release partition lease"
    // is the state machine's last state: a run in it only runs finish-run again (its retry, or the
    // failure path's release), never a stage, so it holds nothing another run could overlap.
    e.phase = 'finishing';
    const died = await this.invoke(crash, async () => {
      const result = await this.finish(e, 'succeeded', e.bronzeManifest);
      readAtFinish += result.deferredRead;
    });
    if (!died) {
      e.status = 'SUCCEEDED';
      e.phase = 'ended';
    }
  }

  private finish(e: Execution, outcome: 'succeeded' | 'failed', bronzeManifest?: string) {
    return finishExecution(
      {
        executionName: e.name,
        stateMachineArn: 'arn:aws:states:eu-west-1:1:stateMachine:p',
        outcome,
        input: e.input,
        ...(bronzeManifest ? { bronzeManifest } : {}),
      },
      {
        registry,
        leases: this.store,
        starter: this.runs,
        manifests: this.manifestStore,
        executionBudget: this.budget,
        log: quiet,
        now: this.clock,
      },
    );
  }

  /** The periodic sweep: frees leaked slots, starts the waiting runs a free slot allows. */
  async sweep(crash: Crash | undefined): Promise<void> {
    await this.invoke(crash, () =>
      sweepWaitingRuns({
        ...this.budget,
        executions: this.runs,
        starter: this.runs,
        log: quiet,
        ttlMs: leaseTtlMs(registry.datasets),
        now: this.clock,
      }),
    );
  }

  /**
   * The objects the ledger gives run `e` are its own: read by it, or (if it ended before reading)
   * failed with it, visibly (a failed execution, an alert) and for a replay to redo.
   */
  private async take(e: Execution): Promise<void> {
    for (const entry of await this.ledger.all()) {
      if (entry.executionName === e.name)
        this.readBy.set(entry.objectId, [...(this.readBy.get(entry.objectId) ?? []), e.name]);
    }
  }

  /** An execution ends from outside (aborted, timed out) or fails without reaching its last state. */
  async end(index: number, status: 'ABORTED' | 'TIMED_OUT' | 'FAILED'): Promise<void> {
    const running = this.running();
    const e = running[index % Math.max(1, running.length)];
    if (!e) return;
    if (e.phase === 'waiting') await this.take(e);
    e.status = status;
    e.phase = 'ended';
    e.finishPending = true;
  }

  /** EventBridge delivers an ended execution's status change to finish-run. */
  async statusChange(index: number, crash: Crash | undefined): Promise<void> {
    const pending = [...this.executions.values()].filter((e) => e.finishPending);
    const e = pending[index % Math.max(1, pending.length)];
    if (!e) return;
    const died = await this.invoke(crash, () => this.finish(e, 'failed'));
    if (!died) e.finishPending = false;
  }

  advance(ms: number): void {
    this.now += ms;
  }

  /**
   * Objects the ledger gave a run after it read its partition are read by it: its last state found
   * them deferred and in its manifest, or a redelivery of the batch that started it claimed objects
   * that were in flight when it started (the same group, so the same run name: the start is refused
   * as already started and the claims are confirmed for that run). Each must be in what that run's
   * bronze listed, or have been overwritten before it listed the folder.
   *
   * The model used to require the version itself to be listed, and failed on seed 7: a.jsonl landed
   * three times, the batch of all three started a run with only the third (the first two were
   * claimed by a landing that died before its start), and the redelivery of that batch, once the dead
   * landing's claims could be taken, confirmed the first two for that run after its bronze had read
   * the folder. Every object of a run's batch landed before the run started, so its bronze saw each
   * one that still existed; the first two had been overwritten by the third before that, and no run
   * can ever list an overwritten version (S3 keeps one object per key; bronze lists the folder). The
   * run that read the key's newer bytes is the one run they can have: what the product does.
   *
   * Objects given (so) to a run after it ended without reading its partition are failed with it, as
   * those it had when it ended: each must have landed before it started (in the batch it was started
   * for, which its bronze would have listed). The model used to leave them to no run, and failed on
   * seed 20: the batch of two versions of a.jsonl started a run with the second only (the first was
   * claimed by a landing that died), the run was aborted before its bronze, and the redelivery of the
   * batch confirmed the first for it. Its failure is what tells that the partition needs a replay,
   * which reads the folder, as for the objects it had.
   */
  private async settleLateGifts(): Promise<void> {
    const took = new Map([...this.manifests.values()].map((m) => [m.run, m]));
    for (const entry of await this.ledger.all()) {
      if (entry.state !== 'started') continue;
      const runs = this.readBy.get(entry.objectId) ?? [];
      if (runs.includes(entry.executionName)) continue;
      const landed = this.landed.get(entry.objectId);
      const manifest = took.get(entry.executionName);
      if (!manifest) {
        const e = this.executions.get(entry.executionName);
        // Not ended: it takes what the ledger gives it when its bronze reads.
        if (e?.phase !== 'ended') continue;
        if (!landed || landed.seq > e.startSeq)
          throw new Error(
            `object ${entry.objectId} was given to ${e.name} after it ended unread, and landed after it started`,
          );
        this.readBy.set(entry.objectId, [...runs, e.name]);
        continue;
      }
      const listed = manifest.sources.some(
        (s) =>
          landed &&
          s.key === landed.source.key &&
          s.size === landed.source.size &&
          s.eTag === landed.source.eTag,
      );
      const listedSeq = landed ? manifest.listedSeq.get(landed.source.key) : undefined;
      const overwrittenBeforeRead = !!landed && listedSeq !== undefined && listedSeq > landed.seq;
      if (!listed && !overwrittenBeforeRead)
        throw new Error(
          `object ${entry.objectId} was given to ${entry.executionName} after its bronze, which did not list it`,
        );
      this.readBy.set(entry.objectId, [...runs, entry.executionName]);
    }
  }

  // ---- invariants ----------------------------------------------------------------------------------
  async checkSafety(): Promise<void> {
    await this.settleLateGifts();
    for (const [id, runs] of this.readBy)
      if (runs.length > 1) throw new Error(`object ${id} was run twice: ${runs.join(', ')}`);
    for (const day of DAYS) {
      const holding = this.running().filter((e) => e.phase === 'holding' && e.input.partition['day'] === day);
      if (holding.length > 1)
        throw new Error(`two runs hold day ${day} at once: ${holding.map((e) => e.name).join(', ')}`);
    }
    const waiting = new Set([...this.queue, ...this.dlq].map((m) => m.objectId));
    for (const id of this.landed.keys()) {
      if (!waiting.has(id) && !(await this.ledger.lookup(id)))
        throw new Error(`object ${id} was acknowledged but the ledger does not know it`);
    }
  }

  /** Delivers everything, without crashes, and lets every run end. */
  async quiesce(): Promise<void> {
    for (let round = 0; round < 60; round++) {
      const idle =
        this.queue.length === 0 &&
        this.running().length === 0 &&
        ![...this.executions.values()].some((e) => e.finishPending) &&
        (await this.ledger.countWaitingRuns()) === 0;
      if (idle) {
        // A slot taken by a landing that died before its start is freed by the sweep's repair.
        this.advance(START_GRACE_MS + 1000);
        await this.sweep(undefined);
        const held = (await this.ledger.readSlots()).holders;
        if (held.length > 0) throw new Error(`slots held after every run ended: ${JSON.stringify(held)}`);
        return;
      }
      this.advance(START_GRACE_MS + 1000);
      if (this.queue.length > 0)
        await this.deliver(
          this.queue.map((_, i) => i),
          undefined,
        );
      for (const e of this.running()) await this.step(this.running().indexOf(e), undefined);
      for (let i = 0; [...this.executions.values()].some((e) => e.finishPending) && i < 10; i++)
        await this.statusChange(0, undefined);
      await this.sweep(undefined);
      await this.checkSafety();
    }
    throw new Error(
      `did not settle: ${this.queue.length} message(s), runs ${this.running()
        .map((e) => `${e.name}:${e.phase}`)
        .join(', ')}, ` + `leases ${JSON.stringify(await this.ledger.allLeases())}`,
    );
  }

  async checkNothingStranded(): Promise<void> {
    const inDlq = new Set(this.dlq.map((m) => m.objectId));
    for (const id of this.landed.keys()) {
      const runs = this.readBy.get(id) ?? [];
      if (runs.length === 1 || inDlq.has(id)) continue;
      throw new Error(
        `object ${id} ${runs.length === 0 ? 'was never taken by a run' : `was taken by ${runs.length} runs`}; ledger: ${JSON.stringify(await this.ledger.lookup(id))}`,
      );
    }
  }
}

// ---- the commands as fast-check generates them -------------------------------------------------------
const crashArb: fc.Arbitrary<Crash | undefined> = fc.option(
  fc.record({ at: fc.integer({ min: 1, max: 12 }), after: fc.boolean() }),
  { nil: undefined, freq: 2 },
);
/** One step of an interleaving: runs against the world, then the safety invariant is checked. */
class Step implements fc.AsyncCommand<object, World> {
  constructor(
    private readonly label: string,
    private readonly action: (w: World) => Promise<void> | void,
  ) {}
  check(): boolean {
    return true;
  }
  async run(_model: object, world: World): Promise<void> {
    await this.action(world);
    await world.checkSafety();
  }
  toString(): string {
    return this.label;
  }
}
const crashLabel = (crash: Crash | undefined) => (crash ? ` crash@${crash.at}${crash.after ? '+' : ''}` : '');

const land = fc
  .tuple(fc.constantFrom(...DAYS), fc.constantFrom(...FILES))
  .map(([d, f]) => new Step(`land ${d}/${f}`, (w) => w.land(d, f)));
const deliver = fc
  .tuple(fc.array(fc.nat(20), { minLength: 1, maxLength: 4 }), crashArb)
  .map(
    ([picks, crash]) =>
      new Step(`deliver ${picks.join(',')}${crashLabel(crash)}`, (w) => w.deliver(picks, crash)),
  );
const duplicate = fc.nat(20).map((i) => new Step(`duplicate ${i}`, (w) => w.duplicate(i)));
const step = fc
  .tuple(fc.nat(10), crashArb)
  .map(([i, crash]) => new Step(`step ${i}${crashLabel(crash)}`, (w) => w.step(i, crash)));
const end = fc
  .tuple(fc.nat(10), fc.constantFrom('ABORTED' as const, 'TIMED_OUT' as const, 'FAILED' as const))
  .map(([i, st]) => new Step(`end ${i} ${st}`, (w) => w.end(i, st)));
const statusChange = fc
  .tuple(fc.nat(10), crashArb)
  .map(([i, crash]) => new Step(`status-change ${i}${crashLabel(crash)}`, (w) => w.statusChange(i, crash)));
const sweep = crashArb.map((crash) => new Step(`sweep${crashLabel(crash)}`, (w) => w.sweep(crash)));
const advance = fc
  .constantFrom(30_000, START_GRACE_MS + 1000, 3600_000)
  .map((ms) => new Step(`advance ${ms}`, (w) => w.advance(ms)));
/** Deliveries and steps are drawn more often than the rest. */
const COMMANDS = [
  land,
  land,
  deliver,
  deliver,
  deliver,
  deliver,
  duplicate,
  step,
  step,
  step,
  end,
  statusChange,
  sweep,
  advance,
];

/**
 * The seeds run by default: the first one this test ran with, and each seed a counterexample was found
 * with (4 and 7 in the ledger's claim rule and the model's reading of overwrites, 20 and 22 in the
 * model; see decideClaim in shared/domain/ledger.ts, settleLateGifts and step), at 5,000 interleavings
 * each (every one of those counterexamples came within the first 3,300). MODEL_SEEDS (`4`, `1-50`,
 * `3,9-12`) runs others, MODEL_RUNS another count: sweep many seeds locally before changing the rules.
 */
const DEFAULT_SEEDS = [20261130, 4, 7, 20, 22];
const seedsOf = (list: string): number[] =>
  list.split(',').flatMap((range) => {
    const match = /^(\d+)(?:-(\d+))?$/.exec(range.trim());
    if (!match) throw new Error(`MODEL_SEEDS: "${range}" is not a seed or a range of seeds (from-to)`);
    const from = Number(match[1]);
    const to = Number(match[2] ?? match[1]);
    if (to < from) throw new Error(`MODEL_SEEDS: "${range}" ends before it starts`);
    return Array.from({ length: to - from + 1 }, (_, k) => from + k);
  });
const SEEDS_ENV = process.env['MODEL_SEEDS'] ?? process.env['MODEL_SEED'];
const SEEDS = SEEDS_ENV ? seedsOf(SEEDS_ENV) : DEFAULT_SEEDS;
const RUNS = Number(process.env['MODEL_RUNS'] ?? 5_000);

describe('nothing strands (model-based, fast-check)', () => {
  it.each(SEEDS)(
    `gives every landed object version to exactly one run, or leaves it in the DLQ, in ${RUNS} interleavings (seed %i)`,
    async (seed) => {
      let interleavings = 0;
      readAtFinish = 0;
      Object.assign(waited, { recorded: 0, joined: 0, assigned: 0 });
      await fc.assert(
        fc.asyncProperty(fc.commands(COMMANDS, { maxCommands: 24 }), async (commands) => {
          interleavings++;
          const world = new World();
          await fc.asyncModelRun(() => ({ model: {}, real: world }), commands);
          await world.quiesce();
          await world.checkNothingStranded();
        }),
        { numRuns: RUNS, seed, endOnFailure: true },
      );
      expect(interleavings).toBeGreaterThanOrEqual(RUNS);
      // Not vacuous: runs found deferred objects they had read, waited for a slot, were joined, started.
      expect(readAtFinish).toBeGreaterThan(RUNS / 100);
      expect(waited.recorded).toBeGreaterThan(RUNS / 20);
      expect(waited.joined).toBeGreaterThan(RUNS / 1000);
      expect(waited.assigned).toBeGreaterThan(RUNS / 20);
    },
    300_000,
  );
});
