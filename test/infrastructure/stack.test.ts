import { Validations } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import cdkJson from '../../cdk.json';
import { stackNameOf } from '../../lib/app';
import { apiGatewaySchema } from '../../lib/constructs/api-model';
import { HybridFunction } from '../../lib/constructs/hybrid-function';
import {
  ClearLatchSchema,
  FlagChangeSchema,
  ModeChangeSchema,
  PolicyChangeSchema,
  ReasonOnlySchema,
  RollbackRequestSchema,
  TrafficChangeSchema,
} from '../../lambda/shared/admin-api';
import { InvokeRequestSchema } from '../../lambda/shared/invoke-request';
import { RampActionSchema, RampStartSchema } from '../../lambda/shared/ramp';
import { DEFAULT_PARAMETER_VALUES, INITIAL_HEALTH_VALUE } from '../../lambda/shared/routing-config';
import { COMPONENTS } from '../../lambda/shared/vocabulary';
import { ENVIRONMENT_NAMES, resourcesOf, synthesize, templateOf, unacknowledgedFindings } from './synth';

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

  it('lets the router read only its own parameter path and invoke only the configured model, each wildcard in a policy of its own', () => {
    const { fn } = router();
    const roleId = fn.Properties.Role['Fn::GetAtt'][0] as string;
    const policies = Object.entries(resourcesOf(template, 'AWS::IAM::Policy')).filter(([, p]) => p.Properties.Roles.some((r: any) => r.Ref === roleId));
    const resolve = (value: unknown) => JSON.stringify(value).replace(/\{"Ref":"AWS::AccountId"\}/g, '"ACCOUNT"');
    const byPolicy = Object.fromEntries(
      policies.map(([id, p]) => [id.replace(/[0-9A-F]{8}$/, ''), p.Properties.PolicyDocument.Statement.map((s: any) => ({ Action: s.Action, Resource: resolve(s.Resource) }))]),
    );
    expect(byPolicy).toEqual({
      RouterApiRouterFunctionXRayTracing: [{ Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], Resource: '"*"' }],
      RouterApiRouterFunctionConfigStoreRead: [
        {
          Action: ['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParametersByPath'],
          Resource: resolve([
            { 'Fn::Join': ['', [`arn:aws:ssm:${config.region}:`, { Ref: 'AWS::AccountId' }, `:parameter/hybrid-routing/${name}`]] },
            { 'Fn::Join': ['', [`arn:aws:ssm:${config.region}:`, { Ref: 'AWS::AccountId' }, `:parameter/hybrid-routing/${name}/*`]] },
          ]),
        },
      ],
      RouterApiRouterFunctionServiceRoleDefaultPolicy: [{ Action: 'bedrock:InvokeModel', Resource: `"arn:aws:bedrock:${config.region}::foundation-model/${config.bedrock.modelId}"` }],
    });
    // The function is created only after the policies it needs at its first run.
    const dependsOn = (resourcesOf(template, 'AWS::Lambda::Function')[router().id] as any).DependsOn as string[];
    expect(dependsOn).toEqual(expect.arrayContaining(policies.map(([id]) => id)));
    expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
    for (const [, policy] of policies) {
      for (const statement of policy.Properties.PolicyDocument.Statement) {
        for (const action of [statement.Action].flat()) expect(action).not.toContain('*');
      }
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
      'GET /admin/ramp': 'AWS_IAM',
      'POST /admin/ramp': 'AWS_IAM',
      'POST /admin/ramp/{action}': 'AWS_IAM',
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

    const adminStatements = () => {
      const [, admin] = adminFunction();
      const roleId = admin.Properties.Role['Fn::GetAtt'][0] as string;
      const statements = Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
        .filter((p) => p.Properties.Roles.some((r: any) => r.Ref === roleId))
        .flatMap((p) => p.Properties.PolicyDocument.Statement);
      return Object.fromEntries(statements.map((s: any) => [[s.Action].flat().join(','), s.Resource]));
    };

    it('may write the settings (ramp/state included), never health/*, and read their history', () => {
      const byAction = adminStatements();
      expect(byAction['ssm:PutParameter']).toEqual(
        Object.keys(DEFAULT_PARAMETER_VALUES).map((p) => ssmArn(`/${p}`)).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
      );
      expect(JSON.stringify(byAction['ssm:PutParameter'])).not.toContain('health');
      expect(byAction['ssm:GetParameterHistory']).toEqual(ssmArn('/*'));
      expect(Object.keys(byAction).sort()).toEqual([
        'cloudwatch:DescribeAlarms',
        'cloudwatch:GetMetricData',
        'codedeploy:ListDeployments',
        'kms:Decrypt,kms:GenerateDataKey*',
        'lambda:GetAlias,lambda:ListVersionsByFunction,lambda:UpdateAlias',
        'lambda:InvokeFunction',
        'sns:Publish',
        'ssm:GetParameter,ssm:GetParameters,ssm:GetParametersByPath',
        'ssm:GetParameterHistory',
        'ssm:PutParameter',
        'xray:PutTelemetryRecords,xray:PutTraceSegments',
      ]);
    });

    it('may read only this environment\'s alarms, publish only to its topic, and is told the topic', () => {
      const byAction = adminStatements();
      expect(byAction['cloudwatch:DescribeAlarms']).toEqual({
        'Fn::Join': ['', [`arn:aws:cloudwatch:${config.region}:`, { Ref: 'AWS::AccountId' }, `:alarm:HybridRouting-${name}-*`]],
      });
      const topicRef = { Ref: Object.keys(resourcesOf(template, 'AWS::SNS::Topic'))[0]! };
      expect(byAction['sns:Publish']).toEqual(topicRef);
      expect(byAction['kms:Decrypt,kms:GenerateDataKey*']).toEqual({ 'Fn::GetAtt': [Object.keys(resourcesOf(template, 'AWS::KMS::Key'))[0]!, 'Arn'] });
      const [, admin] = adminFunction();
      expect(admin.Properties.Environment.Variables.TOPIC_ARN).toEqual(topicRef);
    });

    it('validates every admin body against the model generated from its schema', () => {
      for (const [modelName, schema] of Object.entries({
        TrafficChange: TrafficChangeSchema,
        FlagChange: FlagChangeSchema,
        ModeChange: ModeChangeSchema,
        PolicyChange: PolicyChangeSchema,
        RollbackRequest: RollbackRequestSchema,
        ReasonOnly: ReasonOnlySchema,
        ClearLatch: ClearLatchSchema,
        RampStart: RampStartSchema,
        RampAction: RampActionSchema,
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

  it('throttles each method, the open GET /health lower on its own, traces the stage, logs access as JSON and never logs request data', () => {
    const logged = { DataTraceEnabled: false, LoggingLevel: 'ERROR', MetricsEnabled: true };
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: name,
      TracingEnabled: true,
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('"requestId":"\\$context.requestId"') },
      MethodSettings: [
        { ...logged, HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: config.throttling.rateLimit, ThrottlingBurstLimit: config.throttling.burstLimit },
        { ...logged, HttpMethod: 'GET', ResourcePath: '/~1health', ThrottlingRateLimit: config.throttling.healthRateLimit, ThrottlingBurstLimit: config.throttling.healthBurstLimit },
      ],
    });
    expect(config.throttling.healthRateLimit).toBeLessThan(config.throttling.rateLimit);
  });

  describe('access policies', () => {
    const executeApiArn = (methodAndPath: string) => ({
      'Fn::Join': ['', [`arn:aws:execute-api:${config.region}:`, { Ref: 'AWS::AccountId' }, ':', { Ref: Match.stringLikeRegexp('^RouterApi') }, '/', { Ref: Match.stringLikeRegexp(`^RouterApiDeploymentStage${name}`) }, `/${methodAndPath}`]],
    });
    const policy = (prefix: string) => {
      const [id, resource] = Object.entries(resourcesOf(template, 'AWS::IAM::ManagedPolicy')).find(([key]) => key.startsWith(prefix))!;
      return { id, statements: resource.Properties.PolicyDocument.Statement as any[] };
    };

    it('lets callers invoke the request and health routes of this API and stage, never /admin', () => {
      const { statements } = policy('AccessCallerPolicy');
      expect(statements).toHaveLength(1);
      expect(statements[0]).toMatchObject({ Effect: 'Allow', Action: 'execute-api:Invoke' });
      expect(Match.exact(['GET/health', 'GET/health/*', 'GET/v1/jobs/*', 'POST/v1/invoke', 'POST/v1/jobs', 'POST/v1/stream'].map(executeApiArn)).test(statements[0].Resource).isSuccess).toBe(true);
      expect(JSON.stringify(statements)).not.toContain('admin');
    });

    it('lets operators invoke /admin/* and read health on this API and stage', () => {
      const { statements } = policy('AccessOperatorPolicy');
      expect(statements).toHaveLength(1);
      expect(statements[0]).toMatchObject({ Effect: 'Allow', Action: 'execute-api:Invoke' });
      expect(Match.exact(['*/admin/*', 'GET/health', 'GET/health/*'].map(executeApiArn)).test(statements[0].Resource).isSuccess).toBe(true);
    });

    it('outputs both policies\' ARNs', () => {
      template.hasOutput('CallerPolicyArn', { Value: { Ref: policy('AccessCallerPolicy').id } });
      template.hasOutput('OperatorPolicyArn', { Value: { Ref: policy('AccessOperatorPolicy').id } });
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

/** Every function of a stack, by construct path below the stack. */
const FUNCTION_PATHS = [
  'AdminApi/AdminFunction',
  'HealthChecks/HealthCheckFunction',
  'Jobs/ApiFunction',
  'Jobs/DeadLetterFunction',
  'Jobs/WorkerFunction',
  'RampController/ControllerFunction',
  'Rollback/RollbackFunction',
  'RouterApi/RouterFunction',
  'RouterDeployment/SmokeTestFunction',
  'StreamApi/StreamFunction',
];

describe('the cdk-nag check', () => {
  it('fails on a new, unacknowledged finding', () => {
    const { app: freshApp, stacks: [stack] } = synthesize({ env: 'dev' });
    const role = new iam.Role(stack!, 'CarelessRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['ssm:*'], resources: ['*'] }));
    expect(unacknowledgedFindings(freshApp, stack!)).toEqual(expect.arrayContaining([expect.stringMatching(/^AwsSolutions-IAM5\[Action::ssm:\*\] @ HybridRouting-dev\/CarelessRole\//)]));
  });

  it('fails when any function gains a Resource::* statement, or reuses an acknowledged wildcard, outside the policy acknowledged for it', () => {
    const { app: freshApp, stacks: [stack] } = synthesize({ env: 'dev' });
    const functions = stack!.node.findAll().filter((c): c is HybridFunction => c instanceof HybridFunction);
    expect(functions.map((f) => f.node.path).sort()).toEqual(
      FUNCTION_PATHS.map((p) => `HybridRouting-dev/${p}`),
    );
    for (const fn of functions) fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] }));
    // The router's read grant acknowledges the path wildcard; the same wildcard for a write must not pass.
    stack!.routerApi.routerFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['ssm:PutParameter'], resources: [stack!.configStore.parameterArn('*')] }));
    const findings = unacknowledgedFindings(freshApp, stack!);
    for (const fn of functions) {
      expect(findings).toContain(`AwsSolutions-IAM5[Resource::*] @ ${fn.node.path}/ServiceRole/DefaultPolicy/Resource`);
    }
    expect(findings).toContain('AwsSolutions-IAM5[Resource::arn:aws:ssm:eu-central-1:<AWS::AccountId>:parameter/hybrid-routing/dev/*] @ HybridRouting-dev/RouterApi/RouterFunction/ServiceRole/DefaultPolicy/Resource');
  });

  it('acknowledges Resource::* only on the X-Ray policies, the notifications key and the ramp\'s GetMetricData policies', () => {
    const acknowledgedOn = stacks[0]!.node
      .findAll()
      .filter((c) => c.node.metadata.some((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY && Object.keys(m.data as object).some((id) => id.endsWith('AwsSolutions-IAM5[Resource::*]'))))
      .map((c) => c.node.path.replace('HybridRouting-dev/', ''));
    expect(acknowledgedOn.sort()).toEqual(
      FUNCTION_PATHS.map((p) => `${p}/XRayTracing`)
        .concat('Notifications/TopicKey', 'AdminApi/AdminFunction/RampFiguresRead', 'RampController/ControllerFunction/RampFiguresRead')
        .sort(),
    );
  });
});
