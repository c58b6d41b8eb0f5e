import { Duration } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type * as z from 'zod/v4';
import {
  FlagChangeSchema,
  ModeChangeSchema,
  PolicyChangeSchema,
  ReasonOnlySchema,
  RollbackRequestSchema,
  TrafficChangeSchema,
} from '../../lambda/shared/admin-api';
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
}

/**
 * The operators' controls: `/admin/*` on the API, served by an admin function with its own role,
 * which may write the environment's settings (never `health/*`) and read their history.
 */
export class AdminApi extends Construct {
  readonly adminFunction: HybridFunction;

  constructor(scope: Construct, id: string, props: AdminApiProps) {
    super(scope, id);
    const { api, config, configStore, environmentName } = props;

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
      },
    });
    configStore.grantReadPath(this.adminFunction);
    configStore.grantSettingsWrite(this.adminFunction);
    const pathWildcard = configStore.parameterArn('*');
    this.adminFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['ssm:GetParameterHistory'], resources: [pathWildcard] }));
    acknowledgeWildcardResource(this.adminFunction, pathWildcard, `Reads the history of this environment's own parameters (${configStore.path}/*) for the audit trail; GetParameterHistory and the read grant share this one path.`);

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
    const reasonOnly = withBody('ReasonOnly', ReasonOnlySchema);
    rollback.addMethod('DELETE', integration, reasonOnly);
    admin.addResource('circuit-breakers').addResource('reset').addMethod('POST', integration, reasonOnly);
    admin.addResource('audit').addMethod('GET', integration, {
      requestParameters: { 'method.request.querystring.limit': false, 'method.request.querystring.include': false },
    });

  }
}
