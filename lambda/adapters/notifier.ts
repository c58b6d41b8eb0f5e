import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';

/** SNS allows subjects of at most 100 characters. */
const MAX_SUBJECT = 100;

/** Publishes to the notifications topic, failing after `deadlineMs`. */
export function topicNotifier(client: SNSClient, topicArn: string, deadlineMs: number) {
  return async (subject: string, message: string): Promise<void> => {
    await client.send(new PublishCommand({ TopicArn: topicArn, Subject: subject.slice(0, MAX_SUBJECT), Message: message }), {
      abortSignal: AbortSignal.timeout(deadlineMs),
    });
  };
}
