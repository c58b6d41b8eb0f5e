import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { BedrockProvider } from '../adapters/bedrock-provider';
import { DATA_CLIENT_CONFIG } from '../adapters/aws-clients';
import { numberEnv, requireEnv } from '../adapters/environment';
import { JobQueue } from '../adapters/job-queue';
import { JobStore } from '../adapters/job-store';
import { routingRuntime } from '../adapters/routing-runtime';
import { HybridRouter } from '../core/hybrid-router';
import { JOB_MAX_RECEIVE_COUNT } from '../shared/jobs';
import { createWorker } from './worker';

// Module scope: built once per container and reused by every warm invocation.
const budgetMs = numberEnv('JOB_BUDGET_MS', 600_000);
// A job's non-streaming call may rightly take most of its budget.
const runtime = routingRuntime({ bedrockRequestTimeoutMs: budgetMs + 30_000 });
const providers = { bedrock: new BedrockProvider(runtime.bedrockClient, runtime.bedrockModelId), mcp: runtime.mcp };

export const handler = createWorker({
  store: new JobStore(new DynamoDBClient(DATA_CLIENT_CONFIG), requireEnv('JOBS_TABLE_NAME')),
  queue: new JobQueue(new SQSClient(DATA_CLIENT_CONFIG), requireEnv('JOBS_QUEUE_URL')),
  routerFor: (budgetCeilingMs) =>
    new HybridRouter({
      providers,
      breakers: runtime.breakers,
      cohorts: runtime.cohorts,
      clock: runtime.clock,
      budgetCeilingMs,
      healthStaleAfterMs: runtime.healthStaleAfterMs,
    }),
  breakers: runtime.breakers,
  configSource: runtime.configSource,
  logger: runtime.logger,
  metrics: runtime.metrics,
  budgetMs,
  configReadTimeoutMs: runtime.configReadTimeoutMs,
  maxReceiveCount: numberEnv('JOBS_MAX_RECEIVE_COUNT', JOB_MAX_RECEIVE_COUNT),
});
