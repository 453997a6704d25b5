import type { Dataset } from './datasets';

/**
 * The quarantine judgement: is this run's quarantine ratio a spike worth paging about?
 *
 * A spike is a ratio above the dataset's `maxRatio`, or above the baseline of recent runs:
 * mean + k·σ (sample standard deviation) of the last `lookback` QuarantineRatio data points.
 * Runs with fewer than `minRecords` records in are never judged (a 10-record file with 3 bad rows is
 * 30 %, and nobody should be woken up for it); a baseline needs at least MIN_BASELINE_POINTS points.
 */
export const MIN_BASELINE_POINTS = 3;

export type SpikeReason = 'above-max-ratio' | 'above-baseline';

export interface Baseline {
  readonly points: number;
  readonly mean: number;
  readonly stddev: number;
  readonly k: number;
  /** mean + k·σ */
  readonly threshold: number;
}

export interface QuarantineJudgement {
  /** `too-few-records`: below minRecords, not judged; `not-judged`: this stage is not judged. */
  readonly verdict: 'normal' | 'spike' | 'too-few-records' | 'not-judged';
  /** What the state machine does next: the Choice "Check quarantine" reads this. */
  readonly action: 'continue' | 'alert' | 'halt';
  readonly recordsIn: number;
  readonly recordsQuarantined: number;
  readonly ratio: number;
  readonly maxRatio: number;
  readonly minRecords: number;
  /** null when fewer than MIN_BASELINE_POINTS recent data points exist. */
  readonly baseline: Baseline | null;
  readonly reasons: readonly SpikeReason[];
  /** One line for the console and the alert. */
  readonly summary: string;
}

export const quarantineRatio = (recordsIn: number, recordsQuarantined: number): number =>
  recordsIn > 0 ? recordsQuarantined / recordsIn : 0;

export function baselineOf(points: readonly number[], k: number): Baseline | null {
  const values = points.filter((p) => Number.isFinite(p));
  if (values.length < MIN_BASELINE_POINTS) return null;
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1);
  const stddev = Math.sqrt(variance);
  return { points: values.length, mean, stddev, k, threshold: mean + k * stddev };
}

/** `20%`, `1.05%`, `0.013%`: two significant decimals, no trailing zeros. */
export const percent = (ratio: number): string => {
  const p = ratio * 100;
  const digits = p !== 0 && Math.abs(p) < 0.1 ? 3 : 2;
  return `${Number(p.toFixed(digits))}%`;
};

export function judgeQuarantine(p: {
  readonly policy: Dataset['quarantine'];
  readonly recordsIn: number;
  readonly recordsQuarantined: number;
  /** Recent QuarantineRatio data points (this run excluded). */
  readonly recent: readonly number[];
}): QuarantineJudgement {
  const { policy, recordsIn, recordsQuarantined } = p;
  const ratio = quarantineRatio(recordsIn, recordsQuarantined);
  const baseline = baselineOf(p.recent.slice(0, policy.spike.lookback), policy.spike.k);
  const base = {
    recordsIn,
    recordsQuarantined,
    ratio,
    maxRatio: policy.maxRatio,
    minRecords: policy.spike.minRecords,
    baseline,
  };
  const counts = `${recordsQuarantined} of ${recordsIn} records quarantined (${percent(ratio)})`;
  if (recordsIn < policy.spike.minRecords) {
    return {
      ...base,
      verdict: 'too-few-records',
      action: 'continue',
      reasons: [],
      summary: `${counts}; not judged: fewer than ${policy.spike.minRecords} records in`,
    };
  }
  const reasons: SpikeReason[] = [];
  if (ratio > policy.maxRatio) reasons.push('above-max-ratio');
  if (baseline && ratio > baseline.threshold) reasons.push('above-baseline');
  const limits =
    `max ratio ${percent(policy.maxRatio)}` +
    (baseline
      ? `, baseline ${percent(baseline.threshold)} (mean ${percent(baseline.mean)} + ${baseline.k}·σ ${percent(baseline.stddev)} over ${baseline.points} runs)`
      : ', no baseline yet');
  if (reasons.length === 0) {
    return {
      ...base,
      verdict: 'normal',
      action: 'continue',
      reasons,
      summary: `${counts}; within ${limits}`,
    };
  }
  const action = policy.onSpike;
  return {
    ...base,
    verdict: 'spike',
    action,
    reasons,
    summary:
      `Quarantine spike: ${counts}, above ${limits}; policy ${action}` +
      (action === 'halt' ? ': the run stops before gold' : ': gold runs anyway'),
  };
}

/** The judgement of a stage whose quarantine is not judged (only silver applies the rules). */
export function notJudged(
  recordsIn: number,
  recordsQuarantined: number,
  policy: Dataset['quarantine'],
): QuarantineJudgement {
  const ratio = quarantineRatio(recordsIn, recordsQuarantined);
  return {
    verdict: 'not-judged',
    action: 'continue',
    recordsIn,
    recordsQuarantined,
    ratio,
    maxRatio: policy.maxRatio,
    minRecords: policy.spike.minRecords,
    baseline: null,
    reasons: [],
    summary: `${recordsQuarantined} of ${recordsIn} records quarantined (${percent(ratio)}); only silver is judged`,
  };
}
