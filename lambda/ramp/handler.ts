import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { rollbackAlarmStates } from '../adapters/alarm-states';
import { requireEnv } from '../adapters/environment';
import { topicNotifier } from '../adapters/notifier';
import { ParameterWriter } from '../adapters/parameter-writer';
import { createParameterStore } from '../adapters/parameter-store';
import { cloudWatchFigures } from '../adapters/ramp-figures';
import { createTelemetry, publishMetrics } from '../adapters/telemetry';
import { RampController } from '../core/ramp-controller';
import { RollbackLatch } from '../core/rollback-latch';
import { SERVICE } from '../shared/metric-catalog';
import { createRampFunction } from './ramp-function';

// Module scope: built once per container. One attempt per call and a deadline on each, well inside
// the function's timeout: the next tick, a minute later, is the retry.
const environment = requireEnv('ENVIRONMENT');
const path = requireEnv('CONFIG_PATH');
const topicArn = requireEnv('TOPIC_ARN');
const { logger, metrics } = createTelemetry(SERVICE.ramp, environment);
const requestHandler = () => new NodeHttpHandler({ connectionTimeout: 1_000, requestTimeout: 5_000, throwOnRequestTimeout: true });
const ssm = new SSMClient({ maxAttempts: 1, requestHandler: requestHandler() });
const sns = new SNSClient({ maxAttempts: 1, requestHandler: requestHandler() });
const cloudwatch = new CloudWatchClient({ maxAttempts: 1, requestHandler: requestHandler() });
const store = createParameterStore({ client: ssm, path, writer: new ParameterWriter(ssm) });
const notify = topicNotifier(sns, topicArn, 3_000);
const emit = (points: Parameters<typeof publishMetrics>[1]) => publishMetrics(metrics, points);
const alarms = rollbackAlarmStates(cloudwatch, environment, 3_000);

export const handler = createRampFunction({
  controller: new RampController({
    environment,
    store,
    latch: new RollbackLatch({ environment, store, alarms, notify, emit, logger }),
    figures: cloudWatchFigures(cloudwatch, environment, 5_000),
    alarms,
    notify,
    emit,
    logger,
  }),
  logger,
});
