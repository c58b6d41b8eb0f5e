import { createHash, randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { closeServer, listenOnLoopback, readBody } from './loopback';

export const ACCOUNT = '123456789012';

interface StoredMessage {
  readonly messageId: string;
  readonly body: string;
  readonly sentAt: number;
  receiveCount: number;
  visibleAt: number;
  receiptHandle?: string;
}

interface Queue {
  readonly name: string;
  readonly visibilityTimeoutSeconds: number;
  readonly redrive?: { readonly deadLetterQueue: string; readonly maxReceiveCount: number };
  messages: StoredMessage[];
}

const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');

/**
 * SQS on 127.0.0.1 speaking what `@aws-sdk/client-sqs` 3.1169 speaks: AWS JSON 1.0 with
 * `x-amz-target: AmazonSQS.<Operation>` (SendMessage, ReceiveMessage, DeleteMessage,
 * ChangeMessageVisibility), with MD5 digests the client checks. Visibility timeouts and redrive
 * to a dead-letter queue follow SQS, on a clock the test moves (`advance`), so nothing waits.
 * `poll` plays the Lambda event source mapping: receive a batch, invoke, delete what succeeded.
 */
export class SqsFake {
  private readonly server = http.createServer((req, res) => void this.handle(req, res));
  private readonly queues = new Map<string, Queue>();
  private offsetMs = 0;
  readonly calls: { operation: string; input: Record<string, unknown> }[] = [];
  url = '';

  async start(): Promise<this> {
    this.url = `http://127.0.0.1:${await listenOnLoopback(this.server)}`;
    return this;
  }

  stop(): Promise<void> {
    return closeServer(this.server);
  }

  createQueue(name: string, options: { visibilityTimeoutSeconds?: number; redrive?: Queue['redrive'] } = {}): string {
    this.queues.set(name, { name, visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 30, redrive: options.redrive, messages: [] });
    return this.queueUrl(name);
  }

  queueUrl(name: string): string {
    return `${this.url}/${ACCOUNT}/${name}`;
  }

  queueArn(name: string): string {
    return `arn:aws:sqs:eu-central-1:${ACCOUNT}:${name}`;
  }

  /** Moves the fake's clock on: in-flight messages become visible when their timeout passes. */
  advance(ms: number): void {
    this.offsetMs += ms;
  }

  /** Every message of a queue, visible or in flight. */
  messages(name: string): readonly StoredMessage[] {
    return this.queue(name).messages;
  }

  purge(): void {
    for (const queue of this.queues.values()) queue.messages = [];
    this.calls.length = 0;
  }

  /** What the Lambda service does for an SQS event source: receive up to `batchSize`, invoke, delete the successes. */
  async poll(name: string, handler: (event: SQSEvent) => Promise<SQSBatchResponse | void>, batchSize = 10): Promise<{ received: number; failed: string[] }> {
    const records = this.receive(name, batchSize).map((m) => this.record(name, m));
    if (records.length === 0) return { received: 0, failed: [] };
    let failed: string[];
    try {
      const response = await handler({ Records: records });
      failed = (response?.batchItemFailures ?? []).map((f) => f.itemIdentifier);
    } catch {
      failed = records.map((r) => r.messageId);
    }
    for (const record of records) if (!failed.includes(record.messageId)) this.deleteByHandle(name, record.receiptHandle);
    return { received: records.length, failed };
  }

  /** Receives up to `max` visible messages, as SQS would: redrive first, then the visibility timeout. */
  receive(name: string, max: number, visibilityTimeoutSeconds?: number): StoredMessage[] {
    const queue = this.queue(name);
    const now = this.now();
    const taken: StoredMessage[] = [];
    for (const message of [...queue.messages]) {
      if (taken.length >= max) break;
      if (message.visibleAt > now) continue;
      if (queue.redrive && message.receiveCount >= queue.redrive.maxReceiveCount) {
        queue.messages = queue.messages.filter((m) => m !== message);
        const target = this.queue(queue.redrive.deadLetterQueue);
        target.messages.push({ ...message, receiveCount: 0, visibleAt: now, receiptHandle: undefined });
        continue;
      }
      message.receiveCount += 1;
      message.visibleAt = now + (visibilityTimeoutSeconds ?? queue.visibilityTimeoutSeconds) * 1000;
      message.receiptHandle = randomUUID();
      taken.push(message);
    }
    return taken;
  }

  private record(name: string, message: StoredMessage): SQSRecord {
    return {
      messageId: message.messageId,
      receiptHandle: message.receiptHandle!,
      body: message.body,
      attributes: {
        ApproximateReceiveCount: String(message.receiveCount),
        SentTimestamp: String(message.sentAt),
        SenderId: 'AROAEXAMPLE',
        ApproximateFirstReceiveTimestamp: String(this.now()),
      },
      messageAttributes: {},
      md5OfBody: md5(message.body),
      eventSource: 'aws:sqs',
      eventSourceARN: this.queueArn(name),
      awsRegion: 'eu-central-1',
    };
  }

  private now(): number {
    return Date.now() + this.offsetMs;
  }

  private queue(name: string): Queue {
    const queue = this.queues.get(name);
    if (!queue) throw new Error(`no queue ${name}`);
    return queue;
  }

  private deleteByHandle(name: string, receiptHandle: string): boolean {
    const queue = this.queue(name);
    const before = queue.messages.length;
    queue.messages = queue.messages.filter((m) => m.receiptHandle !== receiptHandle);
    return queue.messages.length < before;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const input = JSON.parse((await readBody(req)) || '{}') as Record<string, any>;
    const operation = String(req.headers['x-amz-target'] ?? '').replace(/^AmazonSQS\./, '');
    this.calls.push({ operation, input });
    const reply = (status: number, body: unknown, errorCode?: string) => {
      res.writeHead(status, {
        'content-type': 'application/x-amz-json-1.0',
        'x-amzn-requestid': randomUUID(),
        ...(errorCode ? { 'x-amzn-query-error': `${errorCode};Sender` } : {}),
      });
      res.end(JSON.stringify(body));
    };
    const name = String(input.QueueUrl ?? '').split('/').pop() ?? '';
    if (req.headers['content-type'] !== 'application/x-amz-json-1.0' || !operation) {
      return reply(400, { __type: 'com.amazonaws.sqs#InvalidAction', message: 'expected AWS JSON 1.0 with x-amz-target' }, 'AWS.SimpleQueueService.InvalidAction');
    }
    if (!this.queues.has(name)) {
      return reply(400, { __type: 'com.amazonaws.sqs#QueueDoesNotExist', message: 'The specified queue does not exist.' }, 'AWS.SimpleQueueService.NonExistentQueue');
    }
    switch (operation) {
      case 'SendMessage': {
        const message: StoredMessage = { messageId: randomUUID(), body: String(input.MessageBody), sentAt: this.now(), receiveCount: 0, visibleAt: this.now() };
        this.queue(name).messages.push(message);
        return reply(200, { MessageId: message.messageId, MD5OfMessageBody: md5(message.body) });
      }
      case 'ReceiveMessage': {
        const taken = this.receive(name, Number(input.MaxNumberOfMessages ?? 1), input.VisibilityTimeout);
        return reply(200, {
          Messages: taken.map((m) => ({
            MessageId: m.messageId,
            ReceiptHandle: m.receiptHandle,
            MD5OfBody: md5(m.body),
            Body: m.body,
            Attributes: { ApproximateReceiveCount: String(m.receiveCount) },
          })),
        });
      }
      case 'DeleteMessage':
        this.deleteByHandle(name, String(input.ReceiptHandle));
        return reply(200, {});
      case 'ChangeMessageVisibility': {
        const message = this.queue(name).messages.find((m) => m.receiptHandle === input.ReceiptHandle);
        if (!message) return reply(400, { __type: 'com.amazonaws.sqs#ReceiptHandleIsInvalid', message: 'invalid receipt handle' }, 'ReceiptHandleIsInvalid');
        message.visibleAt = this.now() + Number(input.VisibilityTimeout) * 1000;
        return reply(200, {});
      }
      default:
        return reply(400, { __type: 'com.amazonaws.sqs#InvalidAction', message: `${operation} is not faked` }, 'AWS.SimpleQueueService.InvalidAction');
    }
  }
}
