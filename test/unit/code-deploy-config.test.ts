import cdkJson from '../../cdk.json';
import { EnvironmentConfigError, parseEnvironmentConfig } from '../../lib/config/environment-config';

const dev = cdkJson.context.environments.dev;

describe('environment config: code deploys', () => {
  it('deploys all at once in dev and as a 10 % canary for 5 minutes in staging and prod, with no provisioned concurrency', () => {
    expect(parseEnvironmentConfig('dev', dev)).toMatchObject({ codeDeploy: { type: 'all-at-once' }, provisionedConcurrency: 0 });
    for (const name of ['staging', 'prod'] as const) {
      expect(parseEnvironmentConfig(name, cdkJson.context.environments[name]).codeDeploy).toEqual({ type: 'canary', percentage: 10, intervalMinutes: 5 });
    }
  });

  it('defaults to the 10 % canary when an environment leaves codeDeploy out', () => {
    expect(parseEnvironmentConfig('dev', { bedrock: dev.bedrock, mcp: dev.mcp })).toMatchObject({ codeDeploy: { type: 'canary', percentage: 10, intervalMinutes: 5 }, provisionedConcurrency: 0 });
  });

  it('accepts linear shifts and provisioned concurrency', () => {
    expect(parseEnvironmentConfig('dev', { ...dev, codeDeploy: { type: 'linear', percentage: 20, intervalMinutes: 2 }, provisionedConcurrency: 5 })).toMatchObject({
      codeDeploy: { type: 'linear', percentage: 20, intervalMinutes: 2 },
      provisionedConcurrency: 5,
    });
  });

  it.each([
    [{ type: 'blue-green' }, 'environments.dev.codeDeploy.type: must be { "type": "all-at-once" }, or { "type": "canary" | "linear"'],
    [{ type: 'canary', percentage: 100, intervalMinutes: 5 }, 'environments.dev.codeDeploy.percentage: must be at most 99'],
    [{ type: 'canary', percentage: 10, intervalMinutes: 0 }, 'environments.dev.codeDeploy.intervalMinutes: must be at least 1'],
    [{ type: 'canary', percentage: 10 }, 'environments.dev.codeDeploy.intervalMinutes: must be the minutes between canary steps'],
    [{ type: 'all-at-once', percentage: 10 }, 'environments.dev.codeDeploy: unknown key "percentage"'],
  ])('rejects codeDeploy %j with the key and the fix', (codeDeploy, message) => {
    expect(() => parseEnvironmentConfig('dev', { ...dev, codeDeploy })).toThrow(EnvironmentConfigError);
    expect(() => parseEnvironmentConfig('dev', { ...dev, codeDeploy })).toThrow(message);
  });

  it('rejects a negative or fractional provisioned concurrency', () => {
    expect(() => parseEnvironmentConfig('dev', { ...dev, provisionedConcurrency: -1 })).toThrow('environments.dev.provisionedConcurrency: must be at least 0');
    expect(() => parseEnvironmentConfig('dev', { ...dev, provisionedConcurrency: 1.5 })).toThrow('environments.dev.provisionedConcurrency: must be an integer from 0 to 10000');
  });
});
