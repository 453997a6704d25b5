import { goldWindowArgument } from '../domain/gold-window';
import type { Registry, Stage } from '../domain/datasets';
import { glueArguments } from '../domain/glue-args';
import {
  followUpRunInput,
  leaseTtlMs,
  listsEveryVersion,
  partitionKeyOf,
  remainingFollowUp,
} from '../domain/lease';
import { InvalidRunInputError, LeaseContentionError, PartitionBusyError } from '../domain/pipeline-errors';
import type { JobRunSummary, RunPlan, StagePlan, StageResult } from '../domain/pipeline';
import type { RunInput } from '../domain/run';
import { parseRunInput, runPartitionOf } from '../domain/run-input';
import { settleWaitSeconds } from '../domain/settle';
import { splitByRead, type SourceFile } from '../domain/source-files';
import { describeError } from '../domain/errors';
import type {
  ExecutionStatusReader,
  FollowUpRequest,
  Log,
  ManifestStore,
  PartitionLeases,
  RunStarter,
} from '../ports';
import { takePartitionLease } from './partition-lease';
import { readManifest } from './record-stage';
import { freeRunSlot, handOverRunSlot, type ExecutionBudget } from './run-slots';

/**
 * The two ends of a run: "Take partition lease" (prepare) and "Release partition lease" (finish).
 * Between them no other run of the partition runs a stage; objects landing meanwhile wait for one
 * follow-up run, which `finishRun` starts and hands the lease to.
 */

export interface PrepareRunInput {
  /** `$$.Execution.Name`: the run id. */
  readonly executionName: string;
  /** `$$.StateMachine.Id`: where the lease holder's execution is looked up. */
  readonly stateMachineArn?: string;
  /** The execution input (`$`). */
  readonly input: RunInput;
}

/** The state after "Take partition lease": the input plus the plan and empty slots to fill. */
export type PreparedState = RunInput & {
  readonly run: RunPlan;
  readonly jobRuns: Partial<Record<Stage, JobRunSummary>>;
  readonly results: Partial<Record<Stage, StageResult>>;
};

export interface PrepareRunDeps {
  readonly registry: Registry;
  readonly leases: PartitionLeases;
  /**
   * Statuses of runs: a lease held by a run that ended or never started is taken over at once
   * (without it, only an expired lease is).
   */
  readonly executions?: ExecutionStatusReader;
  /** `s3://bucket/` on AWS, `file:///abs/lake/` locally. */
  readonly lakeRoot: string;
  /** Folder URI of the compiled dataset plans: `<plansLocation><dataset>.json`. */
  readonly plansLocation: string;
  readonly log: Log;
  readonly now?: () => Date;
}

const withSlash = (s: string) => (s.endsWith('/') ? s : `${s}/`);

export async function prepareRun(raw: PrepareRunInput, deps: PrepareRunDeps): Promise<PreparedState> {
  if (typeof raw?.executionName !== 'string' || raw.executionName === '')
    throw new InvalidRunInputError('Invalid prepare-run event: executionName: missing');
  const input = parseRunInput(raw.input, deps.registry);
  const now = (deps.now ?? (() => new Date()))();
  const dataset = deps.registry.get(input.dataset);
  const partitionKey = partitionKeyOf(dataset.name, input.partitionPath);
  const ttl = leaseTtlMs(deps.registry.datasets);
  const outcome = deps.executions
    ? await takePartitionLease(
        { leases: deps.leases, executions: deps.executions, log: deps.log, now: () => now },
        partitionKey,
        raw.executionName,
        ttl,
      )
    : await deps.leases
        .acquireLease(partitionKey, raw.executionName, now, ttl)
        .then((o) => ({ kind: o.acquired ? ('acquired' as const) : ('busy' as const), lease: o.lease }));
  if (outcome.kind !== 'acquired') {
    const lease = 'lease' in outcome ? outcome.lease : undefined;
    deps.log.warn('Partition is leased by another run; retrying later', {
      partition: partitionKey,
      holder: lease?.holder,
      until: lease?.expiresAt,
    });
    throw new PartitionBusyError(partitionKey, lease?.holder ?? 'unknown', lease?.expiresAt ?? 'unknown');
  }
  const jobFor = (stage: Stage): StagePlan => {
    const args = glueArguments({
      lakeRoot: deps.lakeRoot,
      planLocation: `${withSlash(deps.plansLocation)}${dataset.name}.json`,
      dataset: dataset.name,
      catalogDatabase: dataset.catalog.database,
      landingPrefix: dataset.landing.prefix,
      stage,
      runId: raw.executionName,
      partitionPath: input.partitionPath,
      partitionValues: input.partitionValues,
      ...(stage === 'gold'
        ? {
            goldWindow: goldWindowArgument(dataset, {
              path: input.partitionPath,
              values: input.partitionValues,
            }),
          }
        : {}),
    });
    return {
      jobName: dataset.stages[stage].glueJob,
      timeoutMinutes: dataset.stages[stage].timeoutMinutes,
      // The contract's arguments win over a dataset's extra arguments of the same name.
      arguments: { ...dataset.stages[stage].arguments, ...args },
      manifestLocation: args['--manifest_location'] ?? '',
    };
  };
  deps.log.info('Took partition lease', {
    partition: partitionKey,
    runId: raw.executionName,
    until: outcome.lease.expiresAt,
  });
  return {
    dataset: input.dataset,
    partition: input.partition,
    partitionValues: input.partitionValues,
    partitionPath: input.partitionPath,
    trigger: input.trigger,
    fromStage: input.fromStage,
    requestedAt: input.requestedAt,
    objects: input.objects,
    run: {
      runId: raw.executionName,
      fromStage: input.fromStage,
      partitionKey,
      leaseExpiresAt: outcome.lease.expiresAt,
      settleSeconds: settleWaitSeconds(dataset.trigger.settleSeconds, input, now),
      jobs: { bronze: jobFor('bronze'), silver: jobFor('silver'), gold: jobFor('gold') },
    },
    jobRuns: {},
    results: {},
  };
}

