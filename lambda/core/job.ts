import type { InvokeRequest } from '../shared/invoke-request';
import { JOB_TTL_SECONDS, type JobStatus } from '../shared/jobs';
import type { ErrorBody } from './http-errors';
import type { InvokeAnswer } from './invoke-answer';

export type JobError = ErrorBody['error'];

/** A job as stored: who owns it, where it is in its life, and what it asked and answered. */
export interface JobRecord {
  readonly jobId: string;
  /** The IAM identity that submitted it; nobody else may read it. */
  readonly owner: string;
  readonly status: JobStatus;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly completedAt?: string;
  /** Receives of its message so far (the worker's tries). */
  readonly attempts: number;
  /** The request, kept until the job finishes. */
  readonly request?: InvokeRequest;
  readonly result?: InvokeAnswer;
  readonly error?: JobError;
  /** The error of the last try, while the job waits for its next one. */
  readonly lastError?: JobError;
}

/** `GET /v1/jobs/{jobId}` (DESIGN §4): the record without its owner and request. */
export interface JobView {
  readonly jobId: string;
  readonly status: JobStatus;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly completedAt?: string;
  readonly attempts: number;
  readonly result?: InvokeAnswer;
  readonly error?: JobError;
}

export function newJob(jobId: string, owner: string, request: InvokeRequest, now: number): JobRecord {
  const at = new Date(now).toISOString();
  return { jobId, owner, status: 'queued', createdAt: at, updatedAt: at, attempts: 0, request };
}

export function jobView(record: JobRecord): JobView {
  const { jobId, status, createdAt, updatedAt, completedAt, attempts, result, error } = record;
  return { jobId, status, createdAt, updatedAt, completedAt, attempts, result, error };
}

export const isFinished = (status: JobStatus): boolean => status === 'succeeded' || status === 'failed';

/** The TTL attribute's value for an item updated at `now`: DynamoDB deletes it 24 hours later. */
export const expiresAtOf = (now: number): number => Math.floor(now / 1000) + JOB_TTL_SECONDS;

/** What the worker does with one try's outcome. */
export type JobVerdict =
  | { readonly kind: 'succeeded'; readonly result: InvokeAnswer }
  | { readonly kind: 'retry'; readonly error: JobError; readonly delaySeconds: number }
  | { readonly kind: 'failed'; readonly error: JobError };

/** Statuses worth another try: throttling, a path down, the budget, an unexpected fault. */
const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 500, 503, 504]);

/**
 * Judges one try. A transient failure is retried while receives are left (the try on the queue's
 * `maxReceiveCount`-th receive is the last); a permanent one (a request the model rejects, a path
 * that refuses it for good) fails at once, since another try would fail the same way.
 */
export function judgeTry(
  outcome: { readonly result: InvokeAnswer } | { readonly error: JobError; readonly status: number },
  receiveCount: number,
  maxReceiveCount: number,
): JobVerdict {
  if ('result' in outcome) return { kind: 'succeeded', result: outcome.result };
  if (!RETRYABLE_STATUSES.has(outcome.status) || receiveCount >= maxReceiveCount) return { kind: 'failed', error: outcome.error };
  return { kind: 'retry', error: outcome.error, delaySeconds: retryDelaySeconds(receiveCount) };
}

/** Backoff before the next try: 30 s, 60 s, 120 s, … at most 15 minutes. */
export const retryDelaySeconds = (receiveCount: number): number => Math.min(900, 30 * 2 ** Math.max(0, receiveCount - 1));

/**
 * The error a job ends with when its message reached the dead-letter queue: every try's worker
 * stopped (timed out or crashed) without finishing it. The last recorded try error, if any, says more.
 */
export function deadLetteredError(record: JobRecord | undefined, receives: number): JobError {
  const tries = `${receives} tr${receives === 1 ? 'y' : 'ies'}`;
  if (record?.lastError) {
    return { ...record.lastError, message: `failed on every one of ${tries}; the last error: ${record.lastError.message}` };
  }
  return {
    code: 'InternalError',
    message: `the worker stopped before finishing the job on every one of ${tries} (it timed out or crashed)`,
    details: [],
  };
}
