import type { RoutingConfig } from '../shared/routing-config';
import type { StreamEvent } from '../shared/stream-events';
import type { Provider } from '../shared/vocabulary';
import {
  HttpError,
  InternalError,
  ProviderError,
  ThrottledError,
  TimeoutError,
  UnavailableError,
} from './http-errors';
import {
  HybridRouter,
  type AiProvider,
  type Attempt,
  type ProviderRequest,
  type RouteResult,
  type RouterOptions,
} from './hybrid-router';
import { longOperationConfig } from './long-operation';
import { MAX_ANSWER_BYTES, ProviderFailure, answerTooLarge, type FailureKind } from './provider-failure';

export interface StreamUsage {
  readonly inputTokens: number;
  readonly outputTokens: number;
}

/** What a streaming provider yields: text deltas in order, then exactly one `end`. */
export type StreamPart =
  | { readonly kind: 'delta'; readonly text: string }
  | { readonly kind: 'end'; readonly stopReason: string; readonly usage: StreamUsage };

/**
 * A path to a model that answers in pieces. Implementations throw `ProviderFailure`, and stop
 * generating (close the connection, not just the loop) as soon as `signal` aborts.
 */
export interface StreamingProvider {
  stream(request: ProviderRequest, signal: AbortSignal): AsyncIterable<StreamPart>;
}

/** A path that answers whole (the MCP path) as a stream of one delta. */
export function oneDeltaStream(provider: AiProvider): StreamingProvider {
  return {
    async *stream(request, signal) {
      const response = await provider.invoke(request, signal);
      if (response.text !== '') yield { kind: 'delta', text: response.text };
      yield { kind: 'end', stopReason: response.stopReason, usage: response.usage };
    },
  };
}

/**
 * Hands one event to the caller. Resolves once the event is taken (the transport may push back);
 * rejects when the caller is gone, and gives up as soon as `signal` aborts.
 */
export type StreamSink = (event: StreamEvent, signal: AbortSignal) => Promise<void>;

export interface StreamRouterOptions extends Omit<RouterOptions, 'providers' | 'budgetCeilingMs' | 'onAttempt'> {
  readonly providers: Readonly<Record<Provider, StreamingProvider>>;
}

export interface StreamOptions {
  /** The whole stream's budget, from now to `done`. */
  readonly budgetMs: number;
  readonly sink: StreamSink;
  /** Aborts when the caller is known to be gone, so generation stops before the next write fails. */
  readonly callerGone?: AbortSignal;
}

export interface StreamOutcome {
  /** The routing result as `/v1/invoke` reports it, for metrics: attempts, latency, usage, error. */
  readonly result: RouteResult;
  /** 200, the error's status, or 499 when the caller went away or stopped reading. */
  readonly status: number;
  /** The stream failed after its first delta (DESIGN §12: an error and `StreamsTruncated`). */
  readonly truncated: boolean;
  readonly clientGone: boolean;
  /** Milliseconds to the first delta (or to the end of an empty answer), when one came. */
  readonly firstDeltaMs?: number;
  /** UTF-8 bytes of answer text sent. */
  readonly bytes: number;
}

/** Status of a request whose caller went away (nginx's convention); counted as a client error. */
export const CLIENT_CLOSED_STATUS = 499;

interface OpenStream {
  readonly provider: Provider;
  readonly iterator: AsyncIterator<StreamPart>;
  readonly first: string;
  readonly end?: Extract<StreamPart, { kind: 'end' }>;
}

/**
 * Routes one request as a stream (DESIGN §12) through the router core itself: each request gets a
 * `HybridRouter` over the container's breakers and cohorts whose providers resolve at their first
 * delta. So the decision, breakers, fallback, retries and metrics are the router's, and fallback
 * can only happen before the first delta; after it, a failure ends the stream with `error`.
 * Emergency keeps its policy budget to the first token; other operations may use the whole
 * stream budget (see `longOperationConfig`).
 */
export class StreamRouter {
  constructor(private readonly options: StreamRouterOptions) {}

