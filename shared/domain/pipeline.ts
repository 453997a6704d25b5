import type { Stage } from './datasets';
import type { SchemaDriftJudgement } from './schema-drift';
import type { QuarantineJudgement } from './quarantine';
import type { RunInput } from './run';

/**
 * The data that flows through one execution of state-machines/medallion-pipeline.asl.json: the
 * execution input (RunInput), then what each state adds. Every part is bounded (no lists that grow
 * with the data), so the state stays a few KB, far below Step Functions' 256 KB.
 */

/** One stage's Glue job run, as the state machine passes it on (ResultSelector of the Glue task). */
export interface JobRunSummary {
  readonly Id: string;
  readonly JobName: string;
  readonly JobRunState: string;
}

/** How one stage's job is started: the Glue task's JobName, Arguments and Timeout. */
export interface StagePlan {
  readonly jobName: string;
  readonly timeoutMinutes: number;
  /** Glue job arguments (shared/domain/glue-args.ts) plus the dataset's extra arguments. */
  readonly arguments: Readonly<Record<string, string>>;
  readonly manifestLocation: string;
}

/** What "Take partition lease" adds at `$.run`. */
export interface RunPlan {
  readonly runId: string;
  readonly fromStage: Stage;
  readonly partitionKey: string;
  readonly leaseExpiresAt: string;
  /** Seconds the run waits before bronze reads (the dataset's settle window; shared/domain/settle.ts). */
  readonly settleSeconds: number;
  readonly jobs: Readonly<Record<Stage, StagePlan>>;
}

/** What "Record <stage> results" adds at `$.results.<stage>`. */
export interface StageResult {
  readonly stage: Stage;
  readonly jobName: string;
  readonly jobRunId: string;
  readonly durationSeconds: number;
  readonly recordsIn: number;
  readonly recordsOut: number;
  readonly recordsQuarantined: number;
  readonly quarantineRatio: number;
  readonly quarantineLocation: string | null;
  /** Catalog registration: counts, and the first few partitions (bounded). */
  readonly partitions: {
    readonly created: number;
    readonly updated: number;
    readonly sample: ReadonlyArray<{ readonly table: string; readonly values: readonly string[] }>;
  };
  readonly quarantine: QuarantineJudgement;
  /** Landed files the stage skipped (bronze: empty files): how many, and the first few (bronze only). */
  readonly skippedFiles?: {
    readonly count: number;
    readonly sample: ReadonlyArray<{ readonly file: string; readonly reason: string }>;
  };
  /** Bronze: the schema drift of the run's landed files (shared/domain/schema-drift.ts). */
  readonly schemaDrift?: SchemaDriftJudgement;
}

/** `$.error` after a Catch: Step Functions' error output. */
export interface CaughtError {
  readonly Error: string;
  readonly Cause?: string;
}

/** The state as the failure path and the notify function see it. */
export interface PipelineState extends RunInput {
  readonly run?: RunPlan;
  readonly jobRuns?: Partial<Record<Stage, JobRunSummary>>;
  readonly results?: Partial<Record<Stage, StageResult>>;
  readonly error?: CaughtError;
  /** Release partition lease (success path): finish-run's result. */
  readonly finish?: { readonly lease: string; readonly followUp: { readonly executionName: string } | null };
  /**
   * Release partition lease after failure: finish-run's payload kept whole (`$.release.Payload`, so an
   * off-contract one cannot raise States.Runtime before the page; read it with `releaseOutcome`), or
   * the error that stopped it.
   */
  readonly release?: { readonly Payload?: unknown };
  readonly releaseError?: CaughtError;
}

/** What became of the lease on the failure path, as the page says it. */
export type ReleaseOutcome =
  | { readonly lease: 'released' | 'not-held' }
  | { readonly lease: 'handed-over'; readonly followUp: string }
  | { readonly lease: 'unknown'; readonly returned: string };

/** finish-run's payload on the failure path, checked: an off-contract one is `unknown`, with what it returned. */
export function releaseOutcome(state: Pick<PipelineState, 'release'>): ReleaseOutcome | undefined {
  if (!state.release) return undefined;
  const payload = state.release.Payload as
    { lease?: unknown; followUp?: { executionName?: unknown } | null } | null | undefined;
  const lease = payload?.lease;
  if (lease === 'handed-over' && typeof payload?.followUp?.executionName === 'string')
    return { lease, followUp: payload.followUp.executionName };
  if (lease === 'released' || lease === 'not-held') return { lease };
  const returned = JSON.stringify(payload ?? null);
  return { lease: 'unknown', returned: returned.length > 200 ? `${returned.slice(0, 197)}...` : returned };
}

/** The Step Functions context the notify function needs to link back to the execution. */
export interface ExecutionContext {
  /** Execution ARN (`$$.Execution.Id`). */
  readonly id: string;
  readonly name: string;
  /** State machine ARN (`$$.StateMachine.Id`). */
  readonly stateMachineArn: string;
}

/** Partitions listed in a stage result's sample. */
export const PARTITION_SAMPLE = 5;

/**
 * Where a failure happened: the first stage from `fromStage` on that has no recorded result (the
 * state machine records each stage before starting the next); `prepare` before the plan exists;
 * `finish` when every stage was recorded (releasing the lease failed).
 */
export function failedStage(state: PipelineState): Stage | 'prepare' | 'finish' {
  if (!state.run) return 'prepare';
  const order: Stage[] = ['bronze', 'silver', 'gold'];
  const from = order.indexOf(state.run.fromStage);
  for (const stage of order.slice(from < 0 ? 0 : from)) {
    if (!state.results?.[stage]) return stage;
  }
  return 'finish';
}

/**
 * The state as the notify function may really receive it: an execution started by hand with a bad
 * input still deserves a readable page, so missing fields get visible placeholders.
 */
export function normalizeState(state: Partial<PipelineState> | undefined): PipelineState {
  const s = state ?? {};
  const objects = s.objects;
  return {
    ...s,
    dataset: typeof s.dataset === 'string' && s.dataset !== '' ? s.dataset : 'unknown-dataset',
    partition: s.partition ?? {},
    partitionValues: Array.isArray(s.partitionValues) ? s.partitionValues : [],
    partitionPath:
      typeof s.partitionPath === 'string' && s.partitionPath !== '' ? s.partitionPath : 'unknown-partition',
    trigger: s.trigger ?? 'landing',
    fromStage: s.fromStage ?? 'bronze',
    requestedAt: s.requestedAt ?? 'unknown',
    objects: {
      count: objects?.count ?? 0,
      bytes: objects?.bytes ?? 0,
      firstLandedAt: objects?.firstLandedAt ?? null,
      lastLandedAt: objects?.lastLandedAt ?? null,
      inline: objects?.inline ?? [],
      notListed: objects?.notListed ?? 0,
    },
  };
}
