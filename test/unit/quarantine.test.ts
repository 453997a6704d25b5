import { baselineOf, judgeQuarantine, percent } from '../../shared/domain/quarantine';

const policy = (onSpike: 'alert' | 'halt' = 'alert') => ({
  maxRatio: 0.05,
  spike: { lookback: 5, k: 3, minRecords: 100 },
  onSpike,
});

describe('quarantine judgement', () => {
  it('computes the baseline as mean + k·σ (sample σ) of the recent points, needing at least 3', () => {
    const b = baselineOf([0.01, 0.02, 0.03], 2);

    expect(b?.mean).toBeCloseTo(0.02, 10);
    expect(b?.stddev).toBeCloseTo(0.01, 10);
    expect(b?.threshold).toBeCloseTo(0.04, 10);
    expect(baselineOf([0.01, 0.02], 3)).toBeNull();
    expect(baselineOf([0.01, Number.NaN, 0.02], 3)).toBeNull();
  });

  it('judges a ratio above maxRatio a spike even without history, and acts by policy', () => {
    const alert = judgeQuarantine({
      policy: policy('alert'),
      recordsIn: 1000,
      recordsQuarantined: 60,
      recent: [],
    });
    const halt = judgeQuarantine({
      policy: policy('halt'),
      recordsIn: 1000,
      recordsQuarantined: 60,
      recent: [],
    });

    expect(alert).toMatchObject({
      verdict: 'spike',
      action: 'alert',
      reasons: ['above-max-ratio'],
      baseline: null,
    });
    expect(halt).toMatchObject({ verdict: 'spike', action: 'halt' });
    expect(halt.summary).toBe(
      'Quarantine spike: 60 of 1000 records quarantined (6%), above max ratio 5%, no baseline yet; policy halt: the run stops before gold',
    );
  });

  it('judges a ratio below maxRatio but far above the recent baseline a spike', () => {
    const j = judgeQuarantine({
      policy: policy(),
      recordsIn: 10_000,
      recordsQuarantined: 300,
      recent: [0.001, 0.002, 0.0015, 0.001, 0.002, 0.9],
    });

    expect(j.verdict).toBe('spike');
    expect(j.reasons).toEqual(['above-baseline']);
    expect(j.baseline?.points).toBe(5);
  });

  it('keeps a normal ratio normal, and never judges a run below minRecords', () => {
    const normal = judgeQuarantine({
      policy: policy(),
      recordsIn: 10_000,
      recordsQuarantined: 20,
      recent: [0.001, 0.003, 0.002, 0.002],
    });
    const tiny = judgeQuarantine({
      policy: policy('halt'),
      recordsIn: 10,
      recordsQuarantined: 9,
      recent: [],
    });

    expect(normal).toMatchObject({ verdict: 'normal', action: 'continue', reasons: [] });
    expect(tiny).toMatchObject({ verdict: 'too-few-records', action: 'continue', ratio: 0.9 });
    expect(tiny.summary).toContain('not judged: fewer than 100 records in');
  });

  it('treats zero records in as a ratio of 0', () => {
    expect(
      judgeQuarantine({
        policy: { ...policy(), spike: { lookback: 5, k: 3, minRecords: 0 } },
        recordsIn: 0,
        recordsQuarantined: 0,
        recent: [],
      }),
    ).toMatchObject({ ratio: 0, verdict: 'normal' });
  });

  it('prints ratios readably', () => {
    expect([percent(0.3), percent(0.0105), percent(0.00013), percent(0)]).toEqual([
      '30%',
      '1.05%',
      '0.013%',
      '0%',
    ]);
  });
});
