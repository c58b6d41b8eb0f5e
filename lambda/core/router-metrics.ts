import { METRICS, type MetricPoint } from '../shared/metric-catalog';
import type { Cohort } from '../shared/vocabulary';
import type { RouteResult } from './hybrid-router';

/**
 * The metric points one routed request produces (DESIGN §7). `cohort` is the routing cohort,
 * or the caller's cohort for requests rejected before routing.
 */
export function routeMetrics(result: RouteResult, status: number, cohort: Cohort): MetricPoint[] {
  const byCohort = (metric: MetricPoint['metric'], value: number): MetricPoint => ({ metric, value, dimensionValue: cohort });
  const points: MetricPoint[] = [
    byCohort(METRICS.requests, 1),
    byCohort(METRICS.errors, status >= 500 ? 1 : 0),
    byCohort(METRICS.clientErrors, status >= 400 && status < 500 ? 1 : 0),
    byCohort(METRICS.latency, result.latencyMs),
    byCohort(METRICS.fallbacks, result.routing.fallback ? 1 : 0),
    byCohort(METRICS.firstChoiceSuccess, result.response && !result.routing.fallback ? 1 : 0),
  ];
  if (result.shed) points.push({ metric: METRICS.shed, value: 1 });

  for (const attempt of result.attempts) {
    if (attempt.outcome === 'circuit-open' || attempt.outcome === 'no-budget') continue;
    const provider = attempt.provider;
    points.push(
      { metric: METRICS.providerRequests, value: attempt.retried ? 2 : 1, dimensionValue: provider },
      { metric: METRICS.providerErrors, value: attempt.outcome === 'success' ? 0 : 1, dimensionValue: provider },
      { metric: METRICS.providerLatency, value: attempt.latencyMs, dimensionValue: provider },
    );
    if (attempt.openedBreaker) points.push({ metric: METRICS.circuitOpen, value: 1, dimensionValue: provider });
  }
  if (result.response && result.routing.provider) {
    const provider = result.routing.provider;
    points.push(
      { metric: METRICS.inputTokens, value: result.response.usage.inputTokens, dimensionValue: provider },
      { metric: METRICS.outputTokens, value: result.response.usage.outputTokens, dimensionValue: provider },
    );
  }
  return points;
}

/**
 * Points for a request rejected before routing (bad input, unknown route). It was never routed,
 * so it counts as an error only, not as a request: routing efficiency stays about routed traffic.
 */
export function rejectedRequestMetrics(status: number, cohort: Cohort): MetricPoint[] {
  return [
    { metric: METRICS.errors, value: status >= 500 ? 1 : 0, dimensionValue: cohort },
    { metric: METRICS.clientErrors, value: status >= 400 && status < 500 ? 1 : 0, dimensionValue: cohort },
  ];
}
