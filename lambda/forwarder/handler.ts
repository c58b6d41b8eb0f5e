import { Logger } from '@aws-lambda-powertools/logger';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { numberEnv, requireEnv } from '../adapters/environment';
import { createForwarder } from './forwarder';

// Module scope: built once per container.
const targets = requireEnv('FORWARD_TOPIC_ARNS').split(',');
const publishTimeoutMs = numberEnv('PUBLISH_TIMEOUT_MS', 5_000);
const logger = new Logger({ serviceName: 'notification-forwarder', persistentKeys: { environment: requireEnv('ENVIRONMENT') } });
// A topic is published to in its own region; Lambda's retries of the event are the only retries.
const clients = new Map<string, SNSClient>();
const clientFor = (topicArn: string): SNSClient => {
  const region = topicArn.split(':')[3]!;
  let client = clients.get(region);
  if (!client) clients.set(region, (client = new SNSClient({ region, maxAttempts: 1 })));
  return client;
};

export const handler = createForwarder({
  targets,
  publish: async (topicArn, notice) => {
    await clientFor(topicArn).send(new PublishCommand({ TopicArn: topicArn, Subject: notice.subject, Message: notice.message }), {
      abortSignal: AbortSignal.timeout(publishTimeoutMs),
    });
  },
  logger,
});
