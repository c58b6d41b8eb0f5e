import type { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { METRICS, SERVICE } from '../../lambda/shared/metric-catalog';
import type { Cohort } from '../../lambda/shared/vocabulary';
import { HybridMetricFactory } from './metric-factory';

/**
 * The derived series of DESIGN §7 and §8 that alarms judge and dashboards draw, built only from
 * catalog metrics, so an alarm and the graph beside it compute the same thing.
 */
export class MonitoringMetrics {
  readonly factory: HybridMetricFactory;

  constructor(private readonly environment: string) {
    this.factory = new HybridMetricFactory(environment);
  }

  /** 100 × Errors / Requests of one cohort, or 0 in a window with fewer than `minRequests`. */
  errorRate(cohort: Cohort, period: Duration, minRequests: number): cloudwatch.MathExpression {
    const m = this.factory;
    return new cloudwatch.MathExpression({
      expression: `IF(requests >= ${minRequests}, 100 * errors / requests, 0)`,
      usingMetrics: {
        requests: m.metric(METRICS.requests, { dimensionValue: cohort, period }),
        errors: m.metric(METRICS.errors, { dimensionValue: cohort, period }),
      },
      period,
      label: `${cohort} error rate (%)`,
    });
  }

  /** The hybrid cohort's p95 latency, or 0 in a window with fewer than `minRequests`. */
  hybridLatencyP95(period: Duration, minRequests: number): cloudwatch.MathExpression {
    const m = this.factory;
    return new cloudwatch.MathExpression({
      expression: `IF(requests >= ${minRequests}, p95, 0)`,
      usingMetrics: {
        requests: m.metric(METRICS.requests, { dimensionValue: 'hybrid', period }),
        p95: m.metric(METRICS.latency, { dimensionValue: 'hybrid', statistic: 'p95', period }),
      },
      period,
      label: 'hybrid latency p95 (ms)',
    });
  }

  /** 100 × FirstChoiceSuccess / Requests of the hybrid cohort, or 100 in a quiet window. */
  routingEfficiency(period: Duration, minRequests: number): cloudwatch.MathExpression {
    const m = this.factory;
    return new cloudwatch.MathExpression({
      expression: `IF(requests >= ${minRequests}, 100 * first / requests, 100)`,
      usingMetrics: {
        requests: m.metric(METRICS.requests, { dimensionValue: 'hybrid', period }),
        first: m.metric(METRICS.firstChoiceSuccess, { dimensionValue: 'hybrid', period }),
      },
      period,
      label: 'routing efficiency (%)',
    });
  }

  /** `ConfigProblems` as the router and the health check each emit it. */
  configProblemsBy(service: typeof SERVICE.router | typeof SERVICE.healthCheck, period: Duration): cloudwatch.Metric {
    return this.factory
      .metric(METRICS.configProblems, { period, label: `config problems (${service})` })
      .with({ dimensionsMap: { Service: service, Environment: this.environment } });
  }

  /** `ConfigProblems` summed over both functions that read the configuration store. */
  configProblems(period: Duration): cloudwatch.MathExpression {
    return new cloudwatch.MathExpression({
      expression: 'SUM([router, healthCheck])',
      usingMetrics: { router: this.configProblemsBy(SERVICE.router, period), healthCheck: this.configProblemsBy(SERVICE.healthCheck, period) },
      period,
      label: 'config problems',
    });
  }
}
