import { Match } from 'aws-cdk-lib/assertions';
import cdkJson from '../../cdk.json';
import { alarmNameOf, deadLetterAlarmNameOf } from '../../lambda/shared/alarms';
import { resourcesOf, synthesize, templateOf } from './synth';

/** The automated ramp's controller (DESIGN §10) as deployed: schedule, role, concurrency, failures, alarm and dashboard. */

const { stacks } = synthesize({ env: 'prod' });
const template = templateOf(stacks[0]!);
const config = (cdkJson.context.environments as Record<string, any>).prod;
const ssmArn = (suffix: string) => ({ 'Fn::Join': ['', [`arn:aws:ssm:${config.region}:`, { Ref: 'AWS::AccountId' }, `:parameter/hybrid-routing/prod${suffix}`]] });
const byId = (type: string, prefix: string) => Object.entries(resourcesOf(template, type)).find(([id]) => id.startsWith(prefix))!;
const [controllerId, controller] = byId('AWS::Lambda::Function', 'RampControllerControllerFunction');
const [, admin] = byId('AWS::Lambda::Function', 'AdminApiAdminFunction');

/** A role's statements by their actions, joined. */
function statementsOf(fn: { Properties: Record<string, any> }): Record<string, any> {
  const roleId = fn.Properties.Role['Fn::GetAtt'][0] as string;
  const statements = Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
    .filter((p) => p.Properties.Roles.some((r: any) => r.Ref === roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
  return Object.fromEntries(statements.map((s: any) => [[s.Action].flat().join(','), s.Resource]));
}

describe('the ramp controller', () => {
  it('ticks every minute from an EventBridge schedule, undeliverable events kept in its queue', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [
        {
          Arn: { 'Fn::GetAtt': [controllerId, 'Arn'] },
          Id: Match.anyValue(),
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RampControllerFailures'), 'Arn'] } },
          RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 60 },
        },
      ],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', { FunctionName: { 'Fn::GetAtt': [controllerId, 'Arn'] }, Principal: 'events.amazonaws.com' });
  });

  it('runs one tick at a time, inside the minute, and keeps failed ticks in its queue without retrying them', () => {
    expect(controller.Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      ReservedConcurrentExecutions: 1,
      Timeout: 50,
      TracingConfig: { Mode: 'Active' },
      Environment: { Variables: { ENVIRONMENT: 'prod', CONFIG_PATH: '/hybrid-routing/prod' } },
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: controllerId },
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 300,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RampControllerFailures'), 'Arn'] } } },
    });
  });

  it('may read the path, write only flag, traffic, latch and ramp/state, read CloudWatch\'s figures and this environment\'s alarms, and publish to the topic', () => {
    const byAction = statementsOf(controller);
    const names = (resources: unknown[]) => resources.map((r) => JSON.stringify(r).match(/parameter\/hybrid-routing\/prod\/([a-z/-]+)/)![1]).sort();
    expect(names(byAction['ssm:GetParameterHistory,ssm:PutParameter'])).toEqual(['feature-flags/hybrid-routing', 'ramp/state', 'rollback/state', 'traffic/percentage']);
    expect(byAction['ssm:GetParameter,ssm:GetParameters,ssm:GetParametersByPath']).toEqual([ssmArn(''), ssmArn('/*')]);
    expect(byAction['cloudwatch:GetMetricData']).toBe('*');
    expect(byAction['cloudwatch:DescribeAlarms']).toEqual({ 'Fn::Join': ['', [`arn:aws:cloudwatch:${config.region}:`, { Ref: 'AWS::AccountId' }, ':alarm:HybridRouting-prod-*']] });
    expect(byAction['sns:Publish']).toEqual({ Ref: Object.keys(resourcesOf(template, 'AWS::SNS::Topic'))[0]! });
    expect(Object.keys(byAction).sort()).toEqual([
      'cloudwatch:DescribeAlarms',
      'cloudwatch:GetMetricData',
      'kms:Decrypt,kms:GenerateDataKey*',
      'sns:Publish',
      'sqs:GetQueueAttributes,sqs:GetQueueUrl,sqs:SendMessage',
      'ssm:GetParameter,ssm:GetParameters,ssm:GetParametersByPath',
      'ssm:GetParameterHistory,ssm:PutParameter',
      'xray:PutTelemetryRecords,xray:PutTraceSegments',
    ]);
  });

  it('GetMetricData, which IAM cannot scope, sits alone in a policy of its own', () => {
    const [, policy] = byId('AWS::IAM::Policy', 'RampControllerControllerFunctionRampFiguresRead');
    expect(policy.Properties.PolicyDocument.Statement).toEqual([{ Action: 'cloudwatch:GetMetricData', Effect: 'Allow', Resource: '*' }]);
  });

  it('is invoked by the admin function, which may invoke only it and is told its name and the hold-down', () => {
    expect(statementsOf(admin)['lambda:InvokeFunction']).toEqual({ 'Fn::GetAtt': [controllerId, 'Arn'] });
    expect(admin.Properties.Environment.Variables).toMatchObject({ RAMP_FUNCTION_NAME: { Ref: controllerId }, RAMP_HOLD_DOWN_MINUTES: '30' });
  });

  it('notifies when a tick fails, and when its queue holds anything', () => {
    const alarms = Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    const errors = alarms.find((a) => a.AlarmName === alarmNameOf('prod', 'rampControllerErrors'))!;
    expect(errors).toMatchObject({ MetricName: 'Errors', Namespace: 'AWS/Lambda', Dimensions: [{ Name: 'FunctionName', Value: { Ref: controllerId } }], Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    expect(errors.AlarmActions).toHaveLength(1);
    expect(JSON.stringify(errors.AlarmActions)).not.toContain('lambda');
    expect(alarms.some((a) => a.AlarmName === deadLetterAlarmNameOf('prod', 'ramp-failures'))).toBe(true);
  });

  it('draws the ramp\'s traffic and gate failures on the Overview dashboard', () => {
    const overview = Object.values(resourcesOf(template, 'AWS::CloudWatch::Dashboard')).find((d) => d.Properties.DashboardName === 'HybridRouting-prod-Overview')!;
    const body = JSON.stringify(overview.Properties.DashboardBody);
    expect(body).toContain('Automated ramp: the step\'s traffic (%) and the gates that failed with enough evidence');
    expect(body).toMatch(/\\"HybridRouting\\",\\"RampTrafficPercentage\\",\\"Environment\\",\\"prod\\",\\"Service\\",\\"ramp\\"/);
    expect(body).toMatch(/\\"HybridRouting\\",\\"RampGateFailures\\",\\"Environment\\",\\"prod\\",\\"Service\\",\\"ramp\\"/);
    // Rollbacks the ramp makes count with the others.
    expect(body).toMatch(/\\"RollbackExecuted\\",\\"Environment\\",\\"prod\\",\\"Level\\",\\"2\\",\\"Service\\",\\"ramp\\",\\"Source\\",\\"ramp\\"/);
  });
});
