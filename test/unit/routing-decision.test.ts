import { CohortAssigner } from '../../lambda/core/cohort';
import { decideRoute, isPathUsable } from '../../lambda/core/routing-decision';
import { CLEAR_ROLLBACK_STATE, DEFAULT_POLICY, type ComponentHealth } from '../../lambda/shared/routing-config';
import { OPERATIONS, type Operation } from '../../lambda/shared/vocabulary';
import { hybridConfig } from '../support/routing';

const cohorts = new CohortAssigner();
const decide = (operation: Operation, config = hybridConfig(), bedrockUsable = true, routingKey = 'tenant-42') =>
  decideRoute({ config, operation, routingKey, bedrockUsable }, cohorts);

const latched = hybridConfig({ rollback: { ...CLEAR_ROLLBACK_STATE, active: true, level: 1, reason: 'drill', source: 'test', at: null } });

describe('decideRoute: the hybrid cohort, by operation (DESIGN §5 table)', () => {
  it.each<[Operation, string[], string[]]>([
    ['emergency', ['bedrock', 'mcp'], ['bedrock', 'mcp']],
    ['infrastructure', ['bedrock', 'mcp'], ['mcp', 'bedrock']],
    ['meta-monitor', ['bedrock', 'mcp'], ['mcp', 'bedrock']],
    ['implementation', ['bedrock', 'mcp'], ['mcp', 'bedrock']],
    ['kiro-communication', ['mcp', 'bedrock'], ['mcp', 'bedrock']],
    ['standard-analysis', ['mcp', 'bedrock'], ['mcp', 'bedrock']],
    ['background', ['mcp', 'bedrock'], ['mcp', 'bedrock']],
  ])('%s: %j while direct-bedrock is usable, %j while it is not', (operation, usable, notUsable) => {
    expect(decide(operation, hybridConfig(), true)).toMatchObject({ kind: 'route', cohort: 'hybrid', plan: usable });
    expect(decide(operation, hybridConfig(), false)).toMatchObject({ kind: 'route', cohort: 'hybrid', plan: notUsable });
  });

  it('follows a policy that changes an operation strategy', () => {
    const policy = {
      ...DEFAULT_POLICY,
      operations: { ...DEFAULT_POLICY.operations, background: { strategy: 'bedrock-first' as const, budget: { targetMs: 1_000, hardMs: 2_000 } } },
    };
    expect(decide('background', hybridConfig({ policy }))).toMatchObject({ plan: ['bedrock', 'mcp'] });
  });
});

describe('decideRoute: the order of decision', () => {
  it.each(OPERATIONS)('sends %s down the control path, MCP only, when the flag is off', (operation) => {
    expect(decide(operation, hybridConfig({ hybridEnabled: false }))).toMatchObject({ cohort: 'control', plan: ['mcp'] });
  });

  it('sends callers outside the cohort down the control path', () => {
    // tenant-42 sits in bucket 7516: outside at 75%, inside at 76%.
    expect(decide('emergency', hybridConfig({ trafficPercentage: 75 }))).toMatchObject({ cohort: 'control', plan: ['mcp'] });
    expect(decide('emergency', hybridConfig({ trafficPercentage: 76 }))).toMatchObject({ cohort: 'hybrid', plan: ['bedrock', 'mcp'] });
  });

  it.each(OPERATIONS)('lets the rollback latch win over mode, flag and traffic for %s', (operation) => {
    expect(decide(operation, { ...latched, mode: 'force-bedrock' })).toMatchObject({ cohort: 'control', plan: ['mcp'], reason: 'rollback latch active' });
  });

  it('sheds every non-emergency operation in emergency-only mode, even under the latch', () => {
    for (const operation of OPERATIONS.filter((op) => op !== 'emergency')) {
      expect(decide(operation, { ...latched, mode: 'emergency-only' })).toMatchObject({ kind: 'shed' });
    }
    expect(decide('emergency', hybridConfig({ mode: 'emergency-only' }))).toMatchObject({ kind: 'route', plan: ['bedrock', 'mcp'] });
  });

  it.each<['force-mcp' | 'force-bedrock', string[], string[]]>([
    ['force-mcp', ['mcp'], ['mcp', 'bedrock']],
    ['force-bedrock', ['bedrock'], ['bedrock', 'mcp']],
  ])('%s uses that path only, and lets emergency fall back', (mode, plan, emergencyPlan) => {
    expect(decide('standard-analysis', hybridConfig({ mode, hybridEnabled: false }))).toMatchObject({ plan, cohort: 'control' });
    expect(decide('emergency', hybridConfig({ mode }))).toMatchObject({ plan: emergencyPlan, cohort: 'hybrid' });
  });
});

describe('isPathUsable', () => {
  const now = Date.parse('2026-01-01T00:10:00Z');
  const health = (status: ComponentHealth['status'], at: string): ComponentHealth => ({
    status,
    lastCheckedAt: at,
    latencyMs: 10,
    consecutiveFailures: 3,
    message: '',
  });

  it('treats missing health data as usable', () => expect(isPathUsable(undefined, now, 180_000)).toBe(true));
  it('treats fresh unhealthy data as not usable', () =>
    expect(isPathUsable(health('unhealthy', '2026-01-01T00:09:00Z'), now, 180_000)).toBe(false));
  it('treats degraded data as usable', () => expect(isPathUsable(health('degraded', '2026-01-01T00:09:00Z'), now, 180_000)).toBe(true));
  it('treats stale unhealthy data as unknown, hence usable', () =>
    expect(isPathUsable(health('unhealthy', '2026-01-01T00:06:59Z'), now, 180_000)).toBe(true));
});
