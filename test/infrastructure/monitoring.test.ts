import { Match } from 'aws-cdk-lib/assertions';
import cdkJson from '../../cdk.json';
import { DASHBOARD_CONTENTS } from '../../lib/constructs/monitoring';
import { alarmNameOf } from '../../lambda/shared/alarms';
import { METRICS } from '../../lambda/shared/metric-catalog';
import { ENVIRONMENT_NAMES } from '../../lambda/shared/vocabulary';
import { resourcesOf, synthesize, templateOf, unacknowledgedFindings } from './synth';

const { stacks } = synthesize();
const environments = cdkJson.context.environments as Record<string, any>;

/** A dashboard body with its tokens replaced by placeholders, parsed. */
function dashboardBody(resource: { Properties: Record<string, any> }): any {
  const body = resource.Properties.DashboardBody;
  const text = typeof body === 'string' ? body : (body['Fn::Join'][1] as unknown[]).map((part) => (typeof part === 'string' ? part : 'TOKEN')).join('');
  return JSON.parse(text);
}

/** Every [namespace, metricName, ...dimensions] metric array a dashboard shows. */
function dashboardMetrics(body: any): string[][] {
  return body.widgets.flatMap((w: any) => (w.properties.metrics ?? []).filter((m: unknown[]) => typeof m[0] === 'string' && typeof m[1] === 'string' && !String(m[0]).startsWith('{')));
}

