import { LIVE_ALIAS_NAME } from '../shared/live-alias';
import type { RollbackState, RoutingConfig } from '../shared/routing-config';
import type { CodeRollbackResult } from './code-rollback';
import type { ClearRequest, Changed } from './rollback-latch';
import { heldLevel, type RollbackRequest } from './rollback';

/** What goes to the notifications topic. */
export interface Notice {
  readonly subject: string;
  readonly message: string;
}

/**
 * A rollback: why, what changed, what was there before, and how to come back. `code` is the alias
 * move of a level-3 rollback; a level 1 or 2 merged into a level-3 latch names the move it keeps.
 */
export function rollbackNotice(
  environment: string,
  request: RollbackRequest,
  latch: RollbackState,
  changed: readonly Changed[],
  verified: boolean,
  code?: CodeRollbackResult,
): Notice {
  const previous = latch.previous;
  const merged = latch.source !== request.source ? `, merged with the rollback by ${latch.source}` : '';
  const what = [...new Set(changed.map((c) => c.parameter)), ...(code?.moved ? [`the router's ${LIVE_ALIAS_NAME} alias`] : [])];
  const move = code ?? latch.code;
  return {
    subject: `Hybrid Routing ${environment}: rollback level ${latch.level} (${request.source})`,
    message: [
      `Hybrid routing in ${environment} was rolled back at ${request.at}.`,
      `Why: ${request.reason}`,
      `What changed: ${what.join(', ')}.`,
      `Before: hybrid routing ${previous?.hybridEnabled ? 'on' : 'off'} at ${previous?.trafficPercentage ?? 0}% of callers.`,
      `Now: the rollback latch is set (level ${latch.level}${merged}); every request takes the control path (MCP only).`,
      ...codeLines(code, latch),
      ...(verified ? [] : ['WARNING: flag and traffic could not be confirmed at the rollback values; check them with "hybrid-routing status".']),
      '',
      'When the cause is fixed and the rollback alarms are OK, clear the latch and ramp up again:',
      `  hybrid-routing --env ${environment} rollback clear --reason "<what was fixed>"`,
      `  hybrid-routing --env ${environment} flag enable --reason "<why>"`,
      `  hybrid-routing --env ${environment} traffic set 5 --reason "<why>"`,
      move
        ? `Clearing the latch restores nothing by itself, and does not move the ${LIVE_ALIAS_NAME} alias back to version ${move.from}: the next deploy that changes the router shifts it to a new version.`
        : 'Clearing the latch restores nothing by itself.',
    ].join('\n'),
  };
}

/** What a rollback did to the router's code, or left as a level-3 rollback before it put it. */
function codeLines(code: CodeRollbackResult | undefined, latch: RollbackState): string[] {
  const alias = LIVE_ALIAS_NAME;
  if (code?.moved) return [`Router code: the ${alias} alias moved from version ${code.from} to version ${code.to}, which serves every invocation from now on.`];
  if (code) return [`Router code: the ${alias} alias already served version ${code.to}, the level-3 move from version ${code.from} that the latch records.`];
  if (latch.code) return [`Router code: the latch keeps the level-3 move of the ${alias} alias from version ${latch.code.from} to version ${latch.code.to}; this rollback did not move the alias.`];
  return [];
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
      ...(latch.code
        ? [
            `Router code: the clear does not move the ${LIVE_ALIAS_NAME} alias back to version ${latch.code.from}; it stays where the level-3 rollback put it (version ${latch.code.to}) until the next deploy that changes the router.`,
          ]
        : []),
      `Now: hybrid routing off, traffic ${traffic}%. The clear restores nothing; hybrid traffic returns only through a new write or ramp:`,
      `  hybrid-routing --env ${environment} flag enable --reason "<why>"`,
      `  hybrid-routing --env ${environment} traffic set 5 --reason "<why>"`,
    ].join('\n'),
  };
}
