import { LatencyBudget, configWaitMs } from '../../lambda/core/latency-budget';

function budgetAt(policy: { targetMs: number; hardMs: number }, ceilingMs = 28_000) {
  let now = 1_000;
  const budget = new LatencyBudget(policy, ceilingMs, now, () => now);
  return { budget, advance: (ms: number) => (now += ms) };
}

describe('LatencyBudget', () => {
  it('gives the first path the target and later paths the rest of the hard limit', () => {
    const { budget, advance } = budgetAt({ targetMs: 5_000, hardMs: 10_000 });
    expect(budget.pathRemainingMs(0)).toBe(5_000);
    advance(5_000);
    expect(budget.pathRemainingMs(0)).toBe(0);
    expect(budget.pathRemainingMs(1)).toBe(5_000);
    expect(budget.remainingMs()).toBe(5_000);
  });

  it('never goes negative', () => {
    const { budget, advance } = budgetAt({ targetMs: 100, hardMs: 200 });
    advance(1_000);
    expect([budget.pathRemainingMs(0), budget.pathRemainingMs(1), budget.remainingMs()]).toEqual([0, 0, 0]);
    expect(budget.elapsedMs()).toBe(1_000);
  });

  it('caps the hard limit, and the target with it, below the integration timeout', () => {
    const { budget } = budgetAt({ targetMs: 30_000, hardMs: 30_000 }, 28_000);
    expect([budget.targetMs, budget.hardMs]).toEqual([28_000, 28_000]);
  });
});

describe('configWaitMs', () => {
  it('allows half the target, at most the limit', () => {
    expect(configWaitMs({ targetMs: 5_000, hardMs: 10_000 }, 1_000)).toBe(1_000);
    expect(configWaitMs({ targetMs: 5_000, hardMs: 10_000 }, 5_000)).toBe(2_500);
    expect(configWaitMs({ targetMs: 301, hardMs: 600 }, 1_000)).toBe(150);
  });
});
