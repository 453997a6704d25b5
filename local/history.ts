import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StageResult } from '../shared/domain/pipeline';
import type { RunInput } from '../shared/domain/run';

/**
 * Execution history of the local runtime: one JSON file per execution under
 * `.lake/_system/executions/`, the local equivalent of the Step Functions console.
 */

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';

export interface StateVisit {
  readonly name: string;
  readonly type: string;
  readonly enteredAt: string;
  exitedAt?: string;
  durationMs?: number;
  /** `succeeded`, `failed` (then maybe `caught` / retried), `caught`. */
  status: 'running' | 'succeeded' | 'failed' | 'caught';
  retries: number;
  error?: string;
  cause?: string;
  /** The state's output (bounded: the pipeline state stays a few KB). */
  output?: unknown;
}

export interface ExecutionHistory {
  readonly name: string;
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly dataset: string;
  readonly partition: string;
  readonly trigger: RunInput['trigger'];
  status: ExecutionStatus;
  readonly startedAt: string;
  stoppedAt?: string;
  durationMs?: number;
  readonly input: RunInput;
  output?: unknown;
  error?: string;
  cause?: string;
  readonly states: StateVisit[];
}

export class ExecutionHistoryStore {
  constructor(readonly dir: string) {}

  save(history: ExecutionHistory): void {
    mkdirSync(this.dir, { recursive: true });
    const file = join(this.dir, `${history.name}.json`);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(history, null, 2));
    renameSync(tmp, file);
  }

  get(name: string): ExecutionHistory | undefined {
    try {
      return JSON.parse(readFileSync(join(this.dir, `${name}.json`), 'utf8')) as ExecutionHistory;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** Every execution, newest first. */
  list(): ExecutionHistory[] {
    let files: string[];
    try {
      files = readdirSync(this.dir).filter((f) => f.endsWith('.json'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    return files
      .map((f) => JSON.parse(readFileSync(join(this.dir, f), 'utf8')) as ExecutionHistory)
      .sort((a, b) => b.startedAt.localeCompare(a.startedAt) || b.name.localeCompare(a.name));
  }
}

export interface StageReport {
  readonly stage: string;
  readonly durationMs: number | undefined;
  readonly recordsIn: number;
  readonly recordsOut: number;
  readonly recordsQuarantined: number;
  readonly partitionsCreated: number;
  readonly partitionsUpdated: number;
  readonly verdict: string;
}

/** The stages an execution recorded (its *Record <stage> results* outputs), in stage order. */
export function stageReports(history: ExecutionHistory): StageReport[] {
  let results: Partial<Record<string, StageResult>> = {};
  for (const visit of history.states) {
    const out = visit.output as { results?: Partial<Record<string, StageResult>> } | undefined;
    if (out?.results && Object.keys(out.results).length >= Object.keys(results).length) results = out.results;
  }
  const jobDuration = (stage: string) =>
    history.states.find(
      (s) => s.type === 'Task' && s.name.toLowerCase().includes(stage) && /glue|job|run/i.test(s.name),
    )?.durationMs;
  return (['bronze', 'silver', 'gold'] as const).flatMap((stage) => {
    const r = results[stage];
    if (!r) return [];
    return [
      {
        stage,
        durationMs: jobDuration(stage) ?? Math.round(r.durationSeconds * 1000),
        recordsIn: r.recordsIn,
        recordsOut: r.recordsOut,
        recordsQuarantined: r.recordsQuarantined,
        partitionsCreated: r.partitions.created,
        partitionsUpdated: r.partitions.updated,
        verdict: r.quarantine.verdict,
      },
    ];
  });
}
