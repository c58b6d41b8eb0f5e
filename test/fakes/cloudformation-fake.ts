import * as http from 'node:http';
import { closeServer, listenOnLoopback, readBody } from './loopback';

/**
 * CloudFormation's DescribeStacks over the AWS Query protocol on 127.0.0.1, for the real client
 * pointed at it through `AWS_ENDPOINT_URL_CLOUDFORMATION`: enough to look up stack outputs.
 */
export class CloudFormationFake {
  private readonly server = http.createServer((req, res) => void this.handle(req, res));
  /** Stack name → output key → value. */
  readonly stacks = new Map<string, Record<string, string>>();
  url = '';

  async start(): Promise<this> {
    this.url = `http://127.0.0.1:${await listenOnLoopback(this.server)}`;
    return this;
  }

  stop(): Promise<void> {
    return closeServer(this.server);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const text = await readBody(req);
    const form = new URLSearchParams(text);
    const name = form.get('StackName') ?? '';
    const outputs = this.stacks.get(name);
    if (form.get('Action') !== 'DescribeStacks' || !outputs) {
      res.writeHead(400, { 'content-type': 'text/xml' });
      res.end(`<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id ${name} does not exist</Message></Error><RequestId>fake</RequestId></ErrorResponse>`);
      return;
    }
    const members = Object.entries(outputs)
      .map(([key, value]) => `<member><OutputKey>${key}</OutputKey><OutputValue>${value}</OutputValue></member>`)
      .join('');
    res.writeHead(200, { 'content-type': 'text/xml' });
    res.end(
      `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member>` +
        `<StackName>${name}</StackName><StackStatus>UPDATE_COMPLETE</StackStatus><CreationTime>2026-11-01T00:00:00Z</CreationTime>` +
        `<Outputs>${members}</Outputs></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></DescribeStacksResponse>`,
    );
  }
}
