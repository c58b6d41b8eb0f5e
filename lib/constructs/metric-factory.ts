import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { METRICS, METRIC_NAMESPACE, SERVICE, type MetricDefinition, type RollbackSource } from '../../lambda/shared/metric-catalog';

export interface MetricOptions {
  /** The value of the metric's extra dimension (Cohort, Provider, Component, Level). */
  readonly dimensionValue?: string;
  /** The value of its second extra dimension, for a metric that has one (RollbackExecuted's Source). */
  readonly secondDimensionValue?: string;
  /**
   * The `Service` that emits it, for a metric more than one function emits.
   * @default - the function that emits the metric's kind
   */
  readonly service?: string;
  /** @default - Sum for counts, Average for milliseconds */
  readonly statistic?: string;
  /** @default Duration.minutes(1) */
  readonly period?: Duration;
  readonly label?: string;
}

/** Which function emits a metric, by its catalog definition. */
function serviceOf(metric: MetricDefinition): string {
  if (metric === METRICS.rampTrafficPercentage || metric === METRICS.rampGateFailures) return SERVICE.ramp;
  if (metric.dimension === 'Component') return SERVICE.healthCheck;
  if (metric.dimension === 'Level') return SERVICE.rollback;
  return SERVICE.router;
}

/** The functions that emit `RollbackExecuted`, and the sources each counts. */
export const ROLLBACK_EMITTERS: readonly { readonly service: string; readonly source: RollbackSource }[] = [
  { service: SERVICE.rollback, source: 'alarm' },
  { service: SERVICE.rollback, source: 'manual' },
  { service: SERVICE.admin, source: 'manual' },
  { service: SERVICE.ramp, source: 'ramp' },
];

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
    if (definition.secondDimension && options.secondDimensionValue === undefined) {
      throw new Error(`metric ${definition.name} needs a ${definition.secondDimension} value`);
    }
    return new cloudwatch.Metric({
      namespace: METRIC_NAMESPACE,
      metricName: definition.name,
      dimensionsMap: {
        Service: options.service ?? serviceOf(definition),
        Environment: this.environment,
        ...(definition.dimension ? { [definition.dimension]: options.dimensionValue! } : {}),
        ...(definition.secondDimension ? { [definition.secondDimension]: options.secondDimensionValue! } : {}),
      },
      statistic: options.statistic ?? (definition.unit === 'Count' ? 'Sum' : 'Average'),
      period: options.period ?? Duration.minutes(1),
      unit: definition.unit === 'Count' ? cloudwatch.Unit.COUNT : cloudwatch.Unit.MILLISECONDS,
      label: options.label,
    });
  }

  /** `RollbackExecuted` at one level (`1`, `2`, `3`, `clear`), summed over every function and source that emits it. */
  rollbacksExecuted(level: string, options: { readonly label?: string; readonly period?: Duration } = {}): cloudwatch.MathExpression {
    const usingMetrics = Object.fromEntries(
      ROLLBACK_EMITTERS.map(({ service, source }, i) => [
        `${source}_${level}_${i}`,
        this.metric(METRICS.rollbackExecuted, { dimensionValue: level, secondDimensionValue: source, service, period: options.period }),
      ]),
    );
    return new cloudwatch.MathExpression({
      expression: `SUM([${Object.keys(usingMetrics).join(', ')}])`,
      usingMetrics,
      period: options.period ?? Duration.minutes(1),
      label: options.label,
    });
  }
}
