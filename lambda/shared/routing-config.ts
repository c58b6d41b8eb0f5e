import * as z from 'zod/v4';
import {
  COMPONENTS,
  HEALTH_STATUSES,
  OPERATIONS,
  ROUTING_MODES,
  type Component,
  type Operation,
  type RoutingMode,
} from './vocabulary';

/**
 * The configuration store of DESIGN §6: parameter names under `/hybrid-routing/{env}/`, the
 * schemas of their values, their safe defaults, and the parser the router uses on each refresh.
 * The CDK config store creates the parameters from the same defaults.
 */

export const PARAMETER_ROOT = '/hybrid-routing';

export const PARAMETER = {
  hybridRoutingFlag: 'feature-flags/hybrid-routing',
  trafficPercentage: 'traffic/percentage',
  routingMode: 'routing/mode',
  routingPolicy: 'routing/policy',
  rollbackState: 'rollback/state',
  breakerEpoch: 'circuit-breakers/epoch',
  /** Written by the ramp controller and the admin API's ramp routes (DESIGN §10); the router ignores it. */
  rampState: 'ramp/state',
} as const;

export const healthParameter = (component: Component): string => `health/${component}`;

/** `/hybrid-routing/{env}` — the path every function of one environment reads. */
export const parameterPath = (environment: string): string => `${PARAMETER_ROOT}/${environment}`;

export const STRATEGIES = ['bedrock-first', 'mcp-first', 'health-gated'] as const;
export type Strategy = (typeof STRATEGIES)[number];

export interface LatencyBudgetPolicy {
  /** The first-choice path may use up to this long; the fallback gets what is left of `hardMs`. */
  readonly targetMs: number;
  /** The request answers 504 once this much time has passed. */
  readonly hardMs: number;
}

export interface OperationPolicy {
  readonly strategy: Strategy;
  readonly budget: LatencyBudgetPolicy;
}

const DEFAULT_OPERATION_POLICY: Record<Operation, OperationPolicy> = {
  emergency: { strategy: 'bedrock-first', budget: { targetMs: 5_000, hardMs: 10_000 } },
  infrastructure: { strategy: 'health-gated', budget: { targetMs: 10_000, hardMs: 15_000 } },
  'meta-monitor': { strategy: 'health-gated', budget: { targetMs: 10_000, hardMs: 15_000 } },
  implementation: { strategy: 'health-gated', budget: { targetMs: 10_000, hardMs: 15_000 } },
  'kiro-communication': { strategy: 'mcp-first', budget: { targetMs: 30_000, hardMs: 30_000 } },
  'standard-analysis': { strategy: 'mcp-first', budget: { targetMs: 30_000, hardMs: 30_000 } },
  background: { strategy: 'mcp-first', budget: { targetMs: 30_000, hardMs: 30_000 } },
};

const BudgetSchema = z
  .object({
    targetMs: z.number().int().min(100).max(60_000),
    hardMs: z.number().int().min(100).max(60_000),
  })
  .strict()
  .refine((budget) => budget.targetMs <= budget.hardMs, {
    error: 'targetMs must not exceed hardMs',
  });

const OperationPolicySchema = z.object({ strategy: z.enum(STRATEGIES), budget: BudgetSchema }).strict();

/** The `routing/policy` parameter. Every part is optional; what is left out takes the default. */
export const RoutingPolicySchema = z
  .object({
    operations: z
      .object(
        Object.fromEntries(OPERATIONS.map((op) => [op, OperationPolicySchema.optional()])) as Record<
          Operation,
          z.ZodOptional<typeof OperationPolicySchema>
        >,
      )
      .strict()
      .optional(),
    circuitBreaker: z
      .object({
        /** Consecutive failures that open a provider's breaker. */
        failureThreshold: z.number().int().min(1).max(100),
        /** How long an open breaker waits before letting one trial request through. */
        coolDownMs: z.number().int().min(1_000).max(600_000),
      })
      .strict()
      .optional(),
    retry: z
      .object({
        /** Base of the single jittered retry on throttling or a transient 5xx. */
        baseDelayMs: z.number().int().min(0).max(5_000),
      })
      .strict()
      .optional(),
  })
  .strict();

