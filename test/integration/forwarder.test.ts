import type { SNSEvent } from 'aws-lambda';
import notificationFixture from '../fixtures/sns-alarm-notification.json';
import { SnsFake } from '../fakes/sns-fake';
import { StdoutCapture, lambdaContext, loadHandler } from './support/world';

const CHAT = 'arn:aws:sns:eu-central-1:123456789012:chat-ops';
const PAGER = 'arn:aws:sns:eu-west-1:210987654321:pager';

let sns: SnsFake;
let forward: (event: SNSEvent, context: unknown) => Promise<unknown>;
const stdout = new StdoutCapture();

beforeAll(async () => {
  sns = await new SnsFake().start();
  forward = loadHandler(require.resolve('../../lambda/forwarder/handler'), {
    AWS_REGION: 'eu-central-1',
    AWS_ACCESS_KEY_ID: 'AKIAFAKEFORTESTS',
    AWS_SECRET_ACCESS_KEY: 'fake-secret-for-tests',
    AWS_ENDPOINT_URL_SNS: sns.url,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ENVIRONMENT: 'dev',
    FORWARD_TOPIC_ARNS: `${CHAT},${PAGER}`,
  }) as unknown as typeof forward;
});
afterAll(async () => sns.stop());
beforeEach(() => {
  sns.published.length = 0;
  sns.failing = false;
  stdout.clear();
});
afterEach(() => stdout.stop());

describe('the notification forwarder', () => {
  it('republishes an alarm notification to every forwardTo topic, subject and message unchanged', async () => {
    const event = structuredClone(notificationFixture) as unknown as SNSEvent;
    stdout.start();
    await expect(forward(event, lambdaContext())).resolves.toEqual({ forwarded: 2 });
    stdout.stop();
    const { Subject, Message } = event.Records[0]!.Sns;
    expect(sns.published.sort((a, b) => a.topicArn.localeCompare(b.topicArn))).toEqual([
      { topicArn: CHAT, subject: Subject, message: Message },
      { topicArn: PAGER, subject: Subject, message: Message },
    ]);
  });

  it('forwards a function\'s notice without a subject', async () => {
    const event = structuredClone(notificationFixture) as unknown as SNSEvent;
    Object.assign(event.Records[0]!.Sns, { Subject: null, Message: 'Hybrid routing in dev was rolled back.' });
    await forward(event, lambdaContext());
    expect(sns.published.map((p) => [p.topicArn, p.subject, p.message])).toEqual(
      expect.arrayContaining([
        [CHAT, undefined, 'Hybrid routing in dev was rolled back.'],
        [PAGER, undefined, 'Hybrid routing in dev was rolled back.'],
      ]),
    );
  });

  it('fails the invocation when SNS refuses, so Lambda retries it and then keeps it, and logs no message text', async () => {
    sns.failing = true;
    const event = structuredClone(notificationFixture) as unknown as SNSEvent;
    stdout.start();
    await expect(forward(event, lambdaContext())).rejects.toThrow(`could not forward 2 of 2 notices: ${CHAT}, ${PAGER}`);
    stdout.stop();
    const logs = stdout.lines.join('\n');
    expect(logs).toContain('forwarding failed');
    expect(logs).toContain(event.Records[0]!.Sns.MessageId);
    expect(logs).not.toContain('Threshold Crossed');
  });
});
