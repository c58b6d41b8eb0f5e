import type { RoutingConfig } from '../shared/routing-config';
import type { RoutingMode } from '../shared/vocabulary';
import { ConflictError } from './http-errors';

export type AdminChange =
  | { readonly kind: 'traffic'; readonly percentage: number }
  | { readonly kind: 'flag'; readonly enabled: boolean }
  | { readonly kind: 'mode'; readonly mode: RoutingMode };

const CLEAR_HINT =
  'clear it first with DELETE /admin/rollback (CLI: hybrid-routing rollback clear --reason "...") once the cause is fixed';

/** Whether `change` would widen exposure: more traffic, the flag on, or Bedrock forced. */
export function widensExposure(change: AdminChange, config: RoutingConfig): boolean {
  switch (change.kind) {
    case 'traffic':
      return change.percentage > config.trafficPercentage;
    case 'flag':
      return change.enabled && !config.hybridEnabled;
    case 'mode':
      return change.mode === 'force-bedrock' && config.mode !== 'force-bedrock';
  }
}

/**
 * Rollback wins (DESIGN §6): while the latch is active, a change that widens exposure is refused
 * with 409. Lowering traffic, turning the flag off and forcing MCP are always allowed.
 */
export function assertLatchAllows(change: AdminChange, config: RoutingConfig): void {
  if (!config.rollback.active || !widensExposure(change, config)) return;
  const { level, source, at, reason } = config.rollback;
  throw new ConflictError(
    `the rollback latch is active (level ${level}, by ${source || 'unknown'} at ${at ?? 'unknown time'}: ${reason}); ${CLEAR_HINT}`,
  );
}
