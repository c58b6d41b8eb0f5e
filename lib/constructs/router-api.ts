import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { InvokeRequestSchema } from '../../lambda/shared/invoke-request';
import { INFERENCE_PROFILE_PREFIX, type EnvironmentConfig } from '../config/environment-config';
import { apiGatewaySchema } from './api-model';
import type { ConfigStore } from './config-store';
import { HybridFunction } from './hybrid-function';
import { liveAlias } from './router-deployment';

export interface RouterApiProps {
  readonly environmentName: string;
  readonly config: EnvironmentConfig;
  readonly configStore: ConfigStore;
}

/** API Gateway's integration timeout; the router answers before it. */
const INTEGRATION_TIMEOUT = Duration.seconds(29);
/** The longest any request may take inside the router: the timeout less a margin to answer. */
const BUDGET_CEILING_MS = 28_000;

/**
 * The request path: a REST API under IAM auth whose `POST /v1/invoke` is validated against the
 * request schema and proxied to the router function, which calls Bedrock or the MCP server.
 */
export class RouterApi extends Construct {
  readonly api: apigw.RestApi;
  readonly routerFunction: HybridFunction;
  /** The router's `live` alias, which API Gateway invokes and CodeDeploy shifts (RouterDeployment). */
  readonly routerAlias: lambda.Alias;
  readonly accessLogs: logs.LogGroup;
  /** The web ACL in front of the stage, when `waf` is on. */
  readonly webAcl?: wafv2.CfnWebACL;

  constructor(scope: Construct, id: string, props: RouterApiProps) {
    super(scope, id);
    const { config, environmentName, configStore } = props;

    this.routerFunction = new HybridFunction(this, 'RouterFunction', {
      entry: 'router/handler.ts',
      description: `Hybrid Routing ${environmentName}: routes AI requests to Bedrock or the MCP server`,
      memorySize: 1024,
      timeout: INTEGRATION_TIMEOUT.plus(Duration.seconds(1)),
      logRetention: config.logRetentionDays,
      invocation: 'synchronous',
      environment: {
        ENVIRONMENT: environmentName,
        CONFIG_PATH: configStore.path,
        CONFIG_TTL_SECONDS: String(config.configCacheTtlSeconds),
        BEDROCK_MODEL_ID: config.bedrock.modelId,
        MCP_SERVER_URL: config.mcp.serverUrl,
        MCP_TOOL_NAME: config.mcp.toolName,
        BUDGET_CEILING_MS: String(BUDGET_CEILING_MS),
        HEALTH_CHECK_PERIOD_SECONDS: String(config.healthCheck.rateMinutes * 60),
      },
    });
    configStore.grantReadPath(this.routerFunction);
    this.routerFunction.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['bedrock:InvokeModel'], resources: bedrockModelArns(this, config.bedrock.modelId, config.bedrock.inferenceProfileRegions) }),
    );

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: config.logRetentionDays });
    this.api = new apigw.RestApi(this, 'Api', {
      restApiName: `hybrid-routing-${environmentName}`,
      description: `Hybrid Routing ${environmentName}: AI request gateway`,
      endpointConfiguration: { types: [apigw.EndpointType.REGIONAL] },
      cloudWatchRole: true,
      deployOptions: {
        stageName: environmentName,
        tracingEnabled: true,
        dataTraceEnabled: false,
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        metricsEnabled: true,
        throttlingRateLimit: config.throttling.rateLimit,
        throttlingBurstLimit: config.throttling.burstLimit,
        // Stage limits apply to each method on its own. The open GET /health gets a lower one of its
        // own, so anonymous callers cannot take the router's concurrency from the signed routes.
        methodOptions: {
          '/health/GET': {
            throttlingRateLimit: config.throttling.healthRateLimit,
            throttlingBurstLimit: config.throttling.healthBurstLimit,
            loggingLevel: apigw.MethodLoggingLevel.ERROR,
            metricsEnabled: true,
            dataTraceEnabled: false,
          },
        },
        accessLogDestination: new apigw.LogGroupLogDestination(this.accessLogs),
        accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields({
          caller: true,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: true,
        }),
      },
      defaultMethodOptions: { authorizationType: apigw.AuthorizationType.IAM },
    });
    addErrorResponses(this.api);

    const invokeModel = this.api.addModel('InvokeRequestModel', {
      contentType: 'application/json',
      modelName: 'InvokeRequest',
      description: 'Body of POST /v1/invoke, generated from the router\'s request schema',
      schema: apiGatewaySchema(InvokeRequestSchema, 'InvokeRequest'),
    });
    const bodyValidator = this.api.addRequestValidator('BodyValidator', {
      requestValidatorName: 'body',
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    this.routerAlias = liveAlias(this.routerFunction, config.provisionedConcurrency);
    // The alias, never the function: the integration URI and the invoke permissions name `live`.
    const routerIntegration = new apigw.LambdaIntegration(this.routerAlias, { proxy: true, timeout: INTEGRATION_TIMEOUT });
    this.api.root
      .addResource('v1')
      .addResource('invoke')
      .addMethod('POST', routerIntegration, {
        requestModels: { 'application/json': invokeModel },
        requestValidator: bodyValidator,
      });

    const health = this.api.root.addResource('health');
    const openHealth = health.addMethod('GET', routerIntegration, { authorizationType: apigw.AuthorizationType.NONE });
    health.addResource('detailed').addMethod('GET', routerIntegration);
    health
      .addResource('component')
      .addResource('{name}')
      .addMethod('GET', routerIntegration, { requestParameters: { 'method.request.path.name': true } });
    Validations.of(openHealth).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason: 'GET /health is open by design (DESIGN §4) so load balancers and uptime checks can call it; it returns only an overall status and a timestamp.',
    });

    if (config.waf) this.webAcl = this.addWebAcl(environmentName);
    this.acknowledgeFindings(config);
  }

  /**
   * AWS's common and known-bad-inputs rule sets and a per-IP rate limit, in front of the stage.
   * The common set's 8 KB body limit only counts: the API accepts prompts up to 256 KiB.
   */
  private addWebAcl(environmentName: string): wafv2.CfnWebACL {
    const visibility = (metricName: string) => ({ cloudWatchMetricsEnabled: true, metricName, sampledRequestsEnabled: true });
    const managed = (name: string, priority: number, countOnly: string[] = []): wafv2.CfnWebACL.RuleProperty => ({
      name,
      priority,
      overrideAction: { none: {} },
      statement: {
        managedRuleGroupStatement: {
          vendorName: 'AWS',
          name,
          ruleActionOverrides: countOnly.map((rule) => ({ name: rule, actionToUse: { count: {} } })),
        },
      },
      visibilityConfig: visibility(name),
    });
    const webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      name: `hybrid-routing-${environmentName}`,
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility(`hybrid-routing-${environmentName}`),
      rules: [
        managed('AWSManagedRulesCommonRuleSet', 0, ['SizeRestrictions_BODY']),
        managed('AWSManagedRulesKnownBadInputsRuleSet', 1),
        {
          name: 'per-ip-rate-limit',
          priority: 2,
          action: { block: {} },
          statement: { rateBasedStatement: { limit: 2000, aggregateKeyType: 'IP' } },
          visibilityConfig: visibility('per-ip-rate-limit'),
        },
      ],
    });
    new wafv2.CfnWebACLAssociation(this, 'WebAclAssociation', { resourceArn: this.api.deploymentStage.stageArn, webAclArn: webAcl.attrArn });
    return webAcl;
  }

  private acknowledgeFindings(config: EnvironmentConfig): void {
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-COG4',
      reason: 'Callers authenticate with IAM (SigV4) on every route but GET /health; no Cognito user pool is involved.',
    });
    if (!config.waf) {
      Validations.of(this.api).acknowledge({
        id: 'AwsSolutions-APIG3',
        reason: 'WAF is switched off for this environment in cdk.json (waf: false); every route but /health requires SigV4 and the stage is throttled.',
      });
    }
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason: 'The account-level role API Gateway needs to write execution logs; AWS maintains this managed policy for exactly that.',
    });
  }
}

