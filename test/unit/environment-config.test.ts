import cdkJson from '../../cdk.json';
import { EnvironmentConfigError, parseEnvironmentConfig, selectEnvironments } from '../../lib/config/environment-config';

const context = (values: Record<string, unknown>) => (key: string) => values[key];
const dev = cdkJson.context.environments.dev;

describe('environment config', () => {
  it('reads all three environments of cdk.json, or the one selected', () => {
    expect(selectEnvironments(context(cdkJson.context)).map((e) => e.name)).toEqual(['dev', 'staging', 'prod']);
    expect(selectEnvironments(context({ ...cdkJson.context, env: 'prod' })).map((e) => e.name)).toEqual(['prod']);
  });

  it('fills defaults for what an environment leaves out', () => {
    const config = parseEnvironmentConfig('dev', { bedrock: dev.bedrock, mcp: dev.mcp });
    expect(config).toMatchObject({
      region: 'eu-central-1',
      healthCheck: { rateMinutes: 1, unhealthyAfter: 3 },
      configCacheTtlSeconds: 5,
      logRetentionDays: 30,
      waf: false,
      alarms: { minRequests: 10, lowTrafficMinRequests: 2, lowTrafficDatapoints: 3 },
      throttling: { rateLimit: 50, burstLimit: 100, healthRateLimit: 10, healthBurstLimit: 20 },
      notifications: { emails: [], forwardTo: [] },
    });
  });

  it('fills the new alarm and throttle keys when an environment names only the older ones', () => {
    const config = parseEnvironmentConfig('dev', { ...dev, alarms: { errorRatePercent: 5, minRequests: 10, latencyP95Ms: 15000, routingEfficiencyPercent: 70 }, throttling: { rateLimit: 20, burstLimit: 40 } });
    expect(config.alarms).toMatchObject({ lowTrafficMinRequests: 2, lowTrafficDatapoints: 3 });
    expect(config.throttling).toEqual({ rateLimit: 20, burstLimit: 40, healthRateLimit: 10, healthBurstLimit: 20 });
  });

  it('fails prod with no notification subscriber, naming the key and the fix; dev and staging may have none', () => {
    const prod = cdkJson.context.environments.prod;
    for (const notifications of [undefined, { emails: [], forwardTo: [] }]) {
      expect(() => parseEnvironmentConfig('prod', { ...prod, notifications })).toThrow(EnvironmentConfigError);
      expect(() => parseEnvironmentConfig('prod', { ...prod, notifications })).toThrow(
        '- environments.prod.notifications: prod has no notification subscriber, so every alarm and rollback notice would be dropped. ' +
          'Fix: add an address to "environments.prod.notifications.emails" or an SNS topic ARN to "environments.prod.notifications.forwardTo" in cdk.json.',
      );
    }
    expect(parseEnvironmentConfig('prod', { ...prod, notifications: { forwardTo: ['arn:aws:sns:eu-central-1:123456789012:oncall'] } }).notifications).toEqual({
      emails: [],
      forwardTo: ['arn:aws:sns:eu-central-1:123456789012:oncall'],
    });
    expect(parseEnvironmentConfig('dev', { ...dev, notifications: undefined }).notifications).toEqual({ emails: [], forwardTo: [] });
  });

  it('ships a subscriber for prod in cdk.json', () => {
    const prod = selectEnvironments(context({ ...cdkJson.context, env: 'prod' }))[0]!;
    expect(prod.config.notifications.emails.length + prod.config.notifications.forwardTo.length).toBeGreaterThan(0);
  });

  it('tells where the old notificationEmail went', () => {
    expect(() => parseEnvironmentConfig('dev', { ...dev, notificationEmail: 'a@example.com' })).toThrow(
      'environments.dev.notificationEmail: replaced by a list. Fix: move the address to "environments.dev.notifications.emails" in cdk.json.',
    );
  });

  it('names the key and the fix for an unknown environment', () => {
    expect(() => selectEnvironments(context({ ...cdkJson.context, env: 'qa' }))).toThrow(
      /context "env" is "qa"; it must be one of dev, staging, prod\. Fix: run with -c env=dev \(or another entry of "environments" in cdk.json\), add a "qa" entry there/,
    );
  });

  it.each([
    [{ ...dev, region: 'Frankfurt' }, 'environments.dev.region: must be an AWS region code'],
    [{ ...dev, configCacheTtlSeconds: 0.5 }, 'environments.dev.configCacheTtlSeconds'],
    [{ ...dev, logRetentionDays: 10 }, "environments.dev.logRetentionDays: must be one of CloudWatch Logs' retention periods"],
    [{ ...dev, mcp: { ...dev.mcp, serverUrl: 'ftp://x' } }, 'environments.dev.mcp.serverUrl: must be the http(s) URL'],
    [{ ...dev, alarms: { ...dev.alarms, errorRatePercent: 500 } }, 'environments.dev.alarms.errorRatePercent: must be the hybrid error rate'],
    [{ ...dev, bedrock: { modelId: 'eu.anthropic.claude-3-haiku-20240307-v1:0' } }, 'needs inferenceProfileRegions'],
    [{ ...dev, colour: 'red' }, 'environments.dev: unknown key "colour". Fix: remove it'],
    [{ ...dev, notifications: { emails: ['not an address'] } }, 'environments.dev.notifications.emails.0: must be e-mail addresses'],
    [{ ...dev, notifications: { forwardTo: ['arn:aws:sns:eu-central-1:123456789012:orders.fifo'] } }, 'environments.dev.notifications.forwardTo.0: must be ARNs of existing standard SNS topics'],
    [{ ...dev, notifications: { forwardTo: ['oncall'] } }, 'environments.dev.notifications.forwardTo.0: must be ARNs of existing standard SNS topics'],
    [{ ...dev, throttling: { ...dev.throttling, healthRateLimit: 1000 } }, 'environments.dev.throttling: healthRateLimit and healthBurstLimit must not exceed rateLimit and burstLimit'],
    [{ ...dev, alarms: { ...dev.alarms, lowTrafficDatapoints: 6 } }, 'environments.dev.alarms.lowTrafficDatapoints: must be at most 5'],
  ])('rejects a bad value with the key and the fix (%#)', (raw, message) => {
    expect(() => parseEnvironmentConfig('dev', raw)).toThrow(EnvironmentConfigError);
    expect(() => parseEnvironmentConfig('dev', raw)).toThrow(message);
  });

  it('says which environment entry is missing', () => {
    expect(() => parseEnvironmentConfig('prod', undefined)).toThrow('context "environments.prod" is missing');
  });
});
