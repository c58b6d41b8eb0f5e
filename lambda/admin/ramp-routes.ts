import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type * as z from 'zod/v4';
import { callerIdentityOf, jsonResponse, type RouteHandler } from '../adapters/http';
import { NotFoundError } from '../core/http-errors';
import { rampProgress } from '../core/ramp';
import type { RampController } from '../core/ramp-controller';
import type { StoreSnapshot } from '../core/rollback-latch';
import { isOpen, RAMP_ACTIONS, RampActionSchema, RampStartSchema, readRampValue, type RampAction } from '../shared/ramp';

export interface RampRoutesDependencies {
  readonly controller: Pick<RampController, 'start' | 'pause' | 'resume' | 'abort' | 'view'>;
  /** Asks the ramp controller for a tick now; failures are logged, the schedule ticks anyway. */
  readonly trigger: () => Promise<void>;
  readonly logger: Logger;
  /** Parses and validates a JSON body against a schema (400/413 otherwise). */
  readonly body: <S extends z.ZodType>(event: APIGatewayProxyEvent, schema: S) => z.infer<S>;
  /** The configuration state `/admin/status` answers: of `stored` (a read after the writes), or read now. */
  readonly state: (stored?: StoreSnapshot) => Promise<unknown>;
}

/**
 * `/admin/ramp` (DESIGN §4, §10): start an automated ramp, see it with its gates judged now, and
 * pause, resume or abort it. Each POST asks the controller for a tick right after, so a start
 * is judged without waiting for the minute.
 */
export function rampRoutes(deps: RampRoutesDependencies): Record<string, RouteHandler> {
  const { controller, logger } = deps;

  const afterwards = async <T>(requestId: string, work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } finally {
      try {
        await deps.trigger();
      } catch (error) {
        logger.warn('the ramp controller could not be invoked; the schedule ticks within a minute', { requestId, errorName: error instanceof Error ? error.name : typeof error });
      }
    }
  };

  return {
    'GET /admin/ramp': async (_event, requestId) => jsonResponse(200, { requestId, ...(await controller.view()) }, requestId),

    'POST /admin/ramp': async (event, requestId) => {
      const request = deps.body(event, RampStartSchema);
      const caller = callerIdentityOf(event);
      const { ramp, state } = await afterwards(requestId, () => controller.start(request, caller));
      logger.info('ramp started', { requestId, caller, steps: ramp.steps });
      return jsonResponse(200, { requestId, ramp, progress: rampProgress(ramp, new Date(ramp.updatedAt)), state: await deps.state(state) }, requestId);
    },

    'POST /admin/ramp/{action}': async (event, requestId) => {
      const action = event.pathParameters?.action ?? '';
      if (!(RAMP_ACTIONS as readonly string[]).includes(action)) {
        throw new NotFoundError(`no ramp action "${action}"; actions are ${RAMP_ACTIONS.join(', ')}`);
      }
      const { reason } = deps.body(event, RampActionSchema);
      const caller = callerIdentityOf(event);
      const { ramp, changed, state } = await afterwards(requestId, () => controller[action as RampAction](reason, caller));
      logger.info('ramp action', { requestId, caller, action, changed });
      return jsonResponse(200, { requestId, ramp, ...(changed ? {} : { message: `the ramp is already ${ramp?.status}; nothing was changed` }), state: await deps.state(state) }, requestId);
    },
  };
}

/** The ramp as `/admin/status` shows it: where it stands, or null when none has run. */
export function rampSummary(raw: string | undefined): Record<string, unknown> | null {
  const stored = readRampValue(raw);
  if (stored.kind === 'none') return null;
  if (stored.kind === 'unreadable') return { status: 'unreadable', problem: stored.problem };
  const ramp = stored.state;
  return {
    status: ramp.status,
    step: ramp.stepIndex + 1,
    steps: ramp.steps,
    trafficPercentage: ramp.steps[ramp.stepIndex],
    open: isOpen(ramp.status),
    stepStartedAt: ramp.stepStartedAt,
    reason: ramp.reason,
    by: ramp.by,
    updatedAt: ramp.updatedAt,
    verdict: ramp.lastEvaluation?.verdict ?? null,
  };
}
