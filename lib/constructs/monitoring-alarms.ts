import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { STALE_AFTER_PERIODS } from '../../lambda/core/health';
import { ALARMS, alarmNameOf, deadLetterAlarmNameOf, type AlarmId } from '../../lambda/shared/alarms';
import { METRICS } from '../../lambda/shared/metric-catalog';
import type { EnvironmentConfig } from '../config/environment-config';
import type { MonitoringMetrics } from './monitoring-metrics';

/** A dead-letter queue to watch: any message in it notifies. */
export interface WatchedQueue {
  /** Lowercase words and dashes, unique per environment; the alarm is `HybridRouting-<env>-dead-letters-<label>`. */
  readonly label: string;
  readonly queue: sqs.IQueue;
  /** What lands in the queue, for the alarm's description, e.g. "failed health-check runs". */
  readonly holds: string;
  /**
   * What counts as a message in the queue, for a queue that a consumer drains.
   * @default - the queue's visible messages (Maximum over a minute)
   */
  readonly metric?: cloudwatch.IMetric;
  /** @default - "Read them, act, then purge the queue; the alarm stays in ALARM until it is empty." */
  readonly action?: string;
}

export interface MonitoringAlarmsProps {
  readonly environmentName: string;
  readonly config: EnvironmentConfig;
  readonly metrics: MonitoringMetrics;
  readonly topic: sns.ITopic;
  readonly rollbackFunction: lambda.IFunction;
  readonly routerFunction: lambda.IFunction;
  readonly rampFunction: lambda.IFunction;
  readonly deadLetterQueues: readonly WatchedQueue[];
}

/** The high-traffic regime: high-resolution alarms judge 10-second windows, 2 of the last 3. */
export const FAST_WINDOWS = { period: Duration.seconds(10), evaluationPeriods: 3, datapointsToAlarm: 2 } as const;
/** The low-traffic regime: 1-minute windows, `alarms.lowTrafficDatapoints` of the last 5 (DESIGN §8). */
export const SLOW_WINDOWS = { period: Duration.minutes(1), evaluationPeriods: 5 } as const;

/**
 * The evaluation range, in 10-second windows, of the "N failed checks in a row" alarm. The range
 * is 20 s short of N check periods (room for schedule jitter), so it holds at most N checks; N
 * breaching windows in it can then only be N failures in a row, and the alarm sees the last one
 * within seconds rather than after a whole one-minute period.
 */
export function healthAlarmWindows(unhealthyAfter: number, rateMinutes: number): number {
  return (unhealthyAfter * rateMinutes * 60 - 20) / 10;
}

/**
 * The alarms of DESIGN §8, created in `scope` (the monitoring construct, whose construct ids they
 * keep). Rollback alarms invoke the rollback function; every alarm notifies the topic on ALARM and
 * on OK. Missing data never breaches, except for the stale-health-checks alarm, whose whole point
 * is missing data.
 */
