import 'uplot/dist/uPlot.min.css';
import './console.css';
import type uPlot from 'uplot';
import type { ConsoleData, ConsoleExecution, ConsoleStateVisit } from '../model';
import { durationChart, ratioChart, recordsChart, STAGES } from './charts';
import { duration, el, percent, timestamp } from './dom';
import { drawGraph, layoutGraph, STATUS_LABELS, type GraphLayout } from './graph';

/**
 * The run console page: reads the data the page carries (`<script id="console-data">`) and draws the
 * executions with their filters, the state machine with the selected execution's path, the
 * per-dataset charts and the alerts.
 */

const data = JSON.parse(document.getElementById('console-data')?.textContent ?? 'null') as ConsoleData;
const app = document.getElementById('app') as HTMLElement;

interface View {
  dataset: string;
  status: string;
  execution: string | undefined;
  state: string | undefined;
}

const fromHash = new URLSearchParams(location.hash.slice(1));
const view: View = {
  dataset: fromHash.get('dataset') ?? '',
  status: fromHash.get('status') ?? '',
  execution: fromHash.get('execution') ?? data.executions[0]?.name,
  state: undefined,
};

const saveView = () => {
  const params = new URLSearchParams();
  if (view.execution) params.set('execution', view.execution);
  if (view.dataset) params.set('dataset', view.dataset);
  if (view.status) params.set('status', view.status);
  history.replaceState(null, '', `#${params.toString()}`);
};

const selected = (): ConsoleExecution | undefined => data.executions.find((e) => e.name === view.execution);

const badge = (status: string) => el('span', { class: `badge badge-${status.toLowerCase()}` }, status);

/** What went wrong, in words: the error class the cause names, else the execution's error. */
const errorOf = (e: ConsoleExecution): string =>
  e.errorType
    ? `${e.errorType}: ${e.causeMessage ?? ''}`
    : e.error
      ? `${e.error}: ${e.causeMessage ?? ''}`
      : '';

// ---------------------------------------------------------------- header

const failed = data.executions.filter((e) => e.status === 'FAILED').length;
app.appendChild(
  el(
    'header',
    {},
    el('h1', {}, 'medallion ', el('span', { class: 'muted' }, 'run console')),
    el(
      'p',
      { class: 'summary' },
      el('span', {}, `lake ${data.lake}`),
      el('span', {}, `${data.executions.length} executions, ${failed} failed`),
      el('span', {}, `${data.alerts.length} alerts`),
      el('span', {}, `read ${timestamp(data.generatedAt)}`),
      ...(data.dictionary
        ? [el('a', { id: 'dictionary-link', href: data.dictionary }, 'data dictionary')]
        : []),
    ),
  ),
);
const main = el('main');
app.appendChild(main);

// ---------------------------------------------------------------- executions

const datasetFilter = el(
  'select',
  { id: 'filter-dataset', 'aria-label': 'Dataset' },
  el('option', { value: '' }, 'all datasets'),
  ...[...new Set(data.executions.map((e) => e.dataset))].sort().map((d) => el('option', { value: d }, d)),
);
const statusFilter = el(
  'select',
  { id: 'filter-status', 'aria-label': 'Status' },
  el('option', { value: '' }, 'all statuses'),
  ...[...new Set(data.executions.map((e) => e.status))].sort().map((s) => el('option', { value: s }, s)),
);
datasetFilter.value = view.dataset;
statusFilter.value = view.status;
const shownCount = el('span', { class: 'count', id: 'executions-count' });
const rows = el('tbody');
main.appendChild(
  el(
    'section',
    { id: 'executions' },
    el('h2', {}, 'Executions'),
    el(
      'div',
      { class: 'filters' },
      el('label', {}, 'Dataset ', datasetFilter),
      el('label', {}, 'Status ', statusFilter),
      shownCount,
    ),
    el(
      'table',
      { class: 'runs' },
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          ...['Name', 'Status', 'Dataset', 'Partition', 'Trigger', 'Started', 'Duration', 'Error'].map((h) =>
            el('th', {}, h),
          ),
        ),
      ),
      rows,
    ),
  ),
);

function renderRows(): void {
  const shown = data.executions.filter(
    (e) => (!view.dataset || e.dataset === view.dataset) && (!view.status || e.status === view.status),
  );
  shownCount.textContent = `${shown.length} of ${data.executions.length} executions`;
  rows.replaceChildren(
    ...shown.map((e) => {
      const row = el(
        'tr',
        {
          'data-execution': e.name,
          'data-status': e.status,
          class: e.name === view.execution ? 'selected' : undefined,
          tabindex: 0,
        },
        el('td', { class: 'name' }, e.name),
        el('td', {}, badge(e.status)),
        el('td', {}, e.dataset),
        el('td', { class: 'mono' }, e.partition),
        el('td', {}, e.trigger),
        el('td', { class: 'mono' }, timestamp(e.startedAt)),
        el('td', { class: 'num' }, duration(e.durationMs)),
        el('td', { class: 'error' }, errorOf(e)),
      );
      const select = () => selectExecution(e.name);
      row.addEventListener('click', select);
      row.addEventListener('keydown', (event) => {
        if (event.key === 'Enter') select();
      });
      return row;
    }),
  );
  if (shown.length === 0)
    rows.appendChild(
      el('tr', {}, el('td', { colspan: 8, class: 'empty' }, 'No execution matches the filters.')),
    );
}

