import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

export interface ApiResponse {
  readonly status: number;
  readonly body: any;
  /** Seconds the API asks a client to wait before retrying (`Retry-After`), when it says. */
  readonly retryAfterSeconds?: number;
}

/** The API could not be reached at all: DNS, refused connection, TLS, timeout. */
export class NetworkError extends Error {
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    super(`cannot reach ${url}: ${describeCause(cause)}`);
    this.name = 'NetworkError';
  }
}

function describeCause(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  const inner = (cause as { cause?: unknown }).cause;
  return inner instanceof Error ? `${cause.message} (${inner.message})` : cause.message;
}

export interface ApiClientOptions {
  /** The stage URL, e.g. `https://abc.execute-api.eu-central-1.amazonaws.com/prod/`. */
  readonly baseUrl: string;
  readonly region: string;
  readonly credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  readonly timeoutMs?: number;
  /** Deadline of a streamed answer. @default 16 minutes */
  readonly streamTimeoutMs?: number;
}

/** Calls the Hybrid Routing API with every request signed with SigV4 for `execute-api`. */
export class ApiClient {
  private readonly signer: SignatureV4;
  private readonly base: URL;

  constructor(private readonly options: ApiClientOptions) {
    this.base = new URL(options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`);
    this.signer = new SignatureV4({ service: 'execute-api', region: options.region, credentials: options.credentials, sha256: Sha256 });
  }

  async request(method: string, path: string, body?: unknown, query: Record<string, string> = {}): Promise<ApiResponse> {
    const response = await this.send(method, path, body, query, 'application/json', this.options.timeoutMs ?? 30_000);
    return { status: response.status, body: await parseBody(response), ...retryAfterOf(response) };
  }

  /**
   * Sends a request whose answer may be server-sent events, and hands each piece of text to
   * `onText` as it arrives. A non-stream answer (an error) comes back parsed, as from `request`.
   */
  async stream(method: string, path: string, body: unknown, onText: (text: string) => void): Promise<ApiResponse & { readonly streamed: boolean }> {
    // A stream may run for API Gateway's 15 minutes; the timeout only guards against a dead connection.
    const response = await this.send(method, path, body, {}, 'text/event-stream', this.options.streamTimeoutMs ?? 16 * 60_000);
    if (!response.ok || !response.body || !(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      return { status: response.status, body: await parseBody(response), streamed: false, ...retryAfterOf(response) };
    }
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body) onText(decoder.decode(chunk as Uint8Array, { stream: true }));
    } catch (error) {
      throw new NetworkError(new URL(path, this.base).origin, error);
    }
    return { status: response.status, body: null, streamed: true };
  }

  private async send(method: string, path: string, body: unknown, query: Record<string, string>, accept: string, timeoutMs: number): Promise<Response> {
    const url = new URL(path.replace(/^\//, ''), this.base);
    for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const signed = await this.signer.sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: {
        host: url.host,
        accept,
        ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: payload,
    });
    try {
      return await fetch(url, { method, headers: signed.headers, body: payload, signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      throw new NetworkError(url.origin, error);
    }
  }
}

/** `Retry-After` as seconds: a number of seconds, or an HTTP date counted from now. */
function retryAfterOf(response: Response): { retryAfterSeconds?: number } {
  const header = response.headers.get('retry-after');
  if (header === null || header.trim() === '') return {};
  if (/^\d+$/.test(header.trim())) return { retryAfterSeconds: Number(header.trim()) };
  const at = Date.parse(header);
  return Number.isFinite(at) ? { retryAfterSeconds: Math.max(0, Math.ceil((at - Date.now()) / 1000)) } : {};
}

async function parseBody(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    // A non-JSON answer (a proxy's error page) is passed on as text.
    return text;
  }
}
