import { Match } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import cdkJson from '../../cdk.json';
import { stackNameOf } from '../../lib/app';
import { apiGatewaySchema } from '../../lib/constructs/api-model';
import { InvokeRequestSchema } from '../../lambda/shared/invoke-request';
import { DEFAULT_PARAMETER_VALUES } from '../../lambda/shared/routing-config';
import { ENVIRONMENT_NAMES } from '../../lambda/shared/vocabulary';
import { resourcesOf, synthesize, templateOf, unacknowledgedFindings } from './synth';

const { app, stacks } = synthesize();
const environments = cdkJson.context.environments as Record<string, any>;

describe('the app', () => {
  it('synthesizes one stack per environment when no env is selected', () => {
    expect(stacks.map((s) => s.stackName)).toEqual(ENVIRONMENT_NAMES.map(stackNameOf));
  });

  it('synthesizes only the selected environment with -c env=...', () => {
    expect(synthesize({ env: 'staging' }).stacks.map((s) => s.stackName)).toEqual(['HybridRouting-staging']);
  });
});

describe.each(ENVIRONMENT_NAMES.map((name, i) => [name, stacks[i]!] as const))('stack %s', (name, stack) => {
  const template = templateOf(stack);
  const config = environments[name];
  const router = () => {
    const functions = resourcesOf(template, 'AWS::Lambda::Function');
    const [id, fn] = Object.entries(functions).find(([key]) => key.startsWith('RouterApiRouterFunction'))!;
    return { id, fn };
  };

  it('is deployed to the configured region', () => {
    expect(stack.region).toBe(config.region);
  });

  it('has no unacknowledged cdk-nag finding (AwsSolutions and Serverless packs)', () => {
    expect(unacknowledgedFindings(app, stack)).toEqual([]);
  });

  it('runs the router on nodejs24.x, arm64, with explicit memory, timeout, tracing and environment', () => {
    const { fn } = router();
    expect(fn.Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: 1024,
      Timeout: 30,
      TracingConfig: { Mode: 'Active' },
      Environment: {
        Variables: {
          ENVIRONMENT: name,
          CONFIG_PATH: `/hybrid-routing/${name}`,
          CONFIG_TTL_SECONDS: String(config.configCacheTtlSeconds),
          BEDROCK_MODEL_ID: config.bedrock.modelId,
          MCP_SERVER_URL: config.mcp.serverUrl,
          MCP_TOOL_NAME: config.mcp.toolName,
          BUDGET_CEILING_MS: '28000',
        },
      },
    });
  });

  it('gives the router a log group with the configured retention', () => {
    const { fn } = router();
    const logGroupId = fn.Properties.LoggingConfig.LogGroup.Ref as string;
    expect(resourcesOf(template, 'AWS::Logs::LogGroup')[logGroupId]?.Properties.RetentionInDays).toBe(config.logRetentionDays);
  });

  it('lets the router read only its own parameter path and invoke only the configured model', () => {
    const { fn } = router();
    const roleId = fn.Properties.Role['Fn::GetAtt'][0] as string;
    const policies = Object.values(resourcesOf(template, 'AWS::IAM::Policy')).filter((p) => p.Properties.Roles.some((r: any) => r.Ref === roleId));
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
    const resolve = (value: unknown) => JSON.stringify(value).replace(/\{"Ref":"AWS::AccountId"\}/g, '"ACCOUNT"');
    expect(statements.map((s: any) => ({ Action: s.Action, Resource: resolve(s.Resource) }))).toEqual([
      { Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], Resource: '"*"' },
      {
        Action: ['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParametersByPath'],
        Resource: resolve([
          { 'Fn::Join': ['', [`arn:aws:ssm:${config.region}:`, { Ref: 'AWS::AccountId' }, `:parameter/hybrid-routing/${name}`]] },
          { 'Fn::Join': ['', [`arn:aws:ssm:${config.region}:`, { Ref: 'AWS::AccountId' }, `:parameter/hybrid-routing/${name}/*`]] },
        ]),
      },
      { Action: 'bedrock:InvokeModel', Resource: `"arn:aws:bedrock:${config.region}::foundation-model/${config.bedrock.modelId}"` },
    ]);
    for (const statement of statements) {
      for (const action of [statement.Action].flat()) expect(action).not.toContain('*');
    }
  });

  it('creates the configuration store with safe defaults', () => {
    const parameters = Object.values(resourcesOf(template, 'AWS::SSM::Parameter')).map((p) => [p.Properties.Name, p.Properties.Value]);
    expect(Object.fromEntries(parameters)).toEqual(
      Object.fromEntries(Object.entries(DEFAULT_PARAMETER_VALUES).map(([k, v]) => [`/hybrid-routing/${name}/${k}`, v])),
    );
  });

  it('protects every API method with IAM auth', () => {
    const methods = Object.values(resourcesOf(template, 'AWS::ApiGateway::Method'));
    expect(methods.length).toBeGreaterThan(0);
    for (const method of methods) expect(method.Properties.AuthorizationType).toBe('AWS_IAM');
  });

  it('validates POST /v1/invoke against the model generated from the router schema', () => {
    const expected = JSON.parse(JSON.stringify(apiGatewaySchema(InvokeRequestSchema, 'InvokeRequest')).replace('"schema"', '"$schema"'));
    template.hasResourceProperties('AWS::ApiGateway::Model', { Name: 'InvokeRequest', ContentType: 'application/json', Schema: expected });
    template.hasResourceProperties('AWS::ApiGateway::RequestValidator', { ValidateRequestBody: true });
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      RequestModels: { 'application/json': Match.anyValue() },
      RequestValidatorId: Match.anyValue(),
      Integration: { Type: 'AWS_PROXY', TimeoutInMillis: 29_000 },
    });
  });

  it('throttles the stage, traces it, logs access as JSON and never logs request data', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: name,
      TracingEnabled: true,
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('"requestId":"\\$context.requestId"') },
      MethodSettings: [
        Match.objectLike({
          DataTraceEnabled: false,
          ThrottlingRateLimit: config.throttling.rateLimit,
          ThrottlingBurstLimit: config.throttling.burstLimit,
          LoggingLevel: 'ERROR',
        }),
      ],
    });
  });

  it('answers API Gateway errors in the DESIGN error shape', () => {
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'BAD_REQUEST_BODY',
      StatusCode: '400',
      ResponseTemplates: { 'application/json': Match.stringLikeRegexp('"code":"ValidationError"') },
    });
    for (const body of Object.values(resourcesOf(template, 'AWS::ApiGateway::GatewayResponse')).map((r) => r.Properties.ResponseTemplates['application/json'])) {
      const rendered = (body as string).replace(/\$context\.error\.messageString/g, '"message"').replace(/\$context\.requestId/g, 'id');
      expect(JSON.parse(rendered)).toEqual({ error: { code: expect.any(String), message: expect.any(String), details: [] }, requestId: 'id' });
    }
  });
});

describe('the cdk-nag check', () => {
  it('fails on a new, unacknowledged finding', () => {
    const { app: freshApp, stacks: [stack] } = synthesize({ env: 'dev' });
    const role = new iam.Role(stack!, 'CarelessRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['ssm:*'], resources: ['*'] }));
    expect(unacknowledgedFindings(freshApp, stack!)).toEqual(expect.arrayContaining([expect.stringMatching(/^AwsSolutions-IAM5\[Action::ssm:\*\] @ HybridRouting-dev\/CarelessRole\//)]));
  });
});
