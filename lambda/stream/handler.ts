import { BedrockStreamProvider } from '../adapters/bedrock-stream-provider';
import { numberEnv } from '../adapters/environment';
import { streamifyResponse } from '../adapters/response-stream';
import { routingRuntime } from '../adapters/routing-runtime';
import { StreamRouter, oneDeltaStream } from '../core/stream-router';
import { createStreamApp } from './stream-app';

// Module scope: built once per container and reused by every warm invocation.
const runtime = routingRuntime();

const router = new StreamRouter({
  providers: {
    bedrock: new BedrockStreamProvider(runtime.bedrockClient, runtime.bedrockModelId),
    // The MCP tool answers whole: its answer is sent as one delta.
    mcp: oneDeltaStream(runtime.mcp),
  },
  breakers: runtime.breakers,
  cohorts: runtime.cohorts,
  clock: runtime.clock,
  healthStaleAfterMs: runtime.healthStaleAfterMs,
});

export const handler = streamifyResponse(
  createStreamApp({
    router,
    breakers: runtime.breakers,
    configSource: runtime.configSource,
    logger: runtime.logger,
    metrics: runtime.metrics,
    budgetMs: numberEnv('STREAM_BUDGET_MS', 60_000),
    configReadTimeoutMs: runtime.configReadTimeoutMs,
  }),
);
