import { Duration } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { InvokeRequestSchema } from '../../lambda/shared/invoke-request';
import type { EnvironmentConfig } from '../config/environment-config';
import { apiGatewaySchema } from './api-model';
import type { ConfigStore } from './config-store';
import { HybridFunction } from './hybrid-function';
import { bedrockModelArns } from './router-api';

export interface StreamApiProps {
  readonly environmentName: string;
  readonly config: EnvironmentConfig;
  readonly configStore: ConfigStore;
  /** The API `POST /v1/stream` is added to; IAM auth is its default. */
  readonly api: apigw.RestApi;
}

/** API Gateway streams a response for at most 15 minutes, and a function runs no longer either. */
const MAX_STREAM = Duration.minutes(15);
/** Time the function keeps after the budget to end the stream with `done` or `error`. */
const END_MARGIN = Duration.seconds(5);

/**
 * `POST /v1/stream` (DESIGN §12): server-sent events through API Gateway REST response streaming
 * (`ResponseTransferMode.STREAM`, the Lambda response-streaming invocation), from a function that
 * routes with the router core and streams Bedrock through ConverseStream. Its integration timeout
 * is the stream budget, not the 29 s of a buffered answer.
 */
export class StreamApi extends Construct {
  readonly streamFunction: HybridFunction;

  constructor(scope: Construct, id: string, props: StreamApiProps) {
    super(scope, id);
    const { api, config, configStore, environmentName } = props;
    const budget = Duration.seconds(config.streaming.budgetSeconds);
    const timeout = Duration.seconds(Math.min(budget.plus(END_MARGIN).toSeconds(), MAX_STREAM.toSeconds()));
    const budgetMs = Math.min(budget.toMilliseconds(), timeout.minus(END_MARGIN).toMilliseconds());

    this.streamFunction = new HybridFunction(this, 'StreamFunction', {
      entry: 'stream/handler.ts',
      description: `Hybrid Routing ${environmentName}: streams AI answers from Bedrock or the MCP server as server-sent events`,
      memorySize: 1024,
      timeout,
      logRetention: config.logRetentionDays,
      invocation: 'synchronous',
      environment: {
        ENVIRONMENT: environmentName,
        CONFIG_PATH: configStore.path,
        CONFIG_TTL_SECONDS: String(config.configCacheTtlSeconds),
        BEDROCK_MODEL_ID: config.bedrock.modelId,
        MCP_SERVER_URL: config.mcp.serverUrl,
        MCP_TOOL_NAME: config.mcp.toolName,
        STREAM_BUDGET_MS: String(budgetMs),
        HEALTH_CHECK_PERIOD_SECONDS: String(config.healthCheck.rateMinutes * 60),
      },
    });
    configStore.grantReadPath(this.streamFunction);
    this.streamFunction.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['bedrock:InvokeModelWithResponseStream'],
        resources: bedrockModelArns(this, config.bedrock.modelId, config.bedrock.inferenceProfileRegions),
      }),
    );

    const model = api.addModel('StreamRequestModel', {
      contentType: 'application/json',
      modelName: 'StreamRequest',
      description: 'Body of POST /v1/stream, generated from the router\'s request schema (the /v1/invoke body)',
      schema: apiGatewaySchema(InvokeRequestSchema, 'StreamRequest'),
    });
    const validator = api.addRequestValidator('StreamBodyValidator', {
      requestValidatorName: 'stream-body',
      validateRequestBody: true,
      validateRequestParameters: false,
    });
    const integration = new apigw.LambdaIntegration(this.streamFunction, {
      proxy: true,
      responseTransferMode: apigw.ResponseTransferMode.STREAM,
      timeout,
    });
    (api.root.getResource('v1') ?? api.root.addResource('v1'))
      .addResource('stream')
      .addMethod('POST', integration, { requestModels: { 'application/json': model }, requestValidator: validator });
  }
}
