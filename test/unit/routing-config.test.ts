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

  describe('rollback/state (safety invariant 5)', () => {
    const latchFrom = (value: string | undefined) => {
      const values: Record<string, string | undefined> = { ...DEFAULT_PARAMETER_VALUES, 'rollback/state': value };
      return parseRoutingConfig(values);
    };

    it.each([
      ['the minimal clear value', '{"active":false}'],
      ['the minimal clear value with spaces', ' { "active" : false } '],
      ['the full clear value', JSON.stringify(CLEAR_ROLLBACK_STATE)],
    ])('reads %s as a clear latch with empty fields and no problem', (_name, value) => {
      const { config, problems } = latchFrom(value);
      expect(config.rollback).toEqual(CLEAR_ROLLBACK_STATE);
      expect(problems).toEqual([]);
    });

    it('fills the fields a latch leaves out with their empty values', () => {
      const { config, problems } = latchFrom('{"active":true,"level":2,"reason":"by hand"}');
      expect(config.rollback).toEqual({ ...CLEAR_ROLLBACK_STATE, active: true, level: 2, reason: 'by hand' });
      expect(problems).toEqual([]);
    });

    it.each([
      ['missing', undefined, 'rollback/state is missing'],
      ['not JSON', '{not json', 'rollback/state does not parse'],
      ['empty', '', 'rollback/state does not parse'],
      ['JSON null', 'null', 'rollback/state does not parse'],
      ['an array', '[]', 'rollback/state does not parse'],
      ['an object without active', '{}', 'rollback/state does not parse'],
      ['active as a string', '{"active":"false"}', 'rollback/state does not parse'],
      ['an unknown field', '{"active":false,"extra":1}', 'rollback/state does not parse'],
      ['a field of the wrong type', '{"active":false,"level":"two"}', 'rollback/state does not parse'],
    ])('reads a value that is %s as an active latch and reports it', (_name, value, problem) => {
      const { config, problems } = latchFrom(value);
      expect(config.rollback).toMatchObject({ active: true, source: 'fail-safe', reason: expect.stringContaining(problem) });
      expect(problems).toEqual([`${problem}; reading it as an active latch (control path)`]);
    });
  });

  it('treats missing parameters as safe defaults, the latch as active, and reports them', () => {
    const { config, problems } = parseRoutingConfig({});
    expect(config).toMatchObject({ hybridEnabled: false, trafficPercentage: 0, rollback: { active: true } });
    expect(problems).toHaveLength(6);
  });
});
