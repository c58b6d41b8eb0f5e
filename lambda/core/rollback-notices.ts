import type { RollbackState, RoutingConfig } from '../shared/routing-config';
import type { ClearRequest, Changed } from './rollback-latch';
import { heldLevel, type RollbackRequest } from './rollback';

/** What goes to the notifications topic. */
export interface Notice {
  readonly subject: string;
  readonly message: string;
}

/** A rollback: why, what changed, what was there before, and how to come back. */
export function rollbackNotice(environment: string, request: RollbackRequest, latch: RollbackState, changed: readonly Changed[], verified: boolean): Notice {
  const previous = latch.previous;
  const merged = latch.source !== request.source ? `, merged with the rollback by ${latch.source}` : '';
  return {
    subject: `Hybrid Routing ${environment}: rollback level ${latch.level} (${request.source})`,
    message: [
      `Hybrid routing in ${environment} was rolled back at ${request.at}.`,
      `Why: ${request.reason}`,
      `What changed: ${[...new Set(changed.map((c) => c.parameter))].join(', ')}.`,
      `Before: hybrid routing ${previous?.hybridEnabled ? 'on' : 'off'} at ${previous?.trafficPercentage ?? 0}% of callers.`,
      `Now: the rollback latch is set (level ${latch.level}${merged}); every request takes the control path (MCP only).`,
      ...(verified ? [] : ['WARNING: flag and traffic could not be confirmed at the rollback values; check them with "hybrid-routing status".']),
      '',
      'When the cause is fixed and the rollback alarms are OK, clear the latch and ramp up again:',
      `  hybrid-routing --env ${environment} rollback clear --reason "<what was fixed>"`,
      `  hybrid-routing --env ${environment} flag enable --reason "<why>"`,
      `  hybrid-routing --env ${environment} traffic set 5 --reason "<why>"`,
      'Clearing the latch restores nothing by itself.',
    ].join('\n'),
  };
}

/** A clear: who, why, whether it was forced past the alarms, and that nothing came back. */
export function clearNotice(environment: string, request: ClearRequest, latch: RollbackState, config: RoutingConfig, forcedNote: string | undefined, at: Date): Notice {
  const traffic = heldLevel(latch) >= 2 ? 0 : config.trafficPercentage;
  return {
    subject: `Hybrid Routing ${environment}: rollback latch cleared${request.force ? ' by force' : ''} (${request.requestedBy})`,
    message: [
      `The rollback latch of hybrid routing in ${environment} was cleared at ${at.toISOString()} by ${request.requestedBy}.`,
      `Why: ${request.reason}`,
      ...(forcedNote ? [`FORCED: cleared without waiting for the rollback alarms (${forcedNote}).`] : []),
      `The latch was level ${latch.level ?? 'unknown'}, set by ${latch.source || 'unknown'} at ${latch.at ?? 'an unknown time'}: ${latch.reason}`,
      `Now: hybrid routing off, traffic ${traffic}%. The clear restores nothing; hybrid traffic returns only through a new write or ramp:`,
      `  hybrid-routing --env ${environment} flag enable --reason "<why>"`,
      `  hybrid-routing --env ${environment} traffic set 5 --reason "<why>"`,
    ].join('\n'),
  };
}
