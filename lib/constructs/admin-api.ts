import { ArnFormat, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type * as z from 'zod/v4';
import {
  ClearLatchSchema,
  FlagChangeSchema,
  ModeChangeSchema,
  PolicyChangeSchema,
  ReasonOnlySchema,
  RollbackRequestSchema,
  TrafficChangeSchema,
} from '../../lambda/shared/admin-api';
import { alarmNamePrefix } from '../../lambda/shared/alarms';
import { RampActionSchema, RampStartSchema } from '../../lambda/shared/ramp';
import type { EnvironmentConfig } from '../config/environment-config';
import { acknowledgeWildcardResource } from '../nag';
import { apiGatewaySchema } from './api-model';
import type { ConfigStore } from './config-store';
import { HybridFunction } from './hybrid-function';

export interface AdminApiProps {
  readonly environmentName: string;
  readonly config: EnvironmentConfig;
  readonly configStore: ConfigStore;
  /** The API the `/admin` routes are added to; IAM auth is its default. */
  readonly api: apigw.RestApi;
  /** Where manual rollbacks and latch clears are announced. */
  readonly topic: sns.ITopic;
}

/**
 * The operators' controls: `/admin/*` on the API, served by an admin function with its own role,
 * which may write the environment's settings (never `health/*`) and read their history, read the
 * states of this environment's alarms (a latch clear is refused while a rollback alarm is in
 * ALARM), and announce rollbacks and clears on the notifications topic.
 */
export class AdminApi extends Construct {
  readonly adminFunction: HybridFunction;

  constructor(scope: Construct, id: string, props: AdminApiProps) {
    super(scope, id);
    const { api, config, configStore, environmentName, topic } = props;

    this.adminFunction = new HybridFunction(this, 'AdminFunction', {
      entry: 'admin/handler.ts',
      description: `Hybrid Routing ${environmentName}: admin API over the configuration store`,
      memorySize: 512,
      timeout: Duration.seconds(29),
      logRetention: config.logRetentionDays,
      invocation: 'synchronous',
      environment: {
        ENVIRONMENT: environmentName,
        CONFIG_PATH: configStore.path,
        HEALTH_CHECK_PERIOD_SECONDS: String(config.healthCheck.rateMinutes * 60),
        TOPIC_ARN: topic.topicArn,
      },
    });
    configStore.grantReadPath(this.adminFunction);
    configStore.grantSettingsWrite(this.adminFunction);
    const pathWildcard = configStore.parameterArn('*');
    this.adminFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['ssm:GetParameterHistory'], resources: [pathWildcard] }));
    acknowledgeWildcardResource(this.adminFunction, pathWildcard, `Reads the history of this environment's own parameters (${configStore.path}/*) for the audit trail; GetParameterHistory and the read grant share this one path.`);

    // A clear reads the rollback alarms' states first; DescribeAlarms is scoped to this environment's alarms.
    const alarms = Stack.of(this).formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: `${alarmNamePrefix(environmentName)}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    this.adminFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['cloudwatch:DescribeAlarms'], resources: [alarms] }));
    acknowledgeWildcardResource(this.adminFunction, alarms, `Reads the states of this environment's own alarms (${alarmNamePrefix(environmentName)}*) before clearing the rollback latch.`);
    topic.grantPublish(this.adminFunction);
    Validations.of(this.adminFunction).acknowledge({
      id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason: "Publishing to the encrypted notifications topic needs the GenerateDataKey* family; the grant names only that topic's key.",
    });

    const integration = new apigw.LambdaIntegration(this.adminFunction, { proxy: true });
    const validator = api.addRequestValidator('AdminBodyValidator', {
      requestValidatorName: 'admin-body',
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    const withBody = (modelName: string, schema: z.ZodType): apigw.MethodOptions => ({
      requestValidator: validator,
      requestModels: {
        'application/json': api.addModel(`${modelName}Model`, {
          contentType: 'application/json',
          modelName,
          schema: apiGatewaySchema(schema, modelName),
        }),
      },
    });

    const admin = api.root.addResource('admin');
    admin.addResource('status').addMethod('GET', integration);
    admin.addResource('traffic').addMethod('PUT', integration, withBody('TrafficChange', TrafficChangeSchema));
    admin
      .addResource('feature-flags')
      .addResource('{flag}')
      .addMethod('PUT', integration, { ...withBody('FlagChange', FlagChangeSchema), requestParameters: { 'method.request.path.flag': true } });
    const routing = admin.addResource('routing');
    routing.addResource('mode').addMethod('PUT', integration, withBody('ModeChange', ModeChangeSchema));
    routing.addResource('policy').addMethod('PUT', integration, withBody('PolicyChange', PolicyChangeSchema));
    const rollback = admin.addResource('rollback');
    rollback.addMethod('POST', integration, withBody('RollbackRequest', RollbackRequestSchema));
    rollback.addMethod('DELETE', integration, withBody('ClearLatch', ClearLatchSchema));
    admin.addResource('circuit-breakers').addResource('reset').addMethod('POST', integration, withBody('ReasonOnly', ReasonOnlySchema));
    const ramp = admin.addResource('ramp');
    ramp.addMethod('GET', integration);
    ramp.addMethod('POST', integration, withBody('RampStart', RampStartSchema));
    ramp
      .addResource('{action}')
      .addMethod('POST', integration, { ...withBody('RampAction', RampActionSchema), requestParameters: { 'method.request.path.action': true } });
    admin.addResource('audit').addMethod('GET', integration, {
      requestParameters: { 'method.request.querystring.limit': false, 'method.request.querystring.include': false },
    });

  }
}
