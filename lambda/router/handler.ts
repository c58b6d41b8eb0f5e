import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { createBedrockRuntimeClient, createSsmClient } from '../adapters/aws-clients';
import { BedrockProvider } from '../adapters/bedrock-provider';
import { ConfigSource } from '../adapters/config-source';
import { numberEnv, requireEnv } from '../adapters/environment';
import { McpProvider } from '../adapters/mcp-provider';
import { createTelemetry, publishMetrics } from '../adapters/telemetry';
import { CircuitBreakers } from '../core/circuit-breaker';
import { CohortAssigner } from '../core/cohort';
import { STALE_AFTER_PERIODS } from '../core/health';
import { HybridRouter } from '../core/hybrid-router';
import { METRICS, SERVICE } from '../shared/metric-catalog';
import { DEFAULT_CONFIG_READ_TIMEOUT_MS, createRouterApp } from './router-app';

// Module scope: built once per container and reused by every warm invocation.
const environment = requireEnv('ENVIRONMENT');
const { logger, metrics } = createTelemetry(SERVICE.router, environment);
const breakers = new CircuitBreakers(Date.now);
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

const router = new HybridRouter({
  providers: {
    bedrock: new BedrockProvider(createBedrockRuntimeClient(), requireEnv('BEDROCK_MODEL_ID')),
    mcp: new McpProvider({ serverUrl: new URL(requireEnv('MCP_SERVER_URL')), toolName: requireEnv('MCP_TOOL_NAME') }),
  },
  breakers,
  cohorts: new CohortAssigner(),
  clock: {
    now: Date.now,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    random: Math.random,
  },
  budgetCeilingMs: numberEnv('BUDGET_CEILING_MS', 28_000),
  healthStaleAfterMs: STALE_AFTER_PERIODS * healthPeriodMs,
});

export const handler = createRouterApp({
  router,
  breakers,
  configSource,
  logger,
  metrics,
  healthPeriodMs,
  configReadTimeoutMs: numberEnv('CONFIG_READ_TIMEOUT_MS', DEFAULT_CONFIG_READ_TIMEOUT_MS),
});