datasetFilter.addEventListener('change', () => {
  view.dataset = datasetFilter.value;
  saveView();
  renderRows();
});
statusFilter.addEventListener('change', () => {
  view.status = statusFilter.value;
  saveView();
  renderRows();
});

// ---------------------------------------------------------------- state machine

const layout: GraphLayout = layoutGraph(data.stateMachine);
const graphBox = el('div', { class: 'graph-box', id: 'graph' });
const details = el('div', { class: 'details', id: 'execution-details' });
const legend = el(
  'ul',
  { class: 'legend' },
  ...Object.entries(STATUS_LABELS).map(([status, label]) =>
    el('li', {}, el('span', { class: `swatch status-${status}` }), label),
  ),
);
const graphTitle = el('h2', {}, 'State machine');
main.appendChild(
  el(
    'section',
    { id: 'state-machine' },
    graphTitle,
    legend,
    el('div', { class: 'graph-row' }, graphBox, details),
  ),
);

function field(name: string, ...value: Array<Node | string>): HTMLElement {
  return el('div', { class: 'field' }, el('dt', {}, name), el('dd', {}, ...value));
}

/** A cause that is JSON, indented; anything else as it is. */
function causeText(cause: string): string {
  try {
    return JSON.stringify(JSON.parse(cause), null, 2);
  } catch {
    return cause;
  }
}

function stateDetails(execution: ConsoleExecution | undefined, name: string): HTMLElement {
  const node = data.stateMachine.nodes.find((n) => n.id === name);
  const visits = execution?.states.filter((s) => s.name === name) ?? [];
  const last: ConsoleStateVisit | undefined = visits[visits.length - 1];
  return el(
    'div',
    { class: 'state-details', 'data-state': name },
    el('h3', {}, name),
    el(
      'dl',
      {},
      field('Type', node?.type ?? '?', node?.resource ? ` · ${node.resource}` : ''),
      node?.timeoutSeconds !== undefined ? field('Timeout', `${node.timeoutSeconds} s`) : null,
      field('Status', last ? STATUS_LABELS[last.status] : STATUS_LABELS['not-run']),
      last ? field('Entered', timestamp(last.enteredAt)) : null,
      last ? field('Duration', duration(last.durationMs)) : null,
      last && last.retries > 0 ? field('Retries', String(last.retries)) : null,
      visits.length > 1 ? field('Visits', String(visits.length)) : null,
      last?.error ? field('Error', last.error) : null,
    ),
    last?.cause ? el('pre', { class: 'cause' }, causeText(last.cause)) : null,
    node?.comment ? el('p', { class: 'comment' }, node.comment) : null,
  );
}

function executionDetails(execution: ConsoleExecution | undefined): HTMLElement[] {
  if (!execution)
    return [
      el('p', { class: 'empty' }, 'No execution in this lake yet: the graph shows the state machine only.'),
    ];
  const parts: HTMLElement[] = [
    el('h3', {}, execution.name, ' ', badge(execution.status)),
    el(
      'dl',
      {},
      field('Dataset', execution.dataset),
      field('Partition', execution.partition),
      field('Trigger', execution.trigger),
      field('Started', timestamp(execution.startedAt)),
      field('Duration', duration(execution.durationMs)),
      execution.error ? field('Error', execution.error) : null,
      execution.errorType ? field('Error class', execution.errorType) : null,
      execution.causeMessage ? field('Cause', execution.causeMessage) : null,
      execution.glueRun
        ? field(
            'Glue run',
            [execution.glueRun.jobName, execution.glueRun.id, execution.glueRun.state]
              .filter(Boolean)
              .join(' · '),
          )
        : null,
    ),
  ];
  if (execution.stages.length > 0)
    parts.push(
      el(
        'table',
        { class: 'stages' },
        el(
          'thead',
          {},
          el(
            'tr',
            {},
            ...['Stage', 'Job', 'In', 'Out', 'Quarantined', 'Verdict'].map((h) => el('th', {}, h)),
          ),
        ),
        el(
          'tbody',
          {},
          ...execution.stages.map((s) =>
            el(
              'tr',
              {},
              el('td', {}, s.stage),
              el('td', { class: 'num' }, duration(s.durationMs)),
              el('td', { class: 'num' }, s.recordsIn.toLocaleString('en')),
              el('td', { class: 'num' }, s.recordsOut.toLocaleString('en')),
              el(
                'td',
                { class: 'num' },
                `${s.recordsQuarantined.toLocaleString('en')} (${percent(s.recordsIn > 0 ? s.recordsQuarantined / s.recordsIn : 0)})`,
              ),
              el('td', {}, s.verdict),
            ),
          ),
        ),
      ),
    );
  return parts;
}

