import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { rollbackAlarmStates } from '../adapters/alarm-states';
import { numberEnv, requireEnv } from '../adapters/environment';
import { topicNotifier } from '../adapters/notifier';
import { ParameterWriter } from '../adapters/parameter-writer';
import { routerCodeFromEnvironment } from '../adapters/router-code';
import { createParameterStore } from '../adapters/parameter-store';
import { cloudWatchFigures } from '../adapters/ramp-figures';
import { rampTrigger } from '../adapters/ramp-trigger';
import { createTelemetry, publishMetrics } from '../adapters/telemetry';
import { RampController } from '../core/ramp-controller';
import { RollbackLatch } from '../core/rollback-latch';
import { SERVICE } from '../shared/metric-catalog';
import { createAdminApp } from './admin-app';

// Module scope: built once per container. One attempt per call and a deadline on each: the
// project's own retries (ParameterWriter, the latch's repairs) are the only ones, inside the 29 s
// the API allows.
const environment = requireEnv('ENVIRONMENT');
const path = requireEnv('CONFIG_PATH');
const topicArn = requireEnv('TOPIC_ARN');
const { logger, metrics } = createTelemetry(SERVICE.admin, environment);
const requestHandler = () => new NodeHttpHandler({ connectionTimeout: 1_000, requestTimeout: 3_000, throwOnRequestTimeout: true });
const ssm = new SSMClient({ maxAttempts: 1, requestHandler: requestHandler() });
const sns = new SNSClient({ maxAttempts: 1, requestHandler: requestHandler() });
const cloudwatch = new CloudWatchClient({ maxAttempts: 1, requestHandler: requestHandler() });
const store = createParameterStore({ client: ssm, path, writer: new ParameterWriter(ssm) });
// Level 3 reads and moves the router's live alias; the stack names it in ROUTER_CODE_ENV.
const routerCode = routerCodeFromEnvironment();

export const handler = createAdminApp({
  environment,
  store,
  latch: new RollbackLatch({
    environment,
    store,
    alarms: rollbackAlarmStates(cloudwatch, environment, 2_000),
    notify: topicNotifier(sns, topicArn, 3_000),
    emit: (points) => publishMetrics(metrics, points),
    logger,
  }),
  routerCode,
  logger,
  healthPeriodMs: numberEnv('HEALTH_CHECK_PERIOD_SECONDS', 60) * 1000,
  ramp: rampDependencies(),
});

/** The automated ramp's start, pause, resume and abort run the controller's own code, with this function's clients. */
function rampDependencies() {
  const alarms = rollbackAlarmStates(cloudwatch, environment, 2_000);
  const notify = topicNotifier(sns, topicArn, 3_000);
  const emit = (points: Parameters<typeof publishMetrics>[1]) => publishMetrics(metrics, points);
  const lambda = new LambdaClient({ maxAttempts: 1, requestHandler: requestHandler() });
  return {
    controller: new RampController({
      environment,
      store,
      latch: new RollbackLatch({ environment, store, alarms, notify, emit, logger }),
      figures: cloudWatchFigures(cloudwatch, environment, 3_000),
      alarms,
      notify,
      emit,
      logger,
      holdDownMinutes: numberEnv('RAMP_HOLD_DOWN_MINUTES', 30),
    }),
    trigger: rampTrigger(lambda, requireEnv('RAMP_FUNCTION_NAME'), 2_000),
  };
}
