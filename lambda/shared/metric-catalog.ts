/**
 * DESIGN §7: every metric the functions emit, with its unit, extra dimension and resolution.
 * The router and health checks emit through these definitions and the dashboards and alarms
 * are built from them, so a name is typed once.
 */

export const METRIC_NAMESPACE = 'HybridRouting';

export type MetricUnitName = 'Count' | 'Milliseconds';
export type ExtraDimension = 'Cohort' | 'Provider' | 'Component' | 'Level' | 'Source';

export interface MetricDefinition {
  readonly name: string;
  readonly unit: MetricUnitName;
  readonly dimension?: ExtraDimension;
  /** A second extra dimension, for the few metrics that need two (RollbackExecuted: Level and Source). */
  readonly secondDimension?: ExtraDimension;
  /** One-second storage resolution, so alarms can use short periods. */
  readonly highResolution: boolean;
}

const define = (name: string, unit: MetricUnitName, dimension?: ExtraDimension, highResolution = false): MetricDefinition => ({
  name,
  unit,
  dimension,
  highResolution,
});

export const METRICS = {
  requests: define('Requests', 'Count', 'Cohort', true),
  errors: define('Errors', 'Count', 'Cohort', true),
  clientErrors: define('ClientErrors', 'Count', 'Cohort'),
  fallbacks: define('Fallbacks', 'Count', 'Cohort'),
  firstChoiceSuccess: define('FirstChoiceSuccess', 'Count', 'Cohort'),
  latency: define('Latency', 'Milliseconds', 'Cohort', true),
  providerRequests: define('ProviderRequests', 'Count', 'Provider'),
  providerErrors: define('ProviderErrors', 'Count', 'Provider'),
  providerLatency: define('ProviderLatency', 'Milliseconds', 'Provider'),
  inputTokens: define('InputTokens', 'Count', 'Provider'),
  outputTokens: define('OutputTokens', 'Count', 'Provider'),
  circuitOpen: define('CircuitOpen', 'Count', 'Provider'),
  shed: define('Shed', 'Count'),
  piiDetected: define('PiiDetected', 'Count'),
  healthCheckSuccess: define('HealthCheckSuccess', 'Count', 'Component', true),
  healthCheckLatency: define('HealthCheckLatency', 'Milliseconds', 'Component'),
  rollbackExecuted: { ...define('RollbackExecuted', 'Count', 'Level'), secondDimension: 'Source' },
  /** Parameters missing or unparseable at a fresh read (router) or a health-check run (health-check). */
  configProblems: define('ConfigProblems', 'Count'),
  streamsTruncated: define('StreamsTruncated', 'Count'),
  jobsSubmitted: define('JobsSubmitted', 'Count'),
  jobsFailed: define('JobsFailed', 'Count'),
  /** The traffic percentage of the automated ramp's step, at each controller tick (0 once it rolled back). */
  rampTrafficPercentage: define('RampTrafficPercentage', 'Count'),
  /** Gates that failed with enough evidence at a controller tick. */
  rampGateFailures: define('RampGateFailures', 'Count'),
} as const satisfies Record<string, MetricDefinition>;

/** The `Service` dimension value of each function. */
export const SERVICE = {
  router: 'router',
  deployHook: 'deploy-hook',
  healthCheck: 'health-check',
  admin: 'admin',
  rollback: 'rollback',
  ramp: 'ramp',
} as const;

/** One value to emit: a metric, its value, and the value of its extra dimension if it has one. */
export interface MetricPoint {
  readonly metric: MetricDefinition;
  readonly value: number;
  readonly dimensionValue?: string;
  /** The value of its second extra dimension, if it has one. */
  readonly secondDimensionValue?: string;
}

/**
 * `RollbackExecuted` dimension values: `Level` is the level the latch reached (`1`, `2`, `3`) or
 * `clear`; `Source` says who started it, as a category rather than a name.
 */
export const ROLLBACK_SOURCES = ['alarm', 'manual', 'ramp'] as const;
export type RollbackSource = (typeof ROLLBACK_SOURCES)[number];
export const CLEAR_LEVEL = 'clear';
