import type { RoutingConfig } from '../shared/routing-config';
import type { Cohort, Operation, Provider } from '../shared/vocabulary';
import type { CircuitBreakers } from './circuit-breaker';
import type { CohortAssigner } from './cohort';
import {
  HttpError,
  ProviderError,
  ThrottledError,
  TimeoutError,
  UnavailableError,
  ValidationError,
} from './http-errors';
import { LatencyBudget } from './latency-budget';
import { ProviderFailure, oversizeAnswer, type FailureKind } from './provider-failure';
import { decideRoute, isPathUsable } from './routing-decision';

export interface ProviderRequest {
  readonly operation: Operation;
  readonly messages: readonly { readonly role: 'user' | 'assistant'; readonly content: string }[];
  readonly system?: string;
  readonly maxTokens?: number;
  readonly temperature?: number;
}

export interface ProviderResponse {
  readonly text: string;
  readonly stopReason: string;
  readonly usage: { readonly inputTokens: number; readonly outputTokens: number };
}

/** A path to a model. Implementations throw `ProviderFailure` and stop work when `signal` aborts. */
export interface AiProvider {
  invoke(request: ProviderRequest, signal: AbortSignal): Promise<ProviderResponse>;
}

export interface RouterClock {
  now(): number;
  sleep(ms: number): Promise<void>;
  /** Uniform in [0, 1); feeds retry jitter. */
  random(): number;
}

export interface RouterOptions {
  readonly providers: Readonly<Record<Provider, AiProvider>>;
  readonly breakers: CircuitBreakers;
  readonly cohorts: CohortAssigner;
  readonly clock: RouterClock;
  /** Upper bound on any hard budget: below the API integration timeout. */
  readonly budgetCeilingMs: number;
  /** Health data older than this reads as unknown. */
  readonly healthStaleAfterMs: number;
  /** Told when a path is about to be tried, before its first call: streams announce it as a `routing` event. */
  readonly onAttempt?: (routing: RoutingSummary & { readonly provider: Provider }) => void;
}

export type AttemptOutcome = 'success' | FailureKind | 'circuit-open' | 'no-budget';

export interface Attempt {
  readonly provider: Provider;
  readonly outcome: AttemptOutcome;
  readonly latencyMs: number;
  readonly retried: boolean;
  /** True when this failure opened the provider's breaker. */
  readonly openedBreaker: boolean;
}

export interface RoutingSummary {
  readonly provider: Provider | null;
  readonly intended: Provider | null;
  readonly cohort: Cohort | null;
  readonly fallback: boolean;
  readonly reason: string;
}

export interface RouteResult {
  readonly routing: RoutingSummary;
  readonly attempts: readonly Attempt[];
  readonly latencyMs: number;
  readonly response?: ProviderResponse;
  readonly error?: HttpError;
  readonly shed: boolean;
}

const SHED_RETRY_AFTER_SECONDS = 60;
const THROTTLED_RETRY_AFTER_SECONDS = 2;
const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;
/** A path with less time left than this is not started: it could not finish. */
const MIN_ATTEMPT_MS = 25;

/**
 * Routes one validated request: decides the plan (DESIGN §5), then tries each path at most once
 * (plus one jittered retry on throttling or a transient fault), within the latency budget and the
 * circuit breakers. Never throws; the outcome is either a response or the `HttpError` to answer.
 */
export class HybridRouter {
  constructor(private readonly options: RouterOptions) {}