export interface FinishRunInput {
  readonly executionName: string;
  readonly dataset: string;
  readonly partition: RunInput['partition'];
  readonly partitionValues: readonly string[];
  readonly partitionPath: string;
  /** How the run ended. */
  readonly outcome: 'succeeded' | 'failed';
  /**
   * Where the run's bronze job wrote its manifest (the success path passes
   * `$.run.jobs.bronze.manifestLocation`): objects deferred during the run that its bronze listed need
   * no follow-up run. Absent (the failure path, EventBridge): every deferred object gets its follow-up.
   */
  readonly bronzeManifest?: string;
}

/**
 * What finish-run is called with, from both ends of the state machine and from EventBridge alike:
 * the execution and its input (`$$.Execution.Input`, never the state, which the failure path cannot
 * trust). The input is read with the rules prepare-run validated it with.
 */
export interface FinishExecution {
  readonly executionName: string;
  readonly stateMachineArn: string;
  readonly outcome: 'succeeded' | 'failed';
  readonly input: unknown;
  /** See FinishRunInput.bronzeManifest. */
  readonly bronzeManifest?: string;
}

/**
 * EventBridge "Step Functions Execution Status Change" for an execution that ended FAILED, ABORTED
 * or TIMED_OUT: routed to finish-run so its lease is released (or handed to the follow-up run) even
 * when the execution could not release it itself (stopped from outside, or finish-run was down).
 */
export interface ExecutionStatusChange {
  readonly 'detail-type': 'Step Functions Execution Status Change';
  readonly detail: {
    readonly executionArn?: string;
    readonly name: string;
    readonly stateMachineArn: string;
    readonly status: string;
    readonly input?: string | null;
    /** The execution's error and cause (FAILED, TIMED_OUT, ABORTED); the cause is at most 32,768 characters. */
    readonly error?: string | null;
    readonly cause?: string | null;
  };
}

export const isExecutionStatusChange = (event: unknown): event is ExecutionStatusChange =>
  typeof event === 'object' &&
  event !== null &&
  (event as Record<string, unknown>)['detail-type'] === 'Step Functions Execution Status Change';

/** The finish-run call of an ended execution, from its status-change event. */
export function finishExecutionOf(event: FinishExecution | ExecutionStatusChange): FinishExecution {
  if (!isExecutionStatusChange(event)) return event;
  const { name, stateMachineArn, status, input } = event.detail;
  let parsed: unknown;
  try {
    parsed = JSON.parse(input ?? 'null');
  } catch {
    parsed = input;
  }
  return {
    executionName: name,
    stateMachineArn,
    outcome: status === 'SUCCEEDED' ? 'succeeded' : 'failed',
    input: parsed,
  };
}

