import * as http from 'node:http';
import { closeServer, listenOnLoopback, readBody } from './loopback';

/** A published version's code: a Lambda handler run in this process. */
export type VersionHandler = (event: unknown, context: unknown) => Promise<unknown>;

interface AliasRecord {
  version: string;
  weights: Record<string, number>;
  revisionId: string;
}

interface FunctionRecord {
  readonly versions: Map<string, VersionHandler>;
  readonly aliases: Map<string, AliasRecord>;
}

export interface LambdaCall {
  readonly operation: string;
  readonly functionName: string;
  readonly qualifier?: string;
  /** `Invoke` only, and only when it is not the default `RequestResponse`: `Event` or `DryRun`. */
  readonly invocationType?: string;
}

export interface LambdaFault {
  readonly operation: string;
  /** Lambda error type, e.g. `TooManyRequestsException`, `AccessDeniedException`. */
  readonly type: string;
  readonly status: number;
  times?: number;
}

const ACCOUNT = '123456789012';
const REGION = 'eu-central-1';
const ROUTES: [string, RegExp, string][] = [
  ['GET', /^\/2015-03-31\/functions\/([^/]+)\/aliases\/([^/]+)$/, 'GetAlias'],
  ['PUT', /^\/2015-03-31\/functions\/([^/]+)\/aliases\/([^/]+)$/, 'UpdateAlias'],
  ['GET', /^\/2015-03-31\/functions\/([^/]+)\/versions$/, 'ListVersionsByFunction'],
  ['POST', /^\/2015-03-31\/functions\/([^/]+)\/invocations$/, 'Invoke'],
];

class LambdaError extends Error {
  constructor(
    readonly type: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The Lambda API's restJson1 protocol on 127.0.0.1 (GetAlias, UpdateAlias with RevisionId,
 * ListVersionsByFunction with Marker pagination, Invoke, answered at once with 202 for an `Event`
 * invocation), for the real Lambda client pointed at
 * it through `AWS_ENDPOINT_URL_LAMBDA`. Each published version runs a handler in this process.
 * `before` runs a test's code as a request arrives, which is how tests force interleavings.
 */
export class LambdaFake {
  private readonly server = http.createServer((req, res) => void this.handle(req, res));
  private readonly functions = new Map<string, FunctionRecord>();
  private readonly gates = new Map<string, (call: LambdaCall) => Promise<void> | void>();
  private faults: LambdaFault[] = [];
  private revisions = 0;
  readonly calls: LambdaCall[] = [];
  /** Versions per ListVersionsByFunction page. */
  pageSize = 2;
  url = '';

  async start(): Promise<this> {
    this.url = `http://127.0.0.1:${await listenOnLoopback(this.server)}`;
    return this;
  }

  stop(): Promise<void> {
    return closeServer(this.server);
  }

  /** Publishes a new version of `name` (creating the function) and answers its number. */
  publish(name: string, handler: VersionHandler): string {
    const fn = this.functionRecord(name, true);
    const version = String(fn.versions.size + 1);
    fn.versions.set(version, handler);
    return version;
  }

  /** Points `alias` at `version`, optionally sending shares of traffic to others, as CodeDeploy or an operator would. */
  setAlias(name: string, alias: string, version: string, weights: Record<string, number> = {}): void {
    this.functionRecord(name, false).aliases.set(alias, { version, weights, revisionId: this.nextRevision() });
  }

  alias(name: string, alias: string): { version: string; weights: Record<string, number> } | undefined {
    const record = this.functions.get(name)?.aliases.get(alias);
    return record && { version: record.version, weights: { ...record.weights } };
  }

