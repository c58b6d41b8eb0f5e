import { Match } from 'aws-cdk-lib/assertions';
import cdkJson from '../../cdk.json';
import { DASHBOARD_CONTENTS } from '../../lib/constructs/monitoring-dashboards';
import { ALARMS, alarmNameOf, deadLetterAlarmNameOf, rollbackLevelOf, type AlarmId } from '../../lambda/shared/alarms';
import { METRICS } from '../../lambda/shared/metric-catalog';
import { ENVIRONMENT_NAMES, resourcesOf, synthesize, templateOf, unacknowledgedFindings } from './synth';

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

  const slow = config.alarms;
  const expectedAlarmIds = Object.keys(ALARMS) as AlarmId[];
  const deadLetterLabels = [
    'health-check-failures',
    'rollback-failures',
    ...(config.notifications.emails.length > 0 ? ['notifications-undelivered'] : []),
    'job-failures',
    'smoke-test-failures',
    'ramp-failures',
  ];

  it('has exactly the alarms of DESIGN §8, one per dead-letter queue, and only the stale-health alarm treats missing data as breaching', () => {
    expect(Object.keys(alarms).sort()).toEqual(
      [...expectedAlarmIds.map((a) => alarmNameOf(name, a)), ...deadLetterLabels.map((l) => deadLetterAlarmNameOf(name, l))].sort(),
    );
    for (const [alarmName, alarm] of Object.entries(alarms)) {
      expect({ alarmName, missing: alarm.TreatMissingData }).toEqual({ alarmName, missing: alarmName === alarmNameOf(name, 'healthChecksStale') ? 'breaching' : 'notBreaching' });
    }
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

  it('invokes the rollback function from the four rollback alarms, and notifies on ALARM and OK from every alarm', () => {
    const rollbackAlarms = expectedAlarmIds.filter((a) => ALARMS[a].rollbackLevel !== null).map((a) => alarmNameOf(name, a));
    expect(rollbackAlarms.sort()).toEqual(['direct-bedrock-health', 'hybrid-error-rate', 'hybrid-error-rate-low-traffic', 'hybrid-latency'].map((k) => `HybridRouting-${name}-${k}`));
    for (const [alarmName, alarm] of Object.entries(alarms)) {
      expect({ alarmName, actions: alarm.AlarmActions }).toEqual({ alarmName, actions: rollbackAlarms.includes(alarmName) ? [rollbackArn, topicRef] : [topicRef] });
      expect({ alarmName, ok: alarm.OKActions }).toEqual({ alarmName, ok: [topicRef] });
    }
    const permissions = Object.values(resourcesOf(template, 'AWS::Lambda::Permission')).filter((p) => p.Properties.Principal === 'lambda.alarms.cloudwatch.amazonaws.com');
    expect(permissions).toHaveLength(rollbackAlarms.length);
    for (const permission of permissions) {
      expect(permission.Properties).toMatchObject({ Action: 'lambda:InvokeFunction', FunctionName: rollbackArn, SourceArn: expect.anything() });
    }
  });

  it('maps the low-traffic error-rate alarm to a level-2 rollback in the rollback function', () => {
    expect(rollbackLevelOf(name, alarmNameOf(name, 'hybridErrorRateLowTraffic'))).toBe(2);
    expect(rollbackLevelOf(name, alarmNameOf(name, 'controlErrorRate'))).toBeUndefined();
  });

  it('rolls back at level 2 on the hybrid error rate over 1-minute windows, judged with its own minimum sample', () => {
    const alarm = alarms[alarmNameOf(name, 'hybridErrorRateLowTraffic')];
    expect(alarm).toMatchObject({ Threshold: config.alarms.errorRatePercent, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 5, DatapointsToAlarm: slow.lowTrafficDatapoints });
    expect(alarm.Metrics).toEqual([
      { Id: 'expr_1', Expression: `IF(requests >= ${slow.lowTrafficMinRequests}, 100 * errors / requests, 0)`, Label: 'hybrid error rate (%)', ReturnData: true },
      { Id: 'requests', MetricStat: metricStat('Requests', hybridRouter, 'Sum', 60), ReturnData: false },
      { Id: 'errors', MetricStat: metricStat('Errors', hybridRouter, 'Sum', 60), ReturnData: false },
    ]);
  });

  it('notifies on the control cohort error rate, and says why a rollback cannot help', () => {
    const alarm = alarms[alarmNameOf(name, 'controlErrorRate')];
    const controlRouter = { ...hybridRouter, Cohort: 'control' };
    expect(alarm).toMatchObject({ Threshold: config.alarms.errorRatePercent, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 5, DatapointsToAlarm: slow.lowTrafficDatapoints });
    expect(alarm.AlarmDescription).toMatch(/^Notify only: .*baseline path.*no rollback can help/);
    expect(alarm.Metrics).toEqual([
      { Id: 'expr_1', Expression: `IF(requests >= ${slow.lowTrafficMinRequests}, 100 * errors / requests, 0)`, Label: 'control error rate (%)', ReturnData: true },
      { Id: 'requests', MetricStat: metricStat('Requests', controlRouter, 'Sum', 60), ReturnData: false },
      { Id: 'errors', MetricStat: metricStat('Errors', controlRouter, 'Sum', 60), ReturnData: false },
    ]);
  });

  it.each([
    ['rollbackErrors', 'RollbackRollbackFunction', 'Errors'],
    ['routerErrors', 'RouterApiRouterFunction', 'Errors'],
    ['routerThrottles', 'RouterApiRouterFunction', 'Throttles'],
  ] as const)('notifies on any %s (Lambda %s %s in a minute)', (alarmId, functionPrefix, metricName) => {
    const functionId = Object.keys(resourcesOf(template, 'AWS::Lambda::Function')).find((id) => id.startsWith(functionPrefix))!;
    expect(alarms[alarmNameOf(name, alarmId)]).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: metricName,
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionId } }],
      Statistic: 'Sum',
      Period: 60,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
    });
  });

  it('notifies when no health-check run reported in 3 schedule periods, missing data breaching', () => {
    const alarm = alarms[alarmNameOf(name, 'healthChecksStale')];
    const period = config.healthCheck.rateMinutes * 60;
    expect(alarm).toMatchObject({ Threshold: 1, ComparisonOperator: 'LessThanThreshold', EvaluationPeriods: 3, TreatMissingData: 'breaching' });
    expect(alarm.DatapointsToAlarm ?? alarm.EvaluationPeriods).toBe(3);
    expect(alarm.Metrics).toEqual([
      { Id: 'expr_1', Expression: 'FILL(runs, 0)', Label: 'health-check runs', ReturnData: true },
      {
        Id: 'runs',
        MetricStat: { ...metricStat('HealthCheckSuccess', { Component: 'direct-bedrock', Environment: name, Service: 'health-check' }, 'SampleCount', period) },
        ReturnData: false,
      },
    ]);
  });

  it('notifies on any ConfigProblems, summed over the router and the health check', () => {
    const alarm = alarms[alarmNameOf(name, 'configProblems')];
    expect(alarm).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 1 });
    expect(alarm.Metrics).toEqual([
      { Id: 'expr_1', Expression: 'SUM([router, healthCheck])', Label: 'config problems', ReturnData: true },
      { Id: 'router', Label: 'config problems (router)', MetricStat: metricStat('ConfigProblems', { Environment: name, Service: 'router' }, 'Sum', 60), ReturnData: false },
      { Id: 'healthCheck', Label: 'config problems (health-check)', MetricStat: metricStat('ConfigProblems', { Environment: name, Service: 'health-check' }, 'Sum', 60), ReturnData: false },
    ]);
  });

  it('notifies on any message in any dead-letter queue', () => {
    const queues = resourcesOf(template, 'AWS::SQS::Queue');
    const prefixes: Record<string, string> = {
      'health-check-failures': 'HealthChecksFailures',
      'rollback-failures': 'RollbackFailures',
      'notifications-undelivered': 'NotificationsUndelivered',
      'job-failures': 'JobsDeadLetters',
      'smoke-test-failures': 'RouterDeploymentFailures',
      'ramp-failures': 'RampControllerFailures',
    };
    // Every queue with no redrive of its own is the end of a line, and must be watched.
    const deadLetterQueues = Object.entries(queues).filter(([, q]) => q.Properties.RedrivePolicy === undefined).map(([id]) => id);
    expect(deadLetterQueues.length).toBe(deadLetterLabels.length);
    for (const label of deadLetterLabels) {
      const queueId = deadLetterQueues.find((id) => id.startsWith(prefixes[label]!))!;
      // The jobs queue's consumer drains it, so its alarm counts arrivals rather than what is left.
      const drained = label === 'job-failures';
      expect(alarms[deadLetterAlarmNameOf(name, label)]).toMatchObject({
        Namespace: 'AWS/SQS',
        MetricName: drained ? 'NumberOfMessagesReceived' : 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
        Statistic: drained ? 'Sum' : 'Maximum',
        Period: 60,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 1,
      });
    }
  });

  it('runs the rollback function one at a time, keeps failed invocations, and lets it write only the latch, flag and traffic, and read their history', () => {
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
    // Writing and reading the history of one set of parameters is one statement.
    expect((byAction['ssm:GetParameterHistory,ssm:PutParameter'] as unknown[]).map((r) => JSON.stringify(r).match(/parameter\/hybrid-routing\/[a-z]+\/([a-z/-]+)/)![1]).sort()).toEqual([
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
      'ssm:GetParameterHistory,ssm:PutParameter',
      'xray:PutTelemetryRecords,xray:PutTraceSegments',
    ]);
  });

  it('notifies through a topic that enforces TLS and is encrypted with a key CloudWatch may use only for this account\'s alarms of this environment', () => {
    const fromTheseAlarms = {
      StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
      ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', [`arn:aws:cloudwatch:${config.region}:`, { Ref: 'AWS::AccountId' }, `:alarm:HybridRouting-${name}-*`]] } },
    };
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    const [topicPolicy] = Object.values(resourcesOf(template, 'AWS::SNS::TopicPolicy'));
    expect(topicPolicy!.Properties.PolicyDocument.Statement).toEqual([
      expect.objectContaining({ Effect: 'Deny', Action: 'sns:Publish', Principal: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      expect.objectContaining({ Effect: 'Allow', Action: 'sns:Publish', Principal: { Service: 'cloudwatch.amazonaws.com' }, Resource: topicRef, Condition: fromTheseAlarms }),
    ]);
    const [key] = Object.values(resourcesOf(template, 'AWS::KMS::Key'));
    expect(key!.Properties.EnableKeyRotation).toBe(true);
    const cloudWatchStatements = key!.Properties.KeyPolicy.Statement.filter((s: any) => s.Principal?.Service === 'cloudwatch.amazonaws.com');
    expect(cloudWatchStatements).toEqual([{ Effect: 'Allow', Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Resource: '*', Condition: fromTheseAlarms }]);
    expect(key!.Properties.KeyPolicy.Statement).toHaveLength(2);
  });

  it('subscribes the configured e-mail addresses, keeping what SNS cannot deliver', () => {
    const subscriptions = Object.values(resourcesOf(template, 'AWS::SNS::Subscription')).map((s) => s.Properties);
    expect(subscriptions.map((s) => [s.Protocol, s.Endpoint])).toEqual(config.notifications.emails.map((e: string) => ['email', e]));
    for (const subscription of subscriptions) {
      expect(subscription.RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': [expect.stringMatching(/^NotificationsUndelivered/), 'Arn'] } });
    }
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

  it('counts rollbacks and clears on the Overview from every function and source that emits them', () => {
    const overview = Object.values(resourcesOf(template, 'AWS::CloudWatch::Dashboard')).find((d) => d.Properties.DashboardName === `HybridRouting-${name}-Overview`)!;
    const drawn = dashboardMetrics(dashboardBody(overview))
      .filter((m) => m[1] === 'RollbackExecuted')
      .map((m) => {
        const dims = Object.fromEntries(m.slice(2).filter((x) => typeof x === 'string').reduce<string[][]>((pairs, value, i, all) => (i % 2 === 0 ? [...pairs, [value, all[i + 1]!]] : pairs), []));
        return `${dims.Service} ${dims.Level} ${dims.Source}`;
      });
    for (const level of ['1', '2', '3', 'clear']) {
      expect(drawn).toEqual(expect.arrayContaining([`rollback ${level} alarm`, `rollback ${level} manual`, `admin ${level} manual`]));
    }
  });

  it('shows every DESIGN §7 metric on some dashboard', () => {
    const shown = new Set(
      Object.values(resourcesOf(template, 'AWS::CloudWatch::Dashboard')).flatMap((d) => dashboardMetrics(dashboardBody(d)).filter((m) => m[0] === 'HybridRouting').map((m) => m[1])),
    );
    expect(Object.values(METRICS).map((m) => m.name).filter((n) => !shown.has(n))).toEqual([]);
  });
});

describe('notification subscribers', () => {
  const withNotifications = (environment: string, notifications: unknown) => {
    const context = structuredClone(cdkJson.context) as any;
    context.environments[environment].notifications = notifications;
    return synthesize({ ...context, env: environment });
  };

  it('fails synth for prod with no subscriber, naming the key and the fix', () => {
    expect(() => withNotifications('prod', { emails: [], forwardTo: [] })).toThrow(
      /environments\.prod\.notifications: prod has no notification subscriber.*Fix: add an address to "environments\.prod\.notifications\.emails" or an SNS topic ARN to "environments\.prod\.notifications\.forwardTo"/,
    );
    expect(() => withNotifications('prod', undefined)).toThrow(/prod has no notification subscriber/);
  });

  describe('forwarding to existing topics', () => {
    const chat = 'arn:aws:sns:eu-central-1:123456789012:chat-ops';
    const pager = 'arn:aws:sns:eu-west-1:210987654321:pager';
    const { app, stacks: [stack] } = withNotifications('staging', { emails: ['oncall@example.org'], forwardTo: [chat, pager] });
    const template = templateOf(stack!);
    const functions = resourcesOf(template, 'AWS::Lambda::Function');
    const [forwarderId, forwarder] = Object.entries(functions).find(([id]) => id.startsWith('NotificationsForwarderFunction'))!;
    const undelivered = { 'Fn::GetAtt': [expect.stringMatching(/^NotificationsUndelivered/), 'Arn'] };

    it('subscribes a forwarder function and every address to the topic, both with a dead-letter queue', () => {
      const subscriptions = Object.values(resourcesOf(template, 'AWS::SNS::Subscription')).map((s) => s.Properties);
      expect(subscriptions.map((s) => [s.Protocol, s.Endpoint])).toEqual(
        expect.arrayContaining([
          ['email', 'oncall@example.org'],
          ['lambda', { 'Fn::GetAtt': [forwarderId, 'Arn'] }],
        ]),
      );
      expect(subscriptions).toHaveLength(2);
      for (const subscription of subscriptions) expect(subscription.RedrivePolicy).toEqual({ deadLetterTargetArn: undelivered });
      template.hasResourceProperties('AWS::Lambda::Permission', { FunctionName: { 'Fn::GetAtt': [forwarderId, 'Arn'] }, Principal: 'sns.amazonaws.com', SourceArn: { Ref: Match.stringLikeRegexp('^NotificationsTopic') } });
    });

    it('lets the forwarder publish to exactly the configured topics, and keeps what it could not forward', () => {
      expect(forwarder.Properties.Environment.Variables).toMatchObject({ ENVIRONMENT: 'staging', FORWARD_TOPIC_ARNS: `${chat},${pager}` });
      const roleId = forwarder.Properties.Role['Fn::GetAtt'][0] as string;
      const statements = Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
        .filter((p) => p.Properties.Roles.some((r: any) => r.Ref === roleId))
        .flatMap((p) => p.Properties.PolicyDocument.Statement);
      const byAction = Object.fromEntries(statements.map((s: any) => [[s.Action].flat().join(','), s.Resource]));
      expect(byAction['sns:Publish']).toEqual([chat, pager]);
      expect(Object.keys(byAction).sort()).toEqual(['sns:Publish', 'sqs:GetQueueAttributes,sqs:GetQueueUrl,sqs:SendMessage', 'xray:PutTelemetryRecords,xray:PutTraceSegments']);
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: forwarderId },
        MaximumRetryAttempts: 2,
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^NotificationsForwardFailures'), 'Arn'] } } },
      });
    });

    it('watches both notification queues, outputs the forwarder role, and stays cdk-nag clean', () => {
      const alarmNames = Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties.AlarmName);
      expect(alarmNames).toEqual(expect.arrayContaining(['notifications-undelivered', 'notifications-forward-failures'].map((l) => deadLetterAlarmNameOf('staging', l))));
      template.hasOutput('NotificationForwarderRoleArn', { Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^NotificationsForwarderFunctionServiceRole'), 'Arn'] } });
      expect(unacknowledgedFindings(app, stack!)).toEqual([]);
    });
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