let shownExecution: string | undefined;

function renderExecution(): void {
  const execution = selected();
  graphTitle.textContent = execution ? `State machine: ${execution.name}` : 'State machine';
  // The state to detail: the one clicked, else where the execution went wrong, else its last state.
  const failedVisit = execution?.states.find((s) => s.status === 'failed' || s.status === 'caught');
  const state = view.state ?? failedVisit?.name ?? execution?.states[execution.states.length - 1]?.name;
  graphBox.replaceChildren(
    drawGraph(layout, data.stateMachine, execution, state, (name) => {
      view.state = name;
      renderExecution();
    }),
  );
  details.replaceChildren(...executionDetails(execution), ...(state ? [stateDetails(execution, state)] : []));
  // A newly selected execution: bring the state it is detailed at into the graph's panel.
  if (execution && execution.name !== shownExecution && state) {
    const node = graphBox.querySelector(`g.state[data-state="${CSS.escape(state)}"]`);
    if (node) {
      const box = graphBox.getBoundingClientRect();
      const at = node.getBoundingClientRect();
      graphBox.scrollLeft += at.left + at.width / 2 - (box.left + box.width / 2);
      graphBox.scrollTop += at.top + at.height / 2 - (box.top + box.height / 2);
    }
  }
  shownExecution = execution?.name;
}

function selectExecution(name: string): void {
  view.execution = name;
  view.state = undefined;
  saveView();
  renderRows();
  renderExecution();
  graphTitle.scrollIntoView({ block: 'nearest' });
}

// ---------------------------------------------------------------- datasets

const charts: uPlot[] = [];
const metricsSection = el('section', { id: 'metrics' }, el('h2', {}, 'Datasets over time'));
main.appendChild(metricsSection);
for (const dataset of data.datasets) {
  const durations = el('div', { class: 'chart', 'data-chart': 'durations' });
  const records = el('div', { class: 'chart', 'data-chart': 'records' });
  const ratio = el('div', { class: 'chart', 'data-chart': 'ratio' });
  const stagePick = el(
    'select',
    { 'aria-label': `Records of stage (${dataset.name})`, class: 'stage-pick' },
    ...STAGES.map((s) => el('option', { value: s, selected: s === dataset.judgedStage }, s)),
  );
  metricsSection.appendChild(
    el(
      'div',
      { class: 'dataset', 'data-dataset': dataset.name },
      el(
        'h3',
        {},
        dataset.name,
        dataset.defined ? '' : el('span', { class: 'muted' }, ' (no longer in datasets/)'),
        el('label', { class: 'inline' }, 'records of ', stagePick),
      ),
      el('div', { class: 'charts' }, durations, records, ratio),
    ),
  );
  durationChart(durations, dataset, charts);
  recordsChart(records, dataset, stagePick.value, charts);
  ratioChart(ratio, dataset, charts);
  stagePick.addEventListener('change', () => {
    const stale = charts.findIndex((c) => records.contains(c.root));
    if (stale >= 0) charts.splice(stale, 1)[0]?.destroy();
    recordsChart(records, dataset, stagePick.value, charts);
  });
}
if (data.datasets.length === 0) metricsSection.appendChild(el('p', { class: 'empty' }, 'No dataset.'));
window.addEventListener('resize', () => {
  for (const chart of charts) {
    const box = chart.root.parentElement;
    if (box) chart.setSize({ width: Math.max(280, box.clientWidth - 16), height: 220 });
  }
});

// ---------------------------------------------------------------- alerts

main.appendChild(
  el(
    'section',
    { id: 'alerts' },
    el('h2', {}, `Alerts (${data.alerts.length})`),
    data.alerts.length === 0
      ? el('p', { class: 'empty' }, 'No alert was raised.')
      : el(
          'ul',
          { class: 'alerts' },
          ...data.alerts.map((a) => {
            const known = a.executionName && data.executions.some((e) => e.name === a.executionName);
            const show = known ? el('button', { type: 'button', class: 'link' }, 'show execution') : null;
            show?.addEventListener('click', () => selectExecution(a.executionName ?? ''));
            return el(
              'li',
              { class: `alert severity-${a.severity ?? 'unknown'}`, 'data-kind': a.kind ?? '' },
              el(
                'div',
                { class: 'alert-head' },
                el('span', { class: `badge badge-${a.severity ?? 'unknown'}` }, a.severity ?? '?'),
                el('span', { class: 'subject' }, a.subject),
                el('span', { class: 'muted mono' }, timestamp(a.publishedAt)),
                show,
              ),
              el('details', {}, el('summary', {}, 'message'), el('pre', {}, a.body)),
            );
          }),
        ),
  ),
);

renderRows();
renderExecution();
document.body.dataset['ready'] = 'true';
