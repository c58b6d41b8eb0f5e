import type { Template } from 'aws-cdk-lib/assertions';
import cdkJson from '../../cdk.json';
import { ENVIRONMENT_NAMES, resourcesOf, synthesize, templateOf, unacknowledgedFindings } from './synth';

// Templates only: the bundles are built and run by the integration tests (assets, deploy-hook-asset).
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };
const { stacks } = synthesize(NO_BUNDLING);
const environments = cdkJson.context.environments as Record<string, any>;

/** What each environment's `codeDeploy` setting in cdk.json selects. */
const DEPLOYMENT_CONFIG: Record<string, string> = {
  dev: 'CodeDeployDefault.LambdaAllAtOnce',
  staging: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
  prod: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
};

const one = (template: Template, type: string, prefix = '') => {
  const found = Object.entries(resourcesOf(template, type)).filter(([id]) => id.startsWith(prefix));
  expect(found).toHaveLength(1);
  return found[0]!;
};
const idOf = (template: Template, type: string, prefix: string) => one(template, type, prefix)[0];

/** The statements of the policies attached to a function's role, by their joined actions. */
function statementsOf(template: Template, functionPrefix: string): Record<string, unknown> {
  const [, fn] = one(template, 'AWS::Lambda::Function', functionPrefix);
  const roleId = fn.Properties.Role['Fn::GetAtt'][0] as string;
  return Object.fromEntries(
    Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
      .filter((p) => p.Properties.Roles.some((r: any) => r.Ref === roleId))
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .map((s: any) => [[s.Action].flat().join(','), s.Resource]),
  );
}

