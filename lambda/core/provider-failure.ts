import type { Provider } from '../shared/vocabulary';

/**
 * How a provider call failed, which decides what the router does next:
 * - `client`: the request itself is bad; answer 400, no fallback, no breaker count.
 * - `throttled`: rate-limited; retry once (jittered), then fall back.
 * - `unavailable`: a transient server fault or unreachable endpoint; retry once if `retryable`.
 * - `timeout`: the provider timed out on its own; fall back, no retry.
 * - `fatal`: access denied, model or tool not found, model or tool error, an answer over 1 MiB;
 *   fall back, 502 if nothing works.
 * - `budget`: the router's latency budget ran out and it aborted the call.
 */
export type FailureKind = 'client' | 'throttled' | 'unavailable' | 'timeout' | 'fatal' | 'budget';

export class ProviderFailure extends Error {
  constructor(
    readonly provider: Provider,
    readonly kind: FailureKind,
    message: string,
    readonly retryable: boolean = kind === 'throttled' || kind === 'unavailable',
  ) {
    super(message);
    this.name = 'ProviderFailure';
  }
}

/**
 * Classifies a Bedrock Runtime error by its exception name (the SDK's `error.name`), following
 * Bedrock's error taxonomy. Unknown names with a 5xx status are treated as transient.
 */
export function classifyBedrockError(name: string, httpStatus: number | undefined): { kind: FailureKind; retryable: boolean } {
  switch (name) {
    case 'ThrottlingException':
    case 'ServiceQuotaExceededException':
      return { kind: 'throttled', retryable: true };
    case 'ServiceUnavailableException':
    case 'InternalServerException':
    case 'ModelNotReadyException':
      return { kind: 'unavailable', retryable: true };
    case 'ModelTimeoutException':
      return { kind: 'timeout', retryable: false };
    case 'ValidationException':
      return { kind: 'client', retryable: false };
    case 'AccessDeniedException':
    case 'ResourceNotFoundException':
    case 'ModelErrorException':
      return { kind: 'fatal', retryable: false };
    default:
      if (httpStatus === 429) return { kind: 'throttled', retryable: true };
      if (httpStatus !== undefined && httpStatus >= 500) return { kind: 'unavailable', retryable: true };
      if (httpStatus === 400) return { kind: 'client', retryable: false };
      if (httpStatus !== undefined && httpStatus >= 400) return { kind: 'fatal', retryable: false };
      return { kind: 'unavailable', retryable: false };
  }
}

/** DESIGN §12: an answer over 1 MiB of UTF-8 text is a provider failure, on every path. */
export const MAX_ANSWER_BYTES = 1024 * 1024;

/** The failure for an answer whose text is over `MAX_ANSWER_BYTES`, or undefined when it fits. */
export function oversizeAnswer(provider: Provider, text: string): ProviderFailure | undefined {
  // A UTF-16 code unit is at most 3 bytes of UTF-8, so most answers need no count at all.
  if (text.length * 3 <= MAX_ANSWER_BYTES) return undefined;
  const bytes = Buffer.byteLength(text, 'utf8');
  return bytes <= MAX_ANSWER_BYTES ? undefined : answerTooLarge(provider, bytes);
}

/** The failure for an answer, whole or streamed so far, of `bytes` bytes of UTF-8 text. */
export function answerTooLarge(provider: Provider, bytes: number): ProviderFailure {
  return new ProviderFailure(provider, 'fatal', `the answer is ${bytes} bytes, over the ${MAX_ANSWER_BYTES}-byte limit`);
}

/**
 * Classifies an MCP server's HTTP error status on connect or call. Authentication and a wrong
 * address are permanent (`fatal`); a 404 on an open session means the server dropped the
 * session, so a new connection may work (MCP Streamable HTTP says to start a new session).
 */
export function classifyMcpHttpStatus(status: number, sessionOpen: boolean): { kind: FailureKind; retryable: boolean } {
  if (status === 429) return { kind: 'throttled', retryable: true };
  if (status === 401 || status === 403) return { kind: 'fatal', retryable: false };
  if (status === 404) return sessionOpen ? { kind: 'unavailable', retryable: true } : { kind: 'fatal', retryable: false };
  return { kind: 'unavailable', retryable: false };
}

/** JSON-RPC error codes an MCP server answers when the method or tool does not exist or rejects our arguments. */
const MCP_PERMANENT_RPC_ERRORS = new Set([-32601, -32602]);

/** Classifies a JSON-RPC error an MCP server answered: a missing tool or method is permanent. */
export function classifyMcpRpcError(code: number): { kind: FailureKind; retryable: boolean } {
  return MCP_PERMANENT_RPC_ERRORS.has(code) ? { kind: 'fatal', retryable: false } : { kind: 'unavailable', retryable: false };
}
