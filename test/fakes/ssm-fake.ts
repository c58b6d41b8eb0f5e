import * as http from 'node:http';
import { closeServer, listenOnLoopback, readBody } from './loopback';

interface StoredVersion {
  readonly value: string;
  readonly version: number;
  readonly description: string;
  readonly modifiedAt: Date;
  readonly modifiedBy: string;
}

export interface InjectedFault {
  /** SSM error type, e.g. `ThrottlingException`, `TooManyUpdates`, `InternalServerError`. */
  readonly type: string;
  readonly status: number;
  /** Only these operations fail; all of them when left out. */
  readonly operations?: readonly string[];
  /** Only calls naming one of these parameters fail; calls naming any when left out. */
  readonly names?: readonly string[];
  /** How many calls fail before the fault clears itself; forever when left out. */
  times?: number;
}

/** Slowness to inject: matching calls are held before they are answered (or failed). */
export interface InjectedDelay {
  /** How long each matching call is held; until `heal()` or `stop()` when left out (a hang). */
  readonly ms?: number;
  /** Only these operations are held; all of them when left out. */
  readonly operations?: readonly string[];
  /** How many matching calls pass unheld before the holding starts. */
  after?: number;
}

/** Which requests a gate or hook applies to. */
export interface RequestMatch {
  /** `PutParameter`, `GetParametersByPath`, …; any operation when left out. */
  readonly operation?: string;
  /** The parameter a request names (`Name`), or the path it reads (`Path`); any when left out. */
  readonly name?: string;
}

/** A request as a gate or hook sees it. */
export interface SeenRequest {
  readonly operation: string;
  /** The request's `Name`, or its `Path`. */
  readonly name: string;
  /** The value a `PutParameter` writes. */
  readonly value?: string;
}

/**
 * Holds the next request that matches, before it is served, until the test releases it; so a
 * test can force any order of two writers' reads and writes without relying on timing.
 */
export interface Gate {
  /** Resolves with the request once one matching it is held. */
  readonly arrived: Promise<SeenRequest>;
  /** Lets the held request through; resolves once it has been answered. */
  release(): Promise<void>;
  /** Removes the gate if nothing has arrived at it yet. */
  cancel(): void;
}

interface PendingGate {
  readonly match: RequestMatch;
  readonly arrive: (request: SeenRequest) => void;
  readonly released: Promise<void>;
  readonly served: () => void;
}

/**
 * SSM Parameter Store speaking the AWS JSON 1.1 protocol on 127.0.0.1, for the real SSM client
 * pointed at it through `AWS_ENDPOINT_URL_SSM`. Keeps every version of every parameter, so
 * history reads work, and can be told to fail.
 */
export class SsmFake {
  private readonly parameters = new Map<string, StoredVersion[]>();
  private readonly server = http.createServer((req, res) => void this.handle(req, res));
  private faults: InjectedFault[] = [];
  private delays: InjectedDelay[] = [];
  /** Releases every call being held. */
  private readonly held = new Set<() => void>();
  private gates: PendingGate[] = [];
  private hooks: { match: RequestMatch; hook: (request: SeenRequest) => void | Promise<void> }[] = [];
  /** Every call received, by operation name (`GetParametersByPath`, `PutParameter`, …). */
  readonly calls: string[] = [];
  /** The names of successful `PutParameter` calls, in the order they were made. */
  readonly writes: string[] = [];
  url = '';

  async start(): Promise<this> {
    const port = await listenOnLoopback(this.server);
    this.url = `http://127.0.0.1:${port}`;
    return this;
  }

  stop(): Promise<void> {
    this.release();
    return closeServer(this.server);
  }

  /** Sets a parameter directly, as an operator with the console would. */
  put(name: string, value: string, description = '', modifiedBy = 'arn:aws:iam::000000000000:user/fixture'): void {
    const versions = this.parameters.get(name) ?? [];
    versions.push({ value, version: versions.length + 1, description, modifiedAt: new Date(), modifiedBy });
    this.parameters.set(name, versions);
  }

  /** Forgets every parameter and its history. */
  clear(): void {
    this.parameters.clear();
  }

