import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { readConfigNow } from '../adapters/config-source';
import { requireEnv } from '../adapters/environment';
import { ParameterWriter } from '../adapters/parameter-writer';
import { createTelemetry } from '../adapters/telemetry';
import { SERVICE } from '../shared/metric-catalog';
import { createRollback } from './rollback';

// Module scope: built once per container.
const environment = requireEnv('ENVIRONMENT');
const path = requireEnv('CONFIG_PATH');
const topicArn = requireEnv('TOPIC_ARN');
const { logger, metrics } = createTelemetry(SERVICE.rollback, environment);
const ssm = new SSMClient({});
const sns = new SNSClient({});
const parameters = new SSMProvider({ awsSdkV3Client: ssm });

export const handler = createRollback({
  environment,
  path,
  readConfig: () => readConfigNow(parameters, path),
  writer: new ParameterWriter(ssm),
  notify: async (subject, message) => {
    await sns.send(new PublishCommand({ TopicArn: topicArn, Subject: subject.slice(0, 100), Message: message }));
  },
  logger,
  metrics,
});
