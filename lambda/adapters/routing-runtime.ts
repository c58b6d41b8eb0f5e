import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { SSMClient } from '@aws-sdk/client-ssm';
import { CircuitBreakers } from '../core/circuit-breaker';
import { CohortAssigner } from '../core/cohort';
import { STALE_AFTER_PERIODS } from '../core/health';
import type { RouterClock } from '../core/hybrid-router';
import { SERVICE } from '../shared/metric-catalog';
import { ConfigSource } from './config-source';
import { numberEnv, requireEnv } from './environment';
import { McpProvider } from './mcp-provider';
import { createTelemetry } from './telemetry';

/** What a function that routes needs, built once per container from its environment. */
export interface RoutingRuntime {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly configSource: ConfigSource;
  readonly breakers: CircuitBreakers;
  readonly cohorts: CohortAssigner;
  readonly clock: RouterClock;
  readonly healthStaleAfterMs: number;
  /** Retries off: the router owns them. */
  readonly bedrockClient: BedrockRuntimeClient;
  readonly bedrockModelId: string;
  readonly mcp: McpProvider;
}

/**
 * The module-scope setup of the functions that route long operations (the stream function and
 * the job worker), from the same variables as the router's. They emit under the router's
 * `Service` dimension, so their requests count in the same `Requests`, `Errors` and `Latency`
 * by cohort that the alarms and the ramp judge (DESIGN §12: one set of metrics).
 */
export function routingRuntime(): RoutingRuntime {
  const { logger, metrics } = createTelemetry(SERVICE.router, requireEnv('ENVIRONMENT'));
  const configSource = new ConfigSource({
    provider: new SSMProvider({ awsSdkV3Client: new SSMClient({}) }),
    path: requireEnv('CONFIG_PATH'),
    ttlSeconds: numberEnv('CONFIG_TTL_SECONDS', 5),
    onReadError: (error, origin) =>
      logger.warn('configuration read failed', { origin, errorName: error instanceof Error ? error.name : typeof error }),
  });
  return {
    logger,
    metrics,
    configSource,
    breakers: new CircuitBreakers(Date.now),
    cohorts: new CohortAssigner(),
    clock: { now: Date.now, sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)), random: Math.random },
    healthStaleAfterMs: STALE_AFTER_PERIODS * numberEnv('HEALTH_CHECK_PERIOD_SECONDS', 60) * 1000,
    bedrockClient: new BedrockRuntimeClient({ maxAttempts: 1 }),
    bedrockModelId: requireEnv('BEDROCK_MODEL_ID'),
    mcp: new McpProvider({ serverUrl: new URL(requireEnv('MCP_SERVER_URL')), toolName: requireEnv('MCP_TOOL_NAME') }),
  };
}
