import { CircuitBreakers } from '../../lambda/core/circuit-breaker';
import { CohortAssigner } from '../../lambda/core/cohort';
import { HybridRouter } from '../../lambda/core/hybrid-router';
import { MAX_ANSWER_BYTES } from '../../lambda/core/provider-failure';
import { DEFAULT_POLICY, type RoutingPolicy } from '../../lambda/shared/routing-config';
import { hybridConfig, request, ScriptedProvider, type Step } from '../support/routing';

function setup(bedrockSteps: Step[], mcpSteps: Step[], policy: RoutingPolicy = DEFAULT_POLICY) {
  const bedrock = new ScriptedProvider('bedrock', bedrockSteps);
  const mcp = new ScriptedProvider('mcp', mcpSteps);
  const breakers = new CircuitBreakers(Date.now);
  const sleeps: number[] = [];
  const router = new HybridRouter({
    providers: { bedrock, mcp },
    breakers,
    cohorts: new CohortAssigner(),
    clock: { now: Date.now, sleep: async (ms) => void sleeps.push(ms), random: () => 0.5 },
    budgetCeilingMs: 28_000,
    healthStaleAfterMs: 180_000,
  });
  const route = (operation: Parameters<typeof request>[0] = 'emergency', receivedAt?: number) =>
    router.route(request(operation), hybridConfig({ policy }), 'tenant-42', receivedAt);
  return { bedrock, mcp, breakers, sleeps, route };
}

const tightBudget = (targetMs: number, hardMs: number): RoutingPolicy => ({
  ...DEFAULT_POLICY,
  operations: { ...DEFAULT_POLICY.operations, emergency: { strategy: 'bedrock-first', budget: { targetMs, hardMs } } },
});

