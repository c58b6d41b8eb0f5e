import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { callerIdentityOf, jsonResponse, routeRequests, type RouteHandler } from '../adapters/http';
import { auditTrail, describeChange, type ParameterVersion } from '../core/audit';
import type { RouterCodePort } from '../core/code-rollback';
import { healthView } from '../core/health';
import { NotFoundError, UnavailableError, ValidationError } from '../core/http-errors';
import type { AdminChange } from '../core/latch';
import { parseJsonBody } from '../core/request-body';
import { STORE_RETRY_SECONDS, type Changed, type LatchStore, type RollbackLatch } from '../core/rollback-latch';
import {
  AUDIT_DEFAULT_LIMIT,
  AUDIT_MAX_LIMIT,
  ClearLatchSchema,
  FEATURE_FLAGS,
  FlagChangeSchema,
  ModeChangeSchema,
  PolicyChangeSchema,
  ReasonOnlySchema,
  RollbackRequestSchema,
  TrafficChangeSchema,
} from '../shared/admin-api';
import { LIVE_ALIAS_NAME } from '../shared/live-alias';
import { PARAMETER, healthParameter, type ParsedConfig } from '../shared/routing-config';
import { COMPONENTS } from '../shared/vocabulary';
import { rampRoutes, rampSummary, type RampRoutesDependencies } from './ramp-routes';

/** Admin bodies are small; anything near this size is not an admin request. */
const MAX_ADMIN_BODY_BYTES = 64 * 1024;

export interface AdminAppDependencies {
  readonly environment: string;
  /** The environment's configuration store: fresh reads, writes, history. */
  readonly store: LatchStore;
  /** Rollback, clear and guarded writes, shared with the rollback function and the ramp. */
  readonly latch: RollbackLatch;
  /** The router's `live` alias, versions and deployments, which a level-3 rollback reads and moves. */
  readonly routerCode: RouterCodePort;
  readonly logger: Logger;
  readonly healthPeriodMs: number;
  readonly now?: () => Date;
  /** The automated ramp's routes (`/admin/ramp`), when the environment has a ramp controller. */
  readonly ramp?: Pick<RampRoutesDependencies, 'controller' | 'trigger'>;
}

/**
 * The operators' controls (DESIGN §4 admin table). Every write needs a reason, which lands in the
 * parameter's description together with the caller, so the parameter history is the audit trail;
 * every answer is the new state. Rollback wins: while the latch is set, widening writes get 409.
 */
