import type { ExecutionHistory, StateVisit } from '../local/history';
import { ms } from './format';

/**
 * Progress of local runs as they go: for each execution, each stage when its Glue job starts and
 * when its results are recorded (elapsed, records in / out / quarantined), or when it fails. On a
 * terminal the running executions are redrawn in place (log-update) with their elapsed time ticking;
 * otherwise each event is one plain line, so a log or a pipe reads in order.
 */

const STAGES = ['bronze', 'silver', 'gold'] as const;
type Stage = (typeof STAGES)[number];

export type StageEvent =
  | { readonly kind: 'started'; readonly execution: string; readonly stage: Stage }
  | {
      readonly kind: 'done';
      readonly execution: string;
      readonly stage: Stage;
      readonly elapsedMs: number | undefined;
      readonly records?: { readonly in: number; readonly out: number; readonly quarantined: number };
    }
  | {
      readonly kind: 'failed';
      readonly execution: string;
      readonly stage: Stage;
      readonly elapsedMs: number | undefined;
      readonly error: string | undefined;
    };

const jobOf = (stage: Stage) => `Run ${stage} job`;
const recordOf = (stage: Stage) => `Record ${stage} results`;

function recordsOf(visit: StateVisit, stage: Stage) {
  const r = (visit.output as { results?: Record<string, Record<string, unknown>> } | undefined)?.results?.[
    stage
  ];
  if (!r || typeof r['recordsIn'] !== 'number') return undefined;
  return {
    in: r['recordsIn'],
    out: Number(r['recordsOut'] ?? 0),
    quarantined: Number(r['recordsQuarantined'] ?? 0),
  };
}

/** Every stage event an execution's history shows so far, in order (the same history gives the same list). */
export function stageEvents(h: ExecutionHistory): StageEvent[] {
  const events: StageEvent[] = [];
  for (const stage of STAGES) {
    const job = h.states.find((s) => s.name === jobOf(stage));
    if (!job) continue;
    events.push({ kind: 'started', execution: h.name, stage });
    if (job.status === 'failed' || job.status === 'caught') {
      events.push({ kind: 'failed', execution: h.name, stage, elapsedMs: job.durationMs, error: job.error });
      continue;
    }
    const record = h.states.find((s) => s.name === recordOf(stage));
    if (!record || record.status === 'running') continue;
    if (record.status === 'succeeded') {
      const records = recordsOf(record, stage);
      events.push({
        kind: 'done',
        execution: h.name,
        stage,
        elapsedMs: job.durationMs,
        ...(records ? { records } : {}),
      });
    } else
      events.push({
        kind: 'failed',
        execution: h.name,
        stage,
        elapsedMs: job.durationMs,
        error: record.error,
      });
  }
  return events;
}

export function describeEvent(e: StageEvent): string {
  const head = `${e.execution}  ${e.stage.padEnd(6)}`;
  if (e.kind === 'started') return `${head} started`;
  if (e.kind === 'failed') return `${head} FAILED after ${ms(e.elapsedMs)}${e.error ? `: ${e.error}` : ''}`;
  const r = e.records;
  return `${head} done in ${ms(e.elapsedMs)}${r ? `  ${r.in} in, ${r.out} out, ${r.quarantined} quarantined` : ''}`;
}

interface LiveView {
  (text: string): void;
  clear(): void;
  done(): void;
}

/** Reports stage events of many executions; call `update` with every history change, `stop` at the end. */
export class RunProgress {
  private readonly reported = new Map<string, number>();
  private readonly running = new Map<string, { stage: Stage | undefined; since: number }>();
  private live: LiveView | undefined;
  private timer: NodeJS.Timeout | undefined;

  private constructor(private readonly write: (line: string) => void) {}

  /**
   * Progress written with `write` (plain lines); with `live`, the terminal stream the lines go to,
   * running executions are also redrawn in place below them.
   */
  static async create(write: (line: string) => void, live?: NodeJS.WriteStream): Promise<RunProgress> {
    const progress = new RunProgress(write);
    if (live?.isTTY) {
      const { createLogUpdate } = await import('log-update');
      progress.live = createLogUpdate(live) as LiveView;
      progress.timer = setInterval(() => progress.render(), 250);
      progress.timer.unref();
    }
    return progress;
  }

  update(h: ExecutionHistory): void {
    const events = stageEvents(h);
    const seen = this.reported.get(h.name) ?? 0;
    if (events.length > seen) {
      this.live?.clear();
      for (const e of events.slice(seen)) this.write(describeEvent(e));
      this.reported.set(h.name, events.length);
    }
    if (h.status === 'RUNNING') {
      const last = events.at(-1);
      const stage = last?.kind === 'started' ? last.stage : undefined;
      const current = this.running.get(h.name);
      if (!current || current.stage !== stage) this.running.set(h.name, { stage, since: Date.now() });
    } else this.running.delete(h.name);
    this.render();
  }

  private render(): void {
    if (!this.live) return;
    const now = Date.now();
    this.live(
      [...this.running.entries()]
        .map(([name, r]) => `… ${name}  ${r.stage ? `${r.stage} ${ms(now - r.since)}` : 'between stages'}`)
        .join('\n'),
    );
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.live?.clear();
    this.live?.done();
  }
}
