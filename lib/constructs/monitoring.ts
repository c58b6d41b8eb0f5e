import { Duration } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ALARMS, alarmNameOf, type AlarmId } from '../../lambda/shared/alarms';
import { METRICS, type MetricDefinition } from '../../lambda/shared/metric-catalog';
import { COMPONENTS, PROVIDERS } from '../../lambda/shared/vocabulary';
import type { EnvironmentConfig } from '../config/environment-config';
import { HybridMetricFactory } from './metric-factory';

export interface MonitoringProps {
  readonly environmentName: string;
  readonly config: EnvironmentConfig;
  readonly topic: sns.ITopic;
  readonly rollbackFunction: lambda.IFunction;
  readonly routerFunction: lambda.IFunction;
  /** The functions whose duration counts towards Lambda GB-seconds on the cost dashboard. */
  readonly functions: readonly { readonly fn: lambda.IFunction; readonly memorySize: number; readonly label: string }[];
  readonly api: apigw.RestApi;
  readonly accessLogs: logs.ILogGroup;
  readonly routerLogs: logs.ILogGroup;
  /** The WAF web ACL's name, when WAF is on. */
  readonly webAclName?: string;
}

/** The dashboards of one environment, and the catalog metrics each must show (DESIGN §7). */
export const DASHBOARD_CONTENTS = {
  Overview: [
    METRICS.healthCheckSuccess,
    METRICS.requests,
    METRICS.providerRequests,
    METRICS.errors,
    METRICS.firstChoiceSuccess,
    METRICS.latency,
    METRICS.shed,
    METRICS.rollbackExecuted,
  ],
  Performance: [
    METRICS.latency,
    METRICS.providerLatency,
    METRICS.providerErrors,
    METRICS.fallbacks,
    METRICS.circuitOpen,
    METRICS.healthCheckLatency,
    METRICS.streamsTruncated,
    METRICS.jobsSubmitted,
    METRICS.jobsFailed,
  ],
  Security: [METRICS.piiDetected, METRICS.clientErrors, METRICS.requests],
  Cost: [METRICS.inputTokens, METRICS.outputTokens],
} as const satisfies Record<string, readonly MetricDefinition[]>;

export type DashboardName = keyof typeof DASHBOARD_CONTENTS;

/**
 * The evaluation range, in 10-second windows, of the "N failed checks in a row" alarm. The range
 * is 20 s short of N check periods (room for schedule jitter), so it holds at most N checks; N
 * breaching windows in it can then only be N failures in a row, and the alarm sees the last one
 * within seconds rather than after a whole one-minute period.
 */
export function healthAlarmWindows(unhealthyAfter: number, rateMinutes: number): number {
  return (unhealthyAfter * rateMinutes * 60 - 20) / 10;
}

/** High-resolution alarms judge 10-second windows; see the README for the detection budget. */
const FAST_PERIOD = Duration.seconds(10);
const FAST_EVALUATION = { evaluationPeriods: 3, datapointsToAlarm: 2 };

/**
 * Alarms and dashboards (DESIGN §7, §8). Rollback alarms invoke the rollback function and every
 * alarm notifies the topic on ALARM and on OK; missing data never breaches. The error-rate and
 * latency alarms only judge windows with at least `alarms.minRequests` hybrid requests.
 */
export class Monitoring extends Construct {
  readonly alarms: Record<AlarmId, cloudwatch.Alarm>;
  readonly dashboards: Record<DashboardName, cloudwatch.Dashboard>;
  private readonly metrics: HybridMetricFactory;
  private readonly environmentName: string;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { config, environmentName } = props;
    this.environmentName = environmentName;
    this.metrics = new HybridMetricFactory(environmentName);
    const m = this.metrics;
    const { minRequests } = config.alarms;
    const hybrid = { dimensionValue: 'hybrid' };

    const fastRequests = m.metric(METRICS.requests, { ...hybrid, period: FAST_PERIOD });
    const errorRate = new cloudwatch.MathExpression({
      expression: `IF(requests >= ${minRequests}, 100 * errors / requests, 0)`,
      usingMetrics: { requests: fastRequests, errors: m.metric(METRICS.errors, { ...hybrid, period: FAST_PERIOD }) },
      period: FAST_PERIOD,
      label: 'hybrid error rate (%)',
    });
    const latencyP95 = new cloudwatch.MathExpression({
      expression: `IF(requests >= ${minRequests}, p95, 0)`,
      usingMetrics: { requests: fastRequests, p95: m.metric(METRICS.latency, { ...hybrid, statistic: 'p95', period: FAST_PERIOD }) },
      period: FAST_PERIOD,
      label: 'hybrid latency p95 (ms)',
    });
    const efficiency = this.routingEfficiency(Duration.minutes(1), minRequests);
    const { unhealthyAfter } = config.healthCheck;
    const healthRangeWindows = healthAlarmWindows(unhealthyAfter, config.healthCheck.rateMinutes);

