import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { requireEnv } from '../adapters/environment';
import { topicNotifier } from '../adapters/notifier';
import { ParameterWriter } from '../adapters/parameter-writer';
import { createParameterStore } from '../adapters/parameter-store';
import { createTelemetry, publishMetrics } from '../adapters/telemetry';
import { RollbackLatch } from '../core/rollback-latch';
import { SERVICE } from '../shared/metric-catalog';
import { createRollback } from './rollback';

// Module scope: built once per container. One attempt per call and a deadline on each; the
// function's own retries (ParameterWriter, the latch's repairs, Lambda's two async retries) are
// the only ones.
const environment = requireEnv('ENVIRONMENT');
const path = requireEnv('CONFIG_PATH');
const topicArn = requireEnv('TOPIC_ARN');
const { logger, metrics } = createTelemetry(SERVICE.rollback, environment);
const requestHandler = () => new NodeHttpHandler({ connectionTimeout: 1_000, requestTimeout: 3_000, throwOnRequestTimeout: true });
const ssm = new SSMClient({ maxAttempts: 1, requestHandler: requestHandler() });
const sns = new SNSClient({ maxAttempts: 1, requestHandler: requestHandler() });

export const handler = createRollback({
  environment,
  latch: new RollbackLatch({
    environment,
    store: createParameterStore({ client: ssm, path, writer: new ParameterWriter(ssm) }),
    notify: topicNotifier(sns, topicArn, 3_000),
    emit: (points) => publishMetrics(metrics, points),
    logger,
  }),
  logger,
});
