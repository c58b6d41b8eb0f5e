import { CircuitBreaker, CircuitBreakers } from '../../lambda/core/circuit-breaker';

const settings = { failureThreshold: 3, coolDownMs: 1_000 };

function breakerAt(start = 0) {
  let now = start;
  const breaker = new CircuitBreaker(() => now);
  return { breaker, advance: (ms: number) => (now += ms) };
}

function fail(breaker: CircuitBreaker, times: number): boolean[] {
  return Array.from({ length: times }, () => {
    expect(breaker.tryAcquire(settings)).toBe(true);
    return breaker.recordFailure(settings);
  });
}

describe('CircuitBreaker', () => {
  it('opens after the threshold of consecutive failures, and reports the opening once', () => {
    const { breaker } = breakerAt();
    expect(fail(breaker, 3)).toEqual([false, false, true]);
    expect(breaker.state(settings)).toBe('open');
    expect(breaker.tryAcquire(settings)).toBe(false);
  });

  it('forgets failures after a success', () => {
    const { breaker } = breakerAt();
    fail(breaker, 2);
    breaker.tryAcquire(settings);
    breaker.recordSuccess();
    expect(fail(breaker, 2)).toEqual([false, false]);
    expect(breaker.state(settings)).toBe('closed');
  });

  it('goes half-open after the cool-down and lets exactly one trial through', () => {
    const { breaker, advance } = breakerAt();
    fail(breaker, 3);
    advance(999);
    expect(breaker.state(settings)).toBe('open');
    expect(breaker.msUntilTrial(settings)).toBe(1);
    advance(1);
    expect(breaker.state(settings)).toBe('half-open');
    expect(breaker.tryAcquire(settings)).toBe(true);
    expect(breaker.tryAcquire(settings)).toBe(false);
  });

  it('closes when the trial succeeds', () => {
    const { breaker, advance } = breakerAt();
    fail(breaker, 3);
    advance(1_000);
    breaker.tryAcquire(settings);
    breaker.recordSuccess();
    expect(breaker.state(settings)).toBe('closed');
  });

  it('re-opens for a full cool-down when the trial fails', () => {
    const { breaker, advance } = breakerAt();
    fail(breaker, 3);
    advance(1_000);
    breaker.tryAcquire(settings);
    expect(breaker.recordFailure(settings)).toBe(true);
    expect(breaker.state(settings)).toBe('open');
    expect(breaker.msUntilTrial(settings)).toBe(1_000);
  });

  it('frees a released trial slot without counting it', () => {
    const { breaker, advance } = breakerAt();
    fail(breaker, 3);
    advance(1_000);
    breaker.tryAcquire(settings);
    breaker.release();
    expect(breaker.state(settings)).toBe('half-open');
    expect(breaker.tryAcquire(settings)).toBe(true);
  });
});

describe('CircuitBreakers', () => {
  it('closes every breaker when the epoch changes, and not on the first epoch seen', () => {
    const breakers = new CircuitBreakers(() => 0);
    expect(breakers.syncEpoch(4)).toBe(false);
    for (let i = 0; i < 3; i += 1) {
      breakers.of('bedrock').tryAcquire(settings);
      breakers.of('bedrock').recordFailure(settings);
    }
    expect(breakers.states(settings)).toEqual({ bedrock: 'open', mcp: 'closed' });
    expect(breakers.syncEpoch(4)).toBe(false);
    expect(breakers.states(settings).bedrock).toBe('open');
    expect(breakers.syncEpoch(5)).toBe(true);
    expect(breakers.states(settings)).toEqual({ bedrock: 'closed', mcp: 'closed' });
  });
});
