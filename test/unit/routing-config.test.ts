import {
  CLEAR_ROLLBACK_STATE,
  DEFAULT_PARAMETER_VALUES,
  DEFAULT_POLICY,
  parseRoutingConfig,
} from '../../lambda/shared/routing-config';

describe('parseRoutingConfig', () => {
  it('reads the config store defaults as hybrid routing off', () => {
    const { config, problems } = parseRoutingConfig(DEFAULT_PARAMETER_VALUES);
    expect(problems).toEqual([]);
    expect(config).toMatchObject({ hybridEnabled: false, trafficPercentage: 0, mode: 'auto', breakerEpoch: 0 });
    expect(config.rollback).toEqual(CLEAR_ROLLBACK_STATE);
    expect(config.policy).toEqual(DEFAULT_POLICY);
  });

  it('reads a ramped configuration and health data', () => {
    const health = { status: 'unhealthy', lastCheckedAt: '2026-01-01T00:00:00Z', latencyMs: 12, consecutiveFailures: 3, message: 'x' };
    const { config } = parseRoutingConfig({
      ...DEFAULT_PARAMETER_VALUES,
      'feature-flags/hybrid-routing': 'true',
      'traffic/percentage': '25',
      'routing/policy': JSON.stringify({ circuitBreaker: { failureThreshold: 2, coolDownMs: 5000 } }),
      'health/direct-bedrock': JSON.stringify(health),
    });
    expect(config).toMatchObject({ hybridEnabled: true, trafficPercentage: 25 });
    expect(config.policy.circuitBreaker).toEqual({ failureThreshold: 2, coolDownMs: 5000 });
    expect(config.policy.operations).toEqual(DEFAULT_POLICY.operations);
    expect(config.health['direct-bedrock']).toEqual(health);
  });

  it.each([
    ['feature-flags/hybrid-routing', 'yes', { hybridEnabled: false }],
    ['traffic/percentage', '101', { trafficPercentage: 0 }],
    ['traffic/percentage', '5.5', { trafficPercentage: 0 }],
    ['routing/mode', 'turbo', { mode: 'auto' }],
    ['routing/policy', '{"retry":{"baseDelayMs":-1}}', { policy: DEFAULT_POLICY }],
    ['circuit-breakers/epoch', 'abc', { breakerEpoch: 0 }],
  ])('fails safe when %s is %j', (name, value, expected) => {
    const { config, problems } = parseRoutingConfig({
      ...DEFAULT_PARAMETER_VALUES,
      'feature-flags/hybrid-routing': 'true',
      'traffic/percentage': '50',
      [name]: value,
    });
    expect(config).toMatchObject(expected);
    expect(problems).toEqual([expect.stringContaining(name)]);
  });

  it('treats an unreadable rollback state as an active latch', () => {
    const { config } = parseRoutingConfig({ ...DEFAULT_PARAMETER_VALUES, 'rollback/state': '{not json' });
    expect(config.rollback.active).toBe(true);
  });

  it('treats missing parameters as defaults and reports them', () => {
    const { config, problems } = parseRoutingConfig({});
    expect(config).toMatchObject({ hybridEnabled: false, trafficPercentage: 0, rollback: { active: false } });
    expect(problems).toHaveLength(6);
  });
});
