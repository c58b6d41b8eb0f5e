import * as z from 'zod/v4';
import { ReasonOnlySchema } from './admin-api';
export { NO_RAMP_VALUE } from './routing-config';

/**
 * The automated ramp of DESIGN §10 as data: the `POST /admin/ramp` body, the `ramp/state` record
 * the controller and the admin API write, and the runbook's defaults. One schema each, used by the
 * functions, the API Gateway models and the docs.
 */

/** The runbook's ramp: 5 → 25 → 75 → 100 %, baking 30, 45, 60 and 30 minutes. */
export const DEFAULT_STEPS = [5, 25, 75, 100] as const;
export const DEFAULT_BAKE_MINUTES = [30, 45, 60, 30] as const;
export const MAX_BAKE_MINUTES = 1440;
export const MAX_STEPS = 10;

/** The go/no-go of the runbook, each overridable per ramp. */
export const DEFAULT_GATES = { errorRatePercent: 1, latencyP95Ms: 10_000, minSamples: 50 } as const;

/** A step that sees too little traffic pauses after this many bake times, and never sooner than the floor. */
export const INSUFFICIENT_PAUSE_BAKES = 3;
export const INSUFFICIENT_PAUSE_FLOOR_MINUTES = 10;

/** Default minutes after the last rollback or latch clear before a ramp may start. */
export const DEFAULT_HOLD_DOWN_MINUTES = 30;

/** The actions of `POST /admin/ramp/{action}`. */
export const RAMP_ACTIONS = ['pause', 'resume', 'abort'] as const;
export type RampAction = (typeof RAMP_ACTIONS)[number];

export const RAMP_STATUSES = ['running', 'paused', 'done', 'rolled-back', 'aborted'] as const;
export type RampStatus = (typeof RAMP_STATUSES)[number];

/** A ramp still holding hybrid traffic it may widen: a new start is refused while one exists. */
export const isOpen = (status: RampStatus): boolean => status === 'running' || status === 'paused';

const stepPercentage = z
  .number({ error: 'each step must be an integer percentage from 1 to 100' })
  .int({ error: 'each step must be an integer percentage from 1 to 100' })
  .min(1, { error: 'each step must be an integer percentage from 1 to 100' })
  .max(100, { error: 'each step must be an integer percentage from 1 to 100' });

const bake = z
  .number({ error: `bakeMinutes must be an integer from 0 to ${MAX_BAKE_MINUTES}` })
  .int({ error: `bakeMinutes must be an integer from 0 to ${MAX_BAKE_MINUTES}` })
  .min(0, { error: `bakeMinutes must be an integer from 0 to ${MAX_BAKE_MINUTES}` })
  .max(MAX_BAKE_MINUTES, { error: `bakeMinutes must be an integer from 0 to ${MAX_BAKE_MINUTES}` });

export const RampGatesSchema = z
  .object({
    /** The hybrid error rate a step must stay below, in percent. */
    errorRatePercent: z
      .number({ error: 'errorRatePercent must be a number from 0.01 to 50' })
      .min(0.01, { error: 'errorRatePercent must be a number from 0.01 to 50' })
      .max(50, { error: 'errorRatePercent must be a number from 0.01 to 50' }),
    /** The hybrid cohort's p95 latency a step must stay within. */
    latencyP95Ms: z
      .number({ error: 'latencyP95Ms must be an integer from 100 to 60000' })
      .int({ error: 'latencyP95Ms must be an integer from 100 to 60000' })
      .min(100, { error: 'latencyP95Ms must be an integer from 100 to 60000' })
      .max(60_000, { error: 'latencyP95Ms must be an integer from 100 to 60000' }),
    /** Hybrid requests a step must see before its gates can pass (and the control cohort, to be compared with). */
    minSamples: z
      .number({ error: 'minSamples must be an integer from 1 to 100000' })
      .int({ error: 'minSamples must be an integer from 1 to 100000' })
      .min(1, { error: 'minSamples must be an integer from 1 to 100000' })
      .max(100_000, { error: 'minSamples must be an integer from 1 to 100000' }),
  })
  .strict();
export type RampGates = z.infer<typeof RampGatesSchema>;

/** `POST /admin/ramp`. Everything but the reason has the runbook's default. */
export const RampStartSchema = z
  .object({
    steps: z.array(stepPercentage).min(1, { error: 'steps must name at least one percentage' }).max(MAX_STEPS, { error: `steps may name at most ${MAX_STEPS} percentages` }).optional(),
    bakeMinutes: z.union([bake, z.array(bake).min(1).max(MAX_STEPS)], { error: `bakeMinutes must be one integer from 0 to ${MAX_BAKE_MINUTES}, or one per step` }).optional(),
    gates: RampGatesSchema.partial().optional(),
    reason: ReasonOnlySchema.shape.reason,
  })
  .strict()
  .superRefine((body, ctx) => {
    const steps = body.steps ?? DEFAULT_STEPS;
    if (steps.some((step, i) => i > 0 && step <= steps[i - 1]!)) {
      ctx.addIssue({ code: 'custom', path: ['steps'], message: 'steps must rise strictly, e.g. [5, 25, 75, 100]: a ramp only ever adds callers' });
    }
    if (Array.isArray(body.bakeMinutes) && body.bakeMinutes.length !== steps.length) {
      ctx.addIssue({ code: 'custom', path: ['bakeMinutes'], message: `bakeMinutes must be one number, or one per step (${steps.length})` });
    }
  });
