import { judgeGates, failedGates } from '../../lambda/core/ramp-gates';
import { fisherGreaterPValue, logGamma, wilsonBounds } from '../../lambda/core/ramp-statistics';
import { DEFAULT_GATES, type RampFigures } from '../../lambda/shared/ramp';

/** A step with plenty of healthy traffic in both cohorts. */
const healthy = (overrides: { hybrid?: Partial<RampFigures['hybrid']>; control?: Partial<RampFigures['control']>; health?: Partial<RampFigures['health']>; alarmsInAlarm?: string[] | null } = {}): RampFigures => ({
  window: { start: '2026-03-02T10:01:00.000Z', end: '2026-03-02T10:31:00.000Z' },
  hybrid: { requests: 200, errors: 0, latencyP95Ms: 1200, withinLatencyPercent: 100, ...overrides.hybrid },
  control: { requests: 2000, errors: 2, ...overrides.control },
  health: { 'direct-bedrock': 1, 'mcp-router': 1, ...overrides.health },
  alarmsInAlarm: overrides.alarmsInAlarm === undefined ? [] : overrides.alarmsInAlarm,
});

const judge = (figures: RampFigures, trafficPercentage = 25) => judgeGates(figures, { gates: DEFAULT_GATES, trafficPercentage, at: new Date('2026-03-02T10:31:00Z') });
const outcome = (figures: RampFigures, gate: string, trafficPercentage = 25) => judge(figures, trafficPercentage).gates.find((g) => g.gate === gate)!.outcome;

describe('ramp statistics', () => {
  it('Wilson bounds: 0 of 50 has a 95% one-sided upper bound of z²/(n+z²), and the bounds bracket the estimate', () => {
    const bounds = wilsonBounds(0, 50);
    expect(bounds.lower).toBe(0);
    expect(bounds.upper).toBeCloseTo(2.705543 / 52.705543, 6);
    const mid = wilsonBounds(20, 200);
    expect(mid.lower).toBeCloseTo(0.0704, 3);
    expect(mid.upper).toBeCloseTo(0.1404, 3);
    expect(wilsonBounds(5, 5).upper).toBe(1);
  });

  it('Fisher\'s exact one-sided test matches the hypergeometric tail worked by hand', () => {
    // 1 error in 50 hybrid, none in 1000 control: P(the one error lands in hybrid) = 50/1050.
    expect(fisherGreaterPValue(1, 50, 0, 1000)).toBeCloseTo(50 / 1050, 12);
    // Both of 2 errors in hybrid: C(50,2)/C(1050,2).
    expect(fisherGreaterPValue(2, 50, 0, 1000)).toBeCloseTo((50 * 49) / (1050 * 1049), 12);
    expect(fisherGreaterPValue(0, 50, 3, 1000)).toBe(1);
    expect(fisherGreaterPValue(0, 0, 0, 10)).toBe(1);
  });

  it('logGamma is exact enough at the counts CloudWatch returns', () => {
    expect(logGamma(1)).toBeCloseTo(0, 12);
    expect(logGamma(11)).toBeCloseTo(Math.log(3628800), 10);
    expect(Math.exp(logGamma(0.5))).toBeCloseTo(Math.sqrt(Math.PI), 12);
    // A large tail stays a probability.
    const p = fisherGreaterPValue(600, 100_000, 5_000, 1_000_000);
    expect(p).toBeGreaterThanOrEqual(0);
    expect(p).toBeLessThanOrEqual(1);
  });

  it('rejects counts that are not counts', () => {
    expect(() => wilsonBounds(3, 2)).toThrow(RangeError);
    expect(() => fisherGreaterPValue(-1, 2, 0, 2)).toThrow(RangeError);
  });
});

describe('ramp gates: the vectors of issue 9', () => {
  it('equal error rates pass', () => {
    const figures = healthy({ hybrid: { requests: 200, errors: 1 }, control: { requests: 200, errors: 1 } });
    expect(outcome(figures, 'hybrid-vs-control')).toBe('pass');
    expect(outcome(figures, 'hybrid-error-rate')).toBe('pass');
    expect(judge(figures).verdict).toBe('pass');
  });

  it('40/200 against 0/200 fails', () => {
    const evaluation = judge(healthy({ hybrid: { requests: 200, errors: 40 }, control: { requests: 200, errors: 0 } }));
    expect(evaluation.verdict).toBe('fail');
    expect(evaluation.gates.find((g) => g.gate === 'hybrid-vs-control')).toMatchObject({ outcome: 'fail', value: 20 });
    expect(evaluation.gates.find((g) => g.gate === 'hybrid-vs-control')!.evidence).toBeLessThan(0.0001);
    expect(evaluation.gates.find((g) => g.gate === 'hybrid-error-rate')).toMatchObject({ outcome: 'fail', value: 20 });
    expect(failedGates(evaluation).rollBack.map((g) => g.gate)).toEqual(['hybrid-error-rate', 'hybrid-vs-control']);
    expect(evaluation.reasons[0]).toMatch(/^hybrid-error-rate: 20% \(40 of 200\): its 95% lower bound 15\.\d+% is above 1%$/);
  });

  it('3 requests are insufficient, whatever they say', () => {
    for (const errors of [0, 3]) {
      const evaluation = judge(healthy({ hybrid: { requests: 3, errors } }));
      expect(evaluation.verdict).toBe('insufficient');
      for (const gate of ['hybrid-error-rate', 'hybrid-vs-control', 'hybrid-latency-p95']) expect(outcome(healthy({ hybrid: { requests: 3, errors } }), gate)).toBe('insufficient');
      expect(evaluation.reasons).toContain('hybrid-error-rate: 3 of the 50 hybrid requests needed');
    }
  });

  it('a missing metric is insufficient, not zero', () => {
    const noErrors = judge(healthy({ hybrid: { errors: null } }));
    expect(noErrors.verdict).toBe('insufficient');
    expect(noErrors.gates.find((g) => g.gate === 'hybrid-error-rate')).toMatchObject({ outcome: 'insufficient', value: null });
    expect(noErrors.reasons).toContain('hybrid-error-rate: no Errors data for the step (missing data is not zero)');
    expect(outcome(healthy({ control: { requests: null } }), 'hybrid-vs-control')).toBe('insufficient');
    expect(outcome(healthy({ hybrid: { latencyP95Ms: null } }), 'hybrid-latency-p95')).toBe('insufficient');
    expect(outcome(healthy({ health: { 'mcp-router': null } }), 'mcp-router-health')).toBe('insufficient');
    expect(outcome(healthy({ alarmsInAlarm: null }), 'rollback-alarms')).toBe('insufficient');
  });
});

