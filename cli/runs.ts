import {
  ExecutionHistoryStore,
  failureOf,
  skippedFilesOf,
  stageReports,
  type ExecutionHistory,
  type ExecutionStatus,
} from '../local/history';
import { LocalLake } from '../local/lake';
import { datasetNamed, registry } from './datasets';
import { ms, table } from './format';

/** `bronze ✓ 1.2s  silver ✗ 0.3s  gold -`: each stage's job as visited (the first Task naming it). */
export function stagesOf(h: ExecutionHistory): string {
  return (['bronze', 'silver', 'gold'] as const)
    .map((stage) => {
      const job = h.states.find((s) => s.type === 'Task' && s.name.toLowerCase().includes(stage));
      if (!job) return `${stage} -`;
      const mark = job.status === 'succeeded' ? '✓' : job.status === 'running' ? '…' : '✗';
      return `${stage} ${mark} ${ms(job.durationMs)}`;
    })
    .join('  ');
}

/**
 * What `watch`, `replay` and `demo` print when a run ends: status, name, duration (and the states
 * visited), the error class of a failure; then a warning for each landed file it skipped.
 */
export function endedLines(h: ExecutionHistory, withPath = true): string[] {
  const failure = failureOf(h);
  const path = withPath ? `  ${h.states.map((s) => s.name).join(' → ')}` : '';
  return [
    `${h.status.padEnd(9)} ${h.name}  ${ms(h.durationMs)}${path}${failure ? `  (${failure.errorClass})` : ''}`,
    ...skippedFilesOf(h).map((f) => `warning   ${h.name}: skipped ${f.file}: ${f.reason}`),
  ];
}

export function showExecution(h: ExecutionHistory): string {
  const failure = failureOf(h);
  const lines = [
    `${h.name}`,
    `  status     ${h.status}${failure ? `  ${failure.errorClass}${failure.errorClass !== failure.error ? ` (${failure.error})` : ''}` : ''}`,
    `  dataset    ${h.dataset}  partition ${h.partition}  trigger ${h.trigger}`,
    `  started    ${h.startedAt}  duration ${ms(h.durationMs)}`,
    '',
    table(
      h.states.map((s) => ({
        state: s.name,
        type: s.type,
        status: s.status,
        duration: ms(s.durationMs),
        retries: s.retries || '',
        error: s.error ?? '',
      })),
    ),
  ];
  const stages = stageReports(h);
  if (stages.length > 0)
    lines.push(
      '',
      table(
        stages.map((s) => ({
          stage: s.stage,
          'records in': s.recordsIn,
          out: s.recordsOut,
          quarantined: s.recordsQuarantined,
          partitions: `${s.partitionsCreated} created, ${s.partitionsUpdated} updated`,
          quarantine: s.verdict,
        })),
      ),
    );
  for (const skipped of skippedFilesOf(h))
    lines.push(`  warning: skipped ${skipped.file}: ${skipped.reason}`);
  if (failure?.cause) lines.push('', `  cause: ${failure.cause}`);
  const cut = (v: unknown) => {
    const text = JSON.stringify(v);
    return text.length > 300 ? `${text.slice(0, 299)}… (--json shows everything)` : text;
  };
  lines.push('', `  input:  ${cut(h.input)}`);
  if (h.output !== undefined) lines.push(`  output: ${cut(h.output)}`);
  return lines.join('\n');
}

export interface RunsOptions {
  readonly dataset?: string;
  readonly status?: ExecutionStatus;
  readonly limit: number;
  readonly lake?: string;
  readonly json: boolean;
}

const historyOf = (lake: string | undefined) =>
  new ExecutionHistoryStore(new LocalLake(lake).existing().system('executions'));

/** `medallion runs show NAME` (exit 1 when no execution has that name). */
export async function showRun(name: string, options: Pick<RunsOptions, 'lake' | 'json'>): Promise<number> {
  const history = historyOf(options.lake).get(name);
  if (!history) {
    console.error(`No execution named "${name}" (see "medallion runs").`);
    return 1;
  }
  console.log(options.json ? JSON.stringify(history, null, 2) : showExecution(history));
  return 0;
}

/** `medallion runs`: executions newest first, filtered by dataset and status. */
export async function listRuns(options: RunsOptions): Promise<number> {
  const all = historyOf(options.lake).list();
  // A dataset with runs in this lake is known even if its folder was removed since.
  if (options.dataset && !all.some((h) => h.dataset === options.dataset))
    datasetNamed(registry(), options.dataset);
  const list = all
    .filter(
      (h) =>
        (!options.dataset || h.dataset === options.dataset) &&
        (!options.status || h.status === options.status),
    )
    .slice(0, options.limit);
  if (options.json) {
    console.log(
      JSON.stringify(
        list.map(({ input: _input, output: _output, ...h }) => h),
        null,
        2,
      ),
    );
    return 0;
  }
  console.log(
    table(
      list.map((h) => ({
        name: h.name,
        status: h.status,
        trigger: h.trigger,
        partition: `${h.dataset} ${h.partition}`,
        started: h.startedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
        duration: ms(h.durationMs),
        stages: stagesOf(h),
        error: failureOf(h)?.errorClass ?? '',
      })),
      80,
    ),
  );
  return 0;
}
