import { UNKNOWN_HEALTH, type ComponentHealth } from '../shared/routing-config';
import type { Component, HealthStatus } from '../shared/vocabulary';

/** The components a probe checks directly; the other two are derived from these. */
export const PROBED_COMPONENTS = ['direct-bedrock', 'mcp-router', 'intelligent-router'] as const;
export type ProbedComponent = (typeof PROBED_COMPONENTS)[number];

/** How many health-check periods may pass before health data counts as stale. */
export const STALE_AFTER_PERIODS = 3;

export interface ProbeResult {
  readonly ok: boolean;
  readonly latencyMs: number;
  readonly message: string;
}

export interface HealthTransition {
  readonly health: ComponentHealth;
  /** For the parameter's description: what changed and why. */
  readonly reason: string;
}

/**
 * The next stored health of a probed component: `healthy` on success; on failure `degraded`,
 * then `unhealthy` once `unhealthyAfter` checks in a row have failed.
 */
export function nextHealth(
  component: Component,
  previous: ComponentHealth | undefined,
  probe: ProbeResult,
  checkedAt: Date,
  unhealthyAfter: number,
): HealthTransition {
  const before = previous ?? UNKNOWN_HEALTH;
  const consecutiveFailures = probe.ok ? 0 : before.consecutiveFailures + 1;
  const status: HealthStatus = probe.ok ? 'healthy' : consecutiveFailures >= unhealthyAfter ? 'unhealthy' : 'degraded';
  const health: ComponentHealth = {
    status,
    lastCheckedAt: checkedAt.toISOString(),
    latencyMs: Math.round(probe.latencyMs),
    consecutiveFailures,
    message: probe.message,
  };
  return { health, reason: describeTransition(component, before.status, health) };
}

function describeTransition(component: Component, before: HealthStatus, after: ComponentHealth): string {
  const failures = after.consecutiveFailures > 0 ? ` after ${after.consecutiveFailures} failed check(s)` : '';
  const change = before === after.status ? `still ${after.status}` : `${before} -> ${after.status}`;
  return `${component} ${change}${failures}: ${after.message}`;
}

const isStale = (health: ComponentHealth | undefined, now: number, staleAfterMs: number): boolean => {
  if (!health?.lastCheckedAt) return false;
  const checkedAt = Date.parse(health.lastCheckedAt);
  return Number.isNaN(checkedAt) || now - checkedAt > staleAfterMs;
};

/**
 * The aggregate of both paths (`bedrock-support`): healthy when both are up, degraded when one is
 * down and the other carries traffic, unhealthy when both are down or their data is stale.
 */
export function aggregateSupport(
  bedrock: ComponentHealth,
  mcp: ComponentHealth,
  options: { readonly stale: boolean; readonly checkedAt: string | null },
): ComponentHealth {
  const down = (h: ComponentHealth) => h.status === 'unhealthy';
  let status: HealthStatus;
  let message: string;
  if (options.stale) {
    status = 'unhealthy';
    message = 'health data is stale: the health checks have not run recently';
  } else if (bedrock.status === 'unknown' && mcp.status === 'unknown') {
    status = 'unknown';
    message = 'no health check has reported yet';
  } else if (down(bedrock) && down(mcp)) {
    status = 'unhealthy';
    message = 'both paths are down';
  } else if (down(bedrock) || down(mcp)) {
    status = 'degraded';
    message = `${down(bedrock) ? 'direct-bedrock' : 'mcp-router'} is down; ${down(bedrock) ? 'mcp-router' : 'direct-bedrock'} carries the traffic`;
  } else if (bedrock.status === 'degraded' || mcp.status === 'degraded') {
    status = 'degraded';
    message = 'a path failed its last check';
  } else {
    status = 'healthy';
    message = 'both paths are healthy';
  }
  return {
    status,
    lastCheckedAt: options.checkedAt,
    latencyMs: null,
    consecutiveFailures: Math.min(bedrock.consecutiveFailures, mcp.consecutiveFailures),
    message,
  };
}

export interface HealthView {
  readonly status: Exclude<HealthStatus, 'unknown'>;
  readonly components: Record<Component, ComponentHealth>;
}

/**
 * What the health endpoints report, from the stored health parameters at `now`: stale probe data
 * reads as unknown, `hybrid-monitor` is unhealthy once the last run is older than
 * `STALE_AFTER_PERIODS` periods, and `bedrock-support` is re-aggregated from the fresh view.
 * The overall status is `bedrock-support`'s, with "no data yet" reported as degraded.
 */
export function healthView(stored: Partial<Record<Component, ComponentHealth>>, now: number, periodMs: number): HealthView {
  const staleAfterMs = STALE_AFTER_PERIODS * periodMs;
  let anyStale = false;
  const fresh = (component: ProbedComponent): ComponentHealth => {
    const health = stored[component] ?? UNKNOWN_HEALTH;
    if (!isStale(health, now, staleAfterMs)) return health;
    if (component !== 'intelligent-router') anyStale = true;
    return { ...health, status: 'unknown', message: `stale: last checked ${health.lastCheckedAt}, more than ${STALE_AFTER_PERIODS} periods ago` };
  };
  const bedrock = fresh('direct-bedrock');
  const mcp = fresh('mcp-router');
  const router = fresh('intelligent-router');

  const lastRun = stored['hybrid-monitor'];
  let monitor: ComponentHealth;
  if (!lastRun?.lastCheckedAt) {
    monitor = { ...UNKNOWN_HEALTH, message: 'the health checks have not run yet' };
  } else if (isStale(lastRun, now, staleAfterMs)) {
    monitor = { ...lastRun, status: 'unhealthy', message: `the last health-check run was at ${lastRun.lastCheckedAt}, more than ${STALE_AFTER_PERIODS} periods ago` };
  } else {
    monitor = lastRun;
  }

  const support = aggregateSupport(bedrock, mcp, { stale: anyStale, checkedAt: lastRun?.lastCheckedAt ?? null });
  const overall = monitor.status === 'unhealthy' ? 'unhealthy' : support.status === 'unknown' ? 'degraded' : support.status;
  return {
    status: overall,
    components: {
      'direct-bedrock': bedrock,
      'mcp-router': mcp,
      'intelligent-router': router,
      'hybrid-monitor': monitor,
      'bedrock-support': support,
    },
  };
}