describe.each(ENVIRONMENT_NAMES.map((name, i) => [name, stacks[i]!] as const))('router deployment of %s', (name, stack) => {
  const template = templateOf(stack);
  const json = template.toJSON() as { Resources: Record<string, any> };
  const routerId = idOf(template, 'AWS::Lambda::Function', 'RouterApiRouterFunction');
  const [versionId, version] = one(template, 'AWS::Lambda::Version');
  const [aliasId, alias] = one(template, 'AWS::Lambda::Alias');
  const [groupId, group] = one(template, 'AWS::CodeDeploy::DeploymentGroup');
  const applicationId = idOf(template, 'AWS::CodeDeploy::Application', 'RouterDeployment');
  const hookId = idOf(template, 'AWS::Lambda::Function', 'RouterDeploymentSmokeTestFunction');
  const topicRef = { Ref: Object.keys(resourcesOf(template, 'AWS::SNS::Topic'))[0]! };
  const groupArn = { 'Fn::Join': ['', [`arn:aws:codedeploy:${environments[name].region}:`, { Ref: 'AWS::AccountId' }, ':deploymentgroup:', { Ref: applicationId }, '/', { Ref: groupId }]] };
  const alarmByName = Object.fromEntries(Object.entries(resourcesOf(template, 'AWS::CloudWatch::Alarm')).map(([id, a]) => [a.Properties.AlarmName, { id, ...a.Properties }]));

  it('serves the router through a live alias on its current version, and keeps old versions for level 3', () => {
    expect(alias.Properties).toEqual({
      Name: 'live',
      FunctionName: { Ref: routerId },
      FunctionVersion: { 'Fn::GetAtt': [versionId, 'Version'] },
      Description: expect.any(String),
    });
    expect(json.Resources[versionId]).toMatchObject({ Properties: { FunctionName: { Ref: routerId } }, DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    expect(version.Properties.ProvisionedConcurrencyConfig).toBeUndefined();
  });

  it('has API Gateway invoke the alias: integration URIs and invoke permissions name it, never the function itself', () => {
    const uris = Object.values(resourcesOf(template, 'AWS::ApiGateway::Method')).map((m) => JSON.stringify(m.Properties.Integration?.Uri ?? null));
    expect(uris.filter((uri) => uri.includes(`{"Ref":"${aliasId}"}`)).length).toBeGreaterThanOrEqual(4);
    expect(uris.filter((uri) => uri.includes(routerId))).toEqual([]);
    const invokeUri = JSON.stringify({ 'Fn::Join': ['', [`arn:aws:apigateway:${environments[name].region}:lambda:path/2015-03-31/functions/`, { Ref: aliasId }, '/invocations']] });
    expect(uris).toContain(invokeUri);

    const fromApiGateway = Object.values(resourcesOf(template, 'AWS::Lambda::Permission')).filter((p) => p.Properties.Principal === 'apigateway.amazonaws.com');
    // Only the router is versioned and canaried; the admin, stream and jobs functions are invoked as they are.
    const onRouter = fromApiGateway.filter((p) => !/AdminApiAdminFunction|StreamApiStreamFunction|JobsApiFunction/.test(JSON.stringify(p.Properties.FunctionName)));
    expect(onRouter.length).toBeGreaterThanOrEqual(8);
    for (const permission of onRouter) expect(permission.Properties.FunctionName).toEqual({ Ref: aliasId });
  });

  it('shifts the alias with CodeDeploy as cdk.json says, after the smoke-test hook, and rolls back on failure or alarm', () => {
    expect(group.Properties).toMatchObject({
      ApplicationName: { Ref: applicationId },
      DeploymentGroupName: 'router-live',
      DeploymentConfigName: DEPLOYMENT_CONFIG[name],
      DeploymentStyle: { DeploymentOption: 'WITH_TRAFFIC_CONTROL', DeploymentType: 'BLUE_GREEN' },
      AutoRollbackConfiguration: { Enabled: true, Events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST', 'DEPLOYMENT_STOP_ON_ALARM'] },
    });
    expect(group.Properties.AlarmConfiguration).toEqual({
      Enabled: true,
      Alarms: [
        { Name: { Ref: alarmByName[`HybridRouting-${name}-router-new-version-errors`].id } },
        { Name: { Ref: alarmByName[`HybridRouting-${name}-hybrid-error-rate`].id } },
        { Name: { Ref: alarmByName[`HybridRouting-${name}-hybrid-error-rate-low-traffic`].id } },
        { Name: { Ref: alarmByName[`HybridRouting-${name}-router-throttles`].id } },
      ],
    });
    expect(json.Resources[aliasId].UpdatePolicy).toEqual({
      CodeDeployLambdaAliasUpdate: { ApplicationName: { Ref: applicationId }, DeploymentGroupName: { Ref: groupId }, BeforeAllowTrafficHook: { Ref: hookId } },
    });
    expect(resourcesOf(template, 'AWS::CodeDeploy::Application')[applicationId]!.Properties).toMatchObject({ ApplicationName: `HybridRouting-${name}`, ComputePlatform: 'Lambda' });
  });

  it('alarms on the new version\'s errors, notifying the topic on ALARM and OK; throttles are the router-throttles alarm', () => {
    const errors = alarmByName[`HybridRouting-${name}-router-new-version-errors`];
    expect(errors).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: 'Errors', Statistic: 'Sum', Period: 60, Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching' });
    expect(errors.Dimensions).toEqual([
      { Name: 'ExecutedVersion', Value: { 'Fn::GetAtt': [versionId, 'Version'] } },
      { Name: 'FunctionName', Value: { Ref: routerId } },
      { Name: 'Resource', Value: { 'Fn::Join': ['', [{ Ref: routerId }, ':live']] } },
    ]);
    // One alarm per name: a second alarm named router-throttles would fail the deploy.
    const names = Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties.AlarmName);
    expect(new Set(names).size).toBe(names.length);
    const throttles = alarmByName[`HybridRouting-${name}-router-throttles`];
    expect(throttles).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: 'Throttles', Statistic: 'Sum', Threshold: 0, TreatMissingData: 'notBreaching' });
    expect(throttles.Dimensions).toEqual([{ Name: 'FunctionName', Value: { Ref: routerId } }]);
    for (const alarm of [errors, throttles]) {
      expect(alarm.AlarmActions).toEqual([topicRef]);
      expect(alarm.OKActions).toEqual([topicRef]);
    }
  });

  it('lets the smoke-test hook invoke only the new version and report only to this deployment group', () => {
    const [, hook] = one(template, 'AWS::Lambda::Function', 'RouterDeploymentSmokeTestFunction');
    expect(hook.Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Timeout: 60,
      Environment: { Variables: { ENVIRONMENT: name, ROUTER_VERSION_ARN: { Ref: versionId }, TOPIC_ARN: topicRef, CHECK_TIMEOUT_MS: '20000' } },
    });
    const statements = statementsOf(template, 'RouterDeploymentSmokeTestFunction');
    expect(statements['lambda:InvokeFunction']).toEqual({ Ref: versionId });
    expect(statements['codedeploy:PutLifecycleEventHookExecutionStatus']).toEqual(groupArn);
    expect(statements['sns:Publish']).toEqual(topicRef);
    expect(Object.keys(statements).sort()).toEqual([
      'codedeploy:PutLifecycleEventHookExecutionStatus',
      'kms:Decrypt,kms:GenerateDataKey*',
      'lambda:InvokeFunction',
      'sns:Publish',
      'sqs:GetQueueAttributes,sqs:GetQueueUrl,sqs:SendMessage',
      'xray:PutTelemetryRecords,xray:PutTraceSegments',
    ]);
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: hookId },
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [idOf(template, 'AWS::SQS::Queue', 'RouterDeploymentFailures'), 'Arn'] } } },
    });
  });

  it('lets CodeDeploy invoke the hook, with AWS\'s managed policy for Lambda deployments', () => {
    const roleArn = group.Properties.ServiceRoleArn['Fn::GetAtt'][0] as string;
    const role = resourcesOf(template, 'AWS::IAM::Role')[roleArn]!;
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([expect.objectContaining({ Principal: { Service: 'codedeploy.amazonaws.com' } })]);
    expect(JSON.stringify(role.Properties.ManagedPolicyArns)).toContain('AWSCodeDeployRoleForLambdaLimited');
    const statements = Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
      .filter((p) => p.Properties.Roles.some((r: any) => r.Ref === roleArn))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(statements).toEqual([
      { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: [{ 'Fn::GetAtt': [hookId, 'Arn'] }, { 'Fn::Join': ['', [{ 'Fn::GetAtt': [hookId, 'Arn'] }, ':*']] }] },
    ]);
  });

  it('gives the admin function what level 3 needs on the router and this deployment group alone, and where they are', () => {
    const statements = statementsOf(template, 'AdminApiAdminFunction');
    expect(statements['lambda:GetAlias,lambda:ListVersionsByFunction,lambda:UpdateAlias']).toEqual({ 'Fn::GetAtt': [routerId, 'Arn'] });
    expect(statements['codedeploy:ListDeployments']).toEqual(groupArn);
    const [, admin] = one(template, 'AWS::Lambda::Function', 'AdminApiAdminFunction');
    expect(admin.Properties.Environment.Variables).toMatchObject({
      ROUTER_FUNCTION_NAME: { Ref: routerId },
      ROUTER_ALIAS_NAME: 'live',
      CODEDEPLOY_APPLICATION: { Ref: applicationId },
      CODEDEPLOY_DEPLOYMENT_GROUP: { Ref: groupId },
    });
  });

  it('lets no function but the admin function move an alias, and it only the router\'s', () => {
    // Every statement of every role in the stack whose actions, wildcards expanded, include moving an alias.
    const moves = (action: string) => new RegExp(`^${action.replace(/\*/g, '.*')}$`).test('lambda:UpdateAlias');
    const inline = Object.entries(resourcesOf(template, 'AWS::IAM::Role')).flatMap(([roleId, role]) =>
      (role.Properties.Policies ?? []).map((p: any) => ({ roles: [roleId], statements: p.PolicyDocument.Statement })),
    );
    const attached = Object.values(resourcesOf(template, 'AWS::IAM::Policy')).map((p) => ({ roles: p.Properties.Roles.map((r: any) => r.Ref), statements: p.Properties.PolicyDocument.Statement }));
    const grants = [...inline, ...attached].flatMap(({ roles, statements }) =>
      statements.filter((s: any) => s.Effect === 'Allow' && [s.Action].flat().some(moves)).map((s: any) => ({ roles, actions: [s.Action].flat(), resource: s.Resource })),
    );
    const [, admin] = one(template, 'AWS::Lambda::Function', 'AdminApiAdminFunction');
    expect(grants).toEqual([
      { roles: [admin.Properties.Role['Fn::GetAtt'][0]], actions: ['lambda:GetAlias', 'lambda:ListVersionsByFunction', 'lambda:UpdateAlias'], resource: { 'Fn::GetAtt': [routerId, 'Arn'] } },
    ]);
    // The router's one alias is live: its ARN scopes the grant to moving that alias (alias actions name the function).
    expect(alias.Properties).toMatchObject({ FunctionName: { Ref: routerId }, Name: 'live' });
  });

  it('outputs the deployment group to watch', () => {
    expect(template.toJSON().Outputs.RouterDeploymentGroup.Value).toEqual({ 'Fn::Join': ['', [{ Ref: applicationId }, '/', { Ref: groupId }]] });
  });
});

