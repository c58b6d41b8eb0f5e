import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { METRIC_NAMESPACE, SERVICE, type MetricDefinition } from '../../lambda/shared/metric-catalog';

export interface MetricOptions {
  /** The value of the metric's extra dimension (Cohort, Provider, Component, Level). */
  readonly dimensionValue?: string;
  /** @default - Sum for counts, Average for milliseconds */
  readonly statistic?: string;
  /** @default Duration.minutes(1) */
  readonly period?: Duration;
  readonly label?: string;
}

/** Which function emits a metric, by its catalog definition. */
function serviceOf(metric: MetricDefinition): string {
  if (metric.dimension === 'Component') return SERVICE.healthCheck;
  if (metric.dimension === 'Level') return SERVICE.rollback;
  return SERVICE.router;
}

/**
 * CloudWatch metrics of one environment, made only from the catalog the functions emit with,
 * so dashboards and alarms read exactly the names, units and dimensions that are written.
 */
export class HybridMetricFactory {
  constructor(private readonly environment: string) {}

  metric(definition: MetricDefinition, options: MetricOptions = {}): cloudwatch.Metric {
    if (definition.dimension && options.dimensionValue === undefined) {
      throw new Error(`metric ${definition.name} needs a ${definition.dimension} value`);
    }
    return new cloudwatch.Metric({
      namespace: METRIC_NAMESPACE,
      metricName: definition.name,
      dimensionsMap: {
        Service: serviceOf(definition),
        Environment: this.environment,
        ...(definition.dimension ? { [definition.dimension]: options.dimensionValue! } : {}),
      },
      statistic: options.statistic ?? (definition.unit === 'Count' ? 'Sum' : 'Average'),
      period: options.period ?? Duration.minutes(1),
      unit: definition.unit === 'Count' ? cloudwatch.Unit.COUNT : cloudwatch.Unit.MILLISECONDS,
      label: options.label,
    });
  }
}