/**
 * The ARNs `bedrock:InvokeModel` needs for a model: the foundation model in this region, or for
 * a cross-region inference profile, the profile and its foundation model in each region it routes to.
 */
export function bedrockModelArns(scope: Construct, modelId: string, profileRegions: readonly string[] | undefined): string[] {
  const stack = Stack.of(scope);
  if (!INFERENCE_PROFILE_PREFIX.test(modelId)) {
    return [stack.formatArn({ service: 'bedrock', account: '', resource: 'foundation-model', resourceName: modelId })];
  }
  const foundationModelId = modelId.replace(INFERENCE_PROFILE_PREFIX, '');
  return [
    stack.formatArn({ service: 'bedrock', resource: 'inference-profile', resourceName: modelId }),
    ...(profileRegions ?? []).map((region) =>
      stack.formatArn({ service: 'bedrock', region, account: '', resource: 'foundation-model', resourceName: foundationModelId }),
    ),
  ];
}

/** API Gateway's own errors in the DESIGN §4 shape (these templates allow plain substitution only). */
function addErrorResponses(api: apigw.RestApi): void {
  const body = (code: string, message: string) =>
    `{"error":{"code":"${code}","message":${message},"details":[]},"requestId":"$context.requestId"}`;
  const responses: [string, apigw.ResponseType, string, string, string][] = [
    ['BadRequestBody', apigw.ResponseType.BAD_REQUEST_BODY, '400', 'ValidationError', '"request body does not match the request schema; see the README for the API"'],
    ['Unauthorized', apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN, '403', 'Forbidden', '"missing SigV4 signature, or no such route"'],
    ['AccessDenied', apigw.ResponseType.ACCESS_DENIED, '403', 'Forbidden', '$context.error.messageString'],
    ['InvalidSignature', apigw.ResponseType.INVALID_SIGNATURE, '403', 'Forbidden', '$context.error.messageString'],
    ['ExpiredToken', apigw.ResponseType.EXPIRED_TOKEN, '403', 'Forbidden', '$context.error.messageString'],
    ['RequestTooLarge', apigw.ResponseType.REQUEST_TOO_LARGE, '413', 'PayloadTooLarge', '$context.error.messageString'],
    ['Throttled', apigw.ResponseType.THROTTLED, '429', 'Throttled', '$context.error.messageString'],
    ['IntegrationTimeout', apigw.ResponseType.INTEGRATION_TIMEOUT, '504', 'Timeout', '$context.error.messageString'],
    ['Default4xx', apigw.ResponseType.DEFAULT_4XX, '', 'ClientError', '$context.error.messageString'],
    ['Default5xx', apigw.ResponseType.DEFAULT_5XX, '', 'InternalError', '$context.error.messageString'],
  ];
  for (const [id, type, statusCode, code, message] of responses) {
    api.addGatewayResponse(id, {
      type,
      statusCode: statusCode || undefined,
      templates: { 'application/json': body(code, message) },
    });
  }
}
