import * as http from 'node:http';
import { closeServer, listenOnLoopback, readBody } from './loopback';

export interface Published {
  readonly topicArn: string;
  readonly subject?: string;
  readonly message: string;
}

/**
 * SNS speaking the AWS Query protocol (form-encoded requests, XML answers) on 127.0.0.1, for the
 * real SNS client pointed at it through `AWS_ENDPOINT_URL_SNS`. Records what is published.
 */
export class SnsFake {
  private readonly server = http.createServer((req, res) => void this.handle(req, res));
  readonly published: Published[] = [];
  failing = false;
  url = '';

  async start(): Promise<this> {
    const port = await listenOnLoopback(this.server);
    this.url = `http://127.0.0.1:${port}`;
    return this;
  }

  stop(): Promise<void> {
    return closeServer(this.server);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const text = await readBody(req);
    const form = new URLSearchParams(text);
    const requestId = `fake-${this.published.length}`;
    if (this.failing || form.get('Action') !== 'Publish') {
      const code = this.failing ? 'InternalError' : 'InvalidAction';
      res.writeHead(this.failing ? 500 : 400, { 'content-type': 'text/xml' });
      res.end(`<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${code}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`);
      return;
    }
    this.published.push({ topicArn: form.get('TopicArn') ?? '', subject: form.get('Subject') ?? undefined, message: form.get('Message') ?? '' });
    res.writeHead(200, { 'content-type': 'text/xml' });
    res.end(
      `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${requestId}</MessageId></PublishResult>` +
        `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></PublishResponse>`,
    );
  }
}
