import { ExecutionHistoryStore, type ExecutionHistory } from '../shared/local/history';
import { LocalLake } from '../shared/local/lake';
import { parseCommand, usageError } from './args';
import { ms, table } from './format';

const HELP = `medallion runs — the executions of the local pipeline (the local Step Functions console).

Usage:
  medallion runs [--dataset D] [--status S] [--limit N] [--json]   list executions, newest first
  medallion runs show NAME [--json]                                one execution: states, durations,
                                                                   input, output, error and cause
Options:
  --dataset D    only this dataset
  --status S     only RUNNING, SUCCEEDED, FAILED, ABORTED or TIMED_OUT
  --limit N      at most N executions (default 50)
  --lake DIR     lake folder (default: $MEDALLION_LAKE or .lake)
  --json         print JSON
  -h, --help     show this help

Exit codes: 0 ok, 1 execution not found, 2 usage error.`;

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

export function showExecution(h: ExecutionHistory): string {
  const lines = [
    `${h.name}`,
    `  status     ${h.status}${h.error ? `  (${h.error})` : ''}`,
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
  if (h.cause) lines.push('', `  cause: ${h.cause}`);
  const cut = (v: unknown) => {
    const text = JSON.stringify(v);
    return text.length > 300 ? `${text.slice(0, 299)}… (--json shows everything)` : text;
  };
  lines.push('', `  input:  ${cut(h.input)}`);
  if (h.output !== undefined) lines.push(`  output: ${cut(h.output)}`);
  return lines.join('\n');
}

export async function runs(args: string[]): Promise<number> {
  const parsed = parseCommand(args, HELP, {
    dataset: { type: 'string' },
    status: { type: 'string' },
    limit: { type: 'string', default: '50' },
    lake: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const store = new ExecutionHistoryStore(new LocalLake(values.lake).system('executions'));

  if (positionals[0] === 'show') {
    const name = positionals[1];
    if (!name) {
      return usageError(`Give the execution name: medallion runs show NAME`, HELP);
    }
    const history = store.get(name);
    if (!history) {
      console.error(`No execution named "${name}" (see "medallion runs").`);
      return 1;
    }
    console.log(values.json ? JSON.stringify(history, null, 2) : showExecution(history));
    return 0;
  }
  if (positionals.length > 0) {
    return usageError(`Unknown argument "${positionals[0]}".`, HELP);
  }
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) {
    return usageError(`--limit must be a positive integer.`, HELP);
  }
  const list = store
    .list()
    .filter(
      (h) =>
        (!values.dataset || h.dataset === values.dataset) && (!values.status || h.status === values.status),
    )
    .slice(0, limit);
  if (values.json) {
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
        error: h.error ?? '',
      })),
      80,
    ),
  );
  return 0;
}
