import { PARAMETER, type RollbackState, type RoutingConfig } from '../shared/routing-config';

export interface RollbackRequest {
  readonly level: 1 | 2;
  readonly reason: string;
  /** Who or what asked: an alarm name, or the operator's IAM identity. */
  readonly source: string;
  readonly at: string;
}

export interface ParameterWrite {
  /** Relative to the environment path. */
  readonly name: string;
  readonly value: string;
}

export type RollbackPlan =
  | { readonly kind: 'already-rolled-back'; readonly latch: RollbackState }
  | { readonly kind: 'roll-back'; readonly latch: RollbackState; readonly writes: readonly ParameterWrite[] };

/**
 * What a rollback must write, in order: the latch first, so a crash midway leaves the router on
 * the control path, then the flag off, and for level 2 the traffic at 0. Writes only what is not
 * already so; nothing at all for a latch that already covers the request. A latch raised again
 * keeps the `previous` state of the first one, which is what an operator would restore.
 */
export function planRollback(config: RoutingConfig, request: RollbackRequest): RollbackPlan {
  const current = config.rollback;
  const level: 1 | 2 = current.active && current.level === 2 ? 2 : request.level;
  const flagDone = !config.hybridEnabled;
  const trafficDone = level === 1 || config.trafficPercentage === 0;
  if (current.active && current.level !== null && current.level >= request.level && flagDone && trafficDone) {
    return { kind: 'already-rolled-back', latch: current };
  }
  const latch: RollbackState = {
    active: true,
    level,
    reason: request.reason,
    source: request.source,
    at: request.at,
    previous: current.active && current.previous ? current.previous : { hybridEnabled: config.hybridEnabled, trafficPercentage: config.trafficPercentage },
  };
  const writes: ParameterWrite[] = [];
  if (!current.active || current.level !== level) writes.push({ name: PARAMETER.rollbackState, value: JSON.stringify(latch) });
  if (!flagDone) writes.push({ name: PARAMETER.hybridRoutingFlag, value: 'false' });
  if (!trafficDone) writes.push({ name: PARAMETER.trafficPercentage, value: '0' });
  return { kind: 'roll-back', latch: writes[0]?.name === PARAMETER.rollbackState ? latch : current, writes };
}
