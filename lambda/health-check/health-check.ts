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
  /** What was written, or would have been; a component whose write was skipped is absent. */
  readonly components: Partial<Record<Component, ComponentHealth>>;
  /** Parameters that could not be written; the rest were. */
  readonly failedWrites: readonly string[];
  /** Components not written because their previous failure count could not be read. */
  readonly skippedWrites: readonly Component[];
}

export interface HealthCheckRunOptions {
  /** Epoch ms by which every write must be done: the function's timeout less a margin. */
  readonly deadlineAt?: number;
}

/** Raised after a run whose writes partly failed, so the failure destination records it. */
export class HealthWriteFailure extends Error {
  constructor(readonly report: HealthCheckReport) {
    super(`health check ran but could not write ${report.failedWrites.join(', ')}`);
    this.name = 'HealthWriteFailure';
  }
}

/**
 * One health-check run: probes both paths and the configuration in parallel, each within its own
 * deadline, and emits `HealthCheckSuccess`/`HealthCheckLatency` (and `ConfigProblems` when the
 * configuration has problems) before it writes anything, so the metrics go out even when SSM
 * cannot take the writes. Then it derives each component's status from its previous one and
 * writes the five `health/*` parameters once each, with the reason for the status in the
 * description, all by `deadlineAt`. A failed write does not stop the others. When the previous
 * state could not be read, a failed probe is not written: its failure count is unknown, and
 * writing 1 would reset the count the `direct-bedrock` alarm needs.
 */
export function createHealthCheck(deps: HealthCheckDependencies): (options?: HealthCheckRunOptions) => Promise<HealthCheckReport> {
  const now = deps.now ?? (() => new Date());
  return async ({ deadlineAt }: HealthCheckRunOptions = {}) => {
    const started = performance.now();
    const checkedAt = now();
    const [bedrock, mcp, config] = await Promise.all([
      deps.probes['direct-bedrock'](),
      deps.probes['mcp-router'](),
      deps.probes['intelligent-router'](),
    ]);
    const probed: Record<ProbedComponent, ProbeResult> = { 'direct-bedrock': bedrock, 'mcp-router': mcp, 'intelligent-router': config.result };

    const points: MetricPoint[] = (Object.entries(probed) as [ProbedComponent, ProbeResult][]).flatMap(([component, probe]) => [
      { metric: METRICS.healthCheckSuccess, value: probe.ok ? 1 : 0, dimensionValue: component },
      { metric: METRICS.healthCheckLatency, value: Math.round(probe.latencyMs), dimensionValue: component },
    ]);
    const problems = config.parsed?.problems ?? [];
    if (problems.length > 0) {
      deps.logger.warn('configuration problems', { problems });
      points.push({ metric: METRICS.configProblems, value: problems.length });
    }
    publishMetrics(deps.metrics, points);

    const previous = config.parsed?.config.health;
    const writes: { component: Component; health: ComponentHealth; reason: string }[] = [];
    const skippedWrites: Component[] = [];
    for (const component of Object.keys(probed) as ProbedComponent[]) {
      const probe = probed[component];
      // A success resets the count whatever it was; a failure needs the count it adds to.
      if (!previous && !probe.ok) {
        skippedWrites.push(component);
        continue;
      }
      const { health, reason } = nextHealth(component, previous?.[component], probe, checkedAt, deps.unhealthyAfter);
      writes.push({ component, health, reason });
    }
    const byComponent = Object.fromEntries(writes.map((w) => [w.component, w.health])) as Partial<Record<ProbedComponent, ComponentHealth>>;
    const bedrockHealth = byComponent['direct-bedrock'];
    const mcpHealth = byComponent['mcp-router'];
    let support: ComponentHealth | undefined;
    if (bedrockHealth && mcpHealth) {
      support = aggregateSupport(bedrockHealth, mcpHealth, { stale: false, checkedAt: checkedAt.toISOString() });
      writes.push({ component: 'bedrock-support', health: support, reason: `bedrock-support ${support.status}: ${support.message}` });
    } else {
      skippedWrites.push('bedrock-support');
    }
    if (skippedWrites.length > 0) {
      deps.logger.warn('health writes skipped: the previous health could not be read', { skippedWrites, configProbe: config.result.message });
    }

    const failedWrites: string[] = [];
    const write = async (component: Component, health: ComponentHealth, reason: string) => {
      const name = `${deps.path}/${healthParameter(component)}`;
      try {
        await deps.writer.put(name, JSON.stringify(health), reason, { deadlineAt });
      } catch (error) {
        failedWrites.push(name);
        deps.logger.error('health write failed', { parameter: name, errorName: error instanceof ParameterWriteError ? error.errorName : String(error) });
      }
    };
    // One write per component per run, one after another: far below SSM's PutParameter rate.
    for (const { component, health, reason } of writes) await write(component, health, reason);

    const passed = Object.values(probed).filter((p) => p.ok).length;
    const notes = [
      ...(skippedWrites.length > 0 ? [`previous health unreadable, not written: ${skippedWrites.join(', ')}`] : []),
      ...(failedWrites.length > 0 ? [`could not write ${failedWrites.join(', ')}`] : []),
    ];
    const monitor: ComponentHealth = {
      status: notes.length === 0 ? 'healthy' : 'degraded',
      lastCheckedAt: checkedAt.toISOString(),
      latencyMs: Math.round(performance.now() - started),
      consecutiveFailures: 0,
      message: [`${passed} of 3 probes passed`, ...notes].join('; '),
    };
    await write('hybrid-monitor', monitor, `hybrid-monitor run: ${monitor.message}`);

    const components: Partial<Record<Component, ComponentHealth>> = {
      ...byComponent,
      ...(support ? { 'bedrock-support': support } : {}),
      'hybrid-monitor': monitor,
    };
    const report: HealthCheckReport = { checkedAt: checkedAt.toISOString(), components, failedWrites, skippedWrites };
    deps.logger.info('health check ran', {
      statuses: Object.fromEntries(Object.entries(components).map(([c, h]) => [c, h.status])),
      failedWrites,
      skippedWrites,
      latencyMs: monitor.latencyMs,
    });
    if (failedWrites.length > 0) throw new HealthWriteFailure(report);
    return report;
  };
}
