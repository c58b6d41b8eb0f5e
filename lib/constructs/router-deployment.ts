import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { LIVE_ALIAS_NAME, ROUTER_CODE_ENV } from '../../lambda/shared/live-alias';
import type { CodeDeploySpec, EnvironmentConfig } from '../config/environment-config';
import { acknowledgeWildcardResource } from '../nag';
import { DeadLetterQueue } from './dead-letter-queue';
import { HybridFunction } from './hybrid-function';

/**
 * The router's `live` alias on its current version: what API Gateway invokes. Every change of the
 * function's code or configuration publishes a new version, and the alias moving to it is what
 * CodeDeploy shifts. Old versions are kept (not deleted by the deploy that replaces them), because
 * a level-3 rollback moves the alias back to one.
 */
export function liveAlias(fn: lambda.Function, provisionedConcurrency: number): lambda.Alias {
  const version = fn.currentVersion;
  version.applyRemovalPolicy(RemovalPolicy.RETAIN);
  return new lambda.Alias(fn, 'LiveAlias', {
    aliasName: LIVE_ALIAS_NAME,
    version,
    description: 'The version API Gateway invokes; CodeDeploy shifts it to each new version',
    provisionedConcurrentExecutions: provisionedConcurrency > 0 ? provisionedConcurrency : undefined,
  });
}

export interface RouterDeploymentProps {
  readonly environmentName: string;
  readonly config: EnvironmentConfig;
  /** The router function whose `live` alias is deployed. */
  readonly routerFunction: lambda.IFunction;
  /** The router's `live` alias, from `liveAlias`. */
  readonly alias: lambda.Alias;
  /** Where the deployment alarms and a failed smoke test are notified. */
  readonly topic: sns.ITopic;
  /**
   * Further alarms that stop a deployment and roll it back, e.g. the hybrid error-rate alarm.
   * @default - only the new version's errors
   */
  readonly alarms?: readonly cloudwatch.IAlarm[];
}

/** How long the smoke test may take for each check: the router's hard budget of an emergency (10 s) plus a cold start. */
const CHECK_TIMEOUT = Duration.seconds(20);

/**
 * Code deploys of the router (DESIGN §11): a CodeDeploy deployment group on the `live` alias
 * shifts it to each new version as the environment's `codeDeploy` setting says, after a
 * pre-traffic hook has smoke-tested the new version, and rolls it back by itself when the
 * deployment fails or an alarm fires: the new version's errors, and the
 * alarms passed in. `grantCodeRollback` lets the admin function do a level-3 rollback.
 */
export class RouterDeployment extends Construct {
  readonly application: codedeploy.LambdaApplication;
  readonly deploymentGroup: codedeploy.LambdaDeploymentGroup;
  /** The BeforeAllowTraffic hook that smoke-tests each new version. */
  readonly smokeTestFunction: HybridFunction;
  /** Hook invocations that failed after their retries. */
  readonly failures: DeadLetterQueue;
  readonly newVersionErrorsAlarm: cloudwatch.Alarm;
  private readonly routerFunction: lambda.IFunction;
  private readonly alias: lambda.Alias;

