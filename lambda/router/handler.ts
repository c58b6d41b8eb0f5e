import { BedrockProvider } from '../adapters/bedrock-provider';
import { numberEnv } from '../adapters/environment';
import { routingRuntime } from '../adapters/routing-runtime';
import { HybridRouter } from '../core/hybrid-router';
import { createRouterApp } from './router-app';

// Module scope: built once per container and reused by every warm invocation.
const runtime = routingRuntime();

const router = new HybridRouter({
  providers: {
    bedrock: new BedrockProvider(runtime.bedrockClient, runtime.bedrockModelId),
    mcp: runtime.mcp,
  },
  breakers: runtime.breakers,
  cohorts: runtime.cohorts,
  clock: runtime.clock,
  budgetCeilingMs: numberEnv('BUDGET_CEILING_MS', 28_000),
  healthStaleAfterMs: runtime.healthStaleAfterMs,
});

export const handler = createRouterApp({
  router,
  breakers: runtime.breakers,
  configSource: runtime.configSource,
  logger: runtime.logger,
  metrics: runtime.metrics,
  healthPeriodMs: runtime.healthPeriodMs,
  configReadTimeoutMs: runtime.configReadTimeoutMs,
});