export function createAdminApp(deps: AdminAppDependencies) {
  const { logger, store, latch } = deps;
  const now = deps.now ?? (() => new Date());

  const read = async (): Promise<ParsedConfig> => {
    try {
      return await store.read();
    } catch (error) {
      logger.error('configuration store read failed', { errorName: error instanceof Error ? error.name : typeof error });
      throw new UnavailableError('the configuration store cannot be read; nothing was changed', STORE_RETRY_SECONDS);
    }
  };

  /** A write the latch does not guard (policy, breaker epoch); 503 when it fails. */
  const write = async (name: string, value: string, description: string): Promise<Changed[]> => {
    try {
      return [{ parameter: name, version: await store.put(name, value, description) }];
    } catch (error) {
      const errorName = error instanceof Error ? ((error as { errorName?: string }).errorName ?? error.name) : typeof error;
      logger.error('configuration write failed', { parameter: name, errorName });
      throw new UnavailableError(`could not write ${name} (${errorName}); nothing was changed`, STORE_RETRY_SECONDS);
    }
  };

  const state = (parsed: ParsedConfig & { readonly values?: Readonly<Record<string, string>> }) => {
    const { config } = parsed;
    const view = healthView(config.health, now().getTime(), deps.healthPeriodMs);
    return {
      environment: deps.environment,
      hybridEnabled: config.hybridEnabled,
      trafficPercentage: config.trafficPercentage,
      effectiveTrafficPercentage: config.rollback.active || !config.hybridEnabled ? 0 : config.trafficPercentage,
      mode: config.mode,
      policy: config.policy,
      rollback: config.rollback,
      breakerEpoch: config.breakerEpoch,
      health: { status: view.status, components: Object.fromEntries(COMPONENTS.map((c) => [c, view.components[c].status])) },
      ramp: rampSummary(parsed.values?.[PARAMETER.rampState]),
      problems: parsed.problems,
    };
  };

  /** Answers a completed change with the state as now stored: as read after the writes, or read now. */
  const answer = async (requestId: string, changed: readonly Changed[], extra: Record<string, unknown> = {}, stored?: ParsedConfig) =>
    jsonResponse(200, { requestId, changed, ...extra, state: state(stored ?? (await read())) }, requestId);

  /** Rollback wins (DESIGN §6): the latch refuses or undoes a write that widens exposure. */
  const guardedChange = async (event: APIGatewayProxyEvent, requestId: string, change: AdminChange, reason: string) => {
    const caller = callerIdentityOf(event);
    const { changed, state: stored } = await latch.write({ changes: [change], reason, requestedBy: caller });
    logger.info('configuration changed', { requestId, caller, parameters: changed.map((c) => c.parameter) });
    return answer(requestId, changed, {}, stored);
  };

  /** Level 3 (DESIGN §11): level 2, and `live` back on the version that served before; the answer says where `live` is. */
  const codeRollback = async (requestId: string, caller: string, reason: string) => {
    const result = await latch.rollBackCode({ reason, source: `manual: ${caller}`, origin: 'manual', at: now().toISOString(), requestedBy: caller }, deps.routerCode);
    const { from, to, moved } = result.code;
    const code = { from, to, moved };
    if (result.action === 'already-rolled-back') {
      return answer(requestId, [], { code, message: `a level-3 rollback is already in effect: the ${LIVE_ALIAS_NAME} alias serves version ${to} (moved from version ${from}); nothing was changed` }, result.state);
    }
    logger.info('manual rollback', { requestId, caller, level: result.latch.level, parameters: result.changed.map((c) => c.parameter), code });
    const where = moved ? `the ${LIVE_ALIAS_NAME} alias moved from version ${from} to version ${to}` : `the ${LIVE_ALIAS_NAME} alias already served version ${to}`;
    return answer(requestId, result.changed, { code, message: `${where}; the latch records the move, and a clear does not undo it` }, result.state);
  };

  const body = <S extends Parameters<typeof parseJsonBody>[2]>(event: APIGatewayProxyEvent, schema: S) =>
    parseJsonBody(event.body, event.isBase64Encoded, schema, MAX_ADMIN_BODY_BYTES);

  const routes: Record<string, RouteHandler> = {
    'GET /admin/status': async (_event, requestId) => jsonResponse(200, { requestId, state: state(await read()) }, requestId),

    'PUT /admin/traffic': async (event, requestId) => {
      const { percentage, reason } = body(event, TrafficChangeSchema);
      return guardedChange(event, requestId, { kind: 'traffic', percentage }, reason);
    },

    'PUT /admin/feature-flags/{flag}': async (event, requestId) => {
      const flag = event.pathParameters?.flag ?? '';
      if (!(FEATURE_FLAGS as readonly string[]).includes(flag)) {
        throw new NotFoundError(`no feature flag "${flag}"; flags are ${FEATURE_FLAGS.join(', ')}`);
      }
      const { enabled, reason } = body(event, FlagChangeSchema);
      return guardedChange(event, requestId, { kind: 'flag', enabled }, reason);
    },

    'PUT /admin/routing/mode': async (event, requestId) => {
      const { mode, reason } = body(event, ModeChangeSchema);
      return guardedChange(event, requestId, { kind: 'mode', mode }, reason);
    },

    'PUT /admin/routing/policy': async (event, requestId) => {
      const { policy, reason } = body(event, PolicyChangeSchema);
      await read();
      return answer(requestId, await write(PARAMETER.routingPolicy, JSON.stringify(policy), describeChange(reason, callerIdentityOf(event))));
    },

    'POST /admin/rollback': async (event, requestId) => {
      const { level, reason } = body(event, RollbackRequestSchema);
      const caller = callerIdentityOf(event);
      if (level === 3) return codeRollback(requestId, caller, reason);
      const result = await latch.rollBack({ level, reason, source: `manual: ${caller}`, origin: 'manual', at: now().toISOString(), requestedBy: caller });
      if (result.action === 'already-rolled-back') return answer(requestId, [], { message: 'a rollback is already in effect; nothing was changed' }, result.state);
      logger.info('manual rollback', { requestId, caller, level: result.latch.level, parameters: result.changed.map((c) => c.parameter) });
      return answer(requestId, result.changed, {}, result.state);
    },

    'DELETE /admin/rollback': async (event, requestId) => {
      const { reason, force } = body(event, ClearLatchSchema);
      const caller = callerIdentityOf(event);
      const result = await latch.clear({ reason, requestedBy: caller, force: force ?? false, origin: 'manual' });
      if (result.action === 'not-latched') return answer(requestId, [], { message: 'the rollback latch is not active; nothing was changed' });
      logger.info('latch cleared', { requestId, caller, forced: result.forced });
      return answer(requestId, result.changed, {
        message: `the latch is clear${result.forced ? ' (forced)' : ''}; flag and traffic stay where the rollback put them: raise them when ready`,
      });
    },

    'POST /admin/circuit-breakers/reset': async (event, requestId) => {
      const { reason } = body(event, ReasonOnlySchema);
      const { config } = await read();
      const changed = await write(PARAMETER.breakerEpoch, String(config.breakerEpoch + 1), describeChange(`circuit breakers reset: ${reason}`, callerIdentityOf(event)));
      return answer(requestId, changed, { message: 'every router closes its breakers at its next configuration read' });
    },

    'GET /admin/audit': async (event, requestId) => {
      const query = event.queryStringParameters ?? {};
      const limit = query.limit === undefined ? AUDIT_DEFAULT_LIMIT : Number(query.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > AUDIT_MAX_LIMIT) {
        throw new ValidationError(`limit must be an integer from 1 to ${AUDIT_MAX_LIMIT}`, [{ path: 'limit', message: `got "${query.limit}"` }]);
      }
      if (query.include !== undefined && query.include !== 'health') {
        throw new ValidationError('include may only be "health"', [{ path: 'include', message: `got "${query.include}"` }]);
      }
      const names = [...Object.values(PARAMETER), ...(query.include === 'health' ? COMPONENTS.map(healthParameter) : [])];
      let histories: (readonly ParameterVersion[])[];
      try {
        histories = await Promise.all(names.map((name) => store.history(name)));
      } catch (error) {
        logger.error('parameter history read failed', { errorName: error instanceof Error ? error.name : typeof error });
        throw new UnavailableError('the parameter history cannot be read', STORE_RETRY_SECONDS);
      }
      return jsonResponse(200, { requestId, entries: auditTrail(histories, limit) }, requestId);
    },
  };

  const ramp = deps.ramp ? rampRoutes({ ...deps.ramp, logger, body, state: async (stored) => state(stored ?? (await read())) }) : {};
  return routeRequests({ ...routes, ...ramp }, logger);
}