export interface FinishRunResult {
  /** `handed-over`: objects landed during the run and the lease went to their follow-up run. */
  readonly lease: 'released' | 'handed-over' | 'not-held';
  readonly followUp: {
    readonly executionName: string;
    readonly objects: number;
    readonly outcome: string;
  } | null;
  /** Objects deferred during the run that its bronze read: now this run's, no follow-up run for them. */
  readonly deferredRead: number;
  /** Runs that waited for an execution slot, started with the slot this run freed (or a free one). */
  readonly waitingStarted?: string[];
  /** Waiting runs whose start failed: they keep waiting (and their slot) for the next dispatch. */
  readonly waitingStartFailed?: string[];
}

export interface FinishRunDeps {
  readonly registry: Registry;
  readonly leases: PartitionLeases;
  readonly starter: RunStarter;
  /** Reads the run's bronze manifest (S3 / the lake folder); without it every deferred object gets its follow-up. */
  readonly manifests?: ManifestStore;
  /**
   * The bound on executions in flight: the run's slot is handed to its follow-up run, or released
   * (shared/core/run-slots.ts).
   */
  readonly executionBudget?: ExecutionBudget;
  readonly log: Log;
  readonly now?: () => Date;
}

/**
 * Hand-over races (an object deferred between read and release) are settled in a few rounds; settling
 * what the run read takes one more.
 */
const FINISH_ROUNDS = 8;

/**
 * finish-run: releases the lease of an ended execution. Idempotent — a second call (the state
 * machine's, then EventBridge's) finds the lease released or handed over and changes nothing. An
 * input that names no partition of a known dataset never took a lease: nothing to release.
 */
export async function finishExecution(call: FinishExecution, deps: FinishRunDeps): Promise<FinishRunResult> {
  const result = await releasePartition(call, deps);
  // Last: the execution's slot (if finishRun did not hand it to a follow-up run) goes to the oldest
  // run waiting for one, or is released. Whatever became of the lease, and for an input that names no
  // partition too: every ended execution frees its slot.
  if (deps.executionBudget) {
    const freed = await freeRunSlot(
      {
        ...deps.executionBudget,
        starter: deps.starter,
        log: deps.log,
        ttlMs: leaseTtlMs(deps.registry.datasets),
        ...(deps.now ? { now: deps.now } : {}),
      },
      call.executionName,
    );
    if (freed.handedOver || freed.released)
      deps.log.info(freed.handedOver ? 'Handed execution slot to a waiting run' : 'Released execution slot', {
        runId: call.executionName,
        outcome: call.outcome,
        ...(freed.started.length > 0 ? { started: freed.started } : {}),
      });
    if (freed.started.length > 0 || freed.failed.length > 0)
      return {
        ...result,
        waitingStarted: freed.started,
        ...(freed.failed.length > 0 ? { waitingStartFailed: freed.failed } : {}),
      };
  }
  return result;
}

async function releasePartition(call: FinishExecution, deps: FinishRunDeps): Promise<FinishRunResult> {
  const where = runPartitionOf(call.input, deps.registry);
  if (!where.ok) {
    deps.log.warn('Execution input names no partition: no lease to release', {
      runId: call.executionName,
      outcome: call.outcome,
      problems: where.problems,
    });
    return { lease: 'not-held', followUp: null, deferredRead: 0 };
  }
  return finishRun(
    {
      executionName: call.executionName,
      outcome: call.outcome,
      ...where.input,
      ...(typeof call.bronzeManifest === 'string' && call.bronzeManifest !== ''
        ? { bronzeManifest: call.bronzeManifest }
        : {}),
    },
    deps,
  );
}