describe('router deployment with custom settings', () => {
  const staging = environments.staging;
  const { app, stacks: [stack] } = synthesize({
    ...NO_BUNDLING,
    env: 'staging',
    environments: { ...environments, staging: { ...staging, codeDeploy: { type: 'linear', percentage: 25, intervalMinutes: 7 }, provisionedConcurrency: 3 } },
  });
  const template = templateOf(stack!);

  it('creates its own deployment config when no predefined one matches', () => {
    const [configId, config] = one(template, 'AWS::CodeDeploy::DeploymentConfig');
    expect(config.Properties).toMatchObject({ ComputePlatform: 'Lambda', TrafficRoutingConfig: { Type: 'TimeBasedLinear', TimeBasedLinear: { LinearInterval: 7, LinearPercentage: 25 } } });
    expect(one(template, 'AWS::CodeDeploy::DeploymentGroup')[1].Properties.DeploymentConfigName).toEqual({ Ref: configId });
  });

  it('keeps the configured number of execution environments warm on the alias', () => {
    expect(one(template, 'AWS::Lambda::Alias')[1].Properties.ProvisionedConcurrencyConfig).toEqual({ ProvisionedConcurrentExecutions: 3 });
  });

  it('has no unacknowledged cdk-nag finding', () => {
    expect(unacknowledgedFindings(app, stack!)).toEqual([]);
  });
});
