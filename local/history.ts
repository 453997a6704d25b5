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

/** Why an execution failed, as a person reads it. */
export interface Failure {
  /** The error class: a failed Glue job's own (`MalformedLandingFileError`), not `States.TaskFailed`. */
  readonly errorClass: string;
  /** The Step Functions error as raised (`States.TaskFailed`, `InvalidManifestError`...). */
  readonly error: string;
  /** The cause in words: a Glue JobRun's ErrorMessage, a Lambda's errorMessage, else the raw cause. */
  readonly cause: string | undefined;
}

/**
 * The failure of an execution (undefined when none): its own error and cause, else the first failed
 * state's. A cause is JSON when Step Functions wraps it (the JobRun of a failed `.sync` Glue Task,
 * a Lambda's error object); its message is what a person needs, and a Glue message that starts with a
 * class name (`JobInputError: ...`) names the class.
 */
export function failureOf(h: ExecutionHistory): Failure | undefined {
  const failed = h.states.find((s) => s.error !== undefined);
  const error = h.error ?? failed?.error;
  if (error === undefined) return undefined;
  const raw = h.cause ?? failed?.cause;
  let message: string | undefined = raw;
  let errorClass = error;
  try {
    const c = JSON.parse(raw ?? '') as {
      ErrorMessage?: unknown;
      errorMessage?: unknown;
      errorType?: unknown;
    };
    if (typeof c.ErrorMessage === 'string') message = c.ErrorMessage;
    else if (typeof c.errorMessage === 'string') message = c.errorMessage;
    if (typeof c.errorType === 'string') errorClass = c.errorType;
  } catch {
    // not JSON: the cause is already words
  }
  const named = /^([A-Z][A-Za-z0-9]*(?:Error|Exception))\b/.exec(message ?? '');
  if (error === 'States.TaskFailed' && named?.[1]) errorClass = named[1];
  return { errorClass, error, cause: message };
}

/** Landed files the run skipped (empty files, named by bronze with the reason), as recorded. */
export function skippedFilesOf(
  h: ExecutionHistory,
): ReadonlyArray<{ readonly file: string; readonly reason: string }> {
  for (const visit of [...h.states].reverse()) {
    const out = visit.output as { results?: Partial<Record<string, StageResult>> } | undefined;
    const skipped = out?.results?.['bronze']?.skippedFiles;
    if (skipped) return skipped.sample;
  }
  return [];
}