export type RoutingPolicyInput = z.infer<typeof RoutingPolicySchema>;

export interface RoutingPolicy {
  readonly operations: Readonly<Record<Operation, OperationPolicy>>;
  readonly circuitBreaker: { readonly failureThreshold: number; readonly coolDownMs: number };
  readonly retry: { readonly baseDelayMs: number };
}

export const DEFAULT_POLICY: RoutingPolicy = {
  operations: DEFAULT_OPERATION_POLICY,
  circuitBreaker: { failureThreshold: 5, coolDownMs: 30_000 },
  retry: { baseDelayMs: 100 },
};

/** Fills what a stored policy leaves out with the defaults. */
export function resolvePolicy(input: RoutingPolicyInput): RoutingPolicy {
  const operations = { ...DEFAULT_POLICY.operations };
  for (const op of OPERATIONS) {
    const override = input.operations?.[op];
    if (override) operations[op] = override;
  }
  return {
    operations,
    circuitBreaker: input.circuitBreaker ?? DEFAULT_POLICY.circuitBreaker,
    retry: input.retry ?? DEFAULT_POLICY.retry,
  };
}

export const RollbackStateSchema = z
  .object({
    active: z.boolean(),
    level: z.union([z.literal(1), z.literal(2), z.literal(3)]).nullable(),
    reason: z.string(),
    source: z.string(),
    at: z.string().nullable(),
    previous: z
      .object({ hybridEnabled: z.boolean(), trafficPercentage: z.number().int().min(0).max(100) })
      .strict()
      .nullable(),
    /** Level 3 (DESIGN §11): the router versions the `live` alias moved from and to. */
    code: z.object({ from: z.string(), to: z.string() }).strict().optional(),
    /** Set by a clear, which keeps the rest of the record; the ramp's hold-down counts from it. */
    clearedAt: z.string().optional(),
  })
  .strict();
export type RollbackState = z.infer<typeof RollbackStateSchema>;

export const CLEAR_ROLLBACK_STATE: RollbackState = {
  active: false,
  level: null,
  reason: '',
  source: '',
  at: null,
  previous: null,
};

export const ComponentHealthSchema = z.object({
  status: z.enum(HEALTH_STATUSES),
  lastCheckedAt: z.string().nullable(),
  latencyMs: z.number().nullable(),
  consecutiveFailures: z.number().int().min(0),
  message: z.string(),
});
export type ComponentHealth = z.infer<typeof ComponentHealthSchema>;

export const UNKNOWN_HEALTH: ComponentHealth = {
  status: 'unknown',
  lastCheckedAt: null,
  latencyMs: null,
  consecutiveFailures: 0,
  message: 'no health check has reported yet',
};

/** Everything the router decides from, as read from one environment's parameter path. */
export interface RoutingConfig {
  readonly hybridEnabled: boolean;
  readonly trafficPercentage: number;
  readonly mode: RoutingMode;
  readonly policy: RoutingPolicy;
  readonly rollback: RollbackState;
  readonly breakerEpoch: number;
  readonly health: Readonly<Partial<Record<Component, ComponentHealth>>>;
}

/** The `ramp/state` value of an environment where no ramp has run. */
export const NO_RAMP_VALUE = '{}';

/** The initial value of each parameter the config store creates: hybrid routing off, no latch, no ramp. */
export const DEFAULT_PARAMETER_VALUES: Readonly<Record<(typeof PARAMETER)[keyof typeof PARAMETER], string>> = {
  [PARAMETER.hybridRoutingFlag]: 'false',
  [PARAMETER.trafficPercentage]: '0',
  [PARAMETER.routingMode]: 'auto',
  [PARAMETER.routingPolicy]: JSON.stringify({}),
  [PARAMETER.rollbackState]: JSON.stringify(CLEAR_ROLLBACK_STATE),
  [PARAMETER.breakerEpoch]: '0',
  [PARAMETER.rampState]: NO_RAMP_VALUE,
};

/** The value each `health/{component}` parameter starts with, before any health check has run. */
export const INITIAL_HEALTH_VALUE = JSON.stringify(UNKNOWN_HEALTH);