export async function finishRun(input: FinishRunInput, deps: FinishRunDeps): Promise<FinishRunResult> {
  const now = deps.now ?? (() => new Date());
  const dataset = deps.registry.get(input.dataset);
  const partitionKey = partitionKeyOf(dataset.name, input.partitionPath);
  const me = input.executionName;
  const context = { partition: partitionKey, runId: me, outcome: input.outcome };
  let deferredRead = 0;
  // The run's source files: read once, on the first follow-up request there is to compare.
  let sources: Promise<SourceFile[] | undefined> | undefined;
  for (let round = 0; round < FINISH_ROUNDS; round++) {
    const lease = await deps.leases.readLease(partitionKey);
    if (!lease || lease.holder !== me) {
      deps.log.warn('Partition lease not held by this run at its end', { ...context, holder: lease?.holder });
      return { lease: 'not-held', followUp: null, deferredRead };
    }
    if (lease.followUp) {
      const followUp = lease.followUp;
      if (
        input.outcome === 'succeeded' &&
        input.bronzeManifest &&
        deps.manifests &&
        listsEveryVersion(followUp)
      ) {
        sources ??= sourceFilesOf(input, deps, deps.manifests, input.bronzeManifest);
        const settled = await settleRead(followUp, await sources, partitionKey, me, deps, now);
        if (settled !== undefined) {
          deferredRead += settled;
          // The request changed (or changed under us): read the lease again.
          continue;
        }
      }
      // Its slot first (the follow-up inherits this run's), then start, then hand the lease over: a
      // retry after a crash in between finds the slot held by the follow-up, starts the same name
      // again (refused as already started) and completes the hand-over.
      const slot = deps.executionBudget
        ? await handOverRunSlot({ ...deps.executionBudget, log: deps.log, now }, me, followUp.executionName)
        : undefined;
      const started = await deps.starter.start({
        name: followUp.executionName,
        input: followUpRunInput(input, followUp),
      });
      if (
        await deps.leases.handOverLease(
          partitionKey,
          me,
          followUp.executionName,
          now(),
          leaseTtlMs(deps.registry.datasets),
        )
      ) {
        deps.log.info('Handed partition lease to the follow-up run', {
          ...context,
          followUp: followUp.executionName,
          objects: followUp.objects.count,
          start: started.outcome,
          ...(slot ? { slot } : {}),
          deferredRead,
        });
        return {
          lease: 'handed-over',
          followUp: {
            executionName: followUp.executionName,
            objects: followUp.objects.count,
            outcome: started.outcome,
          },
          deferredRead,
        };
      }
      continue;
    }
    const released = await deps.leases.releaseLease(partitionKey, me);
    if (released === 'released') {
      deps.log.info('Released partition lease', { ...context, deferredRead });
      return { lease: 'released', followUp: null, deferredRead };
    }
    if (released === 'not-held') return { lease: 'not-held', followUp: null, deferredRead };
  }
  throw new LeaseContentionError(`Could not release the lease of ${partitionKey}: it kept changing`);
}

/**
 * The source files the run's bronze listed, or undefined when they cannot be known (no manifest: the
 * run started after bronze, or its manifest is unreadable): then every deferred object gets its
 * follow-up run, as a doubt only ever costs a run.
 */
async function sourceFilesOf(
  input: FinishRunInput,
  deps: FinishRunDeps,
  manifests: ManifestStore,
  location: string,
): Promise<SourceFile[] | undefined> {
  try {
    const manifest = await readManifest(manifests, location, {
      dataset: input.dataset,
      stage: 'bronze',
      runId: input.executionName,
    });
    if (!manifest.sourceFiles) throw new Error(`${location} lists no sourceFiles`);
    return manifest.sourceFiles;
  } catch (error) {
    const { name, message } = describeError(error);
    deps.log.warn(
      "The run's bronze source files are unknown: its follow-up run reads every deferred object",
      {
        runId: input.executionName,
        manifest: location,
        error: name,
        reason: message,
      },
    );
    return undefined;
  }
}

/**
 * Deferred objects the run read become its own (ledger `started` by it) and leave the follow-up
 * request (removed when none is left). Entries first, request last: a crash in between leaves the
 * request listing objects already settled, which a retry settles again (idempotent). Returns how many
 * left the request, or undefined when there is nothing to settle (start the follow-up as it is).
 */
async function settleRead(
  followUp: FollowUpRequest & { versions: NonNullable<FollowUpRequest['versions']> },
  sources: readonly SourceFile[] | undefined,
  partitionKey: string,
  me: string,
  deps: FinishRunDeps,
  now: () => Date,
): Promise<number | undefined> {
  if (!sources) return undefined;
  const { read } = splitByRead(followUp.versions, sources);
  if (read.length === 0) return undefined;
  const marked = new Set(
    await deps.leases.markRead({
      partitionKey,
      objectIds: read.map((v) => v.objectId),
      followUpName: followUp.executionName,
      holder: me,
      now: now(),
    }),
  );
  if (marked.size === 0) return undefined;
  const remaining = followUp.versions.filter((v) => !marked.has(v.objectId));
  const next = remainingFollowUp(followUp, remaining);
  if (!(await deps.leases.replaceFollowUp({ partitionKey, holder: me, previous: followUp, next }))) return 0;
  deps.log.info('Objects deferred during the run were read by it: no follow-up run for them', {
    partition: partitionKey,
    runId: me,
    read: marked.size,
    followUp: next ? followUp.executionName : null,
    left: remaining.length,
  });
  return marked.size;
}
