import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseCause } from '../shared/domain/alert-text';
import type { Registry } from '../shared/domain/datasets';
import { baselineOf, quarantineRatio } from '../shared/domain/quarantine';
import { JUDGED_STAGE } from '../shared/core/record-stage';
import { localDefinition } from '../local/definition';
import { ExecutionHistoryStore, stageReports, type ExecutionHistory } from '../local/history';
import { DICTIONARY_FILE } from '../local/data-dictionary';
import type { LocalLake } from '../local/lake';
import { FileAlerter, FileMetrics, type MetricsLine } from '../local/system-store';
import {
  CONSOLE_DATA_VERSION,
  type ConsoleAlert,
  type ConsoleData,
  type ConsoleDataset,
  type ConsoleExecution,
  type ConsoleRatioPoint,
  type GraphEdge,
  type GraphNode,
  type StateMachineGraph,
} from './model';

/**
 * Reads what the run console shows from a local lake, the same files `medallion runs` and
 * `medallion query` read: the execution history (`_system/executions/`), the stage metrics
 * (`metrics.jsonl`), the alerts (`alerts.jsonl`), and the state machine as the local runtime
 * resolves it (the ASL file with its Task timeouts bound from the datasets). Nothing is written.
 */

export const START = '__start__';
export const END = '__end__';

type AslState = Record<string, unknown> & { Type?: string };
interface AslDefinition {
  readonly Comment?: string;
  readonly StartAt: string;
  readonly States: Record<string, AslState>;
}

const COMPARISONS =
  /^(String|Numeric|Boolean|Timestamp)(Equals|LessThan|GreaterThan|LessThanEquals|GreaterThanEquals|Matches)(Path)?$/;
const OPERATORS: Record<string, string> = {
  Equals: '==',
  LessThan: '<',
  GreaterThan: '>',
  LessThanEquals: '<=',
  GreaterThanEquals: '>=',
  Matches: '~',
};

/** A Choice rule in a few words: `run.fromStage == "silver"`, `not (…)`, `IsPresent`… */
export function choiceRuleLabel(rule: Record<string, unknown>): string {
  // The last two steps of the path say enough (`quarantine.action`), and keep the drawing narrow.
  const variable =
    typeof rule['Variable'] === 'string'
      ? rule['Variable'].replace(/^\$\./, '').split('.').slice(-2).join('.')
      : undefined;
  for (const [key, value] of Object.entries(rule)) {
    const m = COMPARISONS.exec(key);
    if (m && variable) return `${variable} ${OPERATORS[m[2] ?? ''] ?? m[2]} ${JSON.stringify(value)}`;
    if (key.startsWith('Is') && variable) return `${variable} ${key}${value === false ? ' = false' : ''}`;
  }
  if (rule['Not']) return `not (${choiceRuleLabel(rule['Not'] as Record<string, unknown>)})`;
  for (const op of ['And', 'Or'] as const) {
    const parts = rule[op] as Array<Record<string, unknown>> | undefined;
    if (parts)
      return parts.length > 2
        ? `${op.toLowerCase()} of ${parts.length} checks`
        : parts.map(choiceRuleLabel).join(` ${op.toLowerCase()} `);
  }
  return 'rule';
}

/** The definition's states and transitions, with the console's Start and End marks. */
export function stateMachineGraph(definition: AslDefinition, name: string): StateMachineGraph {
  const nodes: GraphNode[] = [{ id: START, label: 'Start', type: 'Start' }];
  const edges: GraphEdge[] = [{ from: START, to: definition.StartAt, kind: 'next' }];
  for (const [id, state] of Object.entries(definition.States)) {
    const type = String(state.Type ?? 'Task');
    const resource =
      typeof state['Resource'] === 'string' ? state['Resource'].replace(/^arn:aws:states:::/, '') : undefined;
    const comment = typeof state['Comment'] === 'string' ? state['Comment'] : undefined;
    const timeout = typeof state['TimeoutSeconds'] === 'number' ? state['TimeoutSeconds'] : undefined;
    nodes.push({
      id,
      label: id,
      type,
      ...(comment ? { comment } : {}),
      ...(resource ? { resource } : {}),
      ...(timeout !== undefined ? { timeoutSeconds: timeout } : {}),
    });
    if (typeof state['Next'] === 'string') edges.push({ from: id, to: state['Next'], kind: 'next' });
    for (const rule of (state['Choices'] as Array<Record<string, unknown>> | undefined) ?? [])
      if (typeof rule['Next'] === 'string')
        edges.push({ from: id, to: rule['Next'], kind: 'choice', label: choiceRuleLabel(rule) });
    if (typeof state['Default'] === 'string')
      edges.push({ from: id, to: state['Default'], kind: 'default', label: 'default' });
    for (const c of (state['Catch'] as Array<{ ErrorEquals?: string[]; Next?: string }> | undefined) ?? [])
      if (c.Next)
        edges.push({ from: id, to: c.Next, kind: 'catch', label: (c.ErrorEquals ?? []).join(', ') });
    if (state['End'] === true || type === 'Succeed' || type === 'Fail')
      edges.push({ from: id, to: END, kind: 'end' });
  }
  nodes.push({ id: END, label: 'End', type: 'End' });
  return { name, ...(definition.Comment ? { comment: definition.Comment } : {}), nodes, edges };
}

