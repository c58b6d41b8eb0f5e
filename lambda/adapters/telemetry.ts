import { Logger } from '@aws-lambda-powertools/logger';
import { MetricResolution, Metrics } from '@aws-lambda-powertools/metrics';
import { METRIC_NAMESPACE, type MetricPoint } from '../shared/metric-catalog';

export interface Telemetry {
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/**
 * The one Logger/Metrics pair of a function. Metrics carry exactly DESIGN §7's `Service` and
 * `Environment` dimensions, so Powertools' own lowercase `service` dimension is replaced.
 */
export function createTelemetry(service: string, environment: string): Telemetry {
  const logger = new Logger({ serviceName: service, persistentKeys: { environment } });
  const metrics = new Metrics({ namespace: METRIC_NAMESPACE, serviceName: service });
  metrics.clearDefaultDimensions();
  metrics.setDefaultDimensions({ Service: service, Environment: environment });
  return { logger, metrics };
}

/**
 * Emits `points` as EMF, one document per set of extra-dimension values, since a document's
 * dimensions apply to all of its metrics.
 */
export function publishMetrics(metrics: Metrics, points: readonly MetricPoint[]): void {
  const groups = new Map<string, MetricPoint[]>();
  for (const point of points) {
    const key = extraDimensionsOf(point)
      .map(([name, value]) => `${name}=${value}`)
      .join(',');
    const group = groups.get(key);
    if (group) group.push(point);
    else groups.set(key, [point]);
  }
  for (const group of groups.values()) {
    for (const [name, value] of extraDimensionsOf(group[0]!)) metrics.addDimension(name, value);
    for (const point of group) {
      metrics.addMetric(
        point.metric.name,
        point.metric.unit,
        point.value,
        point.metric.highResolution ? MetricResolution.High : MetricResolution.Standard,
      );
    }
    metrics.publishStoredMetrics();
  }
}

function extraDimensionsOf(point: MetricPoint): [string, string][] {
  const dimensions: [string, string][] = [];
  if (point.metric.dimension && point.dimensionValue) dimensions.push([point.metric.dimension, point.dimensionValue]);
  if (point.metric.secondDimension && point.secondDimensionValue) dimensions.push([point.metric.secondDimension, point.secondDimensionValue]);
  return dimensions;
}
