import { GetMetricDataCommand, type CloudWatchClient, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import type { MetricFigures, RampFigureSource } from '../core/ramp-controller';
import { METRICS, METRIC_NAMESPACE, SERVICE, type MetricDefinition } from '../shared/metric-catalog';

/**
 * The ramp's figures from CloudWatch: one `GetMetricData` call of `MetricStat` queries only, raw
 * statistics of the metrics the router and the health check emit, over one period that spans the
 * whole window, so each query answers one value for the step so far. The judging is done in plain
 * code (`lambda/core/ramp-gates.ts`); no metric math runs in CloudWatch. A query with no data
 * answers null, never 0.
 */

const MINUTE_SECONDS = 60;

interface Query {
  readonly id: keyof typeof READERS;
  readonly metric: MetricDefinition;
  readonly service: string;
  readonly dimensionValue: string;
  readonly stat: string;
}

/** How each query's value lands in the figures. */
const READERS = {
  hybridRequests: (f: Draft, v: number | null) => void (f.hybrid.requests = count(v)),
  hybridErrors: (f: Draft, v: number | null) => void (f.hybrid.errors = count(v)),
  controlRequests: (f: Draft, v: number | null) => void (f.control.requests = count(v)),
  controlErrors: (f: Draft, v: number | null) => void (f.control.errors = count(v)),
  hybridLatencyP95: (f: Draft, v: number | null) => void (f.hybrid.latencyP95Ms = v),
  hybridWithinLatency: (f: Draft, v: number | null) => void (f.hybrid.withinLatencyPercent = v),
  healthDirectBedrock: (f: Draft, v: number | null) => void (f.health['direct-bedrock'] = v),
  healthMcpRouter: (f: Draft, v: number | null) => void (f.health['mcp-router'] = v),
} as const;

type Draft = { -readonly [K in keyof MetricFigures]: { -readonly [P in keyof MetricFigures[K]]: MetricFigures[K][P] } };

const count = (value: number | null): number | null => (value === null ? null : Math.round(value));

/** The queries of one window: Sums per cohort, hybrid p95 and the share within the latency gate, health Minimums. */
export function rampQueries(latencyThresholdMs: number): Query[] {
  const router = SERVICE.router;
  const health = SERVICE.healthCheck;
  return [
    { id: 'hybridRequests', metric: METRICS.requests, service: router, dimensionValue: 'hybrid', stat: 'Sum' },
    { id: 'hybridErrors', metric: METRICS.errors, service: router, dimensionValue: 'hybrid', stat: 'Sum' },
    { id: 'controlRequests', metric: METRICS.requests, service: router, dimensionValue: 'control', stat: 'Sum' },
    { id: 'controlErrors', metric: METRICS.errors, service: router, dimensionValue: 'control', stat: 'Sum' },
    { id: 'hybridLatencyP95', metric: METRICS.latency, service: router, dimensionValue: 'hybrid', stat: 'p95' },
    // Percentile rank: the percentage of hybrid requests at or under the latency gate.
    { id: 'hybridWithinLatency', metric: METRICS.latency, service: router, dimensionValue: 'hybrid', stat: `PR(:${latencyThresholdMs})` },
    { id: 'healthDirectBedrock', metric: METRICS.healthCheckSuccess, service: health, dimensionValue: 'direct-bedrock', stat: 'Minimum' },
    { id: 'healthMcpRouter', metric: METRICS.healthCheckSuccess, service: health, dimensionValue: 'mcp-router', stat: 'Minimum' },
  ];
}

/**
 * One period covering the window: whole minutes from its start, which the step window puts on a
 * minute, to the first minute at or after its end.
 */
export function windowPeriod(start: Date, end: Date): { readonly startTime: Date; readonly endTime: Date; readonly period: number } {
  const minutes = Math.max(1, Math.ceil((end.getTime() - start.getTime()) / (MINUTE_SECONDS * 1000)));
  return { startTime: start, endTime: new Date(start.getTime() + minutes * MINUTE_SECONDS * 1000), period: minutes * MINUTE_SECONDS };
}

export function cloudWatchFigures(client: CloudWatchClient, environment: string, deadlineMs: number): RampFigureSource {
  return {
    read: async (window, latencyThresholdMs) => {
      const queries = rampQueries(latencyThresholdMs);
      const { startTime, endTime, period } = windowPeriod(window.start, window.end);
      const metricDataQueries: MetricDataQuery[] = queries.map((q) => ({
        Id: q.id,
        ReturnData: true,
        MetricStat: {
          Metric: {
            Namespace: METRIC_NAMESPACE,
            MetricName: q.metric.name,
            Dimensions: [
              { Name: 'Service', Value: q.service },
              { Name: 'Environment', Value: environment },
              { Name: q.metric.dimension!, Value: q.dimensionValue },
            ],
          },
          Period: period,
          Stat: q.stat,
        },
      }));
      const signal = AbortSignal.timeout(deadlineMs);
      const values = new Map<string, number[]>();
      let nextToken: string | undefined;
      do {
        const output = await client.send(new GetMetricDataCommand({ MetricDataQueries: metricDataQueries, StartTime: startTime, EndTime: endTime, ScanBy: 'TimestampAscending', NextToken: nextToken }), { abortSignal: signal });
        for (const result of output.MetricDataResults ?? []) {
          if (!result.Id) continue;
          values.set(result.Id, [...(values.get(result.Id) ?? []), ...(result.Values ?? [])]);
        }
        nextToken = output.NextToken;
      } while (nextToken);

      const figures: Draft = {
        hybrid: { requests: null, errors: null, latencyP95Ms: null, withinLatencyPercent: null },
        control: { requests: null, errors: null },
        health: { 'direct-bedrock': null, 'mcp-router': null },
      };
      for (const q of queries) READERS[q.id](figures, combine(q.stat, values.get(q.id) ?? []));
      return figures;
    },
  };
}

/**
 * One value from the datapoints of a query. The period spans the window, so there is one; should
 * CloudWatch split it anyway, Sums add, Minimums take the least, and a percentile takes the least
 * favourable (the highest p95, the lowest share within the threshold).
 */
function combine(stat: string, values: readonly number[]): number | null {
  if (values.length === 0) return null;
  if (stat === 'Sum') return values.reduce((a, b) => a + b, 0);
  if (stat === 'Minimum' || stat.startsWith('PR(')) return Math.min(...values);
  return Math.max(...values);
}
