import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DATA_CLIENT_CONFIG } from '../adapters/aws-clients';
import { requireEnv } from '../adapters/environment';
import { JobQueue } from '../adapters/job-queue';
import { JobStore } from '../adapters/job-store';
import { createTelemetry } from '../adapters/telemetry';
import { SERVICE } from '../shared/metric-catalog';
import { createJobsApp } from './jobs-app';

// Module scope: built once per container and reused by every warm invocation.
const { logger, metrics } = createTelemetry(SERVICE.router, requireEnv('ENVIRONMENT'));

export const handler = createJobsApp({
  store: new JobStore(new DynamoDBClient(DATA_CLIENT_CONFIG), requireEnv('JOBS_TABLE_NAME')),
  queue: new JobQueue(new SQSClient(DATA_CLIENT_CONFIG), requireEnv('JOBS_QUEUE_URL')),
  logger,
  metrics,
});
