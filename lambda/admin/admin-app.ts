import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { callerIdentityOf, jsonResponse, routeRequests, type RouteHandler } from '../adapters/http';
import { ParameterWriteError, type ParameterWriter } from '../adapters/parameter-writer';
import { auditTrail, describeChange, type ParameterVersion } from '../core/audit';
import { healthView } from '../core/health';
import { ConflictError, NotFoundError, UnavailableError, ValidationError } from '../core/http-errors';
import { assertLatchAllows, widensExposure, type AdminChange } from '../core/latch';
import { parseJsonBody } from '../core/request-body';
import { planRollback } from '../core/rollback';
import {
  AUDIT_DEFAULT_LIMIT,
  AUDIT_MAX_LIMIT,
  FEATURE_FLAGS,
  FlagChangeSchema,
  ModeChangeSchema,
  PolicyChangeSchema,
  ReasonOnlySchema,
  RollbackRequestSchema,
  TrafficChangeSchema,
} from '../shared/admin-api';
import { CLEAR_ROLLBACK_STATE, PARAMETER, healthParameter, type ParsedConfig } from '../shared/routing-config';
import { COMPONENTS } from '../shared/vocabulary';

/** Admin bodies are small; anything near this size is not an admin request. */
const MAX_ADMIN_BODY_BYTES = 64 * 1024;
const STORE_UNAVAILABLE_RETRY_SECONDS = 5;

export interface AdminAppDependencies {
  readonly environment: string;
  /** The environment's parameter path, e.g. `/hybrid-routing/prod`. */
  readonly path: string;
  /** A fresh, uncached read of the whole path. */
  readonly readConfig: () => Promise<ParsedConfig>;
  /** Every stored version of one parameter (absolute name); empty when it does not exist. */
  readonly readHistory: (name: string) => Promise<ParameterVersion[]>;
  readonly writer: ParameterWriter;
  readonly logger: Logger;
  readonly healthPeriodMs: number;
  readonly now?: () => Date;
}

/**
 * The operators' controls (DESIGN §4 admin table). Every write needs a reason, which lands in the
 * parameter's description together with the caller, so the parameter history is the audit trail;
 * every answer is the new state. Rollback wins: while the latch is set, widening writes get 409.
 */