describe('HybridRouter', () => {
  it('answers from the first choice without touching the fallback', async () => {
    const { bedrock, mcp, route } = setup([{ answer: 'from bedrock' }], [{ answer: 'from mcp' }]);
    const result = await route('emergency');
    expect(result.response?.text).toBe('from bedrock');
    expect(result.routing).toMatchObject({ provider: 'bedrock', intended: 'bedrock', cohort: 'hybrid', fallback: false });
    expect([bedrock.calls.length, mcp.calls.length]).toEqual([1, 0]);
  });

  it('retries a throttled call once, after a jittered delay, then succeeds', async () => {
    const { bedrock, sleeps, route } = setup([{ fail: 'throttled' }, { answer: 'second try' }], [{ answer: 'mcp' }]);
    const result = await route('emergency');
    expect(result.response?.text).toBe('second try');
    expect(bedrock.calls).toHaveLength(2);
    expect(sleeps).toEqual([DEFAULT_POLICY.retry.baseDelayMs]);
    expect(result.attempts).toEqual([expect.objectContaining({ provider: 'bedrock', outcome: 'success', retried: true })]);
  });

  it.each(['throttled', 'unavailable'] as const)('falls back after a %s call fails twice', async (fail) => {
    const { bedrock, mcp, route } = setup([{ fail }], [{ answer: 'from mcp' }]);
    const result = await route('emergency');
    expect(result.routing).toMatchObject({ provider: 'mcp', intended: 'bedrock', fallback: true });
    expect([bedrock.calls.length, mcp.calls.length]).toEqual([2, 1]);
  });

  it.each(['timeout', 'fatal'] as const)('falls back on %s without retrying', async (fail) => {
    const { bedrock, mcp, route } = setup([{ fail }], [{ answer: 'from mcp' }]);
    const result = await route('emergency');
    expect(result.routing.provider).toBe('mcp');
    expect([bedrock.calls.length, mcp.calls.length]).toEqual([1, 1]);
  });

  it('falls back from MCP to Bedrock for MCP-first operations', async () => {
    const { route } = setup([{ answer: 'from bedrock' }], [{ fail: 'fatal' }]);
    const result = await route('background');
    expect(result.routing).toMatchObject({ provider: 'bedrock', intended: 'mcp', fallback: true });
  });

  it('answers 400 for a client error, with no fallback and no breaker count', async () => {
    const { mcp, breakers, route } = setup([{ fail: 'client' }], [{ answer: 'from mcp' }]);
    for (let i = 0; i < 10; i += 1) {
      const result = await route('emergency');
      expect(result.error).toMatchObject({ status: 400, code: 'ValidationError' });
    }
    expect(mcp.calls).toHaveLength(0);
    expect(breakers.of('bedrock').state(DEFAULT_POLICY.circuitBreaker)).toBe('closed');
  });

  it('answers 429 with Retry-After when every path is throttled', async () => {
    const { route } = setup([{ fail: 'throttled' }], [{ fail: 'throttled' }]);
    const result = await route('emergency');
    expect(result.error).toMatchObject({ status: 429, code: 'Throttled' });
    expect(result.error?.retryAfterSeconds).toBeGreaterThanOrEqual(1);
  });

  it('answers 502 when every path fails for good', async () => {
    const { route } = setup([{ fail: 'fatal' }], [{ fail: 'fatal' }]);
    expect((await route('emergency')).error).toMatchObject({ status: 502, code: 'ProviderError' });
  });

  it('answers 503 with Retry-After when both paths are down', async () => {
    const { route } = setup([{ fail: 'unavailable' }], [{ fail: 'fatal' }]);
    const result = await route('emergency');
    expect(result.error).toMatchObject({ status: 503, code: 'Unavailable' });
    expect(result.error?.retryAfterSeconds).toBeGreaterThanOrEqual(1);
  });

  it('gives the first choice only the target, and the fallback the rest of the hard budget', async () => {
    const { route } = setup([{ hang: true }], [{ answer: 'from mcp' }], tightBudget(100, 400));
    const result = await route('emergency');
    expect(result.routing).toMatchObject({ provider: 'mcp', fallback: true });
    expect(result.attempts[0]).toMatchObject({ provider: 'bedrock', outcome: 'budget' });
    expect(result.attempts[0]!.latencyMs).toBeGreaterThanOrEqual(95);
    expect(result.attempts[0]!.latencyMs).toBeLessThan(300);
  });

  it('answers 504 when the hard budget runs out, even if a provider ignores its abort signal', async () => {
    const { route } = setup([{ hang: true }], [{ answer: 'late', delayMs: 600 }], tightBudget(100, 250));
    const result = await route('emergency');
    expect(result.error).toMatchObject({ status: 504, code: 'Timeout' });
    expect(result.latencyMs).toBeLessThan(1_000);
  });

  it('opens the breaker after the threshold, then skips the path until the cool-down', async () => {
    const policy = { ...DEFAULT_POLICY, circuitBreaker: { failureThreshold: 2, coolDownMs: 60_000 } };
    const { bedrock, route } = setup([{ fail: 'fatal' }], [{ answer: 'from mcp' }], policy);
    const first = await route('emergency');
    const second = await route('emergency');
    expect(second.attempts[0]).toMatchObject({ provider: 'bedrock', openedBreaker: true });
    const third = await route('emergency');
    expect(third.attempts[0]).toMatchObject({ provider: 'bedrock', outcome: 'circuit-open' });
    expect(bedrock.calls).toHaveLength(2);
    expect([first, second, third].every((r) => r.routing.provider === 'mcp')).toBe(true);
  });

  it('sends health-gated operations to MCP first while the Bedrock breaker is open', async () => {
    const policy = { ...DEFAULT_POLICY, circuitBreaker: { failureThreshold: 1, coolDownMs: 60_000 } };
    const { route } = setup([{ fail: 'fatal' }], [{ answer: 'from mcp' }], policy);
    await route('infrastructure');
    const result = await route('infrastructure');
    expect(result.routing).toMatchObject({ intended: 'mcp', provider: 'mcp', fallback: false });
  });

  it('answers 503 with the breaker wait as Retry-After when the only path is open', async () => {
    const policy = { ...DEFAULT_POLICY, circuitBreaker: { failureThreshold: 1, coolDownMs: 42_000 } };
    const { route } = setup([{ fail: 'fatal' }], [{ fail: 'fatal' }], policy);
    await route('emergency');
    const result = await route('emergency');
    expect(result.attempts.map((a) => a.outcome)).toEqual(['circuit-open', 'circuit-open']);
    expect(result.error).toMatchObject({ status: 503 });
    expect(result.error?.retryAfterSeconds).toBeGreaterThan(40);
  });

  it('counts the budget from the request\'s arrival, so time spent before routing is spent', async () => {
    const { bedrock, mcp, route } = setup([{ answer: 'from bedrock' }], [{ answer: 'from mcp' }], tightBudget(100, 60_000));
    const result = await route('emergency', Date.now() - 150);
    expect(result.attempts.map((a) => `${a.provider}:${a.outcome}`)).toEqual(['bedrock:no-budget', 'mcp:success']);
    expect(result.latencyMs).toBeGreaterThanOrEqual(150);
    expect([bedrock.calls.length, mcp.calls.length]).toEqual([0, 1]);
  });

  it('answers 504 without calling a provider when the budget ran out before routing', async () => {
    const { bedrock, mcp, route } = setup([{ answer: 'from bedrock' }], [{ answer: 'from mcp' }], tightBudget(100, 400));
    const result = await route('emergency', Date.now() - 10_000);
    expect(result.error).toMatchObject({ status: 504, code: 'Timeout' });
    expect([bedrock.calls.length, mcp.calls.length]).toEqual([0, 0]);
  });

  it('treats an answer over 1 MiB as a permanent failure and falls back', async () => {
    const { mcp, route } = setup([{ answer: 'x'.repeat(MAX_ANSWER_BYTES + 1) }], [{ answer: 'from mcp' }]);
    const result = await route('emergency');
    expect(result.response?.text).toBe('from mcp');
    expect(result.attempts[0]).toMatchObject({ provider: 'bedrock', outcome: 'fatal', retried: false });
    expect(mcp.calls).toHaveLength(1);
  });

  it('answers 502 when every path answers over 1 MiB', async () => {
    const big = 'x'.repeat(MAX_ANSWER_BYTES + 1);
    const { route } = setup([{ answer: big }], [{ answer: big }]);
    expect((await route('background')).error).toMatchObject({ status: 502, code: 'ProviderError' });
  });
});