  async stream(request: ProviderRequest, config: RoutingConfig, routingKey: string, { budgetMs, sink, callerGone }: StreamOptions): Promise<StreamOutcome> {
    const { clock } = this.options;
    const startedAt = clock.now();
    const overall = new AbortController();
    const timer = setTimeout(() => overall.abort(new Error(`the stream budget of ${budgetMs} ms ran out`)), budgetMs);
    const events = new EventChannel(sink, overall.signal, () => overall.abort(new Error('the caller went away')));
    const onCallerGone = () => events.markGone();
    callerGone?.addEventListener('abort', onCallerGone, { once: true });
    if (callerGone?.aborted) onCallerGone();
    let open: OpenStream | undefined;

    const gate = (provider: Provider): AiProvider => ({
      invoke: async (providerRequest, callSignal) => {
        const signal = AbortSignal.any([callSignal, overall.signal]);
        const iterator = this.options.providers[provider].stream(providerRequest, signal)[Symbol.asyncIterator]();
        try {
          for (;;) {
            const next = await iterator.next();
            if (next.done) throw new ProviderFailure(provider, 'unavailable', 'the stream ended before it answered', false);
            const part = next.value;
            if (part.kind === 'delta' && part.text === '') continue;
            // The router gave up on this path while it was answering: let the answer go.
            if (signal.aborted) throw new ProviderFailure(provider, 'budget', 'answered after its budget');
            open = part.kind === 'end' ? { provider, iterator, first: '', end: part } : { provider, iterator, first: part.text };
            return { text: open.first, stopReason: part.kind === 'end' ? part.stopReason : 'streaming', usage: { inputTokens: 0, outputTokens: 0 } };
          }
        } catch (error) {
          close(iterator);
          // A caller who left is no provider's failure: 'client' neither falls back nor counts against a breaker.
          if (events.gone) throw new ProviderFailure(provider, 'client', 'the caller went away');
          throw error;
        }
      },
    });

    const router = new HybridRouter({
      ...this.options,
      providers: { bedrock: gate('bedrock'), mcp: gate('mcp') },
      budgetCeilingMs: budgetMs,
      onAttempt: (routing) => void events.send({ event: 'routing', data: routing }).catch(() => undefined),
    });
    const routeConfig = request.operation === 'emergency' ? config : longOperationConfig(config, request.operation, budgetMs);

    try {
      const routed = await router.route(request, routeConfig, routingKey);
      const firstDeltaMs = clock.now() - startedAt;
      if (!routed.response || !open) {
        // Nothing sent yet (shed, every path skipped): the caller gets the error as a plain answer.
        if (events.started) await events.send({ event: 'error', data: errorData(routed.error ?? new InternalError()) }).catch(() => undefined);
        return this.outcome(routed, { startedAt, events, error: routed.error ?? new InternalError(), bytes: 0 });
      }

      const { provider, iterator } = open;
      let bytes = Buffer.byteLength(open.first, 'utf8');
      let end = open.end;
      let failure: { error: HttpError; kind: FailureKind; providerFault: boolean } | undefined;
      try {
        if (open.first !== '') await events.send({ event: 'delta', data: { text: open.first } });
        while (!end) {
          const next = await iterator.next();
          if (next.done) throw new ProviderFailure(provider, 'unavailable', 'the stream ended without its end', false);
          const part = next.value;
          if (part.kind === 'end') {
            end = part;
          } else if (part.text !== '') {
            bytes += Buffer.byteLength(part.text, 'utf8');
            if (bytes > MAX_ANSWER_BYTES) {
              overall.abort(new Error('answer too large'));
              failure = { error: new ProviderError(answerTooLarge(provider, bytes).message), kind: 'fatal', providerFault: false };
              break;
            }
            await events.send({ event: 'delta', data: { text: part.text } });
          }
        }
      } catch (error) {
        if (!events.gone) failure = midStreamFailure(error, overall.signal, budgetMs);
      } finally {
        close(iterator);
      }

      if (!failure && end && !events.gone) {
        await events.send({ event: 'usage', data: end.usage }).catch(() => undefined);
        await events.send({ event: 'done', data: { stopReason: end.stopReason, latencyMs: clock.now() - startedAt } }).catch(() => undefined);
      } else if (failure) {
        await events.send({ event: 'error', data: errorData(failure.error) }).catch(() => undefined);
      }

      const settings = routeConfig.policy.circuitBreaker;
      const openedBreaker = failure?.providerFault ? this.options.breakers.of(provider).recordFailure(settings) : false;
      const last = routed.attempts[routed.attempts.length - 1]!;
      const streamed: Attempt = {
        ...last,
        outcome: failure ? failure.kind : 'success',
        latencyMs: last.latencyMs + (clock.now() - startedAt - firstDeltaMs),
        openedBreaker,
      };
      const result: RouteResult = {
        ...routed,
        attempts: [...routed.attempts.slice(0, -1), streamed],
        response: failure || events.gone ? undefined : { text: '', stopReason: end?.stopReason ?? 'unknown', usage: end?.usage ?? { inputTokens: 0, outputTokens: 0 } },
      };
      return { ...this.outcome(result, { startedAt, events, error: failure?.error, bytes }), truncated: failure !== undefined, firstDeltaMs };
    } finally {
      clearTimeout(timer);
      callerGone?.removeEventListener('abort', onCallerGone);
      // Every way out stops generation: an SDK call still open on this signal is closed, not left billing.
      overall.abort(new Error('the stream is over'));
    }
  }

