import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DATA_CLIENT_CONFIG } from '../adapters/aws-clients';
import { requireEnv } from '../adapters/environment';
import { JobStore } from '../adapters/job-store';
import { createTelemetry } from '../adapters/telemetry';
import { SERVICE } from '../shared/metric-catalog';
import { createDeadLetterConsumer } from './dead-letter';

// Module scope: built once per container and reused by every warm invocation.
const { logger, metrics } = createTelemetry(SERVICE.router, requireEnv('ENVIRONMENT'));

export const handler = createDeadLetterConsumer({
  store: new JobStore(new DynamoDBClient(DATA_CLIENT_CONFIG), requireEnv('JOBS_TABLE_NAME')),
  logger,
  metrics,
});
