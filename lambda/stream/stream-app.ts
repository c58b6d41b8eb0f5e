import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { ConfigSource } from '../adapters/config-source';
import { callerIdentityOf, requestIdOf, routeOf } from '../adapters/http';
import { StreamResponse, type StreamingHandler } from '../adapters/response-stream';
import { publishMetrics } from '../adapters/telemetry';
import type { CircuitBreakers } from '../core/circuit-breaker';
import { HttpError, InternalError, NotFoundError } from '../core/http-errors';
import { configWaitMs } from '../core/latency-budget';
import { parseJsonBody } from '../core/request-body';
import { rejectedRequestMetrics, routeMetrics } from '../core/router-metrics';
import type { StreamRouter } from '../core/stream-router';
import { InvokeRequestSchema, MAX_BODY_BYTES } from '../shared/invoke-request';
import { METRICS } from '../shared/metric-catalog';

export interface StreamAppDependencies {
  readonly router: StreamRouter;
  readonly breakers: CircuitBreakers;
  readonly configSource: ConfigSource;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The whole stream's budget (DESIGN §12: 60 s by default, at most 15 minutes). */
  readonly budgetMs: number;
  /** The longest a request waits for a configuration read before it uses the copy it has. */
  readonly configReadTimeoutMs: number;
  readonly now?: () => number;
}

/** Kept back from the function's remaining time, so the stream always ends with `done` or `error`. */
const END_MARGIN_MS = 2_000;

/**
 * `POST /v1/stream`: validates the body like `/v1/invoke`, then routes it as server-sent events.
 * Bad input and a request shed before routing get their JSON error with its status; once the
 * stream has begun, a failure is its last event. Never logs prompt or output text.
 */
export function createStreamApp(deps: StreamAppDependencies): StreamingHandler {
  const { logger, metrics } = deps;
  const now = deps.now ?? Date.now;

  return async (event, responseStream, context) => {
    // The budget counts from here, so a slow configuration read is spent out of it (invariant 6).
    const receivedAt = now();
    const requestId = requestIdOf(event, context.awsRequestId);
    const response = new StreamResponse(responseStream, requestId);
    try {
      if (routeOf(event) !== 'POST /v1/stream') throw new NotFoundError(`no route ${event.httpMethod} ${event.path}`);
      let request;
      try {
        request = parseJsonBody(event.body, event.isBase64Encoded, InvokeRequestSchema, MAX_BODY_BYTES);
      } catch (error) {
        if (error instanceof HttpError) publishMetrics(metrics, rejectedRequestMetrics(error.status, 'control'));
        throw error;
      }

      const wait = configWaitMs(deps.configSource.latest().policy.operations[request.operation].budget, deps.configReadTimeoutMs);
      const snapshot = await deps.configSource.current(wait);
      if (deps.breakers.syncEpoch(snapshot.config.breakerEpoch)) {
        logger.info('circuit breakers reset by epoch change', { epoch: snapshot.config.breakerEpoch });
      }
      const { routingKey, ...providerRequest } = request;
      const budgetMs = Math.max(0, Math.min(deps.budgetMs - (now() - receivedAt), context.getRemainingTimeInMillis() - END_MARGIN_MS));
      const outcome = await deps.router.stream(providerRequest, snapshot.config, routingKey ?? callerIdentityOf(event), {
        budgetMs,
        sink: (streamEvent, signal) => response.event(streamEvent, signal),
        callerGone: response.callerGone,
      });
      const { result } = outcome;
      if (!response.opened && result.error) await response.error(result.error);

      // Latency is the wait for the first delta: what the caller waits before the answer starts, and
      // what the latency alarm and ramp gate can judge. A long answer streaming steadily is no slowness.
      publishMetrics(metrics, [
        ...routeMetrics({ ...result, latencyMs: outcome.firstDeltaMs ?? result.latencyMs }, outcome.status, result.routing.cohort ?? 'control'),
        ...(outcome.truncated ? [{ metric: METRICS.streamsTruncated, value: 1 }] : []),
      ]);
      logger.info('stream routed', {
        requestId,
        operation: request.operation,
        cohort: result.routing.cohort,
        provider: result.routing.provider,
        intended: result.routing.intended,
        fallback: result.routing.fallback,
        reason: result.routing.reason,
        attempts: result.attempts.map((a) => `${a.provider}:${a.outcome}${a.retried ? '+retry' : ''}`),
        firstDeltaMs: outcome.firstDeltaMs,
        latencyMs: result.latencyMs,
        bytes: outcome.bytes,
        truncated: outcome.truncated,
        clientGone: outcome.clientGone,
        status: outcome.status,
        errorCode: result.error?.code,
        configOrigin: snapshot.origin,
      });
    } catch (error) {
      const known = error instanceof HttpError;
      if (known) logger.info('request refused', { requestId, route: routeOf(event), status: error.status, code: error.code });
      else logger.error('unhandled error', { requestId, route: routeOf(event), errorName: error instanceof Error ? error.name : typeof error });
      const answer = known ? error : new InternalError();
      if (!response.opened) await response.error(answer);
      else await response.event({ event: 'error', data: { code: answer.code, message: answer.message } }, AbortSignal.timeout(1_000)).catch(() => undefined);
    } finally {
      await response.end();
      deps.configSource.idle();
    }
  };
}
