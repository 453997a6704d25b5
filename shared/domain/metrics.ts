import type { Stage } from './datasets';

/** The metrics of one stage of one run (names: below). */
export interface StageMetrics {
  readonly dataset: string;
  readonly stage: Stage;
  /** When the stage's job completed. */
  readonly timestamp: Date;
  readonly durationSeconds: number;
  readonly recordsIn: number;
  readonly recordsOut: number;
  readonly recordsQuarantined: number;
  /** recordsQuarantined / recordsIn (0 when recordsIn is 0). */
  readonly quarantineRatio: number;
  /** Gold only: the gold partitions the run wrote (more than 1 when a gold window recomputed later days). */
  readonly goldPartitionsWritten?: number;
  /**
   * Bronze: columns that drifted in this run's landed files (undeclared + missing, summed over files;
   * shared/domain/landed-files.ts). 0 for the other stages, and when nothing drifted.
   */
  readonly schemaDriftColumns: number;
}

/** CloudWatch metric names and dimensions of the pipeline (one PutMetricData per stage). */
export const DEFAULT_METRICS_NAMESPACE = 'MedallionLake';

export const METRIC_NAMES = {
  duration: 'StageDurationSeconds',
  recordsIn: 'RecordsIn',
  recordsOut: 'RecordsOut',
  recordsQuarantined: 'RecordsQuarantined',
  quarantineRatio: 'QuarantineRatio',
  goldPartitionsWritten: 'GoldPartitionsWritten',
  schemaDriftColumns: 'SchemaDriftColumns',
} as const;

export const DIMENSIONS = { dataset: 'Dataset', stage: 'Stage' } as const;

export type MetricUnit = 'Seconds' | 'Count' | 'None';

export interface MetricPoint {
  readonly name: (typeof METRIC_NAMES)[keyof typeof METRIC_NAMES];
  readonly value: number;
  readonly unit: MetricUnit;
}

/**
 * The data points of a stage: five, plus SchemaDriftColumns for bronze (where drift is found; 0 on a
 * run without drift, so an alarm on it sees data) and gold's partition count; non-finite values
 * (CloudWatch rejects NaN/Infinity) become 0.
 */
export function stageMetricPoints(m: StageMetrics): MetricPoint[] {
  const finite = (v: number) => (Number.isFinite(v) ? v : 0);
  const drift: MetricPoint[] =
    m.stage === 'bronze'
      ? [{ name: METRIC_NAMES.schemaDriftColumns, value: finite(m.schemaDriftColumns), unit: 'Count' }]
      : [];
  return [
    { name: METRIC_NAMES.duration, value: finite(m.durationSeconds), unit: 'Seconds' },
    { name: METRIC_NAMES.recordsIn, value: finite(m.recordsIn), unit: 'Count' },
    { name: METRIC_NAMES.recordsOut, value: finite(m.recordsOut), unit: 'Count' },
    { name: METRIC_NAMES.recordsQuarantined, value: finite(m.recordsQuarantined), unit: 'Count' },
    { name: METRIC_NAMES.quarantineRatio, value: finite(m.quarantineRatio), unit: 'None' },
    ...(m.goldPartitionsWritten !== undefined
      ? [
          {
            name: METRIC_NAMES.goldPartitionsWritten,
            value: finite(m.goldPartitionsWritten),
            unit: 'Count' as const,
          },
        ]
      : []),
    ...drift,
  ];
}
