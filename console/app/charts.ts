import uPlot from 'uplot';
import type { ConsoleDataset, ConsoleMetric } from '../model';
import { el, percent } from './dom';

/**
 * Per-dataset charts over time (uPlot, on canvas): stage durations, records in / out / quarantined
 * of a stage, and the quarantine ratio of the judged stage against the spike rule's baseline.
 */

export const STAGES = ['bronze', 'silver', 'gold'] as const;

/** Series colours (the browser test looks for them on the canvas). */
export const COLORS = {
  bronze: '#b5651d',
  silver: '#6b7b8c',
  gold: '#d4a017',
  in: '#0073bb',
  out: '#1d8102',
  quarantined: '#d13212',
  ratio: '#d13212',
  threshold: '#8a4baf',
  mean: '#8a4baf',
  maxRatio: '#ec7211',
} as const;

interface SeriesSpec {
  readonly label: string;
  readonly color: string;
  readonly dash?: number[];
  readonly points: ReadonlyArray<{ at: number; value: number | null }>;
  readonly format: (v: number) => string;
}

/** One x axis for every series (uPlot's aligned data): the union of their times, in seconds. */
function aligned(series: readonly SeriesSpec[]): uPlot.AlignedData {
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p.at)))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const columns = series.map((s) => {
    const ys: Array<number | null> = xs.map(() => null);
    for (const p of s.points) ys[index.get(p.at) ?? 0] = p.value;
    return ys;
  });
  return [xs.map((x) => x / 1000), ...columns] as uPlot.AlignedData;
}

const chartWidth = (container: HTMLElement) => Math.max(280, container.clientWidth - 16);

/** A uPlot chart in `container`, or a line saying there is nothing to draw yet. */
function drawChart(
  container: HTMLElement,
  title: string,
  yLabel: string,
  series: readonly SeriesSpec[],
  charts: uPlot[],
): void {
  container.replaceChildren();
  const points = series.reduce((n, s) => n + s.points.filter((p) => p.value !== null).length, 0);
  container.dataset['points'] = String(points);
  if (points === 0) {
    container.appendChild(el('p', { class: 'empty' }, `${title}: no data points yet.`));
    return;
  }
  const options: uPlot.Options = {
    title,
    width: chartWidth(container),
    height: 220,
    scales: { x: { time: true } },
    axes: [
      { stroke: '#555', grid: { stroke: '#eee' } },
      { label: yLabel, stroke: '#555', grid: { stroke: '#eee' }, size: 60 },
    ],
    series: [
      {
        label: 'time',
        value: (_u, v) =>
          v === null ? '–' : new Date(v * 1000).toISOString().replace('T', ' ').slice(0, 23),
      },
      ...series.map((s) => ({
        label: s.label,
        stroke: s.color,
        width: 2,
        spanGaps: true,
        ...(s.dash ? { dash: s.dash } : {}),
        points: { show: true, size: 6, fill: s.color },
        value: (_u: uPlot, v: number | null) => (v === null ? '–' : s.format(v)),
      })),
    ],
  };
  charts.push(new uPlot(options, aligned(series), container));
}

const byStage = (metrics: readonly ConsoleMetric[], stage: string) =>
  metrics.filter((m) => m.stage === stage);
const seconds = (v: number) => `${v.toFixed(3)} s`;
const count = (v: number) => v.toLocaleString('en');

export function durationChart(container: HTMLElement, dataset: ConsoleDataset, charts: uPlot[]): void {
  drawChart(
    container,
    'Stage durations',
    'seconds',
    STAGES.map((stage) => ({
      label: stage,
      color: COLORS[stage],
      points: byStage(dataset.metrics, stage).map((m) => ({ at: m.at, value: m.durationSeconds })),
      format: seconds,
    })),
    charts,
  );
}

export function recordsChart(
  container: HTMLElement,
  dataset: ConsoleDataset,
  stage: string,
  charts: uPlot[],
): void {
  const own = byStage(dataset.metrics, stage);
  drawChart(
    container,
    `Records, ${stage}`,
    'records',
    [
      {
        label: 'in',
        color: COLORS.in,
        points: own.map((m) => ({ at: m.at, value: m.recordsIn })),
        format: count,
      },
      {
        label: 'out',
        color: COLORS.out,
        points: own.map((m) => ({ at: m.at, value: m.recordsOut })),
        format: count,
      },
      {
        label: 'quarantined',
        color: COLORS.quarantined,
        points: own.map((m) => ({ at: m.at, value: m.recordsQuarantined })),
        format: count,
      },
    ],
    charts,
  );
}

export function ratioChart(container: HTMLElement, dataset: ConsoleDataset, charts: uPlot[]): void {
  const asPercent = (v: number) => percent(v / 100);
  const pct = (v: number | null) => (v === null ? null : v * 100);
  drawChart(
    container,
    `Quarantine ratio, ${dataset.judgedStage}, against its baseline`,
    '%',
    [
      {
        label: 'ratio',
        color: COLORS.ratio,
        points: dataset.ratio.map((p) => ({ at: p.at, value: pct(p.ratio) })),
        format: asPercent,
      },
      {
        label: 'baseline (mean + k·σ)',
        color: COLORS.threshold,
        dash: [6, 4],
        points: dataset.ratio.map((p) => ({ at: p.at, value: pct(p.threshold) })),
        format: asPercent,
      },
      {
        label: 'baseline mean',
        color: COLORS.mean,
        dash: [2, 3],
        points: dataset.ratio.map((p) => ({ at: p.at, value: pct(p.mean) })),
        format: asPercent,
      },
      {
        label: 'max ratio',
        color: COLORS.maxRatio,
        dash: [10, 4],
        points: dataset.ratio.map((p) => ({ at: p.at, value: pct(p.maxRatio) })),
        format: asPercent,
      },
    ],
    charts,
  );
}
