import type { ComponentHealth, RoutingConfig } from '../shared/routing-config';
import type { Cohort, Operation, Provider } from '../shared/vocabulary';
import type { CohortAssigner } from './cohort';

export type RouteDecision =
  | { readonly kind: 'shed'; readonly reason: string }
  | {
      readonly kind: 'route';
      readonly cohort: Cohort;
      /** Providers to try in order; the first is the intended one. */
      readonly plan: readonly Provider[];
      readonly reason: string;
    };

export interface DecisionInput {
  readonly config: RoutingConfig;
  readonly operation: Operation;
  readonly routingKey: string;
  /** True while `direct-bedrock` is usable by health data and its breaker is closed. */
  readonly bedrockUsable: boolean;
}

const other = (provider: Provider): Provider => (provider === 'bedrock' ? 'mcp' : 'bedrock');

/**
 * DESIGN §5, in its order: shedding, the rollback latch, forced modes, flag and cohort, then the
 * per-operation strategy. Forced modes keep the caller's cohort label so metrics stay comparable.
 */
export function decideRoute(input: DecisionInput, cohorts: CohortAssigner): RouteDecision {
  const { config, operation } = input;

  if (config.mode === 'emergency-only' && operation !== 'emergency') {
    return { kind: 'shed', reason: 'mode emergency-only sheds non-emergency operations' };
  }
  if (config.rollback.active) {
    return { kind: 'route', cohort: 'control', plan: ['mcp'], reason: 'rollback latch active' };
  }

  const inCohort = config.hybridEnabled && cohorts.isHybrid(input.routingKey, config.trafficPercentage);
  const cohort: Cohort = inCohort ? 'hybrid' : 'control';

  if (config.mode === 'force-mcp' || config.mode === 'force-bedrock') {
    const forced: Provider = config.mode === 'force-mcp' ? 'mcp' : 'bedrock';
    const plan: Provider[] = operation === 'emergency' ? [forced, other(forced)] : [forced];
    return { kind: 'route', cohort, plan, reason: `mode ${config.mode}` };
  }

  if (!config.hybridEnabled) {
    return { kind: 'route', cohort, plan: ['mcp'], reason: 'hybrid routing flag off' };
  }
  if (!inCohort) {
    return { kind: 'route', cohort, plan: ['mcp'], reason: `caller outside the ${config.trafficPercentage}% hybrid cohort` };
  }

  const { strategy } = config.policy.operations[operation];
  switch (strategy) {
    case 'bedrock-first':
      return { kind: 'route', cohort, plan: ['bedrock', 'mcp'], reason: `${operation} prefers bedrock` };
    case 'mcp-first':
      return { kind: 'route', cohort, plan: ['mcp', 'bedrock'], reason: `${operation} prefers mcp` };
    case 'health-gated':
      return input.bedrockUsable
        ? { kind: 'route', cohort, plan: ['bedrock', 'mcp'], reason: `${operation} to bedrock: direct-bedrock usable` }
        : { kind: 'route', cohort, plan: ['mcp', 'bedrock'], reason: `${operation} to mcp: direct-bedrock unhealthy or its breaker is not closed` };
  }
}

/**
 * Health data says a path is usable unless it is `unhealthy` and fresh. Missing or stale data
 * (older than `staleAfterMs`) reads as unknown, and unknown paths are treated as usable.
 */
export function isPathUsable(health: ComponentHealth | undefined, now: number, staleAfterMs: number): boolean {
  if (!health || health.status !== 'unhealthy' || health.lastCheckedAt === null) return true;
  const checkedAt = Date.parse(health.lastCheckedAt);
  if (Number.isNaN(checkedAt)) return true;
  return now - checkedAt > staleAfterMs;
}