export function createAlarms(scope: Construct, props: MonitoringAlarmsProps): { alarms: Record<AlarmId, cloudwatch.Alarm>; deadLetterAlarms: cloudwatch.Alarm[] } {
  const { config, environmentName, metrics } = props;
  const m = metrics.factory;
  const { errorRatePercent, minRequests, lowTrafficMinRequests, lowTrafficDatapoints } = config.alarms;
  const { unhealthyAfter, rateMinutes } = config.healthCheck;
  const oneMinute = Duration.minutes(1);

  const notify = (alarm: cloudwatch.Alarm) => {
    alarm.addAlarmAction(new actions.SnsAction(props.topic));
    alarm.addOkAction(new actions.SnsAction(props.topic));
    return alarm;
  };
  const alarm = (alarmId: AlarmId, alarmProps: Omit<cloudwatch.AlarmProps, 'alarmName'>) => {
    const created = new cloudwatch.Alarm(scope, `${alarmId.charAt(0).toUpperCase()}${alarmId.slice(1)}Alarm`, {
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      ...alarmProps,
      alarmName: alarmNameOf(environmentName, alarmId),
    });
    if (ALARMS[alarmId].rollbackLevel !== null) {
      created.addAlarmAction(new actions.LambdaAction(props.rollbackFunction, { useUniquePermissionId: true }));
    }
    return notify(created);
  };
  const above = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD;
  const slowWindows = `${lowTrafficDatapoints} of the last ${SLOW_WINDOWS.evaluationPeriods} one-minute windows with at least ${lowTrafficMinRequests} requests`;

  const alarms: Record<AlarmId, cloudwatch.Alarm> = {
    hybridErrorRate: alarm('hybridErrorRate', {
      alarmDescription: `Rollback level 2: more than ${errorRatePercent}% of hybrid requests failed in 2 of 3 ten-second windows with at least ${minRequests} requests.`,
      metric: metrics.errorRate('hybrid', FAST_WINDOWS.period, minRequests),
      threshold: errorRatePercent,
      comparisonOperator: above,
      evaluationPeriods: FAST_WINDOWS.evaluationPeriods,
      datapointsToAlarm: FAST_WINDOWS.datapointsToAlarm,
    }),
    hybridLatency: alarm('hybridLatency', {
      alarmDescription: `Rollback level 1: hybrid p95 latency above ${config.alarms.latencyP95Ms} ms in 2 of 3 ten-second windows with at least ${minRequests} requests.`,
      metric: metrics.hybridLatencyP95(FAST_WINDOWS.period, minRequests),
      threshold: config.alarms.latencyP95Ms,
      comparisonOperator: above,
      evaluationPeriods: FAST_WINDOWS.evaluationPeriods,
      datapointsToAlarm: FAST_WINDOWS.datapointsToAlarm,
    }),
    directBedrockHealth: alarm('directBedrockHealth', {
      alarmDescription: `Rollback level 1: the direct-bedrock health check failed ${unhealthyAfter} times in a row.`,
      metric: m.metric(METRICS.healthCheckSuccess, { dimensionValue: 'direct-bedrock', statistic: 'Minimum', period: FAST_WINDOWS.period }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: healthAlarmWindows(unhealthyAfter, rateMinutes),
      datapointsToAlarm: unhealthyAfter,
    }),
    routingEfficiency: alarm('routingEfficiency', {
      alarmDescription: `Notify: under ${config.alarms.routingEfficiencyPercent}% of hybrid requests were answered by their first choice for 5 minutes.`,
      metric: metrics.routingEfficiency(oneMinute, minRequests),
      threshold: config.alarms.routingEfficiencyPercent,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 5,
      datapointsToAlarm: 5,
    }),
    hybridErrorRateLowTraffic: alarm('hybridErrorRateLowTraffic', {
      alarmDescription:
        `Rollback level 2: more than ${errorRatePercent}% of hybrid requests failed in ${slowWindows}. ` +
        'Judges canaries too small for the ten-second hybrid-error-rate alarm; the README works through the arithmetic.',
      metric: metrics.errorRate('hybrid', SLOW_WINDOWS.period, lowTrafficMinRequests),
      threshold: errorRatePercent,
      comparisonOperator: above,
      evaluationPeriods: SLOW_WINDOWS.evaluationPeriods,
      datapointsToAlarm: lowTrafficDatapoints,
    }),
    controlErrorRate: alarm('controlErrorRate', {
      alarmDescription:
        `Notify only: more than ${errorRatePercent}% of control-cohort requests failed in ${slowWindows}. ` +
        'The control cohort is the baseline path (MCP only), and a rollback moves every request onto it, so no rollback can help: ' +
        'check the mcp-router health and the MCP server.',
      metric: metrics.errorRate('control', SLOW_WINDOWS.period, lowTrafficMinRequests),
      threshold: errorRatePercent,
      comparisonOperator: above,
      evaluationPeriods: SLOW_WINDOWS.evaluationPeriods,
      datapointsToAlarm: lowTrafficDatapoints,
    }),
    rollbackErrors: alarm('rollbackErrors', {
      alarmDescription: 'Notify: an invocation of the rollback function failed; it is retried twice, then kept in its dead-letter queue. A rollback may not have happened.',
      metric: props.rollbackFunction.metricErrors({ period: oneMinute, statistic: 'Sum' }),
      threshold: 0,
      comparisonOperator: above,
      evaluationPeriods: 1,
    }),
    healthChecksStale: alarm('healthChecksStale', {
      alarmDescription:
        `Notify: no health-check run reported in ${STALE_AFTER_PERIODS} schedule periods (${STALE_AFTER_PERIODS * rateMinutes} minutes). ` +
        'The direct-bedrock health rollback alarm is blind meanwhile, and /health reports hybrid-monitor unhealthy.',
      // FILL makes an absent run a real 0, so the alarm fires after exactly 3 empty periods rather than
      // when CloudWatch's evaluation range has run out of older datapoints.
      metric: new cloudwatch.MathExpression({
        expression: 'FILL(runs, 0)',
        usingMetrics: { runs: m.metric(METRICS.healthCheckSuccess, { dimensionValue: 'direct-bedrock', statistic: 'SampleCount', period: Duration.minutes(rateMinutes) }) },
        period: Duration.minutes(rateMinutes),
        label: 'health-check runs',
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: STALE_AFTER_PERIODS,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    }),
    configProblems: alarm('configProblems', {
      alarmDescription:
        'Notify: the router or the health check found a parameter of the configuration store missing or unreadable; the rollback latch then reads as active (DESIGN §6, invariant 5). ' +
        'See /health/detailed and /admin/status.',
      metric: metrics.configProblems(oneMinute),
      threshold: 0,
      comparisonOperator: above,
      evaluationPeriods: 1,
    }),
    routerErrors: alarm('routerErrors', {
      alarmDescription: 'Notify: the router function failed an invocation (crash or timeout), so API Gateway answered 5xx and the router emitted no metrics for it.',
      metric: props.routerFunction.metricErrors({ period: oneMinute, statistic: 'Sum' }),
      threshold: 0,
      comparisonOperator: above,
      evaluationPeriods: 1,
    }),
    routerThrottles: alarm('routerThrottles', {
      alarmDescription: 'Notify: Lambda throttled the router function (account or function concurrency exhausted); callers got 5xx.',
      metric: props.routerFunction.metricThrottles({ period: oneMinute, statistic: 'Sum' }),
      threshold: 0,
      comparisonOperator: above,
      evaluationPeriods: 1,
    }),
    rampControllerErrors: alarm('rampControllerErrors', {
      alarmDescription:
        'Notify: a tick of the automated ramp\'s controller failed (the configuration store or ramp/state unreadable, a write refused), so a running ramp is neither promoted nor judged. ' +
        'The rollback alarms still guard it; see the controller\'s logs, and GET /admin/ramp.',
      metric: props.rampFunction.metricErrors({ period: oneMinute, statistic: 'Sum' }),
      threshold: 0,
      comparisonOperator: above,
      evaluationPeriods: 1,
    }),
  };

  const labels = new Set<string>();
  const deadLetterAlarms = props.deadLetterQueues.map(({ label, queue, holds, metric, action }) => {
    if (!/^[a-z][a-z0-9-]*$/.test(label) || labels.has(label)) {
      throw new Error(`dead-letter queue label must be unique lowercase letters, digits and dashes, got "${label}"`);
    }
    labels.add(label);
    const pascal = label.split('-').map((part) => part.charAt(0).toUpperCase() + part.slice(1)).join('');
    return notify(
      new cloudwatch.Alarm(scope, `DeadLetters${pascal}Alarm`, {
        alarmName: deadLetterAlarmNameOf(environmentName, label),
        alarmDescription: `Notify: the ${label} dead-letter queue holds messages: ${holds}. ${action ?? 'Read them, act, then purge the queue; the alarm stays in ALARM until it is empty.'}`,
        metric: metric ?? queue.metricApproximateNumberOfMessagesVisible({ period: oneMinute, statistic: 'Maximum' }),
        threshold: 0,
        comparisonOperator: above,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
  });

  return { alarms, deadLetterAlarms };
}