/**
 * The configuration served when no copy of the store was ever read: the control path for everyone.
 */
export const CONTROL_CONFIG: RoutingConfig = {
  hybridEnabled: false,
  trafficPercentage: 0,
  mode: 'auto',
  policy: DEFAULT_POLICY,
  rollback: CLEAR_ROLLBACK_STATE,
  breakerEpoch: 0,
  health: {},
};

export const FlagValueSchema = z.enum(['true', 'false']);
export const TrafficValueSchema = z.string().regex(/^(100|[1-9]?[0-9])$/);
export const EpochValueSchema = z.string().regex(/^(0|[1-9][0-9]{0,15})$/);

export interface ParsedConfig {
  readonly config: RoutingConfig;
  /** One line per parameter that was missing or did not parse, naming the safe value used instead. */
  readonly problems: readonly string[];
}

/**
 * Turns the raw parameter values (keys relative to the environment path) into a `RoutingConfig`.
 * A value that does not parse never widens exposure: a bad flag reads as off, bad traffic as 0,
 * a bad policy as the default policy, and a missing or unreadable rollback state as an active latch.
 */
export function parseRoutingConfig(values: Readonly<Record<string, string | undefined>>): ParsedConfig {
  const problems: string[] = [];
  const read = <T>(name: string, parse: (raw: string) => T, fallback: T, missingIsProblem = true): T => {
    const raw = values[name];
    if (raw === undefined) {
      if (missingIsProblem) problems.push(`${name} is missing; using ${JSON.stringify(fallback)}`);
      return fallback;
    }
    try {
      return parse(raw);
    } catch {
      problems.push(`${name} does not parse; using ${JSON.stringify(fallback)}`);
      return fallback;
    }
  };

  const hybridEnabled = read(PARAMETER.hybridRoutingFlag, (raw) => FlagValueSchema.parse(raw.trim()) === 'true', false);
  const trafficPercentage = read(PARAMETER.trafficPercentage, (raw) => Number(TrafficValueSchema.parse(raw.trim())), 0);
  const mode = read(PARAMETER.routingMode, (raw) => z.enum(ROUTING_MODES).parse(raw.trim()), 'auto' as RoutingMode);
  const policy = read(
    PARAMETER.routingPolicy,
    (raw) => resolvePolicy(RoutingPolicySchema.parse(JSON.parse(raw))),
    DEFAULT_POLICY,
  );
  const rollback = readLatch(values[PARAMETER.rollbackState], problems);
  const breakerEpoch = read(PARAMETER.breakerEpoch, (raw) => Number(EpochValueSchema.parse(raw.trim())), 0);

  const health: Partial<Record<Component, ComponentHealth>> = {};
  for (const component of COMPONENTS) {
    const parsed = read(
      healthParameter(component),
      (raw) => ComponentHealthSchema.parse(JSON.parse(raw)),
      undefined as ComponentHealth | undefined,
      false,
    );
    if (parsed) health[component] = parsed;
  }

  return {
    config: { hybridEnabled, trafficPercentage, mode, policy, rollback, breakerEpoch, health },
    problems,
  };
}

/**
 * Reads `rollback/state` by safety invariant 5: `{ "active": false }` is a clear latch, every
 * field left out taking its empty value; a value that does not parse, or no value at all, is an
 * active latch (the control path), with the problem added to `problems`.
 */
function readLatch(raw: string | undefined, problems: string[]): RollbackState {
  const failSafe = (why: string): RollbackState => {
    problems.push(`${PARAMETER.rollbackState} ${why}; reading it as an active latch (control path)`);
    return { ...CLEAR_ROLLBACK_STATE, active: true, reason: `${PARAMETER.rollbackState} ${why}; failing safe to the control path`, source: 'fail-safe' };
  };
  if (raw === undefined) return failSafe('is missing');
  try {
    const value: unknown = JSON.parse(raw);
    if (typeof value !== 'object' || value === null || Array.isArray(value) || typeof (value as { active?: unknown }).active !== 'boolean') {
      return failSafe('does not parse');
    }
    return RollbackStateSchema.parse({ ...CLEAR_ROLLBACK_STATE, ...value });
  } catch {
    return failSafe('does not parse');
  }
}
