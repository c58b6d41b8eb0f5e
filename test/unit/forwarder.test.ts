import { Logger } from '@aws-lambda-powertools/logger';
import type { SNSEvent } from 'aws-lambda';
import notificationFixture from '../fixtures/sns-alarm-notification.json';
import { createForwarder, type Notice } from '../../lambda/forwarder/forwarder';

const logger = new Logger({ logLevel: 'SILENT' });
const event = () => structuredClone(notificationFixture) as unknown as SNSEvent;

describe('forwarding notifications', () => {
  it('tries every target even when one fails, then fails naming the target that did not take it', async () => {
    const published: [string, Notice][] = [];
    const forward = createForwarder({
      targets: ['arn:aws:sns:eu-central-1:123456789012:a', 'arn:aws:sns:eu-central-1:123456789012:b', 'arn:aws:sns:eu-central-1:123456789012:c'],
      publish: async (topicArn, notice) => {
        if (topicArn.endsWith(':b')) throw Object.assign(new Error('denied'), { name: 'AuthorizationErrorException' });
        published.push([topicArn, notice]);
      },
      logger,
    });
    await expect(forward(event())).rejects.toThrow('could not forward 1 of 3 notices: arn:aws:sns:eu-central-1:123456789012:b');
    expect(published.map(([arn]) => arn)).toEqual(['arn:aws:sns:eu-central-1:123456789012:a', 'arn:aws:sns:eu-central-1:123456789012:c']);
  });

  it('forwards every record of a batch to every target', async () => {
    const published: string[] = [];
    const batch = event();
    batch.Records.push({ ...batch.Records[0]!, Sns: { ...batch.Records[0]!.Sns, MessageId: 'second', Message: 'second' } });
    const forward = createForwarder({ targets: ['t1', 't2'], publish: async (topicArn, notice) => void published.push(`${topicArn}:${notice.messageId}`), logger });
    await expect(forward(batch)).resolves.toEqual({ forwarded: 4 });
    expect(published.sort()).toEqual(['t1:95df01b4-ee98-5cb9-9903-4c221d41eb5e', 't1:second', 't2:95df01b4-ee98-5cb9-9903-4c221d41eb5e', 't2:second']);
  });
});
