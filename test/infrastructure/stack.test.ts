import { Match } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import cdkJson from '../../cdk.json';
import { stackNameOf } from '../../lib/app';
import { apiGatewaySchema } from '../../lib/constructs/api-model';
import {
  FlagChangeSchema,
  ModeChangeSchema,
  PolicyChangeSchema,
  ReasonOnlySchema,
  RollbackRequestSchema,
  TrafficChangeSchema,
} from '../../lambda/shared/admin-api';
import { InvokeRequestSchema } from '../../lambda/shared/invoke-request';
import { DEFAULT_PARAMETER_VALUES, INITIAL_HEALTH_VALUE } from '../../lambda/shared/routing-config';
import { COMPONENTS, ENVIRONMENT_NAMES } from '../../lambda/shared/vocabulary';
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
    expect(router().fn.Properties.Environment.Variables.HEALTH_CHECK_PERIOD_SECONDS).toBe(String(config.healthCheck.rateMinutes * 60));
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

  it('creates the configuration store with safe defaults and unknown health', () => {
    const parameters = Object.values(resourcesOf(template, 'AWS::SSM::Parameter')).map((p) => [p.Properties.Name, p.Properties.Value]);
    expect(Object.fromEntries(parameters)).toEqual({
      ...Object.fromEntries(Object.entries(DEFAULT_PARAMETER_VALUES).map(([k, v]) => [`/hybrid-routing/${name}/${k}`, v])),
      ...Object.fromEntries(COMPONENTS.map((c) => [`/hybrid-routing/${name}/health/${c}`, INITIAL_HEALTH_VALUE])),
    });
  });

  describe('health checks', () => {
    const healthFunction = () => Object.entries(resourcesOf(template, 'AWS::Lambda::Function')).find(([id]) => id.startsWith('HealthChecksHealthCheckFunction'))!;
    const ssmArn = (suffix: string) => ({ 'Fn::Join': ['', [`arn:aws:ssm:${config.region}:`, { Ref: 'AWS::AccountId' }, `:parameter/hybrid-routing/${name}${suffix}`]] });

    it('runs on the configured schedule, with retries and a dead-letter queue on the target', () => {
      const [functionId] = healthFunction();
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: `rate(${config.healthCheck.rateMinutes} minute${config.healthCheck.rateMinutes === 1 ? '' : 's'})`,
        State: 'ENABLED',
        Targets: [
          {
            Arn: { 'Fn::GetAtt': [functionId, 'Arn'] },
            Id: Match.anyValue(),
            DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^HealthChecksFailures'), 'Arn'] } },
            RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: config.healthCheck.rateMinutes * 60 },
          },
        ],
      });
      template.hasResourceProperties('AWS::Lambda::Permission', { FunctionName: { 'Fn::GetAtt': [functionId, 'Arn'] }, Principal: 'events.amazonaws.com' });
    });

    it('has reserved concurrency, explicit settings, and records failed runs in the queue', () => {
      const [functionId, fn] = healthFunction();
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        MemorySize: 512,
        Timeout: 30,
        ReservedConcurrentExecutions: 1,
        Environment: { Variables: { CONFIG_PATH: `/hybrid-routing/${name}`, PROBE_TIMEOUT_MS: '10000', UNHEALTHY_AFTER: String(config.healthCheck.unhealthyAfter) } },
      });
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: functionId },
        MaximumRetryAttempts: 0,
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^HealthChecksFailures'), 'Arn'] } } },
      });
      template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    });

    it('may read the path, write only health/*, and probe only the configured model', () => {
      const [, fn] = healthFunction();
      const roleId = fn.Properties.Role['Fn::GetAtt'][0] as string;
      const statements = Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
        .filter((p) => p.Properties.Roles.some((r: any) => r.Ref === roleId))
        .flatMap((p) => p.Properties.PolicyDocument.Statement);
      const byAction = Object.fromEntries(statements.map((s: any) => [[s.Action].flat().join(','), s.Resource]));
      expect(byAction['ssm:PutParameter']).toEqual(COMPONENTS.map((c) => ssmArn(`/health/${c}`)).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))));
      expect(byAction['ssm:GetParameter,ssm:GetParameters,ssm:GetParametersByPath']).toEqual([ssmArn(''), ssmArn('/*')]);
      expect(byAction['bedrock:InvokeModel']).toBe(`arn:aws:bedrock:${config.region}::foundation-model/${config.bedrock.modelId}`);
      expect(Object.keys(byAction).sort()).toEqual([
        'bedrock:InvokeModel',
        'sqs:GetQueueAttributes,sqs:GetQueueUrl,sqs:SendMessage',
        'ssm:GetParameter,ssm:GetParameters,ssm:GetParametersByPath',
        'ssm:PutParameter',
        'xray:PutTelemetryRecords,xray:PutTraceSegments',
      ]);
    });
  });

  it('protects every API method with IAM auth except the open GET /health', () => {
    const resources = resourcesOf(template, 'AWS::ApiGateway::Resource');
    const pathOf = (ref: any): string => {
      if (!ref?.Ref) return '';
      const resource = resources[ref.Ref]!;
      return `${pathOf(resource.Properties.ParentId)}/${resource.Properties.PathPart}`;
    };
    const methods = Object.values(resourcesOf(template, 'AWS::ApiGateway::Method')).map((m) => [
      `${m.Properties.HttpMethod} ${pathOf(m.Properties.ResourceId)}`,
      m.Properties.AuthorizationType,
    ]);
    expect(Object.fromEntries(methods)).toEqual({
      'POST /v1/invoke': 'AWS_IAM',
      'GET /health': 'NONE',
      'GET /health/detailed': 'AWS_IAM',
      'GET /health/component/{name}': 'AWS_IAM',
      'GET /admin/status': 'AWS_IAM',
      'PUT /admin/traffic': 'AWS_IAM',
      'PUT /admin/feature-flags/{flag}': 'AWS_IAM',
      'PUT /admin/routing/mode': 'AWS_IAM',
      'PUT /admin/routing/policy': 'AWS_IAM',
      'POST /admin/rollback': 'AWS_IAM',
      'DELETE /admin/rollback': 'AWS_IAM',
      'POST /admin/circuit-breakers/reset': 'AWS_IAM',
      'GET /admin/audit': 'AWS_IAM',
      'POST /v1/stream': 'AWS_IAM',
      'POST /v1/jobs': 'AWS_IAM',
      'GET /v1/jobs/{jobId}': 'AWS_IAM',
    });
  });

  describe('admin API', () => {
    const adminFunction = () => Object.entries(resourcesOf(template, 'AWS::Lambda::Function')).find(([id]) => id.startsWith('AdminApiAdminFunction'))!;
    const ssmArn = (suffix: string) => ({ 'Fn::Join': ['', [`arn:aws:ssm:${config.region}:`, { Ref: 'AWS::AccountId' }, `:parameter/hybrid-routing/${name}${suffix}`]] });

    it('runs in its own function and role', () => {
      const [, admin] = adminFunction();
      expect(admin.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], MemorySize: 512, Timeout: 29 });
      expect(admin.Properties.Role).not.toEqual(router().fn.Properties.Role);
    });

    it('may write the six settings, never health/*, and read their history', () => {
      const [, admin] = adminFunction();
      const roleId = admin.Properties.Role['Fn::GetAtt'][0] as string;
      const statements = Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
        .filter((p) => p.Properties.Roles.some((r: any) => r.Ref === roleId))
        .flatMap((p) => p.Properties.PolicyDocument.Statement);
      const byAction = Object.fromEntries(statements.map((s: any) => [[s.Action].flat().join(','), s.Resource]));
      expect(byAction['ssm:PutParameter']).toEqual(
        Object.keys(DEFAULT_PARAMETER_VALUES).map((p) => ssmArn(`/${p}`)).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
      );
      expect(JSON.stringify(byAction['ssm:PutParameter'])).not.toContain('health');
      expect(byAction['ssm:GetParameterHistory']).toEqual(ssmArn('/*'));
      expect(Object.keys(byAction).sort()).toEqual([
        'ssm:GetParameter,ssm:GetParameters,ssm:GetParametersByPath',
        'ssm:GetParameterHistory',
        'ssm:PutParameter',
        'xray:PutTelemetryRecords,xray:PutTraceSegments',
      ]);
    });

    it('validates every admin body against the model generated from its schema', () => {
      for (const [modelName, schema] of Object.entries({
        TrafficChange: TrafficChangeSchema,
        FlagChange: FlagChangeSchema,
        ModeChange: ModeChangeSchema,
        PolicyChange: PolicyChangeSchema,
        RollbackRequest: RollbackRequestSchema,
        ReasonOnly: ReasonOnlySchema,
      })) {
        const expected = JSON.parse(JSON.stringify(apiGatewaySchema(schema, modelName)).replace('"schema"', '"$schema"'));
        template.hasResourceProperties('AWS::ApiGateway::Model', { Name: modelName, Schema: expected });
      }
    });
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
