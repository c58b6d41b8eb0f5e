import { CircuitBreakers } from '../../lambda/core/circuit-breaker';
import { CohortAssigner } from '../../lambda/core/cohort';
import { MAX_ANSWER_BYTES } from '../../lambda/core/provider-failure';
import type { ProviderRequest } from '../../lambda/core/hybrid-router';
import { longOperationConfig } from '../../lambda/core/long-operation';
import { ProviderFailure } from '../../lambda/core/provider-failure';
import { StreamRouter, oneDeltaStream, type StreamPart, type StreamingProvider } from '../../lambda/core/stream-router';
import { DEFAULT_POLICY, type RoutingConfig } from '../../lambda/shared/routing-config';
import type { StreamEvent } from '../../lambda/shared/stream-events';
import type { Provider } from '../../lambda/shared/vocabulary';
import { ScriptedProvider, hybridConfig, request } from '../support/routing';

/** A streaming provider that plays `parts` (a part may be a failure or a wait for the abort). */
class ScriptedStream implements StreamingProvider {
  calls = 0;
  readonly signals: AbortSignal[] = [];

  constructor(
    private readonly name: Provider,
    private readonly parts: readonly (StreamPart | { fail: ProviderFailure['kind'] } | { hang: true })[],
  ) {}

  async *stream(_request: ProviderRequest, signal: AbortSignal): AsyncGenerator<StreamPart> {
    this.calls += 1;
    this.signals.push(signal);
    for (const part of this.parts) {
      if ('hang' in part) {
        await new Promise((_, reject) => signal.addEventListener('abort', () => reject(new ProviderFailure(this.name, 'budget', 'aborted'))));
      } else if ('fail' in part) {
        throw new ProviderFailure(this.name, part.fail, `scripted ${part.fail}`);
      } else {
        yield part;
      }
    }
  }
}

const delta = (text: string): StreamPart => ({ kind: 'delta', text });
const end: StreamPart = { kind: 'end', stopReason: 'end_turn', usage: { inputTokens: 12, outputTokens: 4 } };

function setup(bedrock: StreamingProvider, mcp: StreamingProvider, policy = DEFAULT_POLICY) {
  const breakers = new CircuitBreakers(Date.now);
  const router = new StreamRouter({
    providers: { bedrock, mcp },
    breakers,
    cohorts: new CohortAssigner(),
    clock: { now: Date.now, sleep: (ms) => new Promise((r) => setTimeout(r, ms)), random: () => 0.5 },
    healthStaleAfterMs: 180_000,
  });
  const config: RoutingConfig = hybridConfig({ policy });
  const run = async (operation: ProviderRequest['operation'], budgetMs = 5_000) => {
    const events: StreamEvent[] = [];
    const outcome = await router.stream(request(operation), config, 'caller', { budgetMs, sink: async (event) => void events.push(event) });
    return { events, outcome, names: events.map((e) => e.event) };
  };
  return { breakers, run };
}

