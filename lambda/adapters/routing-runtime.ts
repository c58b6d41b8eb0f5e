import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import type { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { CircuitBreakers } from '../core/circuit-breaker';
import { CohortAssigner } from '../core/cohort';
import { STALE_AFTER_PERIODS } from '../core/health';
import type { RouterClock } from '../core/hybrid-router';
import { DEFAULT_CONFIG_READ_TIMEOUT_MS } from '../core/latency-budget';
import { METRICS, SERVICE } from '../shared/metric-catalog';
import { BEDROCK_REQUEST_TIMEOUT_MS, createBedrockRuntimeClient, createSsmClient } from './aws-clients';
import { ConfigSource } from './config-source';
import { numberEnv, requireEnv } from './environment';
import { McpProvider } from './mcp-provider';
import { createTelemetry, publishMetrics } from './telemetry';

/** What a function that routes needs, built once per container from its environment. */
export interface RoutingRuntime {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly configSource: ConfigSource;
  /** The longest a request waits for a configuration read (`CONFIG_READ_TIMEOUT_MS`). */
  readonly configReadTimeoutMs: number;
  readonly breakers: CircuitBreakers;
  readonly cohorts: CohortAssigner;
  readonly clock: RouterClock;
  readonly healthPeriodMs: number;
  readonly healthStaleAfterMs: number;
  /** Retries off: the router owns them. */
  readonly bedrockClient: BedrockRuntimeClient;
  readonly bedrockModelId: string;
  readonly mcp: McpProvider;
}

export interface RoutingRuntimeOptions {
  /**
   * Bound on one Bedrock HTTP request, for a function whose budget runs past the router's.
   * @default BEDROCK_REQUEST_TIMEOUT_MS
   */
  readonly bedrockRequestTimeoutMs?: number;
}

/**
 * The module-scope setup of every function that routes (the router, the stream function and the
 * job worker), from the router's environment variables. They all emit under the router's
 * `Service` dimension, so their requests count in the same `Requests`, `Errors` and `Latency` by
 * cohort that the alarms and the ramp judge (DESIGN §12: one set of metrics).
 */
export function routingRuntime(options: RoutingRuntimeOptions = {}): RoutingRuntime {
  const { logger, metrics } = createTelemetry(SERVICE.router, requireEnv('ENVIRONMENT'));
  const healthPeriodMs = numberEnv('HEALTH_CHECK_PERIOD_SECONDS', 60) * 1000;
  const configSource = new ConfigSource({
    provider: new SSMProvider({ awsSdkV3Client: createSsmClient() }),
    path: requireEnv('CONFIG_PATH'),
    ttlSeconds: numberEnv('CONFIG_TTL_SECONDS', 5),
    onReadError: (error, origin) =>
      logger.warn('configuration read failed', { origin, errorName: error instanceof Error ? error.name : typeof error }),
    // Invariant 5: a missing or unparseable parameter fails safe, and is reported once per read.
    onProblems: (problems) => {
      logger.warn('configuration problems', { problems });
      publishMetrics(metrics, [{ metric: METRICS.configProblems, value: problems.length }]);
    },
  });
  return {
    logger,
    metrics,
    configSource,
    configReadTimeoutMs: numberEnv('CONFIG_READ_TIMEOUT_MS', DEFAULT_CONFIG_READ_TIMEOUT_MS),
    breakers: new CircuitBreakers(Date.now),
    cohorts: new CohortAssigner(),
    clock: { now: Date.now, sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)), random: Math.random },
    healthPeriodMs,
    healthStaleAfterMs: STALE_AFTER_PERIODS * healthPeriodMs,
    bedrockClient: createBedrockRuntimeClient(options.bedrockRequestTimeoutMs ?? BEDROCK_REQUEST_TIMEOUT_MS),
    bedrockModelId: requireEnv('BEDROCK_MODEL_ID'),
    mcp: new McpProvider({ serverUrl: new URL(requireEnv('MCP_SERVER_URL')), toolName: requireEnv('MCP_TOOL_NAME') }),
  };
}
