import dagre from '@dagrejs/dagre';
import type { ConsoleExecution, GraphNode, StateMachineGraph, StateStatus } from '../model';
import { svg } from './dom';

/**
 * The state machine as the Step Functions console draws it: laid out top to bottom by dagre, each
 * state coloured by its status in the selected execution, the path the execution took in bold.
 */

export const STATUS_LABELS: Record<StateStatus, string> = {
  succeeded: 'Succeeded',
  failed: 'Failed',
  caught: 'Caught error',
  running: 'In progress',
  'not-run': 'Not run',
};

const CHAR_WIDTH = 7.2;
/** The graph shrinks to fit its panel down to this scale, and scrolls beyond. */
const MIN_SCALE = 0.8;
const NODE_HEIGHT = 34;

interface Laid {
  readonly node: GraphNode;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

interface LaidEdge {
  readonly from: string;
  readonly to: string;
  readonly kind: string;
  readonly label?: string;
  readonly points: ReadonlyArray<{ x: number; y: number }>;
  readonly labelAt?: { x: number; y: number };
}

export interface GraphLayout {
  readonly width: number;
  readonly height: number;
  readonly nodes: readonly Laid[];
  readonly edges: readonly LaidEdge[];
}

const isMark = (node: GraphNode) => node.type === 'Start' || node.type === 'End';

/** Lays the graph out once (it does not change with the selected execution). */
export function layoutGraph(graph: StateMachineGraph): GraphLayout {
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: 'TB', nodesep: 28, ranksep: 38, edgesep: 12, marginx: 12, marginy: 12 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const node of graph.nodes) {
    const width = isMark(node) ? 64 : Math.max(120, Math.ceil(node.label.length * CHAR_WIDTH) + 28);
    g.setNode(node.id, { width, height: isMark(node) ? 28 : NODE_HEIGHT });
  }
  graph.edges.forEach((edge, i) => {
    const label = edge.kind === 'choice' || edge.kind === 'default' ? edge.label : undefined;
    g.setEdge(
      edge.from,
      edge.to,
      {
        // Error paths weigh less, so the happy path stays the straight spine of the drawing.
        weight: edge.kind === 'catch' ? 1 : 4,
        ...(label ? { width: Math.min(220, label.length * 6 + 8), height: 14, labelpos: 'c' } : {}),
      },
      `e${i}`,
    );
  });
  dagre.layout(g);
  const nodes = graph.nodes.map((node) => {
    const n = g.node(node.id);
    return { node, x: n.x ?? 0, y: n.y ?? 0, width: n.width, height: n.height };
  });
  const edges = graph.edges.map((edge, i) => {
    const e = g.edge({ v: edge.from, w: edge.to, name: `e${i}` });
    return {
      from: edge.from,
      to: edge.to,
      kind: edge.kind,
      ...(edge.label ? { label: edge.label } : {}),
      points: e?.points ?? [],
      ...(e?.x !== undefined && e.y !== undefined && (edge.kind === 'choice' || edge.kind === 'default')
        ? { labelAt: { x: e.x, y: e.y } }
        : {}),
    };
  });
  const { width = 0, height = 0 } = g.graph();
  return { width, height, nodes, edges };
}

/** Each state's status in the execution: its last visit decides (a retried state that then succeeded is green). */
export function stateStatuses(execution: ConsoleExecution | undefined): Map<string, StateStatus> {
  const statuses = new Map<string, StateStatus>();
  for (const visit of execution?.states ?? []) statuses.set(visit.name, visit.status);
  return statuses;
}

/** The transitions an execution took, as `from→to` keys (Start and End marks included). */
export function takenEdges(
  execution: ConsoleExecution | undefined,
  startAt: string | undefined,
): Set<string> {
  const taken = new Set<string>();
  const names = execution?.states.map((s) => s.name) ?? [];
  if (names.length === 0) return taken;
  if (startAt) taken.add(`__start__→${names[0]}`);
  for (let i = 1; i < names.length; i++) taken.add(`${names[i - 1]}→${names[i]}`);
  if (execution && execution.status !== 'RUNNING') taken.add(`${names[names.length - 1]}→__end__`);
  return taken;
}

/** The End mark: green once the execution succeeded, red once it ended otherwise. */
const endStatus = (execution: ConsoleExecution | undefined): StateStatus =>
  !execution || execution.status === 'RUNNING'
    ? 'not-run'
    : execution.status === 'SUCCEEDED'
      ? 'succeeded'
      : 'failed';

