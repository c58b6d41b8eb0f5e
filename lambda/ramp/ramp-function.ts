import type { Logger } from '@aws-lambda-powertools/logger';
import type { RampController } from '../core/ramp-controller';

export type RampTickResult =
  | { readonly action: 'none'; readonly why: string }
  | { readonly action: string; readonly status: string; readonly step: number; readonly trafficPercentage: number; readonly verdict: string | null };

/**
 * The ramp controller function: every invocation, from the one-minute schedule or from the admin
 * API right after a `/admin/ramp` call, is one tick. The event says nothing the tick needs: it
 * reads `ramp/state`, the configuration and CloudWatch afresh, so a lost or repeated invocation is
 * harmless. A failed tick throws, which the function's error alarm and dead-letter queue report.
 */
export function createRampFunction(deps: { readonly controller: Pick<RampController, 'tick'>; readonly logger: Logger }) {
  return async (event: unknown): Promise<RampTickResult> => {
    const trigger = event && typeof event === 'object' && 'source' in event ? String((event as { source: unknown }).source) : 'unknown';
    const outcome = await deps.controller.tick();
    if (outcome.action === 'none') {
      deps.logger.info('no open ramp', { trigger, why: outcome.why });
      return outcome;
    }
    const { ramp } = outcome;
    return {
      action: outcome.action,
      status: ramp.status,
      step: ramp.stepIndex + 1,
      trafficPercentage: ramp.steps[ramp.stepIndex]!,
      verdict: ramp.lastEvaluation?.verdict ?? null,
    };
  };
}