  /**
   * `receivedAt` is when the request arrived (default: now): the latency budget counts from it, so
   * time spent before routing, such as waiting for the configuration, comes out of the budget.
   */
  async route(request: ProviderRequest, config: RoutingConfig, routingKey: string, receivedAt?: number): Promise<RouteResult> {
    const { breakers, clock, cohorts } = this.options;
    const startedAt = receivedAt ?? clock.now();
    const settings = config.policy.circuitBreaker;
    const bedrockUsable =
      isPathUsable(config.health['direct-bedrock'], startedAt, this.options.healthStaleAfterMs) &&
      breakers.of('bedrock').state(settings) === 'closed';

    const decision = decideRoute({ config, operation: request.operation, routingKey, bedrockUsable }, cohorts);
    if (decision.kind === 'shed') {
      return {
        routing: { provider: null, intended: null, cohort: null, fallback: false, reason: decision.reason },
        attempts: [],
        latencyMs: clock.now() - startedAt,
        error: new UnavailableError(`${decision.reason}; retry later`, SHED_RETRY_AFTER_SECONDS),
        shed: true,
      };
    }

    const budget = new LatencyBudget(config.policy.operations[request.operation].budget, this.options.budgetCeilingMs, startedAt, () => clock.now());
    const attempts: Attempt[] = [];
    const intended = decision.plan[0] ?? null;
    const summary = (provider: Provider | null): RoutingSummary => ({
      provider,
      intended,
      cohort: decision.cohort,
      fallback: provider !== null && provider !== intended,
      reason: decision.reason,
    });

    for (const [index, provider] of decision.plan.entries()) {
      const breaker = breakers.of(provider);
      const windowMs = budget.pathRemainingMs(index);
      if (windowMs < MIN_ATTEMPT_MS) {
        attempts.push({ provider, outcome: 'no-budget', latencyMs: 0, retried: false, openedBreaker: false });
        continue;
      }
      if (!breaker.tryAcquire(settings)) {
        attempts.push({ provider, outcome: 'circuit-open', latencyMs: 0, retried: false, openedBreaker: false });
        continue;
      }
      this.options.onAttempt?.({ ...summary(provider), provider });

      const pathStartedAt = clock.now();
      const pathDeadline = pathStartedAt + windowMs;
      let retried = false;
      let outcome: { response: ProviderResponse } | { failure: ProviderFailure };
      for (;;) {
        outcome = await this.call(provider, request, pathDeadline - clock.now());
        if ('response' in outcome || retried || !outcome.failure.retryable) break;
        const delay = Math.round(config.policy.retry.baseDelayMs * (0.5 + clock.random()));
        if (pathDeadline - clock.now() - delay < MIN_ATTEMPT_MS) break;
        retried = true;
        await clock.sleep(delay);
      }
      const latencyMs = clock.now() - pathStartedAt;

      if ('response' in outcome) {
        breaker.recordSuccess();
        attempts.push({ provider, outcome: 'success', latencyMs, retried, openedBreaker: false });
        return { routing: summary(provider), attempts, latencyMs: budget.elapsedMs(), response: outcome.response, shed: false };
      }

      const { failure } = outcome;
      if (failure.kind === 'client') {
        breaker.release();
        attempts.push({ provider, outcome: 'client', latencyMs, retried, openedBreaker: false });
        return {
          routing: summary(null),
          attempts,
          latencyMs: budget.elapsedMs(),
          error: new ValidationError(`the model rejected the request: ${failure.message}`),
          shed: false,
        };
      }
      const openedBreaker = breaker.recordFailure(settings);
      attempts.push({ provider, outcome: failure.kind, latencyMs, retried, openedBreaker });
    }

    return {
      routing: summary(null),
      attempts,
      latencyMs: budget.elapsedMs(),
      error: this.failureToError(attempts, config),
      shed: false,
    };
  }

  private async call(
    provider: Provider,
    request: ProviderRequest,
    timeoutMs: number,
  ): Promise<{ response: ProviderResponse } | { failure: ProviderFailure }> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const budgetExpired = new Promise<'budget'>((resolve) => {
      timer = setTimeout(() => {
        controller.abort(new Error('latency budget exhausted'));
        resolve('budget');
      }, Math.max(0, timeoutMs));
    });
    try {
      // The race guarantees the budget even for a provider that ignores its abort signal.
      const result = await Promise.race([this.options.providers[provider].invoke(request, controller.signal), budgetExpired]);
      if (result === 'budget') {
        return { failure: new ProviderFailure(provider, 'budget', `no answer within ${Math.round(timeoutMs)} ms`) };
      }
      const oversize = oversizeAnswer(provider, result.text);
      return oversize ? { failure: oversize } : { response: result };
    } catch (error) {
      if (controller.signal.aborted) {
        return { failure: new ProviderFailure(provider, 'budget', `no answer within ${Math.round(timeoutMs)} ms`) };
      }
      if (error instanceof ProviderFailure) return { failure: error };
      return { failure: new ProviderFailure(provider, 'unavailable', error instanceof Error ? error.message : String(error), false) };
    } finally {
      clearTimeout(timer);
    }
  }

  private failureToError(attempts: readonly Attempt[], config: RoutingConfig): HttpError {
    const kinds = attempts.map((a) => a.outcome);
    const tried = attempts.map((a) => `${a.provider}: ${a.outcome}`).join(', ');
    if (kinds.some((k) => k === 'budget' || k === 'no-budget')) {
      return new TimeoutError(`the latency budget ran out (${tried})`);
    }
    if (kinds.length > 0 && kinds.every((k) => k === 'throttled')) {
      return new ThrottledError(`every usable path is throttled (${tried})`, THROTTLED_RETRY_AFTER_SECONDS);
    }
    if (kinds.length > 0 && kinds.every((k) => k === 'fatal')) {
      return new ProviderError(`no path could serve the request (${tried})`);
    }
    const settings = config.policy.circuitBreaker;
    const untilTrial = Math.max(
      ...attempts.filter((a) => a.outcome === 'circuit-open').map((a) => this.options.breakers.of(a.provider).msUntilTrial(settings)),
      0,
    );
    const retryAfter = untilTrial > 0 ? untilTrial / 1000 : UNAVAILABLE_RETRY_AFTER_SECONDS;
    return new UnavailableError(`no path is available (${tried})`, retryAfter);
  }
}
