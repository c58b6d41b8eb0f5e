import * as z from 'zod/v4';
import { RoutingPolicySchema } from './routing-config';
import { ROUTING_MODES } from './vocabulary';

/**
 * Request bodies of the admin API (DESIGN §4). Each schema validates in the admin function,
 * generates the API Gateway model, and documents the call.
 */

export const MAX_REASON_LENGTH = 500;

const reason = z
  .string({ error: `reason is required: a non-empty string of at most ${MAX_REASON_LENGTH} characters saying why` })
  .trim()
  .min(1, { error: `reason is required: a non-empty string of at most ${MAX_REASON_LENGTH} characters saying why` })
  .max(MAX_REASON_LENGTH, { error: `reason must be at most ${MAX_REASON_LENGTH} characters` });

export const TrafficChangeSchema = z
  .object({
    percentage: z
      .number({ error: 'percentage must be an integer from 0 to 100' })
      .int({ error: 'percentage must be an integer from 0 to 100' })
      .min(0, { error: 'percentage must be an integer from 0 to 100' })
      .max(100, { error: 'percentage must be an integer from 0 to 100' }),
    reason,
  })
  .strict();

export const FlagChangeSchema = z.object({ enabled: z.boolean({ error: 'enabled must be true or false' }), reason }).strict();

export const ModeChangeSchema = z
  .object({ mode: z.enum(ROUTING_MODES, { error: `mode must be one of ${ROUTING_MODES.join(', ')}` }), reason })
  .strict();

export const PolicyChangeSchema = z.object({ policy: RoutingPolicySchema, reason }).strict();

/** `POST /admin/rollback`. Level 3 (DESIGN §11) is level 2 and the router's `live` alias back on the version before. */
export const RollbackRequestSchema = z
  .object({
    level: z.union([z.literal(1), z.literal(2), z.literal(3)], {
      error: "level must be 1 (flag off), 2 (flag off and traffic 0) or 3 (level 2 and the router's previous code)",
    }),
    reason,
  })
  .strict();

/** `POST /admin/circuit-breakers/reset`: a reason and nothing else. */
export const ReasonOnlySchema = z.object({ reason }).strict();

/**
 * `DELETE /admin/rollback`. `force` clears even while a rollback alarm is in ALARM or CloudWatch
 * cannot say; the force is recorded in the audit trail and the notification.
 */
export const ClearLatchSchema = z
  .object({ reason, force: z.boolean({ error: 'force must be true or false' }).optional() })
  .strict();

/** The feature flags `PUT /admin/feature-flags/{flag}` knows. */
export const FEATURE_FLAGS = ['hybrid-routing'] as const;

export const AUDIT_DEFAULT_LIMIT = 50;
export const AUDIT_MAX_LIMIT = 500;