describe('ramp gates: each rule', () => {
  it('the error rate fails only when its 95% lower bound is above the threshold, and waits in between', () => {
    expect(outcome(healthy({ hybrid: { requests: 50, errors: 3 } }), 'hybrid-error-rate')).toBe('fail');
    expect(outcome(healthy({ hybrid: { requests: 50, errors: 1 } }), 'hybrid-error-rate')).toBe('insufficient');
    expect(outcome(healthy({ hybrid: { requests: 50, errors: 0 } }), 'hybrid-error-rate')).toBe('pass');
    expect(outcome(healthy({ hybrid: { requests: 49, errors: 0 } }), 'hybrid-error-rate')).toBe('insufficient');
  });

  it('a single error at low traffic is not "worse than control": the exact test does not reject where a z-test would', () => {
    // A pooled two-proportion z-test gives z ≈ 3.0 here; Fisher's exact p ≈ 0.09.
    const figures = healthy({ hybrid: { requests: 50, errors: 1 }, control: { requests: 1000, errors: 1 } });
    expect(fisherGreaterPValue(1, 50, 1, 1000)).toBeGreaterThan(0.05);
    expect(outcome(figures, 'hybrid-vs-control')).toBe('pass');
  });

  it('hybrid vs control needs minSamples in each cohort, and does not apply at 100%', () => {
    expect(outcome(healthy({ control: { requests: 20, errors: 0 } }), 'hybrid-vs-control')).toBe('insufficient');
    const full = judge(healthy({ control: { requests: null, errors: null } }), 100);
    expect(full.gates.find((g) => g.gate === 'hybrid-vs-control')!.outcome).toBe('not-applicable');
    expect(full.verdict).toBe('pass');
  });

  it('latency passes within the threshold, fails when significantly more than 5% are slower, and waits in between', () => {
    expect(outcome(healthy({ hybrid: { latencyP95Ms: 9_999, withinLatencyPercent: 96 } }), 'hybrid-latency-p95')).toBe('pass');
    expect(outcome(healthy({ hybrid: { latencyP95Ms: 14_000, withinLatencyPercent: 80 } }), 'hybrid-latency-p95')).toBe('fail');
    expect(outcome(healthy({ hybrid: { latencyP95Ms: 10_300, withinLatencyPercent: 94 } }), 'hybrid-latency-p95')).toBe('insufficient');
    expect(outcome(healthy({ hybrid: { latencyP95Ms: 14_000, withinLatencyPercent: null } }), 'hybrid-latency-p95')).toBe('insufficient');
  });

  it('a rollback alarm in ALARM fails and rolls back; a failed health check fails and pauses', () => {
    const alarm = judge(healthy({ alarmsInAlarm: ['HybridRouting-dev-hybrid-latency'] }));
    expect(failedGates(alarm).rollBack.map((g) => g.gate)).toEqual(['rollback-alarms']);
    const health = judge(healthy({ health: { 'direct-bedrock': 0 } }));
    expect(health.verdict).toBe('fail');
    expect(failedGates(health)).toEqual({ rollBack: [], pause: [expect.objectContaining({ gate: 'direct-bedrock-health', value: 0 })] });
  });

  it('healthy figures pass every gate with nothing to explain', () => {
    const evaluation = judge(healthy());
    expect(evaluation.verdict).toBe('pass');
    expect(evaluation.reasons).toEqual([]);
    expect(evaluation.gates.map((g) => `${g.gate} ${g.outcome}`)).toEqual([
      'hybrid-error-rate pass',
      'hybrid-vs-control pass',
      'hybrid-latency-p95 pass',
      'rollback-alarms pass',
      'direct-bedrock-health pass',
      'mcp-router-health pass',
    ]);
  });
});