  get(name: string): string | undefined {
    return this.parameters.get(name)?.at(-1)?.value;
  }

  history(name: string): readonly StoredVersion[] {
    return this.parameters.get(name) ?? [];
  }

  fail(fault: InjectedFault): void {
    this.faults.push(fault);
  }

  /** Holds matching calls before answering them: SSM slow, or hanging when `ms` is left out. */
  delay(delay: InjectedDelay): void {
    this.delays.push(delay);
  }

  /** Clears every fault and delay, and answers the calls being held. */
  heal(): void {
    this.faults = [];
    this.delays = [];
    this.release();
  }

  private release(): void {
    for (const release of [...this.held]) release();
  }

  private hold(delay: InjectedDelay): Promise<void> {
    return new Promise((resolve) => {
      const timer = delay.ms === undefined ? undefined : setTimeout(() => release(), delay.ms);
      const release = () => {
        clearTimeout(timer);
        this.held.delete(release);
        resolve();
      };
      this.held.add(release);
    });
  }

  /** Holds the next request matching `match` until the gate is released. Gates match in the order they were set. */
  gate(match: RequestMatch = {}): Gate {
    let arrive!: (request: SeenRequest) => void;
    let release!: () => void;
    let served!: () => void;
    const arrived = new Promise<SeenRequest>((resolve) => (arrive = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    const answered = new Promise<void>((resolve) => (served = resolve));
    const pending: PendingGate = { match, arrive, released, served };
    this.gates.push(pending);
    return {
      arrived,
      release: () => {
        release();
        return answered;
      },
      cancel: () => {
        this.gates = this.gates.filter((g) => g !== pending);
      },
    };
  }

  /**
   * Runs `hook` after each request matching `match` is served and before it is answered, so what
   * the hook does lands between that request and the caller's next one. Returns the remover.
   */
  afterServe(match: RequestMatch, hook: (request: SeenRequest) => void | Promise<void>): () => void {
    const entry = { match, hook };
    this.hooks.push(entry);
    return () => {
      this.hooks = this.hooks.filter((h) => h !== entry);
    };
  }

  count(operation: string): number {
    return this.calls.filter((c) => c === operation).length;
  }

  resetCalls(): void {
    this.calls.length = 0;
    this.writes.length = 0;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const text = await readBody(req);
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.replace(/^AmazonSSM\./, '');
    this.calls.push(operation);
    const delay = this.delays.find((d) => !d.operations || d.operations.includes(operation));
    if (delay && delay.after) delay.after -= 1;
    else if (delay) await this.hold(delay);

    let input: Record<string, unknown>;
    try {
      input = JSON.parse(text || '{}') as Record<string, unknown>;
    } catch {
      return this.reply(res, 400, { __type: 'SerializationException', message: 'body is not JSON' });
    }

    const seen: SeenRequest = {
      operation,
      name: String(input.Name ?? input.Path ?? ''),
      ...(operation === 'PutParameter' ? { value: String(input.Value) } : {}),
    };
    const gate = this.gates.find((g) => matches(g.match, seen));
    if (gate) {
      this.gates = this.gates.filter((g) => g !== gate);
      gate.arrive(seen);
      await gate.released;
      res.once('finish', gate.served);
    }

    const fault = this.faults.find(
      (f) => (!f.operations || f.operations.includes(operation)) && (!f.names || f.names.includes(String(input.Name))),
    );
    if (fault) {
      if (fault.times !== undefined && --fault.times <= 0) this.faults = this.faults.filter((f) => f !== fault);
      return this.reply(res, fault.status, { __type: fault.type, message: `injected ${fault.type}` });
    }
    try {
      const answer = this.dispatch(operation, input);
      for (const { hook } of this.hooks.filter((h) => matches(h.match, seen))) await hook(seen);
      return this.reply(res, 200, answer);
    } catch (error) {
      const { type, message } = error as { type?: string; message: string };
      return this.reply(res, 400, { __type: type ?? 'ValidationException', message });
    }
  }

  private dispatch(operation: string, input: Record<string, unknown>): unknown {
    switch (operation) {
      case 'GetParametersByPath':
        return this.getParametersByPath(input);
      case 'GetParameter': {
        const name = String(input.Name);
        const latest = this.parameters.get(name)?.at(-1);
        if (!latest) throw Object.assign(new Error(`parameter ${name} not found`), { type: 'ParameterNotFound' });
        return { Parameter: this.describe(name, latest) };
      }
      case 'GetParameters': {
        const names = (input.Names as string[]) ?? [];
        const found = names.filter((n) => this.parameters.has(n));
        return {
          Parameters: found.map((n) => this.describe(n, this.parameters.get(n)!.at(-1)!)),
          InvalidParameters: names.filter((n) => !this.parameters.has(n)),
        };
      }
      case 'PutParameter': {
        const name = String(input.Name);
        const exists = this.parameters.has(name);
        if (exists && input.Overwrite !== true) {
          throw Object.assign(new Error(`parameter ${name} already exists`), { type: 'ParameterAlreadyExists' });
        }
        const versions = this.parameters.get(name) ?? [];
        const description = typeof input.Description === 'string' ? input.Description : (versions.at(-1)?.description ?? '');
        if (description.length > 1024) throw new Error('Description must be at most 1024 characters');
        versions.push({
          value: String(input.Value),
          version: versions.length + 1,
          description,
          modifiedAt: new Date(),
          modifiedBy: 'arn:aws:sts::000000000000:assumed-role/fake/caller',
        });
        this.parameters.set(name, versions);
        this.writes.push(name);
        return { Version: versions.length, Tier: 'Standard' };
      }
      case 'GetParameterHistory': {
        const name = String(input.Name);
        const versions = this.parameters.get(name);
        if (!versions) throw Object.assign(new Error(`parameter ${name} not found`), { type: 'ParameterNotFound' });
        return this.page(
          versions.map((v) => ({
            Name: name,
            Type: 'String',
            Value: v.value,
            Version: v.version,
            Description: v.description,
            LastModifiedDate: v.modifiedAt.getTime() / 1000,
            LastModifiedUser: v.modifiedBy,
            DataType: 'text',
            Tier: 'Standard',
          })),
          input,
          50,
        );
      }
      default:
        throw Object.assign(new Error(`operation ${operation} is not faked`), { type: 'InvalidAction' });
    }
  }

  private getParametersByPath(input: Record<string, unknown>): unknown {
    const path = String(input.Path).replace(/\/$/, '');
    const recursive = input.Recursive === true;
    const matching = [...this.parameters.keys()]
      .filter((name) => name.startsWith(`${path}/`) && (recursive || !name.slice(path.length + 1).includes('/')))
      .sort();
    return this.page(
      matching.map((name) => this.describe(name, this.parameters.get(name)!.at(-1)!)),
      input,
      10,
      'Parameters',
    );
  }

  private page<T>(items: T[], input: Record<string, unknown>, defaultSize: number, key = 'Parameters'): Record<string, unknown> {
    const size = Math.min(Number(input.MaxResults ?? defaultSize), defaultSize);
    const start = input.NextToken ? Number(input.NextToken) : 0;
    const next = start + size < items.length ? String(start + size) : undefined;
    return { [key]: items.slice(start, start + size), ...(next ? { NextToken: next } : {}) };
  }

  private describe(name: string, stored: StoredVersion): Record<string, unknown> {
    return {
      Name: name,
      Type: 'String',
      Value: stored.value,
      Version: stored.version,
      LastModifiedDate: stored.modifiedAt.getTime() / 1000,
      ARN: `arn:aws:ssm:eu-central-1:000000000000:parameter${name}`,
      DataType: 'text',
    };
  }

  private reply(res: http.ServerResponse, status: number, body: unknown): void {
    const payload = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': `fake-${this.calls.length}`, 'content-length': Buffer.byteLength(payload) });
    res.end(payload);
  }
}

function matches(match: RequestMatch, request: SeenRequest): boolean {
  return (match.operation === undefined || match.operation === request.operation) && (match.name === undefined || match.name === request.name);
}