describe.each(ENVIRONMENT_NAMES.map((name, i) => [name, stacks[i]!] as const))('monitoring of %s', (name, stack) => {
  const template = templateOf(stack);
  const config = environments[name];
  const alarms: Record<string, Record<string, any>> = Object.fromEntries(
    Object.entries(resourcesOf(template, 'AWS::CloudWatch::Alarm'))
      // The deployment group's own alarms are tested with it (router-deployment.test.ts).
      .filter(([id]) => !id.startsWith('RouterDeployment'))
      .map(([, a]) => [a.Properties.AlarmName, a.Properties]),
  );
  const rollbackFunctionId = Object.keys(resourcesOf(template, 'AWS::Lambda::Function')).find((id) => id.startsWith('RollbackRollbackFunction'))!;
  const topicRef = { Ref: Object.keys(resourcesOf(template, 'AWS::SNS::Topic'))[0]! };
  const rollbackArn = { 'Fn::GetAtt': [rollbackFunctionId, 'Arn'] };
  const metricStat = (metricName: string, dims: Record<string, string>, stat: string, period: number) => ({
    Metric: {
      Namespace: 'HybridRouting',
      MetricName: metricName,
      Dimensions: Object.entries(dims).map(([Name, Value]) => ({ Name, Value })).sort((a, b) => a.Name.localeCompare(b.Name)),
    },
    Period: period,
    Stat: stat,
    Unit: metricName === 'Latency' ? 'Milliseconds' : 'Count',
  });
  const hybridRouter = { Cohort: 'hybrid', Environment: name, Service: 'router' };

  it('has exactly the four alarms of DESIGN §8, none treating missing data as breaching', () => {
    expect(Object.keys(alarms).sort()).toEqual(
      (['directBedrockHealth', 'hybridErrorRate', 'hybridLatency', 'routingEfficiency'] as const).map((a) => alarmNameOf(name, a)).sort(),
    );
    for (const alarm of Object.values(alarms)) expect(alarm.TreatMissingData).toBe('notBreaching');
  });

  it('rolls back at level 2 on the hybrid error rate, judged only with enough requests', () => {
    const alarm = alarms[alarmNameOf(name, 'hybridErrorRate')];
    expect(alarm).toMatchObject({ Threshold: config.alarms.errorRatePercent, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 3, DatapointsToAlarm: 2 });
    expect(alarm.Metrics).toEqual([
      { Id: 'expr_1', Expression: `IF(requests >= ${config.alarms.minRequests}, 100 * errors / requests, 0)`, Label: 'hybrid error rate (%)', ReturnData: true },
      { Id: 'requests', MetricStat: metricStat('Requests', hybridRouter, 'Sum', 10), ReturnData: false },
      { Id: 'errors', MetricStat: metricStat('Errors', hybridRouter, 'Sum', 10), ReturnData: false },
    ]);
  });

  it('rolls back at level 1 on hybrid p95 latency, judged only with enough requests', () => {
    const alarm = alarms[alarmNameOf(name, 'hybridLatency')];
    expect(alarm).toMatchObject({ Threshold: config.alarms.latencyP95Ms, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 3, DatapointsToAlarm: 2 });
    expect(alarm.Metrics).toEqual([
      { Id: 'expr_1', Expression: `IF(requests >= ${config.alarms.minRequests}, p95, 0)`, Label: 'hybrid latency p95 (ms)', ReturnData: true },
      { Id: 'requests', MetricStat: metricStat('Requests', hybridRouter, 'Sum', 10), ReturnData: false },
      { Id: 'p95', MetricStat: metricStat('Latency', hybridRouter, 'p95', 10), ReturnData: false },
    ]);
  });

  it('rolls back at level 1 when direct-bedrock fails its checks in a row', () => {
    expect(alarms[alarmNameOf(name, 'directBedrockHealth')]).toMatchObject({
      MetricName: 'HealthCheckSuccess',
      Namespace: 'HybridRouting',
      Statistic: 'Minimum',
      Period: 10,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      // 160 s of 10-second windows at the default rate: room for 3 checks one minute apart, not 4.
      EvaluationPeriods: (config.healthCheck.unhealthyAfter * config.healthCheck.rateMinutes * 60 - 20) / 10,
      DatapointsToAlarm: config.healthCheck.unhealthyAfter,
    });
    expect(alarms[alarmNameOf(name, 'directBedrockHealth')].Dimensions).toEqual(
      expect.arrayContaining([{ Name: 'Component', Value: 'direct-bedrock' }, { Name: 'Service', Value: 'health-check' }, { Name: 'Environment', Value: name }]),
    );
  });

  it('notifies when routing efficiency stays low', () => {
    const alarm = alarms[alarmNameOf(name, 'routingEfficiency')];
    expect(alarm).toMatchObject({ Threshold: config.alarms.routingEfficiencyPercent, ComparisonOperator: 'LessThanThreshold', EvaluationPeriods: 5, DatapointsToAlarm: 5 });
    expect(alarm.Metrics[0].Expression).toBe(`IF(requests >= ${config.alarms.minRequests}, 100 * first / requests, 100)`);
  });

  it('invokes the rollback function from the three rollback alarms, and notifies on ALARM and OK from all four', () => {
    for (const [alarmName, alarm] of Object.entries(alarms)) {
      const rollsBack = !alarmName.endsWith('routing-efficiency');
      expect(alarm.AlarmActions).toEqual(rollsBack ? [rollbackArn, topicRef] : [topicRef]);
      expect(alarm.OKActions).toEqual([topicRef]);
    }
    const permissions = Object.values(resourcesOf(template, 'AWS::Lambda::Permission')).filter((p) => p.Properties.Principal === 'lambda.alarms.cloudwatch.amazonaws.com');
    expect(permissions).toHaveLength(3);
    for (const permission of permissions) {
      expect(permission.Properties).toMatchObject({ Action: 'lambda:InvokeFunction', FunctionName: rollbackArn, SourceArn: expect.anything() });
    }
  });

  it('runs the rollback function one at a time, keeps failed invocations, and lets it write only the latch, flag and traffic', () => {
    const fn = resourcesOf(template, 'AWS::Lambda::Function')[rollbackFunctionId]!;
    expect(fn.Properties).toMatchObject({ Runtime: 'nodejs24.x', ReservedConcurrentExecutions: 1, Environment: { Variables: { ENVIRONMENT: name, CONFIG_PATH: `/hybrid-routing/${name}`, TOPIC_ARN: topicRef } } });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: rollbackFunctionId },
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RollbackFailures'), 'Arn'] } } },
    });
    const roleId = fn.Properties.Role['Fn::GetAtt'][0] as string;
    const statements = Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
      .filter((p) => p.Properties.Roles.some((r: any) => r.Ref === roleId))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    const byAction = Object.fromEntries(statements.map((s: any) => [[s.Action].flat().join(','), s.Resource]));
    expect(JSON.stringify(byAction['ssm:PutParameter'])).toMatch(/rollback\/state.*|feature-flags\/hybrid-routing|traffic\/percentage/);
    expect((byAction['ssm:PutParameter'] as unknown[]).map((r) => JSON.stringify(r).match(/parameter\/hybrid-routing\/[a-z]+\/([a-z/-]+)/)![1]).sort()).toEqual([
      'feature-flags/hybrid-routing',
      'rollback/state',
      'traffic/percentage',
    ]);
    expect(byAction['sns:Publish']).toEqual(topicRef);
    expect(Object.keys(byAction).sort()).toEqual([
      'kms:Decrypt,kms:GenerateDataKey*',
      'sns:Publish',
      'sqs:GetQueueAttributes,sqs:GetQueueUrl,sqs:SendMessage',
      'ssm:GetParameter,ssm:GetParameters,ssm:GetParametersByPath',
      'ssm:PutParameter',
      'xray:PutTelemetryRecords,xray:PutTraceSegments',
    ]);
  });

  it('notifies through a topic that enforces TLS and is encrypted with a key CloudWatch may use', () => {
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] })]) },
    });
  });

  it.each(Object.keys(DASHBOARD_CONTENTS) as (keyof typeof DASHBOARD_CONTENTS)[])('draws the %s dashboard with every DESIGN §7 metric that belongs to it', (dashboard) => {
    const resource = Object.values(resourcesOf(template, 'AWS::CloudWatch::Dashboard')).find((d) => d.Properties.DashboardName === `HybridRouting-${name}-${dashboard}`);
    expect(resource).toBeDefined();
    const shown = dashboardMetrics(dashboardBody(resource!));
    for (const metric of DASHBOARD_CONTENTS[dashboard]) {
      const drawn = shown.filter((m) => m[0] === 'HybridRouting' && m[1] === metric.name);
      expect({ metric: metric.name, drawn: drawn.length > 0 }).toEqual({ metric: metric.name, drawn: true });
      for (const m of drawn) {
        const dims = Object.fromEntries(m.slice(2).filter((x) => typeof x === 'string').reduce<string[][]>((pairs, value, i, all) => (i % 2 === 0 ? [...pairs, [value, all[i + 1]!]] : pairs), []));
        expect(dims).toMatchObject({ Environment: name });
        if (metric.dimension) expect(Object.keys(dims)).toContain(metric.dimension);
      }
    }
  });

  it('shows every DESIGN §7 metric on some dashboard', () => {
    const shown = new Set(
      Object.values(resourcesOf(template, 'AWS::CloudWatch::Dashboard')).flatMap((d) => dashboardMetrics(dashboardBody(d)).filter((m) => m[0] === 'HybridRouting').map((m) => m[1])),
    );
    expect(Object.values(METRICS).map((m) => m.name).filter((n) => !shown.has(n))).toEqual([]);
  });
});

