import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { ConfigSource } from '../adapters/config-source';
import { callerIdentityOf, errorResponse, jsonResponse, routeRequests, type RouteHandler } from '../adapters/http';
import { publishMetrics } from '../adapters/telemetry';
import type { CircuitBreakers } from '../core/circuit-breaker';
import { healthView } from '../core/health';
import { HttpError, NotFoundError } from '../core/http-errors';
import type { HybridRouter } from '../core/hybrid-router';
import { DEFAULT_CONFIG_READ_TIMEOUT_MS, configWaitMs } from '../core/latency-budget';
import { invokeAnswer } from '../core/invoke-answer';
import { parseJsonBody } from '../core/request-body';
import { rejectedRequestMetrics, routeMetrics } from '../core/router-metrics';
import { InvokeRequestSchema, MAX_BODY_BYTES } from '../shared/invoke-request';
import type { ComponentHealth } from '../shared/routing-config';
import { COMPONENTS, type Component } from '../shared/vocabulary';

export interface RouterAppDependencies {
  readonly router: HybridRouter;
  readonly breakers: CircuitBreakers;
  readonly configSource: ConfigSource;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The health-check schedule's period; health data older than three periods is stale. */
  readonly healthPeriodMs: number;
  /**
   * The longest any request waits for a configuration read; an invocation also waits no more
   * than half its operation's target budget.
   * @default DEFAULT_CONFIG_READ_TIMEOUT_MS
   */
  readonly configReadTimeoutMs?: number;
  readonly now?: () => number;
}

export type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/**
 * The router function's HTTP surface: parses the API Gateway event, calls the core, formats the
 * answer, and emits logs and metrics. Never logs prompt or output text.
 */
export function createRouterApp(deps: RouterAppDependencies): ApiHandler {
  const { logger, metrics } = deps;
  const now = deps.now ?? Date.now;
  const configReadTimeoutMs = deps.configReadTimeoutMs ?? DEFAULT_CONFIG_READ_TIMEOUT_MS;

  const invoke = async (event: APIGatewayProxyEvent, requestId: string): Promise<APIGatewayProxyResult> => {
    // The budget counts from here, so a slow configuration read is spent out of it (invariant 6).
    const receivedAt = now();
    let request;
    try {
      request = parseJsonBody(event.body, event.isBase64Encoded, InvokeRequestSchema, MAX_BODY_BYTES);
    } catch (error) {
      if (error instanceof HttpError) publishMetrics(metrics, rejectedRequestMetrics(error.status, 'control'));
      throw error;
    }

    const budget = deps.configSource.latest().policy.operations[request.operation].budget;
    const snapshot = await deps.configSource.current(configWaitMs(budget, configReadTimeoutMs));
    if (deps.breakers.syncEpoch(snapshot.config.breakerEpoch)) {
      logger.info('circuit breakers reset by epoch change', { epoch: snapshot.config.breakerEpoch });
    }
    const { routingKey, ...providerRequest } = request;
    const result = await deps.router.route(providerRequest, snapshot.config, routingKey ?? callerIdentityOf(event), receivedAt);

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
    return jsonResponse(200, invokeAnswer(requestId, result), requestId);
  };

  /** The health view from the cached configuration, with this container's own view of the router laid over it. */
  const currentHealth = async () => {
    const snapshot = await deps.configSource.current(configReadTimeoutMs);
    const at = now();
    const view = healthView(snapshot.config.health, at, deps.healthPeriodMs);
    const settings = snapshot.config.policy.circuitBreaker;
    const breakers = deps.breakers.states(settings);
    const components = { ...view.components };
    if (snapshot.origin !== 'store') {
      components['intelligent-router'] = {
        ...components['intelligent-router'],
        status: snapshot.origin === 'last-good' ? 'degraded' : 'unhealthy',
        message:
          snapshot.origin === 'last-good'
            ? 'this router cannot read SSM and serves its last good configuration'
            : 'this router has never read its configuration and serves the control path',
      };
    } else if (snapshot.problems.length > 0) {
      components['intelligent-router'] = {
        ...components['intelligent-router'],
        status: 'degraded',
        message: `this router's configuration has problems and fails safe: ${snapshot.problems.join('; ')}`,
      };
    }
    const { rollback } = snapshot.config;
    const routing = {
      hybridEnabled: snapshot.config.hybridEnabled,
      trafficPercentage: snapshot.config.trafficPercentage,
      effectiveTrafficPercentage: rollback.active || !snapshot.config.hybridEnabled ? 0 : snapshot.config.trafficPercentage,
      mode: snapshot.config.mode,
      rollback: { active: rollback.active, level: rollback.level, reason: rollback.reason, source: rollback.source, at: rollback.at },
      breakerEpoch: snapshot.config.breakerEpoch,
      breakers,
      config: {
        origin: snapshot.origin,
        readAt: snapshot.readAt === undefined ? null : new Date(snapshot.readAt).toISOString(),
        problems: snapshot.problems,
      },
    };
    return { status: view.status, components, routing, timestamp: new Date(at).toISOString() };
  };
  const healthStatusCode = (status: ComponentHealth['status']) => (status === 'unhealthy' ? 503 : 200);

  const routes: Record<string, RouteHandler> = {
    'POST /v1/invoke': invoke,
    'GET /health': async (_event, requestId) => {
      const { status, timestamp } = await currentHealth();
      return jsonResponse(healthStatusCode(status), { status, timestamp }, requestId);
    },
    'GET /health/detailed': async (_event, requestId) => {
      const health = await currentHealth();
      return jsonResponse(healthStatusCode(health.status), health, requestId);
    },
    'GET /health/component/{name}': async (event, requestId) => {
      const name = event.pathParameters?.name ?? '';
      if (!(COMPONENTS as readonly string[]).includes(name)) {
        throw new NotFoundError(`no component "${name}"; components are ${COMPONENTS.join(', ')}`);
      }
      const { components, timestamp } = await currentHealth();
      const component = components[name as Component];
      return jsonResponse(healthStatusCode(component.status), { component: name, ...component, timestamp }, requestId);
    },
  };

  const handle = routeRequests(routes, logger);
  return async (event, context) => {
    try {
      return await handle(event, context);
    } finally {
      deps.configSource.idle();
    }
  };
}
