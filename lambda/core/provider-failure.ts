import type { Provider } from '../shared/vocabulary';

/**
 * How a provider call failed, which decides what the router does next:
 * - `client`: the request itself is bad; answer 400, no fallback, no breaker count.
 * - `throttled`: rate-limited; retry once (jittered), then fall back.
 * - `unavailable`: a transient server fault or unreachable endpoint; retry once if `retryable`.
 * - `timeout`: the provider timed out on its own; fall back, no retry.
 * - `fatal`: access denied, model not found, model or tool error; fall back, 502 if nothing works.
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
