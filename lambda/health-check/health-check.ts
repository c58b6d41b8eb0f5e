import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { ParameterWriteError, type ParameterWriter } from '../adapters/parameter-writer';
import { publishMetrics } from '../adapters/telemetry';
import { aggregateSupport, nextHealth, type ProbeResult, type ProbedComponent } from '../core/health';
import { METRICS, type MetricPoint } from '../shared/metric-catalog';
import { healthParameter, type ComponentHealth } from '../shared/routing-config';
import type { Component } from '../shared/vocabulary';
import type { ConfigProbe } from './probes';

export interface HealthCheckDependencies {
  readonly probes: {
    readonly 'direct-bedrock': () => Promise<ProbeResult>;
    readonly 'mcp-router': () => Promise<ProbeResult>;
    readonly 'intelligent-router': () => Promise<ConfigProbe>;
  };
  readonly writer: ParameterWriter;
  /** The environment's parameter path, e.g. `/hybrid-routing/prod`. */
  readonly path: string;
  readonly unhealthyAfter: number;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly now?: () => Date;
}

export interface HealthCheckReport {
  readonly checkedAt: string;
  readonly components: Record<Component, ComponentHealth>;
  /** Parameters that could not be written; the rest were. */
  readonly failedWrites: readonly string[];
}

/** Raised after a run whose writes partly failed, so the failure destination records it. */
export class HealthWriteFailure extends Error {
  constructor(readonly report: HealthCheckReport) {
    super(`health check ran but could not write ${report.failedWrites.join(', ')}`);
    this.name = 'HealthWriteFailure';
  }
}

/**
 * One health-check run: probes both paths and the configuration in parallel, derives each
 * component's status from its previous one, and writes the five `health/*` parameters once each,
 * with the reason for the status in the description. A failed write does not stop the others.
 */
export function createHealthCheck(deps: HealthCheckDependencies): () => Promise<HealthCheckReport> {
  const now = deps.now ?? (() => new Date());
  return async () => {
    const started = performance.now();
    const checkedAt = now();
    const [bedrock, mcp, config] = await Promise.all([
      deps.probes['direct-bedrock'](),
      deps.probes['mcp-router'](),
      deps.probes['intelligent-router'](),
    ]);
    const previous = config.parsed?.config.health ?? {};
    const probed: Record<ProbedComponent, ProbeResult> = { 'direct-bedrock': bedrock, 'mcp-router': mcp, 'intelligent-router': config.result };

    const writes: { component: Component; health: ComponentHealth; reason: string }[] = [];
    for (const component of Object.keys(probed) as ProbedComponent[]) {
      const { health, reason } = nextHealth(component, previous[component], probed[component], checkedAt, deps.unhealthyAfter);
      writes.push({ component, health, reason });
    }
    const byComponent = Object.fromEntries(writes.map((w) => [w.component, w.health])) as Record<ProbedComponent, ComponentHealth>;
    const support = aggregateSupport(byComponent['direct-bedrock'], byComponent['mcp-router'], { stale: false, checkedAt: checkedAt.toISOString() });
    writes.push({ component: 'bedrock-support', health: support, reason: `bedrock-support ${support.status}: ${support.message}` });

    const failedWrites: string[] = [];
    const write = async (component: Component, health: ComponentHealth, reason: string) => {
      const name = `${deps.path}/${healthParameter(component)}`;
      try {
        await deps.writer.put(name, JSON.stringify(health), reason);
      } catch (error) {
        failedWrites.push(name);
        deps.logger.error('health write failed', { parameter: name, errorName: error instanceof ParameterWriteError ? error.errorName : String(error) });
      }
    };
    // One write per component per run, one after another: far below SSM's PutParameter rate.
    for (const { component, health, reason } of writes) await write(component, health, reason);

    const passed = Object.values(probed).filter((p) => p.ok).length;
    const monitor: ComponentHealth = {
      status: failedWrites.length === 0 ? 'healthy' : 'degraded',
      lastCheckedAt: checkedAt.toISOString(),
      latencyMs: Math.round(performance.now() - started),
      consecutiveFailures: 0,
      message:
        `${passed} of 3 probes passed` + (failedWrites.length > 0 ? `; could not write ${failedWrites.join(', ')}` : ''),
    };
    await write('hybrid-monitor', monitor, `hybrid-monitor run: ${monitor.message}`);

    const points: MetricPoint[] = (Object.entries(probed) as [ProbedComponent, ProbeResult][]).flatMap(([component, probe]) => [
      { metric: METRICS.healthCheckSuccess, value: probe.ok ? 1 : 0, dimensionValue: component },
      { metric: METRICS.healthCheckLatency, value: Math.round(probe.latencyMs), dimensionValue: component },
    ]);
    publishMetrics(deps.metrics, points);

    const components = { ...byComponent, 'bedrock-support': support, 'hybrid-monitor': monitor } as Record<Component, ComponentHealth>;
    const report: HealthCheckReport = { checkedAt: checkedAt.toISOString(), components, failedWrites };
    deps.logger.info('health check ran', {
      statuses: Object.fromEntries(Object.entries(components).map(([c, h]) => [c, h.status])),
      failedWrites,
      latencyMs: monitor.latencyMs,
    });
    if (failedWrites.length > 0) throw new HealthWriteFailure(report);
    return report;
  };
}
