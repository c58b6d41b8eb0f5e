import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { SSMClient } from '@aws-sdk/client-ssm';
import { BedrockProvider } from '../adapters/bedrock-provider';
import { ConfigSource } from '../adapters/config-source';
import { numberEnv, requireEnv } from '../adapters/environment';
import { McpProvider } from '../adapters/mcp-provider';
import { createTelemetry } from '../adapters/telemetry';
import { CircuitBreakers } from '../core/circuit-breaker';
import { CohortAssigner } from '../core/cohort';
import { STALE_AFTER_PERIODS } from '../core/health';
import { HybridRouter } from '../core/hybrid-router';
import { SERVICE } from '../shared/metric-catalog';
import { createRouterApp } from './router-app';

// Module scope: built once per container and reused by every warm invocation.
const environment = requireEnv('ENVIRONMENT');
const { logger, metrics } = createTelemetry(SERVICE.router, environment);
const breakers = new CircuitBreakers(Date.now);
const healthPeriodMs = numberEnv('HEALTH_CHECK_PERIOD_SECONDS', 60) * 1000;

const configSource = new ConfigSource({
  provider: new SSMProvider({ awsSdkV3Client: new SSMClient({}) }),
  path: requireEnv('CONFIG_PATH'),
  ttlSeconds: numberEnv('CONFIG_TTL_SECONDS', 5),
  onReadError: (error, origin) =>
    logger.warn('configuration read failed', { origin, errorName: error instanceof Error ? error.name : typeof error }),
});

const router = new HybridRouter({
  providers: {
    // The router owns retries, so the SDK's are off.
    bedrock: new BedrockProvider(new BedrockRuntimeClient({ maxAttempts: 1 }), requireEnv('BEDROCK_MODEL_ID')),
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

export const handler = createRouterApp({ router, breakers, configSource, logger, metrics, healthPeriodMs });
