import type { LatencyBudgetPolicy } from '../shared/routing-config';

/**
 * The time one request may spend. The first-choice path may run until the target; any later
 * path may run until the hard limit. `ceilingMs` caps the hard limit below the API Gateway
 * integration timeout so the router always answers before API Gateway gives up.
 */
export class LatencyBudget {
  readonly hardMs: number;
  readonly targetMs: number;

  constructor(
    policy: LatencyBudgetPolicy,
    ceilingMs: number,
    private readonly startedAt: number,
    private readonly clock: () => number,
  ) {
    this.hardMs = Math.min(policy.hardMs, ceilingMs);
    this.targetMs = Math.min(policy.targetMs, this.hardMs);
  }

  elapsedMs(): number {
    return this.clock() - this.startedAt;
  }

  remainingMs(): number {
    return Math.max(0, this.hardMs - this.elapsedMs());
  }

  /** Time the path at `index` in the plan may still use (index 0 is the first choice). */
  pathRemainingMs(index: number): number {
    const limit = index === 0 ? this.targetMs : this.hardMs;
    return Math.max(0, limit - this.elapsedMs());
  }
}

/** The share of an operation's target budget a request may spend waiting for its configuration. */
export const CONFIG_WAIT_SHARE = 0.5;

/** How long a request may wait for SSM by default: SSM answers in tens of milliseconds. */
export const DEFAULT_CONFIG_READ_TIMEOUT_MS = 1_000;

/**
 * How long a request may wait for a configuration read (safety invariant 6): half the
 * operation's target budget, and never more than `limitMs`. The rest of the target goes to the
 * first-choice path, since the budget counts from the request's arrival.
 */
export function configWaitMs(policy: LatencyBudgetPolicy, limitMs: number): number {
  return Math.max(0, Math.min(limitMs, Math.floor(Math.min(policy.targetMs, policy.hardMs) * CONFIG_WAIT_SHARE)));
}
