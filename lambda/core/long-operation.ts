import type { RoutingConfig } from '../shared/routing-config';
import type { Operation } from '../shared/vocabulary';

/**
 * The configuration a long operation (a stream or a job) routes by: the operation's hard limit
 * becomes `budgetMs`, and the first choice keeps the policy's fallback headroom (hard − target),
 * so an MCP-first operation (target = hard) may use the whole budget and a health-gated one still
 * leaves its fallback the time the policy gives it. The first choice never gets less than its
 * policy target, within the budget.
 */
export function longOperationConfig(config: RoutingConfig, operation: Operation, budgetMs: number): RoutingConfig {
  const policy = config.policy.operations[operation];
  const headroom = policy.budget.hardMs - policy.budget.targetMs;
  const budget = { hardMs: budgetMs, targetMs: Math.max(budgetMs - headroom, Math.min(policy.budget.targetMs, budgetMs)) };
  return {
    ...config,
    policy: { ...config.policy, operations: { ...config.policy.operations, [operation]: { ...policy, budget } } },
  };
}
