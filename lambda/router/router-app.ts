import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { ConfigSource } from '../adapters/config-source';
import { callerIdentityOf, errorResponse, jsonResponse, requestIdOf, routeOf } from '../adapters/http';
import { publishMetrics } from '../adapters/telemetry';
import type { CircuitBreakers } from '../core/circuit-breaker';
import { HttpError, InternalError, NotFoundError } from '../core/http-errors';
import type { HybridRouter } from '../core/hybrid-router';
import { parseJsonBody } from '../core/request-body';
import { rejectedRequestMetrics, routeMetrics } from '../core/router-metrics';
import { InvokeRequestSchema, MAX_BODY_BYTES } from '../shared/invoke-request';

export interface RouterAppDependencies {
  readonly router: HybridRouter;
  readonly breakers: CircuitBreakers;
  readonly configSource: ConfigSource;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

export type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/**
 * The router function's HTTP surface: parses the API Gateway event, calls the core, formats the
 * answer, and emits logs and metrics. Never logs prompt or output text.
 */
export function createRouterApp(deps: RouterAppDependencies): ApiHandler {
  const { logger, metrics } = deps;

  const invoke = async (event: APIGatewayProxyEvent, requestId: string): Promise<APIGatewayProxyResult> => {
    let request;
    try {
      request = parseJsonBody(event.body, event.isBase64Encoded, InvokeRequestSchema, MAX_BODY_BYTES);
    } catch (error) {
      if (error instanceof HttpError) {
        publishMetrics(metrics, rejectedRequestMetrics(error.status, 'control'));
        logger.info('request rejected', { requestId, status: error.status, code: error.code });
      }
      throw error;
    }

    const snapshot = await deps.configSource.current();
    if (deps.breakers.syncEpoch(snapshot.config.breakerEpoch)) {
      logger.info('circuit breakers reset by epoch change', { epoch: snapshot.config.breakerEpoch });
    }
    const { routingKey, ...providerRequest } = request;
    const result = await deps.router.route(providerRequest, snapshot.config, routingKey ?? callerIdentityOf(event));

    const status = result.error?.status ?? 200;
    publishMetrics(metrics, routeMetrics(result, status, result.routing.cohort ?? 'control'));
    logger.info('request routed', {
      requestId,
      operation: request.operation,
      cohort: result.routing.cohort,
      provider: result.routing.provider,
      intended: result.routing.intended,
      fallback: result.routing.fallback,
      reason: result.routing.reason,
      attempts: result.attempts.map((a) => `${a.provider}:${a.outcome}${a.retried ? '+retry' : ''}`),
      latencyMs: result.latencyMs,
      status,
      configOrigin: snapshot.origin,
    });

    if (result.error) return errorResponse(result.error, requestId);
    return jsonResponse(
      200,
      {
        requestId,
        output: { text: result.response?.text ?? '', stopReason: result.response?.stopReason ?? 'unknown' },
        usage: result.response?.usage ?? { inputTokens: 0, outputTokens: 0 },
        routing: result.routing,
        latencyMs: result.latencyMs,
      },
      requestId,
    );
  };

  const routes: Record<string, (event: APIGatewayProxyEvent, requestId: string) => Promise<APIGatewayProxyResult>> = {
    'POST /v1/invoke': invoke,
  };

  return async (event, context) => {
    const requestId = requestIdOf(event, context.awsRequestId);
    try {
      const route = routes[routeOf(event)];
      if (!route) throw new NotFoundError(`no route ${event.httpMethod} ${event.path}`);
      return await route(event, requestId);
    } catch (error) {
      if (error instanceof HttpError) return errorResponse(error, requestId);
      logger.error('unhandled error', { requestId, errorName: error instanceof Error ? error.name : typeof error });
      return errorResponse(new InternalError(), requestId);
    }
  };
}