function execution(h: ExecutionHistory): ConsoleExecution {
  const cause = h.cause ? parseCause(h.cause) : undefined;
  return {
    name: h.name,
    dataset: h.dataset,
    partition: h.partition,
    trigger: h.trigger,
    status: h.status,
    startedAt: h.startedAt,
    ...(h.stoppedAt ? { stoppedAt: h.stoppedAt } : {}),
    ...(h.durationMs !== undefined ? { durationMs: h.durationMs } : {}),
    ...(h.error ? { error: h.error } : {}),
    ...(cause?.errorType ? { errorType: cause.errorType } : {}),
    ...(h.cause ? { cause: h.cause } : {}),
    ...(cause ? { causeMessage: cause.message } : {}),
    ...(cause?.glueRun ? { glueRun: cause.glueRun } : {}),
    states: h.states.map((s) => ({
      name: s.name,
      type: s.type,
      status: s.status,
      enteredAt: s.enteredAt,
      ...(s.durationMs !== undefined ? { durationMs: s.durationMs } : {}),
      retries: s.retries,
      ...(s.error ? { error: s.error } : {}),
      ...(s.cause ? { cause: s.cause } : {}),
    })),
    stages: stageReports(h).map(
      ({ stage, durationMs, recordsIn, recordsOut, recordsQuarantined, verdict }) => ({
        stage,
        ...(durationMs !== undefined ? { durationMs } : {}),
        recordsIn,
        recordsOut,
        recordsQuarantined,
        verdict,
      }),
    ),
  };
}

/**
 * The quarantine ratio of each run of the judged stage against the baseline the spike rule saw for
 * it: the same reader (the recent ratios strictly before the run's start) and the same maths
 * (shared/domain/quarantine.ts) as *Record silver results*.
 */
async function ratioPoints(
  metrics: FileMetrics,
  lines: readonly MetricsLine[],
  policy: Registry['datasets'][number]['quarantine'],
): Promise<ConsoleRatioPoint[]> {
  const points: ConsoleRatioPoint[] = [];
  for (const m of lines) {
    const at = Date.parse(m.timestamp);
    const startedAt = new Date(at - m.durationSeconds * 1000);
    const recent = await metrics.recentQuarantineRatios({
      dataset: m.dataset,
      stage: m.stage,
      limit: policy.spike.lookback,
      before: startedAt,
    });
    const baseline = baselineOf(recent, policy.spike.k);
    points.push({
      at,
      ratio: quarantineRatio(m.recordsIn, m.recordsQuarantined),
      threshold: baseline?.threshold ?? null,
      mean: baseline?.mean ?? null,
      maxRatio: policy.maxRatio,
      judged: m.recordsIn >= policy.spike.minRecords,
    });
  }
  return points;
}

export interface ConsoleDataOptions {
  readonly lake: LocalLake;
  readonly registry: Registry;
  /** The ASL (default: the file the local runtime runs). */
  readonly definition?: string | object;
  readonly now?: Date;
  /**
   * The link to the published data dictionary when the lake has one: `medallion ui` serves it,
   * `medallion report` links the file (default: its file:// URL).
   */
  readonly dictionaryHref?: string;
}

export async function readConsoleData(options: ConsoleDataOptions): Promise<ConsoleData> {
  const { lake, registry } = options;
  const definition = localDefinition(options.definition, registry.datasets) as unknown as AslDefinition;
  const histories = new ExecutionHistoryStore(lake.system('executions')).list();
  const metrics = new FileMetrics(lake.system('metrics.jsonl'));
  const lines = metrics.all().sort((a, b) => a.timestamp.localeCompare(b.timestamp));
  const names = [
    ...new Set([
      ...registry.datasets.map((d) => d.name),
      ...histories.map((h) => h.dataset),
      ...lines.map((m) => m.dataset),
    ]),
  ];
  const datasets: ConsoleDataset[] = [];
  for (const name of names) {
    const defined = registry.datasets.find((d) => d.name === name);
    const own = lines.filter((m) => m.dataset === name);
    datasets.push({
      name,
      defined: defined !== undefined,
      judgedStage: JUDGED_STAGE,
      metrics: own.map((m) => ({
        stage: m.stage,
        at: Date.parse(m.timestamp),
        durationSeconds: m.durationSeconds,
        recordsIn: m.recordsIn,
        recordsOut: m.recordsOut,
        recordsQuarantined: m.recordsQuarantined,
        quarantineRatio: m.quarantineRatio,
      })),
      ratio: defined
        ? await ratioPoints(
            metrics,
            own.filter((m) => m.stage === JUDGED_STAGE),
            defined.quarantine,
          )
        : [],
    });
  }
  const alerts: ConsoleAlert[] = new FileAlerter(lake.system('alerts.jsonl'))
    .all()
    .map((a) => {
      const executionName = /Execution:\s+(\S+)/.exec(a.body)?.[1];
      return {
        subject: a.subject,
        body: a.body,
        severity: a.attributes?.severity,
        kind: a.attributes?.kind,
        dataset: a.attributes?.dataset,
        ...(executionName ? { executionName } : {}),
        publishedAt: a.publishedAt,
      };
    })
    .sort((a, b) => b.publishedAt.localeCompare(a.publishedAt));
  return {
    version: CONSOLE_DATA_VERSION,
    lake: lake.root,
    generatedAt: (options.now ?? new Date()).toISOString(),
    stateMachine: stateMachineGraph(definition, 'medallion-pipeline'),
    executions: histories.map(execution),
    datasets,
    alerts,
    ...(existsSync(lake.system(DICTIONARY_FILE))
      ? { dictionary: options.dictionaryHref ?? pathToFileURL(lake.system(DICTIONARY_FILE)).href }
      : {}),
  };
}
