import type { Registry, Stage } from '../domain/datasets';
import { STAGES } from '../domain/datasets';
import { glueArguments } from '../domain/glue-args';
import { followUpRunInput, leaseTtlMs, partitionKeyOf } from '../domain/lease';
import { InvalidRunInputError, LeaseContentionError, PartitionBusyError } from '../domain/pipeline-errors';
import type { JobRunSummary, RunPlan, StagePlan, StageResult } from '../domain/pipeline';
import type { RunInput } from '../domain/run';
import type { ExecutionStatusReader, Log, PartitionLeases, RunStarter } from '../ports';
import { takePartitionLease } from './partition-lease';

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

function checkInput(raw: PrepareRunInput, registry: Registry): RunInput {
  const problems: string[] = [];
  const input = raw?.input as Partial<RunInput> | undefined;
  if (typeof raw?.executionName !== 'string' || raw.executionName === '')
    problems.push('executionName: missing');
  if (!input || typeof input !== 'object')
    throw new InvalidRunInputError('execution input: missing or not an object');
  if (typeof input.dataset !== 'string') problems.push('dataset: missing');
  if (typeof input.partitionPath !== 'string') problems.push('partitionPath: missing');
  if (!Array.isArray(input.partitionValues)) problems.push('partitionValues: missing');
  if (!STAGES.includes(input.fromStage as Stage))
    problems.push(`fromStage: must be one of ${STAGES.join(', ')}`);
  if (problems.length > 0) throw new InvalidRunInputError(`Invalid execution input: ${problems.join('; ')}`);
  const dataset = registry.get(input.dataset as string);
  const expectedPath = dataset.partitionKeys
    .map((k, i) => `${k.name}=${(input.partitionValues as string[])[i] ?? ''}`)
    .join('/');
  if (
    input.partitionValues?.length !== dataset.partitionKeys.length ||
    expectedPath !== input.partitionPath
  ) {
    throw new InvalidRunInputError(
      `Invalid execution input: partitionPath "${input.partitionPath}" and partitionValues ${JSON.stringify(input.partitionValues)} ` +
        `do not describe a partition of dataset "${dataset.name}" (${dataset.partitionKeys.map((k) => k.name).join('/')})`,
    );
  }
  return input as RunInput;
}

export async function prepareRun(raw: PrepareRunInput, deps: PrepareRunDeps): Promise<PreparedState> {
  const input = checkInput(raw, deps.registry);
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
      landingPrefix: dataset.landing.prefix,
      stage,
      runId: raw.executionName,
      partitionPath: input.partitionPath,
      partitionValues: input.partitionValues,
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
  /** How the run ended (for the log). */
  readonly outcome: 'succeeded' | 'failed';
}

/**
 * EventBridge "Step Functions Execution Status Change" for an execution that ended without running
 * its last state (ABORTED by an operator, TIMED_OUT): routed to finish-run so its lease is released
 * (or handed to the follow-up run) at once instead of when it expires.
 */
export interface ExecutionStatusChange {
  readonly 'detail-type': 'Step Functions Execution Status Change';
  readonly detail: {
    readonly name: string;
    readonly stateMachineArn: string;
    readonly status: string;
    readonly input?: string | null;
  };
}

export const isExecutionStatusChange = (event: unknown): event is ExecutionStatusChange =>
  typeof event === 'object' &&
  event !== null &&
  (event as Record<string, unknown>)['detail-type'] === 'Step Functions Execution Status Change';

/** The finish-run input of an ended execution, from its status-change event. */
export function finishInputOf(event: ExecutionStatusChange): FinishRunInput & { stateMachineArn: string } {
  const { name, stateMachineArn, status, input } = event.detail;
  let run: Partial<RunInput> = {};
  try {
    run = JSON.parse(input ?? '{}') as Partial<RunInput>;
  } catch (error) {
    throw new InvalidRunInputError(`Execution ${name} (${status}): its input is not JSON`, { cause: error });
  }
  if (
    typeof run.dataset !== 'string' ||
    typeof run.partitionPath !== 'string' ||
    !Array.isArray(run.partitionValues)
  ) {
    throw new InvalidRunInputError(
      `Execution ${name} (${status}): its input names no dataset partition (dataset, partitionPath, partitionValues)`,
    );
  }
  return {
    executionName: name,
    stateMachineArn,
    dataset: run.dataset,
    partition: run.partition ?? {},
    partitionValues: run.partitionValues,
    partitionPath: run.partitionPath,
    outcome: status === 'SUCCEEDED' ? 'succeeded' : 'failed',
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
}

export interface FinishRunDeps {
  readonly registry: Registry;
  readonly leases: PartitionLeases;
  readonly starter: RunStarter;
  readonly log: Log;
  readonly now?: () => Date;
}

/** Hand-over races (an object deferred between read and release) are settled in a few rounds. */
const FINISH_ROUNDS = 5;

export async function finishRun(input: FinishRunInput, deps: FinishRunDeps): Promise<FinishRunResult> {
  const now = deps.now ?? (() => new Date());
  const dataset = deps.registry.get(input.dataset);
  const partitionKey = partitionKeyOf(dataset.name, input.partitionPath);
  const me = input.executionName;
  const context = { partition: partitionKey, runId: me, outcome: input.outcome };
  for (let round = 0; round < FINISH_ROUNDS; round++) {
    const lease = await deps.leases.readLease(partitionKey);
    if (!lease || lease.holder !== me) {
      deps.log.warn('Partition lease not held by this run at its end', { ...context, holder: lease?.holder });
      return { lease: 'not-held', followUp: null };
    }
    if (lease.followUp) {
      const followUp = lease.followUp;
      // Start first, then hand over: a retry after a crash in between starts the same name again
      // (refused as already started) and completes the hand-over.
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
        });
        return {
          lease: 'handed-over',
          followUp: {
            executionName: followUp.executionName,
            objects: followUp.objects.count,
            outcome: started.outcome,
          },
        };
      }
      continue;
    }
    const released = await deps.leases.releaseLease(partitionKey, me);
    if (released === 'released') {
      deps.log.info('Released partition lease', context);
      return { lease: 'released', followUp: null };
    }
    if (released === 'not-held') return { lease: 'not-held', followUp: null };
  }
  throw new LeaseContentionError(`Could not release the lease of ${partitionKey}: it kept changing`);
}