export function createAdminApp(deps: AdminAppDependencies) {
  const { logger, path } = deps;
  const now = deps.now ?? (() => new Date());
  const absolute = (name: string) => `${path}/${name}`;

  const read = async (): Promise<ParsedConfig> => {
    try {
      return await deps.readConfig();
    } catch (error) {
      logger.error('configuration store read failed', { errorName: error instanceof Error ? error.name : typeof error });
      throw new UnavailableError('the configuration store cannot be read; nothing was changed', STORE_UNAVAILABLE_RETRY_SECONDS);
    }
  };

  /** Writes in order and stops at the first failure, so nothing after it changes. */
  const write = async (writes: readonly { name: string; value: string }[], reason: string, caller: string) => {
    const done: { parameter: string; version: number }[] = [];
    for (const { name, value } of writes) {
      try {
        done.push({ parameter: name, version: await deps.writer.put(absolute(name), value, describeChange(reason, caller)) });
      } catch (error) {
        if (!(error instanceof ParameterWriteError)) throw error;
        logger.error('configuration write failed', { parameter: name, errorName: error.errorName, written: done.map((d) => d.parameter) });
        const written = done.length > 0 ? `; already written: ${done.map((d) => d.parameter).join(', ')}` : '';
        throw new UnavailableError(`could not write ${name} (${error.errorName}); nothing after it was changed${written}`, STORE_UNAVAILABLE_RETRY_SECONDS);
      }
    }
    return done;
  };

  const state = (parsed: ParsedConfig) => {
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
      problems: parsed.problems,
    };
  };

  /** Answers a completed change with the state as now stored. */
  const answer = async (requestId: string, changed: { parameter: string; version: number }[], extra: Record<string, unknown> = {}) =>
    jsonResponse(200, { requestId, changed, ...extra, state: state(await read()) }, requestId);

  /**
   * A widening write races a rollback: both read, the rollback sets the latch, then this write
   * lands. Re-reading after the write catches that, and the write is undone so rollback wins.
   */
  const guardedChange = async (event: APIGatewayProxyEvent, requestId: string, change: AdminChange, name: string, value: string, reason: string) => {
    const caller = callerIdentityOf(event);
    const before = await read();
    assertLatchAllows(change, before.config);
    const changed = await write([{ name, value }], reason, caller);
    if (widensExposure(change, before.config)) {
      const after = await read();
      if (after.config.rollback.active) {
        const previous = change.kind === 'traffic' ? String(before.config.trafficPercentage) : change.kind === 'flag' ? String(before.config.hybridEnabled) : before.config.mode;
        await write([{ name, value: previous }], `reverted: a rollback latched while "${reason}" was being written`, caller);
        throw new ConflictError(`a rollback latched while this change was written (${after.config.rollback.reason}); it was reverted`);
      }
    }
    logger.info('configuration changed', { requestId, caller, parameters: changed.map((c) => c.parameter) });
    return answer(requestId, changed);
  };

  const body = <S extends Parameters<typeof parseJsonBody>[2]>(event: APIGatewayProxyEvent, schema: S) =>
    parseJsonBody(event.body, event.isBase64Encoded, schema, MAX_ADMIN_BODY_BYTES);

  const routes: Record<string, RouteHandler> = {
    'GET /admin/status': async (_event, requestId) => jsonResponse(200, { requestId, state: state(await read()) }, requestId),

    'PUT /admin/traffic': async (event, requestId) => {
      const { percentage, reason } = body(event, TrafficChangeSchema);
      return guardedChange(event, requestId, { kind: 'traffic', percentage }, PARAMETER.trafficPercentage, String(percentage), reason);
    },

    'PUT /admin/feature-flags/{flag}': async (event, requestId) => {
      const flag = event.pathParameters?.flag ?? '';
      if (!(FEATURE_FLAGS as readonly string[]).includes(flag)) {
        throw new NotFoundError(`no feature flag "${flag}"; flags are ${FEATURE_FLAGS.join(', ')}`);
      }
      const { enabled, reason } = body(event, FlagChangeSchema);
      return guardedChange(event, requestId, { kind: 'flag', enabled }, PARAMETER.hybridRoutingFlag, String(enabled), reason);
    },

    'PUT /admin/routing/mode': async (event, requestId) => {
      const { mode, reason } = body(event, ModeChangeSchema);
      return guardedChange(event, requestId, { kind: 'mode', mode }, PARAMETER.routingMode, mode, reason);
    },

    'PUT /admin/routing/policy': async (event, requestId) => {
      const { policy, reason } = body(event, PolicyChangeSchema);
      await read();
      const changed = await write([{ name: PARAMETER.routingPolicy, value: JSON.stringify(policy) }], reason, callerIdentityOf(event));
      return answer(requestId, changed);
    },

    'POST /admin/rollback': async (event, requestId) => {
      const { level, reason } = body(event, RollbackRequestSchema);
      const caller = callerIdentityOf(event);
      const plan = planRollback((await read()).config, { level, reason, source: `manual: ${caller}`, at: now().toISOString() });
      if (plan.kind === 'already-rolled-back') return answer(requestId, [], { message: 'a rollback is already in effect; nothing was changed' });
      const changed = await write(plan.writes, `rollback level ${level}: ${reason}`, caller);
      logger.info('manual rollback', { requestId, caller, level, parameters: changed.map((c) => c.parameter) });
      return answer(requestId, changed);
    },

    'DELETE /admin/rollback': async (event, requestId) => {
      const { reason } = body(event, ReasonOnlySchema);
      const { config } = await read();
      if (!config.rollback.active) return answer(requestId, [], { message: 'the rollback latch is not active; nothing was changed' });
      const changed = await write([{ name: PARAMETER.rollbackState, value: JSON.stringify(CLEAR_ROLLBACK_STATE) }], `latch cleared: ${reason}`, callerIdentityOf(event));
      return answer(requestId, changed, { message: 'the latch is clear; flag and traffic are as they were: raise them when ready' });
    },

    'POST /admin/circuit-breakers/reset': async (event, requestId) => {
      const { reason } = body(event, ReasonOnlySchema);
      const { config } = await read();
      const changed = await write([{ name: PARAMETER.breakerEpoch, value: String(config.breakerEpoch + 1) }], `circuit breakers reset: ${reason}`, callerIdentityOf(event));
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
      let histories: ParameterVersion[][];
      try {
        histories = await Promise.all(names.map((name) => deps.readHistory(absolute(name))));
      } catch (error) {
        logger.error('parameter history read failed', { errorName: error instanceof Error ? error.name : typeof error });
        throw new UnavailableError('the parameter history cannot be read', STORE_UNAVAILABLE_RETRY_SECONDS);
      }
      const relative = histories.map((history) => history.map((v) => ({ ...v, name: v.name.slice(path.length + 1) })));
      return jsonResponse(200, { requestId, entries: auditTrail(relative, limit) }, requestId);
    },
  };

  return routeRequests(routes, logger);
}