  constructor(scope: Construct, id: string, props: RouterDeploymentProps) {
    super(scope, id);
    const { alias, config, environmentName, routerFunction, topic } = props;
    if (alias.aliasName !== LIVE_ALIAS_NAME) throw new Error(`alias must be the router's "${LIVE_ALIAS_NAME}" alias from liveAlias(), got "${alias.aliasName}"`);
    this.routerFunction = routerFunction;
    this.alias = alias;

    const newVersion = alias.version;
    this.failures = new DeadLetterQueue(this, 'Failures', { holds: 'smoke-test hook invocations that failed after their retries' });
    this.smokeTestFunction = new HybridFunction(this, 'SmokeTestFunction', {
      entry: 'deploy-hook/handler.ts',
      description: `Hybrid Routing ${environmentName}: smoke-tests a new router version before CodeDeploy shifts traffic to it`,
      memorySize: 256,
      timeout: CHECK_TIMEOUT.plus(CHECK_TIMEOUT).plus(Duration.seconds(20)),
      logRetention: config.logRetentionDays,
      invocation: 'asynchronous',
      environment: {
        ENVIRONMENT: environmentName,
        ROUTER_VERSION_ARN: newVersion.functionArn,
        TOPIC_ARN: topic.topicArn,
        CHECK_TIMEOUT_MS: String(CHECK_TIMEOUT.toMilliseconds()),
        REPORT_TIMEOUT_MS: '5000',
      },
    });
    this.smokeTestFunction.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.minutes(30),
      onFailure: new destinations.SqsDestination(this.failures),
    });
    // The new version and nothing else: not the alias, not $LATEST, not an older version.
    this.smokeTestFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [newVersion.functionArn] }));
    topic.grantPublish(this.smokeTestFunction);
    Validations.of(this.smokeTestFunction).acknowledge({
      id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason: 'Publishing to the encrypted notifications topic needs the GenerateDataKey* family; the grant names only that topic\'s key.',
    });

    const notify = (alarm: cloudwatch.Alarm) => {
      alarm.addAlarmAction(new actions.SnsAction(topic));
      alarm.addOkAction(new actions.SnsAction(topic));
      return alarm;
    };
    const aliasResource = `${routerFunction.functionName}:${LIVE_ALIAS_NAME}`;
    this.newVersionErrorsAlarm = notify(
      new cloudwatch.Alarm(this, 'NewVersionErrorsAlarm', {
        alarmName: `HybridRouting-${environmentName}-router-new-version-errors`,
        alarmDescription: 'Stops and rolls back a router deploy: the new version failed invocations through the live alias (crashes or timeouts, not answered errors).',
        metric: new cloudwatch.Metric({
          namespace: 'AWS/Lambda',
          metricName: 'Errors',
          dimensionsMap: { FunctionName: routerFunction.functionName, Resource: aliasResource, ExecutedVersion: newVersion.version },
          statistic: 'Sum',
          period: Duration.minutes(1),
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );

    this.application = new codedeploy.LambdaApplication(this, 'Application', { applicationName: `HybridRouting-${environmentName}` });
    this.deploymentGroup = new codedeploy.LambdaDeploymentGroup(this, 'DeploymentGroup', {
      application: this.application,
      deploymentGroupName: 'router-live',
      alias,
      deploymentConfig: this.deploymentConfig(config.codeDeploy),
      preHook: this.smokeTestFunction,
      alarms: [this.newVersionErrorsAlarm, ...(props.alarms ?? [])],
      autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
    });
    this.acknowledgeFindings();
  }

  /**
   * Lets `fn` do the code half of a level-3 rollback: read and move the router's alias (on the
   * router alone) and see whether a deployment of it is unfinished (on this deployment group
   * alone), and tells it where they are through `ROUTER_CODE_ENV`.
   */
  grantCodeRollback(fn: lambda.Function): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['lambda:GetAlias', 'lambda:ListVersionsByFunction', 'lambda:UpdateAlias'], resources: [this.routerFunction.functionArn] }),
    );
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['codedeploy:ListDeployments'], resources: [this.deploymentGroup.deploymentGroupArn] }));
    fn.addEnvironment(ROUTER_CODE_ENV.functionName, this.routerFunction.functionName);
    fn.addEnvironment(ROUTER_CODE_ENV.aliasName, this.alias.aliasName);
    fn.addEnvironment(ROUTER_CODE_ENV.application, this.application.applicationName);
    fn.addEnvironment(ROUTER_CODE_ENV.deploymentGroup, this.deploymentGroup.deploymentGroupName);
  }

  /** CodeDeploy's predefined configuration when one matches the setting, else a custom one. */
  private deploymentConfig(spec: CodeDeploySpec): codedeploy.ILambdaDeploymentConfig {
    if (spec.type === 'all-at-once') return codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE;
    const predefined: Record<string, codedeploy.ILambdaDeploymentConfig> = {
      'canary 10 5': codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES,
      'canary 10 10': codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_10MINUTES,
      'canary 10 15': codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_15MINUTES,
      'canary 10 30': codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_30MINUTES,
      'linear 10 1': codedeploy.LambdaDeploymentConfig.LINEAR_10PERCENT_EVERY_1MINUTE,
      'linear 10 2': codedeploy.LambdaDeploymentConfig.LINEAR_10PERCENT_EVERY_2MINUTES,
      'linear 10 3': codedeploy.LambdaDeploymentConfig.LINEAR_10PERCENT_EVERY_3MINUTES,
      'linear 10 10': codedeploy.LambdaDeploymentConfig.LINEAR_10PERCENT_EVERY_10MINUTES,
    };
    const known = predefined[`${spec.type} ${spec.percentage} ${spec.intervalMinutes}`];
    if (known) return known;
    const shift = { interval: Duration.minutes(spec.intervalMinutes), percentage: spec.percentage };
    return new codedeploy.LambdaDeploymentConfig(this, 'DeploymentConfig', {
      trafficRouting: spec.type === 'canary' ? codedeploy.TrafficRouting.timeBasedCanary(shift) : codedeploy.TrafficRouting.timeBasedLinear(shift),
    });
  }

  private acknowledgeFindings(): void {
    const role = this.deploymentGroup.role;
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited]',
      reason: 'The role CodeDeploy assumes to shift this deployment group\'s alias and read its alarms; AWS maintains this managed policy for Lambda deployments, and only codedeploy.amazonaws.com can assume the role.',
    });
    acknowledgeWildcardResource(
      role,
      `${this.smokeTestFunction.functionArn}:*`,
      'CodeDeploy invokes the smoke-test hook (CDK grants the function and its qualifiers); it is this stack\'s own hook function and nothing else.',
    );
  }
}
