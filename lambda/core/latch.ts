import { PARAMETER, type RoutingConfig } from '../shared/routing-config';
import type { RoutingMode } from '../shared/vocabulary';
import { ConflictError } from './http-errors';
import { heldLevel, writesDownTo, type ParameterWrite } from './rollback';

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

/** The parameter a change writes, and the value. */
export function parameterWriteOf(change: AdminChange): ParameterWrite {
  switch (change.kind) {
    case 'traffic':
      return { name: PARAMETER.trafficPercentage, value: String(change.percentage) };
    case 'flag':
      return { name: PARAMETER.hybridRoutingFlag, value: String(change.enabled) };
    case 'mode':
      return { name: PARAMETER.routingMode, value: change.mode };
  }
}

/**
 * What a widening write re-writes when it finds, after writing, that a rollback latched since its
 * read (DESIGN §6 invariant 2): the rollback's values from the latest latch record (a clear keeps
 * the level), never its own earlier read of them, so flag off and, from level 2, traffic 0. What a
 * rollback does not own it takes back to its earlier read, and only while its own value is still
 * there: traffic under a level-1 latch, and the mode.
 */
export function planWideningRepair(changes: readonly AdminChange[], before: RoutingConfig, after: RoutingConfig): ParameterWrite[] {
  const writes = writesDownTo(after, after.rollback);
  for (const change of changes) {
    if (change.kind === 'traffic' && heldLevel(after.rollback) < 2 && after.trafficPercentage === change.percentage && change.percentage > before.trafficPercentage) {
      writes.push({ name: PARAMETER.trafficPercentage, value: String(before.trafficPercentage) });
    }
    if (change.kind === 'mode' && after.mode === change.mode && before.mode !== change.mode) {
      writes.push({ name: PARAMETER.routingMode, value: before.mode });
    }
  }
  return writes;
}