  versionArn(name: string, qualifier: string): string {
    return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}:${qualifier}`;
  }

  /** Runs `gate` when a request for `operation` arrives, before it is answered. */
  before(operation: string, gate: (call: LambdaCall) => Promise<void> | void): void {
    this.gates.set(operation, gate);
  }

  fail(fault: LambdaFault): void {
    this.faults.push(fault);
  }

  reset(): void {
    this.functions.clear();
    this.gates.clear();
    this.faults = [];
    this.calls.length = 0;
    this.pageSize = 2;
  }

  count(operation: string): number {
    return this.calls.filter((c) => c.operation === operation).length;
  }

  private nextRevision(): string {
    this.revisions += 1;
    return `revision-${this.revisions}`;
  }

  private functionRecord(name: string, create: boolean): FunctionRecord {
    let fn = this.functions.get(name);
    if (!fn) {
      if (!create) throw new LambdaError('ResourceNotFoundException', 404, `Function not found: ${name}`);
      fn = { versions: new Map(), aliases: new Map() };
      this.functions.set(name, fn);
    }
    return fn;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://lambda');
    const route = ROUTES.find(([method, pattern]) => method === req.method && pattern.test(url.pathname));
    try {
      if (!route) throw new LambdaError('UnknownOperationException', 404, `no route ${req.method} ${url.pathname}`);
      const match = route[1].exec(url.pathname)!;
      const [functionName, pathQualifier] = parseFunctionName(decodeURIComponent(match[1]!));
      const invocationType = route[2] === 'Invoke' ? String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse') : undefined;
      const call: LambdaCall = {
        operation: route[2],
        functionName,
        qualifier: url.searchParams.get('Qualifier') ?? pathQualifier,
        ...(invocationType && invocationType !== 'RequestResponse' ? { invocationType } : {}),
      };
      this.calls.push(call);
      await this.gates.get(call.operation)?.(call);
      const fault = this.faults.find((f) => f.operation === call.operation);
      if (fault) {
        if (fault.times !== undefined && --fault.times <= 0) this.faults = this.faults.filter((f) => f !== fault);
        throw new LambdaError(fault.type, fault.status, `injected ${fault.type}`);
      }
      switch (call.operation) {
        case 'GetAlias':
          return this.json(res, 200, this.describeAlias(functionName, decodeURIComponent(match[2]!)));
        case 'UpdateAlias':
          return this.json(res, 200, this.updateAlias(functionName, decodeURIComponent(match[2]!), JSON.parse(body || '{}')));
        case 'ListVersionsByFunction':
          return this.json(res, 200, this.listVersions(functionName, url.searchParams.get('Marker')));
        default:
          return await this.invoke(res, call, body);
      }
    } catch (error) {
      const { type, status, message } = error instanceof LambdaError ? error : new LambdaError('ServiceException', 500, String(error));
      res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': type, 'x-amzn-requestid': `fake-${this.calls.length}` });
      res.end(JSON.stringify({ Type: status >= 500 ? 'Service' : 'User', message }));
    }
  }

  private describeAlias(name: string, alias: string): Record<string, unknown> {
    const record = this.functionRecord(name, false).aliases.get(alias);
    if (!record) throw new LambdaError('ResourceNotFoundException', 404, `Alias not found: ${alias}`);
    return {
      AliasArn: this.versionArn(name, alias),
      Name: alias,
      FunctionVersion: record.version,
      Description: '',
      RevisionId: record.revisionId,
      ...(Object.keys(record.weights).length > 0 ? { RoutingConfig: { AdditionalVersionWeights: record.weights } } : {}),
    };
  }

  private updateAlias(name: string, alias: string, input: { FunctionVersion?: string; RevisionId?: string; RoutingConfig?: { AdditionalVersionWeights?: Record<string, number> } }) {
    const fn = this.functionRecord(name, false);
    const record = fn.aliases.get(alias);
    if (!record) throw new LambdaError('ResourceNotFoundException', 404, `Alias not found: ${alias}`);
    if (input.RevisionId !== undefined && input.RevisionId !== record.revisionId) {
      throw new LambdaError('PreconditionFailedException', 412, 'The RevisionId provided does not match the latest RevisionId for the Lambda function or alias.');
    }
    const version = input.FunctionVersion ?? record.version;
    if (!fn.versions.has(version)) throw new LambdaError('ResourceNotFoundException', 404, `Function not found: ${this.versionArn(name, version)}`);
    fn.aliases.set(alias, { version, weights: input.RoutingConfig?.AdditionalVersionWeights ?? record.weights, revisionId: this.nextRevision() });
    return this.describeAlias(name, alias);
  }

  private listVersions(name: string, marker: string | null): Record<string, unknown> {
    const all = ['$LATEST', ...this.functionRecord(name, false).versions.keys()];
    const start = marker ? Number(marker) : 0;
    const page = all.slice(start, start + this.pageSize);
    return {
      Versions: page.map((version) => ({ FunctionName: name, FunctionArn: this.versionArn(name, version), Version: version })),
      ...(start + this.pageSize < all.length ? { NextMarker: String(start + this.pageSize) } : {}),
    };
  }

  private async invoke(res: http.ServerResponse, call: LambdaCall, body: string): Promise<void> {
    const fn = this.functionRecord(call.functionName, false);
    const qualifier = call.qualifier ?? '$LATEST';
    const version = fn.aliases.get(qualifier)?.version ?? qualifier;
    const handler = fn.versions.get(version);
    if (!handler) throw new LambdaError('ResourceNotFoundException', 404, `Function not found: ${this.versionArn(call.functionName, qualifier)}`);
    const context = { awsRequestId: `invoke-${this.calls.length}`, functionName: call.functionName, functionVersion: version, getRemainingTimeInMillis: () => 29_000 };
    if (call.invocationType === 'Event') {
      // Lambda queues an asynchronous invocation and answers 202 at once; the handler runs after.
      res.writeHead(202, { 'x-amzn-requestid': context.awsRequestId });
      res.end();
      void handler(JSON.parse(body), context).catch(() => undefined);
      return;
    }
    let payload: string;
    let functionError: string | undefined;
    try {
      payload = JSON.stringify((await handler(JSON.parse(body), context)) ?? null);
    } catch (error) {
      functionError = 'Unhandled';
      payload = JSON.stringify({ errorType: error instanceof Error ? error.name : 'Error', errorMessage: error instanceof Error ? error.message : String(error) });
    }
    res.writeHead(200, {
      'content-type': 'application/json',
      'x-amz-executed-version': version,
      ...(functionError ? { 'x-amz-function-error': functionError } : {}),
    });
    res.end(payload);
  }

  private json(res: http.ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-requestid': `fake-${this.calls.length}` });
    res.end(JSON.stringify(body));
  }
}

/** `name`, `name:qualifier`, `123456789012:function:name[:qualifier]` or a full ARN, as Lambda accepts them. */
function parseFunctionName(raw: string): [string, string | undefined] {
  const arn = /^(?:arn:aws[a-z-]*:lambda:[a-z0-9-]+:)?(?:\d{12}:)?(?:function:)?([A-Za-z0-9-_]+)(?::(\$LATEST|[A-Za-z0-9-_]+))?$/.exec(raw);
  if (!arn) throw new LambdaError('ValidationException', 400, `invalid function name ${raw}`);
  return [arn[1]!, arn[2]];
}
