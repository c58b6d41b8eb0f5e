import { ArnFormat, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { alarmNamePrefix } from '../../lambda/shared/alarms';
import type { EnvironmentConfig } from '../config/environment-config';
import { acknowledgeWildcardResource, attachWildcardPolicy } from '../nag';
import type { ConfigStore } from './config-store';
import { DeadLetterQueue } from './dead-letter-queue';
import { HybridFunction } from './hybrid-function';

export interface RampControllerProps {
  readonly environmentName: string;
  readonly config: EnvironmentConfig;
  readonly configStore: ConfigStore;
  /** Where ramp transitions and the ramp's rollbacks are announced. */
  readonly topic: sns.ITopic;
}

/** The controller's tick rate (DESIGN §10). */
export const RAMP_TICK = Duration.minutes(1);

/**
 * The automated ramp's controller (DESIGN §10): a function that an EventBridge schedule invokes
 * every minute, and the admin function right after each `/admin/ramp` call. One tick at a time
 * (reserved concurrency 1); a failed tick is not retried (the next one is a minute away) and lands
 * in a queue. Its own role reads the environment's path, writes only flag, traffic, latch and
 * `ramp/state`, reads CloudWatch's figures and this environment's alarms, and publishes to the topic.
 */
export class RampController extends Construct {
  readonly controllerFunction: HybridFunction;
  readonly schedule: events.Rule;
  readonly failures: DeadLetterQueue;

  constructor(scope: Construct, id: string, props: RampControllerProps) {
    super(scope, id);
    const { config, configStore, environmentName, topic } = props;

    this.failures = new DeadLetterQueue(this, 'Failures', { holds: 'ramp controller ticks that failed, and schedule events that could not be delivered' });
    this.controllerFunction = new HybridFunction(this, 'ControllerFunction', {
      entry: 'ramp/handler.ts',
      description: `Hybrid Routing ${environmentName}: the automated ramp's controller, one tick a minute`,
      memorySize: 512,
      // Inside the minute between ticks; every call it makes has its own, shorter deadline.
      timeout: Duration.seconds(50),
      logRetention: config.logRetentionDays,
      invocation: 'asynchronous',
      reservedConcurrentExecutions: 1,
      environment: {
        ENVIRONMENT: environmentName,
        CONFIG_PATH: configStore.path,
        TOPIC_ARN: topic.topicArn,
      },
    });
    this.controllerFunction.configureAsyncInvoke({
      // The next tick is the retry; a tick throttled behind a running one waits its turn.
      retryAttempts: 0,
      maxEventAge: Duration.minutes(5),
      onFailure: new destinations.SqsDestination(this.failures),
    });

    configStore.grantReadPath(this.controllerFunction);
    configStore.grantRampWrite(this.controllerFunction);
    configStore.grantWriteHistoryRead(this.controllerFunction);
    grantRampFigures(this.controllerFunction, environmentName);
    topic.grantPublish(this.controllerFunction);
    Validations.of(this.controllerFunction).acknowledge({
      id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason: "Publishing to the encrypted notifications topic needs the GenerateDataKey* family; the grant names only that topic's key.",
    });

    this.schedule = new events.Rule(this, 'Schedule', {
      description: `Hybrid Routing ${environmentName}: tick the automated ramp's controller every minute`,
      schedule: events.Schedule.rate(RAMP_TICK),
    });
    this.schedule.addTarget(
      new targets.LambdaFunction(this.controllerFunction, {
        deadLetterQueue: this.failures,
        retryAttempts: 2,
        maxEventAge: RAMP_TICK,
      }),
    );
  }

  /**
   * Lets `fn` (the admin function) start, pause, resume and abort ramps: tick the controller at
   * once, and judge the gates for `GET /admin/ramp` with the same figures. Adds the variables the
   * admin function reads.
   */
  grantOperate(fn: lambda.Function, config: EnvironmentConfig, environmentName: string): void {
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.controllerFunction.functionArn] }));
    grantRampFigures(fn, environmentName, false);
    fn.addEnvironment('RAMP_FUNCTION_NAME', this.controllerFunction.functionName);
    fn.addEnvironment('RAMP_HOLD_DOWN_MINUTES', String(config.ramp.holdDownMinutes));
  }
}

/**
 * `cloudwatch:GetMetricData`, which IAM cannot scope to a metric, in a policy of its own; and,
 * unless the function has it already, `DescribeAlarms` on this environment's alarms.
 */
function grantRampFigures(fn: lambda.Function, environmentName: string, describeAlarms = true): void {
  attachWildcardPolicy(
    fn,
    'RampFiguresRead',
    [new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] })],
    "GetMetricData supports no resource-level permissions; the ramp reads only its own namespace's figures with it, and this policy of the function's role holds only that action.",
  );
  if (!describeAlarms) return;
  const alarms = Stack.of(fn).formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: `${alarmNamePrefix(environmentName)}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['cloudwatch:DescribeAlarms'], resources: [alarms] }));
  acknowledgeWildcardResource(fn, alarms, `Reads the states of this environment's own alarms (${alarmNamePrefix(environmentName)}*): a rollback alarm in ALARM fails a ramp gate.`);
}
