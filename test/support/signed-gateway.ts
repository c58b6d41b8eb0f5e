import * as http from 'node:http';
import { closeServer, listenOnLoopback, readBody } from '../fakes/loopback';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { apiEvent, lambdaContext } from '../integration/support/world';
import { StreamedResponse, invokeStreaming } from './lambda-runtime';

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export interface GatewayRoute {
  readonly method: string;
  /** API Gateway resource path, e.g. `/admin/feature-flags/{flag}`. */
  readonly resource: string;
  readonly handler: Handler;
  /** Whether the route needs a SigV4 signature (all but GET /health). */
  readonly iam: boolean;
  /**
   * A response-streaming handler behind `ResponseTransferMode.STREAM`: its bytes are passed on
   * as the runtime hands them over, after the status and headers of its metadata prelude.
   */
  readonly streaming?: boolean;
}

export interface Principal {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** The IAM identity API Gateway would pass on for these keys. */
  readonly arn: string;
}

const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/execute-api\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/;

/**
 * A stand-in for API Gateway with IAM auth on 127.0.0.1: it recomputes each request's SigV4
 * signature with the caller's secret and answers 403 unless it matches, then hands the request to
 * a Lambda handler as a proxy event, with the caller's identity in the request context.
 */
export class SignedGateway {
  private readonly server = http.createServer((req, res) => void this.handle(req, res));
  /** Every request seen, with whether its signature verified. */
  readonly seen: { method: string; path: string; signed: boolean; verified: boolean }[] = [];
  url = '';

  constructor(
    private readonly routes: readonly GatewayRoute[],
    private readonly principals: readonly Principal[],
    private readonly region = 'eu-central-1',
    private readonly stage = 'dev',
  ) {}

  async start(): Promise<this> {
    this.url = `http://127.0.0.1:${await listenOnLoopback(this.server)}/${this.stage}/`;
    return this;
  }

  stop(): Promise<void> {
    return closeServer(this.server);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://gateway');
    const path = url.pathname.replace(new RegExp(`^/${this.stage}`), '') || '/';
    const match = this.match(req.method ?? 'GET', path);
    const principal = await this.verify(req, url, body);
    this.seen.push({ method: req.method ?? '', path, signed: Boolean(req.headers.authorization), verified: principal !== undefined });

    if (!match || (match.route.iam && !principal)) {
      const message = !req.headers.authorization ? 'Missing Authentication Token' : 'The request signature we calculated does not match the signature you provided.';
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'Forbidden', message, details: [] }, requestId: 'gateway' }));
      return;
    }
    const event = apiEvent(req.method!, match.route.resource, path, match.params);
    event.body = body === '' ? null : body;
    event.queryStringParameters = url.searchParams.size > 0 ? Object.fromEntries(url.searchParams) : null;
    event.requestContext.identity.userArn = principal?.arn ?? (null as unknown as string);
    if (match.route.streaming) {
      const response = new StreamedResponse();
      response.on('prelude', (prelude: { statusCode: number; headers?: http.OutgoingHttpHeaders }) => {
        res.writeHead(prelude.statusCode, prelude.headers);
        res.flushHeaders();
      });
      response.on('data', (chunk: Buffer) => res.write(chunk));
      res.on('close', () => {
        if (!res.writableFinished) response.hangUp();
      });
      await invokeStreaming(match.route.handler, event, lambdaContext(), response);
      res.end();
      return;
    }
    const result = await match.route.handler(event, lambdaContext());
    res.writeHead(result.statusCode, result.headers as http.OutgoingHttpHeaders);
    res.end(result.body);
  }

  private match(method: string, path: string): { route: GatewayRoute; params: Record<string, string> | null } | undefined {
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const names: string[] = [];
      const pattern = new RegExp(`^${route.resource.replace(/\{(\w+)\}/g, (_, name: string) => (names.push(name), '([^/]+)'))}$`);
      const found = pattern.exec(path);
      if (found) return { route, params: names.length ? Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(found[i + 1]!)])) : null };
    }
    return undefined;
  }

  /** The principal whose secret reproduces the request's signature, if any. */
  private async verify(req: http.IncomingMessage, url: URL, body: string): Promise<Principal | undefined> {
    const parsed = AUTHORIZATION.exec(String(req.headers.authorization ?? ''));
    const amzDate = String(req.headers['x-amz-date'] ?? '');
    if (!parsed || parsed[3] !== this.region || !/^\d{8}T\d{6}Z$/.test(amzDate)) return undefined;
    const [, accessKeyId, , , signedHeaderList, signature] = parsed;
    const principal = this.principals.find((p) => p.accessKeyId === accessKeyId);
    if (!principal) return undefined;
    const headers: Record<string, string> = {};
    for (const name of signedHeaderList!.split(';')) headers[name] = String(req.headers[name] ?? '');
    const signer = new SignatureV4({ service: 'execute-api', region: this.region, credentials: principal, sha256: Sha256 });
    const signingDate = new Date(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
    const expected = await signer.sign(
      { method: req.method!, protocol: 'http:', hostname: url.hostname, path: url.pathname, query: Object.fromEntries(url.searchParams), headers, body: body === '' ? undefined : body },
      { signingDate },
    );
    const expectedSignature = /Signature=([0-9a-f]{64})/.exec(String(expected.headers.authorization))?.[1];
    return expectedSignature === signature ? principal : undefined;
  }
}