describe('notification e-mail', () => {
  it('subscribes the configured address to the topic', () => {
    const context = structuredClone(cdkJson.context) as any;
    context.environments.staging.notificationEmail = 'oncall@example.org';
    const { stacks: [stack] } = synthesize({ ...context, env: 'staging' });
    templateOf(stack!).hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.org', RedrivePolicy: Match.anyValue() });
  });
});

describe('WAF', () => {
  const withWaf = () => {
    const context = structuredClone(cdkJson.context) as any;
    context.environments.prod.waf = true;
    return synthesize({ ...context, env: 'prod' });
  };

  it('puts a web ACL in front of the stage when waf is on, cdk-nag clean, and draws its blocks', () => {
    const { app, stacks: [stack] } = withWaf();
    const template = templateOf(stack!);
    template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      Rules: Match.arrayWith([
        Match.objectLike({
          Name: 'AWSManagedRulesCommonRuleSet',
          Statement: { ManagedRuleGroupStatement: Match.objectLike({ RuleActionOverrides: [{ Name: 'SizeRestrictions_BODY', ActionToUse: { Count: {} } }] }) },
        }),
        Match.objectLike({ Name: 'per-ip-rate-limit', Action: { Block: {} } }),
      ]),
    });
    template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 1);
    expect(unacknowledgedFindings(app, stack!)).toEqual([]);
    const security = Object.values(resourcesOf(template, 'AWS::CloudWatch::Dashboard')).find((d) => d.Properties.DashboardName === 'HybridRouting-prod-Security')!;
    expect(dashboardMetrics(dashboardBody(security)).some((m) => m[0] === 'AWS/WAFV2' && m[1] === 'BlockedRequests')).toBe(true);
  });

  it('has no web ACL when waf is off', () => {
    templateOf(stacks[2]!).resourceCountIs('AWS::WAFv2::WebACL', 0);
  });
});