describe('StreamRouter', () => {
  it('announces the provider, then streams its deltas, usage and done', async () => {
    const { run } = setup(new ScriptedStream('bedrock', [delta('a'), delta('b'), end]), new ScriptedStream('mcp', [end]));
    const { events, outcome, names } = await run('emergency');
    expect(names).toEqual(['routing', 'delta', 'delta', 'usage', 'done']);
    expect(events[0]!.data).toMatchObject({ provider: 'bedrock', intended: 'bedrock', fallback: false, cohort: 'hybrid' });
    expect(outcome).toMatchObject({ status: 200, truncated: false, clientGone: false, bytes: 2 });
    expect(outcome.result.attempts).toEqual([expect.objectContaining({ provider: 'bedrock', outcome: 'success' })]);
    expect(outcome.result.response?.usage).toEqual({ inputTokens: 12, outputTokens: 4 });
  });

  it('falls back before the first delta, announcing the fallback', async () => {
    const bedrock = new ScriptedStream('bedrock', [{ fail: 'fatal' }]);
    const { names, events, outcome } = await setup(bedrock, oneDeltaStream(new ScriptedProvider('mcp', [{ answer: 'whole answer' }]))).run('emergency');
    expect(names).toEqual(['routing', 'routing', 'delta', 'usage', 'done']);
    expect(events[1]!.data).toMatchObject({ provider: 'mcp', fallback: true });
    expect(events[2]!.data).toEqual({ text: 'whole answer' });
    expect(outcome.result.routing).toMatchObject({ provider: 'mcp', fallback: true });
  });

  it('ends with error after the first delta, never falls back, and counts the failure against the breaker', async () => {
    const policy = { ...DEFAULT_POLICY, circuitBreaker: { failureThreshold: 1, coolDownMs: 60_000 } };
    const mcp = new ScriptedStream('mcp', [delta('never'), end]);
    const { run, breakers } = setup(new ScriptedStream('bedrock', [delta('partial'), { fail: 'unavailable' }]), mcp, policy);
    const { names, events, outcome } = await run('emergency');
    expect(names).toEqual(['routing', 'delta', 'error']);
    expect(events[2]!.data).toMatchObject({ code: 'Unavailable' });
    expect(mcp.calls).toBe(0);
    expect(outcome).toMatchObject({ truncated: true, status: 503 });
    expect(outcome.result.attempts.at(-1)).toMatchObject({ provider: 'bedrock', outcome: 'unavailable', openedBreaker: true });
    expect(breakers.of('bedrock').state(policy.circuitBreaker)).toBe('open');
  });

  it('ends a stream that passes 1 MiB with error and stops the provider', async () => {
    const chunk = 'x'.repeat(256 * 1024);
    const bedrock = new ScriptedStream('bedrock', [delta(chunk), delta(chunk), delta(chunk), delta(chunk), delta('y'), { hang: true }]);
    const { names, events, outcome } = await setup(bedrock, new ScriptedStream('mcp', [end])).run('emergency');
    expect(names).toEqual(['routing', 'delta', 'delta', 'delta', 'delta', 'error']);
    expect(events.at(-1)!.data).toMatchObject({ code: 'ProviderError', message: expect.stringContaining(`${MAX_ANSWER_BYTES}`) });
    expect(outcome.truncated).toBe(true);
    expect(bedrock.signals[0]!.aborted).toBe(true);
  });

  it('treats a whole answer over 1 MiB as a provider failure and falls back', async () => {
    const mcp = oneDeltaStream(new ScriptedProvider('mcp', [{ answer: 'x'.repeat(MAX_ANSWER_BYTES + 1) }]));
    const { names, events } = await setup(new ScriptedStream('bedrock', [delta('small'), end]), mcp).run('background');
    expect(names).toEqual(['routing', 'routing', 'delta', 'usage', 'done']);
    expect(events[2]!.data).toEqual({ text: 'small' });
  });

  it('keeps the emergency first-token budget, but lets other operations use the whole stream budget', async () => {
    const tight = { ...DEFAULT_POLICY, operations: { ...DEFAULT_POLICY.operations, emergency: { strategy: 'bedrock-first' as const, budget: { targetMs: 100, hardMs: 200 } } } };
    const emergency = await setup(new ScriptedStream('bedrock', [{ hang: true }]), new ScriptedStream('mcp', [delta('mcp'), end]), tight).run('emergency');
    expect(emergency.events[1]!.data).toMatchObject({ provider: 'mcp', fallback: true });

    const slowMcp = oneDeltaStream(new ScriptedProvider('mcp', [{ answer: 'slow but whole', delayMs: 300 }]));
    const policy = { ...DEFAULT_POLICY, operations: { ...DEFAULT_POLICY.operations, background: { strategy: 'mcp-first' as const, budget: { targetMs: 100, hardMs: 100 } } } };
    const background = await setup(new ScriptedStream('bedrock', [end]), slowMcp, policy).run('background', 2_000);
    expect(background.names).toEqual(['routing', 'delta', 'usage', 'done']);
  });

  it('aborts the provider when the stream budget runs out after the first delta', async () => {
    const bedrock = new ScriptedStream('bedrock', [delta('first'), { hang: true }]);
    const { names, events, outcome } = await setup(bedrock, new ScriptedStream('mcp', [end])).run('emergency', 150);
    expect(names).toEqual(['routing', 'delta', 'error']);
    expect(events[2]!.data).toMatchObject({ code: 'Timeout' });
    expect(bedrock.signals[0]!.aborted).toBe(true);
    expect(outcome.result.attempts.at(-1)).toMatchObject({ outcome: 'budget', openedBreaker: false });
  });
});

describe('longOperationConfig', () => {
  it('makes the budget the hard limit and keeps the policy\'s fallback headroom', () => {
    const config = hybridConfig();
    expect(longOperationConfig(config, 'infrastructure', 60_000).policy.operations.infrastructure.budget).toEqual({ targetMs: 55_000, hardMs: 60_000 });
    expect(longOperationConfig(config, 'background', 600_000).policy.operations.background.budget).toEqual({ targetMs: 600_000, hardMs: 600_000 });
    expect(longOperationConfig(config, 'background', 600_000).policy.operations.emergency).toBe(config.policy.operations.emergency);
    expect(longOperationConfig(config, 'emergency', 6_000).policy.operations.emergency.budget).toEqual({ targetMs: 5_000, hardMs: 6_000 });
  });
});
