import { aggregateSupport, healthView, nextHealth } from '../../lambda/core/health';
import { UNKNOWN_HEALTH, type ComponentHealth } from '../../lambda/shared/routing-config';

const at = new Date('2026-11-23T10:00:00Z');
const ok = { ok: true, latencyMs: 12.4, message: 'answered' };
const failed = { ok: false, latencyMs: 3, message: 'ThrottlingException: slow down' };
const health = (status: ComponentHealth['status'], lastCheckedAt = at.toISOString(), consecutiveFailures = 0): ComponentHealth => ({
  status,
  lastCheckedAt,
  latencyMs: 10,
  consecutiveFailures,
  message: status,
});

describe('nextHealth', () => {
  it('walks healthy → degraded → degraded → unhealthy on failures, and back to healthy on success', () => {
    let current: ComponentHealth | undefined;
    const statuses: string[] = [];
    for (const probe of [ok, failed, failed, failed, failed, ok]) {
      current = nextHealth('direct-bedrock', current, probe, at, 3).health;
      statuses.push(`${current.status}/${current.consecutiveFailures}`);
    }
    expect(statuses).toEqual(['healthy/0', 'degraded/1', 'degraded/2', 'unhealthy/3', 'unhealthy/4', 'healthy/0']);
  });

  it('records when, how fast and why', () => {
    const { health: next, reason } = nextHealth('direct-bedrock', health('healthy'), failed, at, 3);
    expect(next).toEqual({ status: 'degraded', lastCheckedAt: '2026-11-23T10:00:00.000Z', latencyMs: 3, consecutiveFailures: 1, message: failed.message });
    expect(reason).toBe('direct-bedrock healthy -> degraded after 1 failed check(s): ThrottlingException: slow down');
  });

  it('says when nothing changed', () => {
    expect(nextHealth('mcp-router', health('healthy'), ok, at, 3).reason).toBe('mcp-router still healthy: answered');
  });
});

describe('aggregateSupport', () => {
  const fresh = { stale: false, checkedAt: at.toISOString() };
  it.each<[ComponentHealth['status'], ComponentHealth['status'], boolean, ComponentHealth['status']]>([
    ['healthy', 'healthy', false, 'healthy'],
    ['unhealthy', 'healthy', false, 'degraded'],
    ['healthy', 'unhealthy', false, 'degraded'],
    ['degraded', 'healthy', false, 'degraded'],
    ['unhealthy', 'unhealthy', false, 'unhealthy'],
    ['healthy', 'healthy', true, 'unhealthy'],
    ['unknown', 'unknown', false, 'unknown'],
  ])('bedrock %s + mcp %s (stale: %s) → %s', (bedrock, mcp, stale, expected) => {
    expect(aggregateSupport(health(bedrock), health(mcp), { ...fresh, stale }).status).toBe(expected);
  });
});

describe('healthView', () => {
  const period = 60_000;
  const now = at.getTime();
  const minutesAgo = (m: number) => new Date(now - m * 60_000).toISOString();
  const stored = (checkedAt: string) => ({
    'direct-bedrock': health('healthy', checkedAt),
    'mcp-router': health('healthy', checkedAt),
    'intelligent-router': health('healthy', checkedAt),
    'hybrid-monitor': health('healthy', checkedAt),
  });

  it('reports fresh data as stored, with the aggregate', () => {
    const view = healthView(stored(minutesAgo(1)), now, period);
    expect(view.status).toBe('healthy');
    expect(view.components['bedrock-support']).toMatchObject({ status: 'healthy', lastCheckedAt: minutesAgo(1) });
  });

  it('marks the monitor unhealthy and the aggregate unhealthy when the last run is older than three periods', () => {
    const view = healthView(stored(minutesAgo(3.5)), now, period);
    expect(view.status).toBe('unhealthy');
    expect(view.components['hybrid-monitor'].status).toBe('unhealthy');
    expect(view.components['direct-bedrock'].status).toBe('unknown');
    expect(view.components['bedrock-support']).toMatchObject({ status: 'unhealthy', message: expect.stringContaining('stale') });
  });

  it('reports degraded, not unhealthy, before the first run', () => {
    const view = healthView({}, now, period);
    expect(view.status).toBe('degraded');
    expect(view.components['hybrid-monitor']).toMatchObject({ status: 'unknown', message: 'the health checks have not run yet' });
    expect(view.components['direct-bedrock']).toEqual(UNKNOWN_HEALTH);
  });

  it('reports degraded when one path is down and unhealthy when both are', () => {
    const oneDown = { ...stored(minutesAgo(1)), 'mcp-router': health('unhealthy', minutesAgo(1), 3) };
    expect(healthView(oneDown, now, period).status).toBe('degraded');
    const bothDown = { ...oneDown, 'direct-bedrock': health('unhealthy', minutesAgo(1), 3) };
    expect(healthView(bothDown, now, period).status).toBe('unhealthy');
  });
});
