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
    });
  });

  it('names the key and the fix for an unknown environment', () => {
    expect(() => selectEnvironments(context({ ...cdkJson.context, env: 'qa' }))).toThrow(
      /context "env" is "qa"; it must be one of dev, staging, prod\. Fix: run with -c env=dev/,
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
  ])('rejects a bad value with the key and the fix (%#)', (raw, message) => {
    expect(() => parseEnvironmentConfig('dev', raw)).toThrow(EnvironmentConfigError);
    expect(() => parseEnvironmentConfig('dev', raw)).toThrow(message);
  });

  it('says which environment entry is missing', () => {
    expect(() => parseEnvironmentConfig('prod', undefined)).toThrow('context "environments.prod" is missing');
  });
});