    const alarm = (alarmId: AlarmId, alarmProps: Omit<cloudwatch.AlarmProps, 'alarmName' | 'treatMissingData'>) => {
      const created = new cloudwatch.Alarm(this, `${alarmId.charAt(0).toUpperCase()}${alarmId.slice(1)}Alarm`, {
        ...alarmProps,
        alarmName: alarmNameOf(environmentName, alarmId),
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      if (ALARMS[alarmId].rollbackLevel !== null) {
        created.addAlarmAction(new actions.LambdaAction(props.rollbackFunction, { useUniquePermissionId: true }));
      }
      created.addAlarmAction(new actions.SnsAction(props.topic));
      created.addOkAction(new actions.SnsAction(props.topic));
      return created;
    };

    this.alarms = {
      hybridErrorRate: alarm('hybridErrorRate', {
        alarmDescription: `Rollback level 2: more than ${config.alarms.errorRatePercent}% of hybrid requests failed in 2 of 3 ten-second windows with at least ${minRequests} requests.`,
        metric: errorRate,
        threshold: config.alarms.errorRatePercent,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        ...FAST_EVALUATION,
      }),
      hybridLatency: alarm('hybridLatency', {
        alarmDescription: `Rollback level 1: hybrid p95 latency above ${config.alarms.latencyP95Ms} ms in 2 of 3 ten-second windows with at least ${minRequests} requests.`,
        metric: latencyP95,
        threshold: config.alarms.latencyP95Ms,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        ...FAST_EVALUATION,
      }),
      directBedrockHealth: alarm('directBedrockHealth', {
        alarmDescription: `Rollback level 1: the direct-bedrock health check failed ${unhealthyAfter} times in a row.`,
        metric: m.metric(METRICS.healthCheckSuccess, { dimensionValue: 'direct-bedrock', statistic: 'Minimum', period: FAST_PERIOD }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: healthRangeWindows,
        datapointsToAlarm: unhealthyAfter,
      }),
      routingEfficiency: alarm('routingEfficiency', {
        alarmDescription: `Notify: under ${config.alarms.routingEfficiencyPercent}% of hybrid requests were answered by their first choice for 5 minutes.`,
        metric: efficiency,
        threshold: config.alarms.routingEfficiencyPercent,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 5,
        datapointsToAlarm: 5,
      }),
    };

    this.dashboards = {
      Overview: this.dashboard('Overview', this.overview(errorRate, latencyP95)),
      Performance: this.dashboard('Performance', this.performance(props)),
      Security: this.dashboard('Security', this.security(props)),
      Cost: this.dashboard('Cost', this.cost(props)),
    };
  }

  private routingEfficiency(period: Duration, minRequests: number): cloudwatch.MathExpression {
    const m = this.metrics;
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

  private dashboard(name: DashboardName, rows: cloudwatch.IWidget[][]): cloudwatch.Dashboard {
    const dashboard = new cloudwatch.Dashboard(this, `${name}Dashboard`, {
      dashboardName: `HybridRouting-${this.environmentName}-${name}`,
      defaultInterval: Duration.hours(3),
    });
    for (const row of rows) dashboard.addWidgets(...row);
    return dashboard;
  }

  private perCohort(definition: MetricDefinition, statistic?: string) {
    return ['hybrid', 'control'].map((cohort) => this.metrics.metric(definition, { dimensionValue: cohort, statistic, label: `${cohort}` }));
  }

  private perProvider(definition: MetricDefinition, statistic?: string) {
    return PROVIDERS.map((provider) => this.metrics.metric(definition, { dimensionValue: provider, statistic, label: `${definition.name} ${provider}${statistic ? ` ${statistic}` : ''}` }));
  }

  private overview(errorRate: cloudwatch.MathExpression, latencyP95: cloudwatch.MathExpression): cloudwatch.IWidget[][] {
    const m = this.metrics;
    return [
      [
        new cloudwatch.GraphWidget({
          title: 'Component health (1 = check passed)',
          left: COMPONENTS.filter((c) => c !== 'hybrid-monitor' && c !== 'bedrock-support').map((component) =>
            m.metric(METRICS.healthCheckSuccess, { dimensionValue: component, statistic: 'Minimum', label: component }),
          ),
          leftYAxis: { min: 0, max: 1 },
          width: 8,
        }),
        new cloudwatch.GraphWidget({ title: 'Routing efficiency (%)', left: [this.routingEfficiency(Duration.minutes(1), 1)], leftYAxis: { min: 0, max: 100 }, width: 8 }),
        new cloudwatch.AlarmStatusWidget({ title: 'Alarms (rollback state)', alarms: Object.values(this.alarms), width: 8 }),
      ],
      [
        new cloudwatch.GraphWidget({ title: 'Requests by cohort', left: this.perCohort(METRICS.requests), stacked: true, width: 8 }),
        new cloudwatch.GraphWidget({ title: 'Requests by provider', left: this.perProvider(METRICS.providerRequests), stacked: true, width: 8 }),
        new cloudwatch.GraphWidget({
          title: 'Errors (5xx) and error rate',
          left: this.perCohort(METRICS.errors),
          right: [errorRate],
          width: 8,
        }),
      ],
      [
        new cloudwatch.GraphWidget({
          title: 'Latency p50 / p95 / p99 (hybrid)',
          left: ['p50', 'p95', 'p99'].map((statistic) => m.metric(METRICS.latency, { dimensionValue: 'hybrid', statistic, label: statistic })),
          right: [latencyP95],
          width: 12,
        }),
        new cloudwatch.GraphWidget({
          title: 'Rollbacks executed, and requests shed',
          left: [1, 2].map((level) => m.metric(METRICS.rollbackExecuted, { dimensionValue: String(level), label: `rollback level ${level}` })),
          right: [m.metric(METRICS.shed, { label: 'shed (emergency-only)' })],
          width: 12,
        }),
      ],
    ];
  }

  private performance(props: MonitoringProps): cloudwatch.IWidget[][] {
    const m = this.metrics;
    const router = props.routerFunction;
    return [
      [
        new cloudwatch.GraphWidget({
          title: 'Provider latency p50 / p95 / p99',
          left: ['p50', 'p95', 'p99'].flatMap((statistic) => this.perProvider(METRICS.providerLatency, statistic)),
          width: 12,
        }),
        new cloudwatch.GraphWidget({ title: 'Request latency p95 by cohort', left: this.perCohort(METRICS.latency, 'p95'), width: 12 }),
      ],
      [
        new cloudwatch.GraphWidget({ title: 'Fallbacks by cohort', left: this.perCohort(METRICS.fallbacks), width: 8 }),
        new cloudwatch.GraphWidget({ title: 'Provider errors', left: this.perProvider(METRICS.providerErrors), width: 8 }),
        new cloudwatch.GraphWidget({ title: 'Circuit breakers opened', left: this.perProvider(METRICS.circuitOpen), width: 8 }),
      ],
      [
        new cloudwatch.GraphWidget({
          title: 'Router duration, concurrency, throttles',
          left: [router.metricDuration({ statistic: 'p95', label: 'duration p95' }), router.metricDuration({ statistic: 'Average', label: 'duration avg' })],
          right: [
            router.metric('ConcurrentExecutions', { statistic: 'Maximum', label: 'concurrency' }),
            router.metricThrottles({ label: 'throttles' }),
          ],
          width: 12,
        }),
        new cloudwatch.GraphWidget({
          title: 'Health-check latency',
          left: COMPONENTS.filter((c) => c !== 'hybrid-monitor' && c !== 'bedrock-support').map((component) =>
            m.metric(METRICS.healthCheckLatency, { dimensionValue: component, label: component }),
          ),
          width: 6,
        }),
        new cloudwatch.LogQueryWidget({
          title: 'Router init durations (cold starts)',
          logGroupNames: [props.routerLogs.logGroupName],
          queryLines: ['filter @type = "REPORT" and ispresent(@initDuration)', 'stats count(*) as coldStarts, avg(@initDuration) as avgInitMs, max(@initDuration) as maxInitMs by bin(5m)'],
          width: 6,
        }),
      ],
      [
        new cloudwatch.GraphWidget({
          title: 'Long operations: streams cut after their first delta, jobs submitted and failed',
          left: [m.metric(METRICS.streamsTruncated, { label: 'streams truncated' }), m.metric(METRICS.jobsFailed, { label: 'jobs failed' })],
          right: [m.metric(METRICS.jobsSubmitted, { label: 'jobs submitted' })],
          width: 12,
        }),
      ],
    ];
  }

  private security(props: MonitoringProps): cloudwatch.IWidget[][] {
    const m = this.metrics;
    const clientErrors = this.perCohort(METRICS.clientErrors);
    const widgets: cloudwatch.IWidget[] = [
      new cloudwatch.GraphWidget({ title: 'PII detections', left: [m.metric(METRICS.piiDetected, { label: 'PII detected' })], width: 6 }),
      new cloudwatch.GraphWidget({
        title: '4xx rate at the router (%)',
        left: [
          new cloudwatch.MathExpression({
            expression: '100 * (ch + cc) / (ch + cc + rh + rc)',
            period: Duration.minutes(1),
            usingMetrics: {
              ch: clientErrors[0]!,
              cc: clientErrors[1]!,
              rh: m.metric(METRICS.requests, { dimensionValue: 'hybrid' }),
              rc: m.metric(METRICS.requests, { dimensionValue: 'control' }),
            },
            label: 'client errors (%)',
          }),
        ],
        width: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'API Gateway 4xx and 5xx',
        left: [props.api.metricClientError({ label: '4xx' }), props.api.metricServerError({ label: '5xx' })],
        width: 6,
      }),
      new cloudwatch.LogQueryWidget({
        title: '403s (unsigned or not allowed) by caller',
        logGroupNames: [props.accessLogs.logGroupName],
        queryLines: ['filter status = 403', 'stats count(*) as denied by ip, caller, bin(5m)', 'sort denied desc', 'limit 20'],
        width: 6,
      }),
    ];
    if (props.webAclName) {
      widgets.push(
        new cloudwatch.GraphWidget({
          title: 'WAF blocked requests',
          left: [
            new cloudwatch.Metric({
              namespace: 'AWS/WAFV2',
              metricName: 'BlockedRequests',
              dimensionsMap: { WebACL: props.webAclName, Region: props.api.env.region, Rule: 'ALL' },
              statistic: 'Sum',
            }),
          ],
          width: 6,
        }),
      );
    }
    return [widgets];
  }

  private cost(props: MonitoringProps): cloudwatch.IWidget[][] {
    const { input, output } = props.config.bedrock.pricePer1kTokens;
    const tokens = (definition: MetricDefinition) => this.perProvider(definition);
    const [bedrockIn, mcpIn] = tokens(METRICS.inputTokens);
    const [bedrockOut, mcpOut] = tokens(METRICS.outputTokens);
    const hour = Duration.hours(1);
    // Duration is in milliseconds: GB-seconds = ms / 1000 × MB / 1024.
    const gbSeconds = props.functions.map(({ fn, memorySize, label }) => ({ fn, factor: memorySize / 1024 / 1000, label }));
    return [
      [
        new cloudwatch.GraphWidget({ title: 'Input tokens by provider', left: [bedrockIn!, mcpIn!], stacked: true, width: 8 }),
        new cloudwatch.GraphWidget({ title: 'Output tokens by provider', left: [bedrockOut!, mcpOut!], stacked: true, width: 8 }),
        new cloudwatch.GraphWidget({
          title: `Estimated Bedrock spend (USD/hour at $${input} in, $${output} out per 1k tokens)`,
          left: [
            new cloudwatch.MathExpression({
              expression: `(tin * ${input} + tout * ${output}) / 1000`,
              usingMetrics: {
                tin: this.metrics.metric(METRICS.inputTokens, { dimensionValue: 'bedrock', period: hour }),
                tout: this.metrics.metric(METRICS.outputTokens, { dimensionValue: 'bedrock', period: hour }),
              },
              period: hour,
              label: 'Bedrock USD per hour',
            }),
          ],
          width: 8,
        }),
      ],
      [
        new cloudwatch.GraphWidget({
          title: 'Lambda GB-seconds per hour',
          left: gbSeconds.map(({ fn, factor, label }, index) =>
            new cloudwatch.MathExpression({
              expression: `d${index} * ${factor}`,
              usingMetrics: { [`d${index}`]: fn.metricDuration({ statistic: 'Sum', period: hour }) },
              period: hour,
              label,
            }),
          ),
          stacked: true,
          width: 24,
        }),
      ],
    ];
  }
}