export type RampStartRequest = z.infer<typeof RampStartSchema>;

/** `POST /admin/ramp/{action}`: a reason and nothing else. */
export const RampActionSchema = ReasonOnlySchema;

export const GATE_NAMES = ['hybrid-error-rate', 'hybrid-vs-control', 'hybrid-latency-p95', 'rollback-alarms', 'direct-bedrock-health', 'mcp-router-health'] as const;
export type GateName = (typeof GATE_NAMES)[number];

export const GATE_OUTCOMES = ['pass', 'fail', 'insufficient', 'not-applicable'] as const;
export type GateOutcome = (typeof GATE_OUTCOMES)[number];

const count = z.number().int().min(0).nullable();

/** What CloudWatch answered for the step so far; null is a metric with no data, never a zero. */
export const RampFiguresSchema = z
  .object({
    window: z.object({ start: z.string(), end: z.string() }).strict().nullable(),
    hybrid: z.object({ requests: count, errors: count, latencyP95Ms: z.number().nullable(), withinLatencyPercent: z.number().nullable() }).strict(),
    control: z.object({ requests: count, errors: count }).strict(),
    health: z.object({ 'direct-bedrock': z.number().nullable(), 'mcp-router': z.number().nullable() }).strict(),
    /** The rollback alarms in ALARM; null when CloudWatch could not say. */
    alarmsInAlarm: z.array(z.string()).nullable(),
  })
  .strict();
export type RampFigures = z.infer<typeof RampFiguresSchema>;

export const GateResultSchema = z
  .object({
    gate: z.enum(GATE_NAMES),
    outcome: z.enum(GATE_OUTCOMES),
    /** The judged value in the threshold's unit (percent, ms, count), or null without data. */
    value: z.number().nullable(),
    threshold: z.number(),
    /**
     * What the verdict rests on, where a gate has it: the 95 % lower bound (percent) of the error
     * rate or of the share of slow requests, or the one-sided p-value of hybrid vs control.
     */
    evidence: z.number().nullable(),
  })
  .strict();
export type GateResult = z.infer<typeof GateResultSchema>;

export const RAMP_VERDICTS = ['pass', 'fail', 'insufficient'] as const;
export type RampVerdict = (typeof RAMP_VERDICTS)[number];

export const RampEvaluationSchema = z
  .object({
    at: z.string(),
    figures: RampFiguresSchema,
    gates: z.array(GateResultSchema),
    verdict: z.enum(RAMP_VERDICTS),
    /** One line per gate that did not pass, saying why. */
    reasons: z.array(z.string()),
  })
  .strict();
export type RampEvaluation = z.infer<typeof RampEvaluationSchema>;

/** The `ramp/state` parameter (DESIGN §6, §10). */
export const RampStateSchema = z
  .object({
    status: z.enum(RAMP_STATUSES),
    steps: z.array(stepPercentage).min(1).max(MAX_STEPS),
    stepIndex: z.number().int().min(0),
    bakeMinutes: z.array(bake).min(1).max(MAX_STEPS),
    gates: RampGatesSchema,
    /** When this ramp started; tells two ramps apart. */
    startedAt: z.string(),
    /** When the current step started (or was resumed): its bake and its figures count from here. */
    stepStartedAt: z.string(),
    lastEvaluation: RampEvaluationSchema.nullable(),
    /** Why the last transition happened. */
    reason: z.string(),
    /** Who made it: the caller's IAM identity, or the ramp controller. */
    by: z.string(),
    updatedAt: z.string(),
  })
  .strict()
  .refine((state) => state.stepIndex < state.steps.length && state.bakeMinutes.length === state.steps.length, {
    error: 'stepIndex must name a step, with one bake time per step',
  });
export type RampState = z.infer<typeof RampStateSchema>;

/** What a stored `ramp/state` value says: no ramp, a ramp, or a value that does not parse. */
export type StoredRamp = { readonly kind: 'none' } | { readonly kind: 'ramp'; readonly state: RampState } | { readonly kind: 'unreadable'; readonly problem: string };

export function readRampValue(raw: string | undefined): StoredRamp {
  if (raw === undefined) return { kind: 'none' };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { kind: 'unreadable', problem: 'ramp/state is not JSON' };
  }
  if (json !== null && typeof json === 'object' && !Array.isArray(json) && Object.keys(json).length === 0) return { kind: 'none' };
  const parsed = RampStateSchema.safeParse(json);
  if (!parsed.success) return { kind: 'unreadable', problem: `ramp/state does not parse: ${parsed.error.issues[0]?.message ?? 'invalid'}` };
  return { kind: 'ramp', state: parsed.data };
}
