import type { Stage } from './datasets';
import { GLUE_AMBIGUOUS_ERRORS, PIPELINE_ERRORS } from './error-names';
import { failedStage, releaseOutcome, type ExecutionContext, type PipelineState } from './pipeline';
import { percent, type QuarantineJudgement } from './quarantine';
import { describeFileDrift } from './schema-drift';
import type { Alert, AlertKind, AlertSeverity } from './alert';

/**
 * The text of every page on-call receives: one renderer for run failures and quarantine spikes.
 * The subject fits SNS (< 100 ASCII characters, no line breaks) and names severity, dataset,
 * partition and stage; the body says what failed, why, where to look, and how to replay.
 */

/** SNS: subject < 100 characters. */
export const SUBJECT_MAX = 99;
/** SNS: message ≤ 262,144 bytes including attributes; keep a margin for them. */
export const BODY_MAX_BYTES = 256 * 1024 - 6 * 1024;
/** Characters of a failure's cause kept in the body (head and tail). */
export const CAUSE_MAX_CHARS = 3000;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]+/g;

/** One line of printable ASCII (SNS subjects allow nothing else). */
export const subjectSafe = (s: string): string =>
  s
    .replace(CONTROL, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .replace(/\s+/g, ' ')
    .trim();

const ellipsize = (s: string, max: number): string =>
  s.length <= max ? s : `${s.slice(0, Math.max(0, max - 3))}...`;

/** Keeps the head and the tail of a long text (stack traces end with the interesting frame). */
export function trimMiddle(text: string, max: number = CAUSE_MAX_CHARS): string {
  if (text.length <= max) return text;
  const tail = Math.floor(max / 4);
  const head = max - tail;
  return `${text.slice(0, head)}\n... [${text.length - head - tail} characters trimmed] ...\n${text.slice(-tail)}`;
}

/** Cuts a text to at most `maxBytes` UTF-8 bytes without splitting a character. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  const marker = '\n... [message truncated to fit SNS limits]';
  let cut = Buffer.from(text)
    .subarray(0, maxBytes - Buffer.byteLength(marker))
    .toString('utf8');
  cut = cut.replace(/\uFFFD$/, '');
  return cut + marker;
}

export interface ParsedCause {
  readonly message: string;
  /** The Lambda error type, when the cause is a Lambda error payload. */
  readonly errorType?: string;
  /** The Glue JobRun, when a `.sync` Glue task failed (its Cause is the JobRun JSON). */
  readonly glueRun?: { readonly id?: string; readonly jobName?: string; readonly state?: string };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** A JSON string field of a text that may have been cut anywhere (an unterminated value is kept). */
function jsonField(text: string, field: string): string | undefined {
  const m = new RegExp(`"${field}"\\s*:\\s*"((?:[^"\\\\]|\\\\.)*)("|\\\\?$)`).exec(text);
  if (!m) return undefined;
  try {
    return str(JSON.parse(`"${m[1] ?? ''}"`));
  } catch {
    return str(m[1]);
  }
}

/** Step Functions cuts an error cause at this many characters (AWS-FACTS). */
export const STATES_CAUSE_MAX = 32_768;

/**
 * Understands the causes Step Functions produces: Lambda error JSON, Glue JobRun JSON, plain text —
 * also when Step Functions cut them (at 32,768 characters), which leaves JSON that does not parse:
 * the fields still present are read one by one.
 */
export function parseCause(cause: string | undefined): ParsedCause {
  if (!cause) return { message: '(no cause given)' };
  let json: unknown;
  try {
    json = JSON.parse(cause);
  } catch {
    if (!cause.trimStart().startsWith('{')) return { message: cause };
    return fromFields((field) => jsonField(cause, field), cause, true);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) return { message: cause };
  const o = json as Record<string, unknown>;
  return fromFields((field) => str(o[field]), cause, false);
}

function fromFields(get: (field: string) => string | undefined, cause: string, cut: boolean): ParsedCause {
  const note = cut ? ` [cause cut at ${cause.length} characters]` : '';
  const errorMessage = get('errorMessage');
  if (errorMessage !== undefined) {
    const errorType = get('errorType');
    return { message: errorMessage + note, ...(errorType ? { errorType } : {}) };
  }
  const id = get('Id');
  const jobName = get('JobName');
  const state = get('JobRunState');
  if (id || jobName || state || get('ErrorMessage')) {
    return {
      message: (get('ErrorMessage') ?? `Glue job run ended ${state ?? 'without success'}`) + note,
      glueRun: { ...(id ? { id } : {}), ...(jobName ? { jobName } : {}), ...(state ? { state } : {}) },
    };
  }
  return { message: cause };
}

const regionOf = (arn: string): string => arn.split(':')[3] || 'us-east-1';

export function consoleLinks(executionArn: string, glue?: { jobName: string; runId: string }) {
  const r = regionOf(executionArn);
  const base = `https://${r}.console.aws.amazon.com`;
  const links: Array<[string, string]> = [
    ['Execution', `${base}/states/home?region=${r}#/v2/executions/details/${executionArn}`],
  ];
  if (glue) {
    links.push([
      'Glue run',
      `${base}/gluestudio/home?region=${r}#/job/${encodeURIComponent(glue.jobName)}/run/${glue.runId}`,
    ]);
    for (const group of ['error', 'output'] as const) {
      links.push([
        `Glue ${group} log`,
        `${base}/cloudwatch/home?region=${r}#logsV2:log-groups/log-group/$252Faws-glue$252Fjobs$252F${group}/log-events/${glue.runId}`,
      ]);
    }
  }
  return links;
}

/**
 * The CLI command that replays this partition from `stage` on: by its hive path, which every layout
 * has (`year=2024/month=01/day=15`, `region=us/dt=2024-01-15`), and on AWS on the same state machine.
 * The local pipeline's state machine (region `local`, local/run-starter.ts) is no AWS one: the
 * local command replays on the local lake.
 */
export function replayCommand(
  state: Pick<PipelineState, 'dataset' | 'partitionPath'>,
  stage: Stage,
  stateMachineArn: string,
): string {
  const local = stateMachineArn.split(':')[3] === 'local';
  const path = /^[\w=/.:+-]+$/.test(state.partitionPath)
    ? state.partitionPath
    : `'${state.partitionPath.replace(/'/g, `'\\''`)}'`;
  return `npx medallion replay --dataset ${state.dataset} --partition ${path} --stage ${stage}${local ? '' : ` --state-machine-arn ${stateMachineArn}`}`;
}

function subjectFor(severity: AlertSeverity, state: PipelineState, stage: string, what: string): string {
  const head = `[${severity.toUpperCase()}] ${ellipsize(subjectSafe(state.dataset), 30)} ${ellipsize(subjectSafe(state.partitionPath), 40)} ${stage}`;
  return ellipsize(`${head} ${subjectSafe(what)}`, SUBJECT_MAX);
}

const pad = (label: string) => `  ${`${label}:`.padEnd(20)}`;

function recordsLines(state: PipelineState): string[] {
  const lines: string[] = [];
  for (const stage of ['bronze', 'silver', 'gold'] as const) {
    const r = state.results?.[stage];
    if (r)
      lines.push(
        `${pad(`${stage} records`)}${r.recordsIn} in, ${r.recordsOut} out, ${r.recordsQuarantined} quarantined (job run ${r.jobRunId}, ${r.durationSeconds.toFixed(0)} s)`,
      );
  }
  return lines;
}

function quarantineLines(state: PipelineState): string[] {
  const withQuarantine = (['bronze', 'silver', 'gold'] as const)
    .map((s) => state.results?.[s])
    .filter((r) => r && r.recordsQuarantined > 0 && r.quarantineLocation);
  return withQuarantine.map(
    (r) => `${pad('Quarantined rows')}${r?.recordsQuarantined} at ${r?.quarantineLocation}`,
  );
}

/** Schema drift bronze recorded (onDrift: alert), for the one page a run sends whatever else happened. */
function driftLines(state: PipelineState): string[] {
  const drift = state.results?.bronze?.schemaDrift;
  if (!drift || drift.action !== 'alert') return [];
  return [
    `${pad('Schema drift')}${drift.columns} column(s) in ${drift.files} landed file(s), not loaded / empty (onDrift: alert)`,
    ...drift.sample.map((d) => `${pad('')}${describeFileDrift(d)}`),
  ];
}

function spikeLines(q: QuarantineJudgement): string[] {
  const b = q.baseline;
  return [
    `${pad('Quarantine ratio')}${percent(q.ratio)} (${q.recordsQuarantined} of ${q.recordsIn} records)`,
    `${pad('Max ratio')}${percent(q.maxRatio)}${q.reasons.includes('above-max-ratio') ? '  <- exceeded' : ''}`,
    b
      ? `${pad('Baseline')}${percent(b.threshold)} = mean ${percent(b.mean)} + ${b.k}·σ ${percent(b.stddev)} over the last ${b.points} runs${q.reasons.includes('above-baseline') ? '  <- exceeded' : ''}`
      : `${pad('Baseline')}none yet (fewer than 3 recent runs)`,
  ];
}

function finish(
  lines: string[],
  links: Array<[string, string]>,
  replay: string,
  state: PipelineState,
  execution: ExecutionContext,
): string {
  const body = [
    ...lines,
    '',
    'Run',
    `${pad('Execution')}${execution.name}`,
    `${pad('Trigger')}${state.trigger} (requested ${state.requestedAt}), from stage ${state.fromStage}`,
    `${pad('Landed objects')}${state.objects.count} (${state.objects.bytes} bytes)`,
    ...recordsLines(state),
    '',
    'Links',
    ...links.map(([label, url]) => `${pad(label)}${url}`),
    '',
    'Replay the partition once fixed',
    `  ${replay}`,
  ].join('\n');
  return truncateUtf8(body, BODY_MAX_BYTES);
}

/** What became of the partition lease on the failure path (released before the page is sent). */
function leaseLines(state: PipelineState): string[] {
  if (state.releaseError) {
    const why = parseCause(state.releaseError.Cause).message;
    return [
      `${pad('Partition lease')}NOT RELEASED: ${state.releaseError.Error}: ${trimMiddle(why, 500)}`,
      `${pad('')}The partition stays locked until finish-run releases it (the EventBridge rule on failed`,
      `${pad('')}executions retries it) or the lease expires${state.run?.leaseExpiresAt ? ` at ${state.run.leaseExpiresAt}` : ''}.`,
    ];
  }
  const outcome = releaseOutcome(state);
  switch (outcome?.lease) {
    case 'released':
      return [`${pad('Partition lease')}released`];
    case 'handed-over':
      return [`${pad('Partition lease')}handed to the follow-up run ${outcome.followUp}`];
    case 'not-held':
      return [`${pad('Partition lease')}not held by this run (released already, or never taken)`];
    case 'unknown':
      return [
        `${pad('Partition lease')}UNKNOWN: finish-run returned ${outcome.returned}; check the ledger (the`,
        `${pad('')}EventBridge rule on failed executions releases it again if this run still holds it).`,
      ];
    default:
      return [];
  }
}

/**
 * An execution that failed on an error no Catch handles (shared/domain/execution-end.ts) skipped its
 * failure path: finish-run, called by the rule on failed executions, releases the lease and sends
 * this page instead. `failedState` is the state the error's cause names, when it names one.
 */
export interface SkippedFailurePath {
  readonly failedState: string | undefined;
}

/** The stage a state's name names ("Record silver results" → silver), if any. */
const stageNamedBy = (stateName: string | undefined): Stage | undefined =>
  (['bronze', 'silver', 'gold'] as const).find((stage) => new RegExp(`\\b${stage}\\b`).test(stateName ?? ''));

/** The page for a failed run (also a halted run: then `state.error` is the QuarantineSpikeError). */
export function failureAlert(
  state: PipelineState,
  execution: ExecutionContext,
  skipped?: SkippedFailurePath,
): Alert {
  const failedAt = failedStage(state);
  if (state.error?.Error === PIPELINE_ERRORS.quarantineSpike && state.results?.silver) {
    return spikeAlert(state, execution);
  }
  const namedStage = skipped ? stageNamedBy(skipped.failedState) : undefined;
  const stage: Stage = skipped
    ? (namedStage ?? state.fromStage)
    : failedAt === 'prepare'
      ? state.fromStage
      : failedAt === 'finish'
        ? 'gold'
        : failedAt;
  const error = state.error?.Error ?? 'UnknownError';
  const cause = parseCause(state.error?.Cause);
  const plannedJob = state.run?.jobs[stage]?.jobName;
  const jobRun = state.jobRuns?.[stage];
  const glueRunId = cause.glueRun?.id ?? jobRun?.Id;
  const glueJob = cause.glueRun?.jobName ?? jobRun?.JobName ?? plannedJob;
  const where = skipped
    ? `The execution failed ${skipped.failedState ? `in the state "${skipped.failedState}"` : 'in a state its cause does not name'} on ${error}, which no Catch handles, so its failure path did not run: this page comes from finish-run (the rule on failed executions), after releasing the lease.`
    : failedAt === 'prepare'
      ? 'Taking the partition lease / planning the run failed, before any stage ran.'
      : failedAt === 'finish'
        ? 'Every stage succeeded, then releasing the partition lease failed: check the ledger before replaying.'
        : error === PIPELINE_ERRORS.jobRunFailed || error === PIPELINE_ERRORS.jobRunNotFinished
          ? `The ${stage} Glue job run adopted after an ambiguous start (${glueJob ?? '?'} run ${glueRunId ?? '?'}) ${error === PIPELINE_ERRORS.jobRunFailed ? 'failed' : 'did not end within the stage timeout'}: it was followed, not started twice.`
          : (GLUE_AMBIGUOUS_ERRORS as readonly string[]).includes(error)
            ? `Starting the ${stage} Glue job (${glueJob ?? 'job unknown'}) failed ambiguously: a run may have started. It was not retried, so the stage never runs twice: look for a run with --run_id ${execution.name} before replaying.`
            : cause.glueRun
              ? `The ${stage} Glue job failed: ${glueJob ?? '?'} run ${glueRunId ?? '?'} ended ${cause.glueRun.state ?? 'FAILED'}.`
              : jobRun
                ? `The ${stage} Glue job ran (${jobRun.JobName} run ${jobRun.Id}, ${jobRun.JobRunState}), then recording its results failed.`
                : `The ${stage} Glue job could not be started (${glueJob ?? 'job unknown'}).`;
  const links = consoleLinks(
    execution.id,
    glueJob && glueRunId ? { jobName: glueJob, runId: glueRunId } : undefined,
  );
  const lines = [
    `RUN FAILED: dataset ${state.dataset}, partition ${state.partitionPath}, ${skipped && !namedStage ? `state ${skipped.failedState ?? 'unknown'}` : `stage ${stage}`}`,
    '',
    where,
    `${pad('Error')}${error}${cause.errorType && cause.errorType !== error ? ` (${cause.errorType})` : ''}`,
    `${pad('Cause')}${trimMiddle(cause.message).replace(/\n/g, '\n    ')}`,
    ...(glueJob ? [`${pad('Glue job')}${glueJob}${glueRunId ? `, run ${glueRunId}` : ''}`] : []),
    ...leaseLines(state),
    ...quarantineLines(state),
    ...driftLines(state),
  ];
  return {
    subject: subjectFor(
      'critical',
      state,
      skipped && !namedStage ? 'pipeline' : stage,
      `run failed${state.releaseError ? ', partition locked' : ''}: ${error}`,
    ),
    body: finish(lines, links, replayCommand(state, stage, execution.stateMachineArn), state, execution),
    attributes: attributes(
      'critical',
      'run-failed',
      state.dataset,
      skipped && !namedStage ? 'pipeline' : stage,
    ),
  };
}

/** The page for a quarantine spike (policy alert: gold runs; policy halt: the run stops before gold). */
export function spikeAlert(state: PipelineState, execution: ExecutionContext): Alert {
  const result = state.results?.silver;
  if (!result) throw new TypeError('spikeAlert needs $.results.silver (the judged stage)');
  const q = result.quarantine;
  const halted = q.action === 'halt';
  const severity: AlertSeverity = halted ? 'critical' : 'warning';
  const lines = [
    `QUARANTINE SPIKE: dataset ${state.dataset}, partition ${state.partitionPath}, stage silver`,
    '',
    halted
      ? 'Policy halt: the run stopped before gold and is marked failed. Gold still holds the previous data.'
      : 'Policy alert: the run continues; gold is built from the clean rows only.',
    ...spikeLines(q),
    `${pad('Quarantined rows')}${result.recordsQuarantined} at ${result.quarantineLocation ?? '(no location reported)'}`,
    `${pad('Glue job')}${result.jobName}, run ${result.jobRunId}`,
    ...driftLines(state),
    '',
    'Look at the quarantined rows and their _quarantine_reasons: a producer change, or a rule to relax.',
  ];
  const links = consoleLinks(execution.id, { jobName: result.jobName, runId: result.jobRunId });
  return {
    subject: subjectFor(
      severity,
      state,
      'silver',
      `quarantine spike ${percent(q.ratio)} (max ${percent(q.maxRatio)})${halted ? ', halted' : ''}`,
    ),
    body: finish(lines, links, replayCommand(state, 'silver', execution.stateMachineArn), state, execution),
    attributes: attributes(severity, 'quarantine-spike', state.dataset, 'silver'),
  };
}

/**
 * The page for schema drift under `onDrift: alert`: bronze loaded the declared columns and the run
 * goes on; the page names every drifting file (up to the sample) and its columns, and what to do.
 */
export function driftAlert(state: PipelineState, execution: ExecutionContext): Alert {
  const result = state.results?.bronze;
  const drift = result?.schemaDrift;
  if (!result || !drift) throw new TypeError('driftAlert needs $.results.bronze.schemaDrift');
  const config = `datasets/${state.dataset}/dataset.yml`;
  const lines = [
    `SCHEMA DRIFT: dataset ${state.dataset}, partition ${state.partitionPath}, stage bronze`,
    '',
    `Policy alert (onDrift: alert): the run continues. Bronze loaded the declared columns only: an undeclared`,
    `column was NOT loaded (its values are only in the landed file), a missing declared column is empty`,
    `(silver judges it by nullable / not_null, so rows may be quarantined as <column>_required).`,
    `${pad('Drifted columns')}${drift.columns} in ${drift.files} landed file(s)`,
    ...drift.sample.map((d) => `${pad('File')}${describeFileDrift(d)}`),
    ...(drift.files > drift.sample.length
      ? [
          `${pad('')}+${drift.files - drift.sample.length} more file(s): see the bronze manifest's schemaDrift`,
        ]
      : []),
    `${pad('Bronze manifest')}${state.run?.jobs.bronze.manifestLocation ?? '(unknown)'}`,
    `${pad('Glue job')}${result.jobName}, run ${result.jobRunId}`,
    '',
    'What to do',
    `  - A column the producer added on purpose: declare it in ${config} (columns), deploy, then`,
    `    replay this partition from bronze (below) to load it. Older partitions stay readable: the new`,
    `    column reads as empty there.`,
    `  - A column renamed or dropped by mistake: ask the producer to fix the export, then replay.`,
    `  - To stop runs on drift instead, set onDrift: halt in ${config}.`,
  ];
  const links = consoleLinks(execution.id, { jobName: result.jobName, runId: result.jobRunId });
  return {
    subject: subjectFor(
      'warning',
      state,
      'bronze',
      `schema drift: ${drift.columns} column(s) in ${drift.files} file(s)`,
    ),
    body: finish(lines, links, replayCommand(state, 'bronze', execution.stateMachineArn), state, execution),
    attributes: attributes('warning', 'schema-drift', state.dataset, 'bronze'),
  };
}

const attributes = (
  severity: AlertSeverity,
  kind: AlertKind,
  dataset: string,
  stage: string,
): Alert['attributes'] => ({
  severity,
  kind,
  dataset: dataset || 'unknown',
  stage: stage || 'unknown',
});