const pathOf = (points: ReadonlyArray<{ x: number; y: number }>): string =>
  points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');

export function drawGraph(
  layout: GraphLayout,
  graph: StateMachineGraph,
  execution: ConsoleExecution | undefined,
  selectedState: string | undefined,
  onSelect: (state: string) => void,
): SVGSVGElement {
  const statuses = stateStatuses(execution);
  const startAt = graph.edges.find((e) => e.from === '__start__')?.to;
  const taken = takenEdges(execution, startAt);
  const root = svg('svg', {
    class: 'graph',
    viewBox: `0 0 ${Math.ceil(layout.width)} ${Math.ceil(layout.height)}`,
    width: Math.ceil(layout.width),
    height: Math.ceil(layout.height),
    // Scaled to the panel, but never below legibility: a wider graph scrolls in its panel.
    style: `min-width: ${Math.round(layout.width * MIN_SCALE)}px`,
    role: 'img',
    'aria-label': `State machine ${graph.name}${execution ? `, execution ${execution.name}` : ''}`,
  });
  root.appendChild(
    svg(
      'defs',
      {},
      ...['plain', 'taken'].map((kind) =>
        svg(
          'marker',
          {
            id: `arrow-${kind}`,
            viewBox: '0 0 10 10',
            refX: 9,
            refY: 5,
            markerWidth: 7,
            markerHeight: 7,
            orient: 'auto-start-reverse',
          },
          svg('path', { d: 'M0,0 L10,5 L0,10 z', class: `arrow arrow-${kind}` }),
        ),
      ),
    ),
  );
  const edgeLayer = svg('g', { class: 'edges' });
  // Drawn untaken first, so the execution's path is on top where edges cross.
  const ordered = [...layout.edges].sort(
    (a, b) => Number(taken.has(`${a.from}→${a.to}`)) - Number(taken.has(`${b.from}→${b.to}`)),
  );
  for (const edge of ordered) {
    const isTaken = taken.has(`${edge.from}→${edge.to}`);
    const group = svg(
      'g',
      {
        class: `edge edge-${edge.kind}${isTaken ? ' taken' : ''}`,
        'data-from': edge.from,
        'data-to': edge.to,
      },
      svg('title', {}, `${edge.from} → ${edge.to}${edge.label ? ` (${edge.kind}: ${edge.label})` : ''}`),
      svg('path', {
        d: pathOf(edge.points),
        'marker-end': `url(#arrow-${isTaken ? 'taken' : 'plain'})`,
      }),
    );
    if (edge.labelAt && edge.label)
      group.appendChild(
        svg('text', { x: edge.labelAt.x, y: edge.labelAt.y + 4, class: 'edge-label' }, edge.label),
      );
    edgeLayer.appendChild(group);
  }
  root.appendChild(edgeLayer);
  const nodeLayer = svg('g', { class: 'nodes' });
  for (const { node, x, y, width, height } of layout.nodes) {
    const status: StateStatus =
      node.type === 'Start'
        ? execution
          ? 'succeeded'
          : 'not-run'
        : node.type === 'End'
          ? endStatus(execution)
          : (statuses.get(node.id) ?? 'not-run');
    const group = svg(
      'g',
      {
        class: `state state-${node.type.toLowerCase()} status-${status}${selectedState === node.id ? ' selected' : ''}`,
        'data-state': node.id,
        'data-status': status,
        transform: `translate(${(x - width / 2).toFixed(1)},${(y - height / 2).toFixed(1)})`,
        tabindex: isMark(node) ? undefined : 0,
      },
      svg('title', {}, `${node.label} (${node.type}): ${STATUS_LABELS[status]}`),
      svg('rect', {
        width,
        height,
        rx: isMark(node) ? height / 2 : 4,
        ry: isMark(node) ? height / 2 : 4,
      }),
      svg('text', { x: width / 2, y: height / 2 + 4.5 }, node.label),
    );
    if (!isMark(node)) {
      group.addEventListener('click', () => onSelect(node.id));
      group.addEventListener('keydown', (event) => {
        if (event.key === 'Enter' || event.key === ' ') onSelect(node.id);
      });
    }
    nodeLayer.appendChild(group);
  }
  root.appendChild(nodeLayer);
  return root;
}
