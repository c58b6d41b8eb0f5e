import { evaluateMetricMath } from '../support/metric-math';

describe('evaluateMetricMath (the drill\'s reading of alarm expressions)', () => {
  it.each([
    ['IF(requests >= 10, 100 * errors / requests, 0)', { requests: 20, errors: 5 }, 25],
    ['IF(requests >= 10, 100 * errors / requests, 0)', { requests: 2, errors: 1 }, 0],
    ['IF(requests >= 10, p95, 0)', { requests: 10, p95: 1234 }, 1234],
    ['100 * (ch + cc) / (ch + cc + rh + rc)', { ch: 1, cc: 1, rh: 4, rc: 4 }, 20],
    ['(tin * 0.00025 + tout * 0.00125) / 1000', { tin: 1000, tout: 1000 }, 0.0015],
  ])('%s with %j is %d', (expression, values, expected) => {
    expect(evaluateMetricMath(expression, values)).toBeCloseTo(expected, 12);
  });

  it('refuses an id it has no value for', () => {
    expect(() => evaluateMetricMath('a + b', { a: 1 })).toThrow('no value for b');
  });
});