  private outcome(
    result: RouteResult,
    { startedAt, events, error, bytes }: { startedAt: number; events: EventChannel; error: HttpError | undefined; bytes: number },
  ): StreamOutcome {
    const latencyMs = this.options.clock.now() - startedAt;
    const status = events.gone ? CLIENT_CLOSED_STATUS : (error?.status ?? 200);
    return { result: { ...result, latencyMs, error }, status, truncated: false, clientGone: events.gone, bytes };
  }
}

function errorData(error: HttpError): { code: string; message: string } {
  return { code: error.code, message: error.message };
}

/** A failure after the first delta: no fallback any more, so it becomes the stream's last event. */
function midStreamFailure(error: unknown, signal: AbortSignal, budgetMs: number): { error: HttpError; kind: FailureKind; providerFault: boolean } {
  if (signal.aborted) {
    return { error: new TimeoutError(`the stream budget of ${budgetMs} ms ran out`), kind: 'budget', providerFault: false };
  }
  const failure = error instanceof ProviderFailure ? error : new ProviderFailure('bedrock', 'unavailable', error instanceof Error ? error.message : String(error), false);
  const message = `the ${failure.provider} stream failed after it began: ${failure.message}`;
  switch (failure.kind) {
    case 'throttled':
      return { error: new ThrottledError(message, 2), kind: failure.kind, providerFault: true };
    case 'unavailable':
      return { error: new UnavailableError(message, 5), kind: failure.kind, providerFault: true };
    case 'timeout':
    case 'budget':
      return { error: new TimeoutError(message), kind: failure.kind, providerFault: true };
    default:
      return { error: new ProviderError(message), kind: failure.kind, providerFault: true };
  }
}

/** Ends a provider stream we no longer read; its signal has already stopped the call. */
function close(iterator: AsyncIterator<StreamPart>): void {
  void iterator.return?.().catch(() => undefined);
}

class ClientGone extends Error {}

/** Sends events one at a time, in order; the first failed send means the caller is gone. */
class EventChannel {
  gone = false;
  /** Whether any event was handed over for sending. */
  started = false;
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly sink: StreamSink,
    private readonly signal: AbortSignal,
    private readonly onGone: () => void,
  ) {}

  send(event: StreamEvent): Promise<void> {
    this.started = true;
    const sent = this.tail.then(async () => {
      if (this.gone) throw new ClientGone('the caller went away');
      try {
        await this.sink(event, this.signal);
      } catch {
        this.markGone();
        throw new ClientGone('the caller went away');
      }
    });
    this.tail = sent.catch(() => undefined);
    return sent;
  }

  markGone(): void {
    if (this.gone) return;
    this.gone = true;
    this.onGone();
  }
}
