/**
 * One error type per failure kind a caller can see. Each carries its HTTP status and DESIGN §4
 * error code, so status mapping lives here and nowhere else.
 */

export interface ErrorDetail {
  readonly path: string;
  readonly message: string;
}

export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly details: readonly ErrorDetail[] };
  readonly requestId: string;
}

export abstract class HttpError extends Error {
  abstract readonly status: number;
  abstract readonly code: string;
  /** Seconds a client should wait before retrying; sent as `Retry-After`. */
  readonly retryAfterSeconds?: number;

  constructor(
    message: string,
    readonly details: readonly ErrorDetail[] = [],
  ) {
    super(message);
    this.name = new.target.name;
  }

  toBody(requestId: string): ErrorBody {
    return { error: { code: this.code, message: this.message, details: this.details }, requestId };
  }
}

export class ValidationError extends HttpError {
  readonly status = 400;
  readonly code = 'ValidationError';
}

export class NotFoundError extends HttpError {
  readonly status = 404;
  readonly code = 'NotFound';
}

export class ConflictError extends HttpError {
  readonly status = 409;
  readonly code = 'Conflict';
}

export class PayloadTooLargeError extends HttpError {
  readonly status = 413;
  readonly code = 'PayloadTooLarge';
}

abstract class RetryableHttpError extends HttpError {
  override readonly retryAfterSeconds: number;

  constructor(message: string, retryAfterSeconds: number) {
    super(message);
    this.retryAfterSeconds = Math.max(1, Math.ceil(retryAfterSeconds));
  }
}

export class ThrottledError extends RetryableHttpError {
  readonly status = 429;
  readonly code = 'Throttled';
}

export class ProviderError extends HttpError {
  readonly status = 502;
  readonly code = 'ProviderError';
}

export class UnavailableError extends RetryableHttpError {
  readonly status = 503;
  readonly code = 'Unavailable';
}

export class TimeoutError extends HttpError {
  readonly status = 504;
  readonly code = 'Timeout';
}

/** An unexpected fault: the caller learns only that it happened and the request id. */
export class InternalError extends HttpError {
  readonly status = 500;
  readonly code = 'InternalError';

  constructor() {
    super('internal error; quote the requestId when reporting it');
  }
}
