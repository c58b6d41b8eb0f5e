import { Duration } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { CLEAR_LEVEL, METRICS, SERVICE, type MetricDefinition } from '../../lambda/shared/metric-catalog';
import { COMPONENTS, PROVIDERS } from '../../lambda/shared/vocabulary';
import type { EnvironmentConfig } from '../config/environment-config';
import type { MonitoringMetrics } from './monitoring-metrics';

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
    METRICS.configProblems,
    METRICS.rampTrafficPercentage,
    METRICS.rampGateFailures,
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

export interface MonitoringDashboardsProps {
  readonly environmentName: string;
  readonly config: EnvironmentConfig;
  readonly metrics: MonitoringMetrics;
  /** Every alarm of the environment, for the Overview's alarm status. */
  readonly alarms: readonly cloudwatch.IAlarm[];
  readonly routerFunction: lambda.IFunction;
  /** The functions whose duration counts towards Lambda GB-seconds on the cost dashboard. */
  readonly functions: readonly { readonly fn: lambda.IFunction; readonly memorySize: number; readonly label: string }[];
  readonly api: apigw.RestApi;
  readonly accessLogs: logs.ILogGroup;
  readonly routerLogs: logs.ILogGroup;
  /** The WAF web ACL's name, when WAF is on. */
  readonly webAclName?: string;
}

/** Draws the four dashboards of DESIGN §7 in `scope` (the monitoring construct, whose construct ids they keep). */
export function createDashboards(scope: Construct, props: MonitoringDashboardsProps): Record<DashboardName, cloudwatch.Dashboard> {
  const drawing = new DashboardDrawing(scope, props);
  return {
    Overview: drawing.dashboard('Overview', drawing.overview()),
    Performance: drawing.dashboard('Performance', drawing.performance()),
    Security: drawing.dashboard('Security', drawing.security()),
    Cost: drawing.dashboard('Cost', drawing.cost()),
  };
}

class DashboardDrawing {
  private readonly metrics: MonitoringMetrics['factory'];

  constructor(
    private readonly scope: Construct,
    private readonly props: MonitoringDashboardsProps,
  ) {
    this.metrics = props.metrics.factory;
  }

  dashboard(name: DashboardName, rows: cloudwatch.IWidget[][]): cloudwatch.Dashboard {
    const dashboard = new cloudwatch.Dashboard(this.scope, `${name}Dashboard`, {
      dashboardName: `HybridRouting-${this.props.environmentName}-${name}`,
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

  overview(): cloudwatch.IWidget[][] {
    const m = this.metrics;
    const { minRequests } = this.props.config.alarms;
    const errorRate = this.props.metrics.errorRate('hybrid', Duration.seconds(10), minRequests);
    const latencyP95 = this.props.metrics.hybridLatencyP95(Duration.seconds(10), minRequests);
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
        new cloudwatch.GraphWidget({ title: 'Routing efficiency (%)', left: [this.props.metrics.routingEfficiency(Duration.minutes(1), 1)], leftYAxis: { min: 0, max: 100 }, width: 8 }),
        new cloudwatch.AlarmStatusWidget({ title: 'Alarms (rollback state)', alarms: [...this.props.alarms], width: 8 }),
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
          width: 6,
        }),
        new cloudwatch.GraphWidget({
          title: 'Control cohort error rate (%), 1-minute windows',
          left: [this.props.metrics.errorRate('control', Duration.minutes(1), this.props.config.alarms.lowTrafficMinRequests)],
          width: 6,
        }),
        new cloudwatch.GraphWidget({
          title: 'Rollbacks and latch clears executed, and requests shed',
          left: [
            ...['1', '2', '3'].map((level) => m.rollbacksExecuted(level, { label: `rollback level ${level}` })),
            m.rollbacksExecuted(CLEAR_LEVEL, { label: 'latch cleared' }),
          ],
          right: [m.metric(METRICS.shed, { label: 'shed (emergency-only)' })],
          width: 6,
        }),
        new cloudwatch.GraphWidget({
          title: 'Config problems (missing or unreadable parameters)',
          left: [SERVICE.router, SERVICE.healthCheck].map((service) => this.props.metrics.configProblemsBy(service, Duration.minutes(1))),
          width: 6,
        }),
      ],
      [
        new cloudwatch.GraphWidget({
          title: 'Automated ramp: the step\'s traffic (%) and the gates that failed with enough evidence',
          left: [m.metric(METRICS.rampTrafficPercentage, { statistic: 'Maximum', label: 'ramp traffic (%)' })],
          leftYAxis: { min: 0, max: 100 },
          right: [m.metric(METRICS.rampGateFailures, { label: 'gates failed' })],
          rightYAxis: { min: 0 },
          width: 24,
        }),
      ],
    ];
  }

  performance(): cloudwatch.IWidget[][] {
    const props = this.props;
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

  security(): cloudwatch.IWidget[][] {
    const props = this.props;
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

  cost(): cloudwatch.IWidget[][] {
    const props = this.props;
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
