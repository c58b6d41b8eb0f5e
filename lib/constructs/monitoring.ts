import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { AlarmId } from '../../lambda/shared/alarms';
import type { EnvironmentConfig } from '../config/environment-config';
import { createAlarms, type WatchedQueue } from './monitoring-alarms';
import { createDashboards, type DashboardName } from './monitoring-dashboards';
import { MonitoringMetrics } from './monitoring-metrics';

export interface MonitoringProps {
  readonly environmentName: string;
  readonly config: EnvironmentConfig;
  readonly topic: sns.ITopic;
  readonly rollbackFunction: lambda.IFunction;
  readonly routerFunction: lambda.IFunction;
  /** The automated ramp's controller, whose failed ticks notify. */
  readonly rampFunction: lambda.IFunction;
  /**
   * The dead-letter queues of the environment: any message in one of them notifies.
   * @default - none watched
   */
  readonly deadLetterQueues?: readonly WatchedQueue[];
  /** The functions whose duration counts towards Lambda GB-seconds on the cost dashboard. */
  readonly functions: readonly { readonly fn: lambda.IFunction; readonly memorySize: number; readonly label: string }[];
  readonly api: apigw.RestApi;
  readonly accessLogs: logs.ILogGroup;
  readonly routerLogs: logs.ILogGroup;
  /** The WAF web ACL's name, when WAF is on. */
  readonly webAclName?: string;
}

/**
 * Alarms and dashboards (DESIGN §7, §8), built from one set of metric definitions: the alarms in
 * `monitoring-alarms.ts`, the dashboards in `monitoring-dashboards.ts`. Both are created directly
 * in this construct, so their construct ids, and with them the deployed resources, stay put.
 */
export class Monitoring extends Construct {
  readonly alarms: Record<AlarmId, cloudwatch.Alarm>;
  /** One alarm per watched dead-letter queue, in the order of `deadLetterQueues`. */
  readonly deadLetterAlarms: cloudwatch.Alarm[];
  readonly dashboards: Record<DashboardName, cloudwatch.Dashboard>;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const metrics = new MonitoringMetrics(props.environmentName);
    const { alarms, deadLetterAlarms } = createAlarms(this, { ...props, metrics, deadLetterQueues: props.deadLetterQueues ?? [] });
    this.alarms = alarms;
    this.deadLetterAlarms = deadLetterAlarms;
    this.dashboards = createDashboards(this, { ...props, metrics, alarms: [...Object.values(alarms), ...deadLetterAlarms] });
  }
}
