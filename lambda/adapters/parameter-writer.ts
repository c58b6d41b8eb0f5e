import { PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';

/** SSM's limit on a parameter description. */
const MAX_DESCRIPTION = 1024;
const RETRYABLE = new Set(['TooManyUpdates', 'ThrottlingException', 'ThrottledException', 'InternalServerError']);

export interface ParameterWriterOptions {
  /** Tries per write, the first included. */
  readonly attempts?: number;
  readonly baseDelayMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  readonly now?: () => number;
}

export interface PutOptions {
  /**
   * Epoch ms by which the write must be done, retries included: an attempt still running then is
   * aborted, and no retry starts that could not begin before it.
   */
  readonly deadlineAt?: number;
}

/** The error name a write that ran out of time reports. */
export const DEADLINE_EXCEEDED = 'DeadlineExceeded';

/** Thrown when a write still fails after its retries. */
export class ParameterWriteError extends Error {
  constructor(
    readonly parameterName: string,
    readonly errorName: string,
    attempts: number,
  ) {
    super(`writing ${parameterName} failed after ${attempts} attempt(s): ${errorName}`);
    this.name = 'ParameterWriteError';
  }
}

/**
 * Overwrites String parameters, putting the reason for each change in its description so the
 * parameter history is the audit trail. Retries `TooManyUpdates` and throttling with exponential
 * backoff and full jitter, since SSM limits how fast one parameter may change. The client must be
 * built with `maxAttempts: 1` (see `createSsmClient`): these retries are the only ones.
 */
export class ParameterWriter {
  private readonly attempts: number;
  private readonly baseDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly now: () => number;

  constructor(
    private readonly client: SSMClient,
    options: ParameterWriterOptions = {},
  ) {
    this.attempts = options.attempts ?? 5;
    this.baseDelayMs = options.baseDelayMs ?? 100;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
  }

  /** Writes `value` to `name`; returns the new parameter version. */
  async put(name: string, value: string, reason: string, options: PutOptions = {}): Promise<number> {
    const { deadlineAt } = options;
    const description = reason.length > MAX_DESCRIPTION ? `${reason.slice(0, MAX_DESCRIPTION - 1)}…` : reason;
    for (let attempt = 1; ; attempt += 1) {
      const remainingMs = deadlineAt === undefined ? Infinity : deadlineAt - this.now();
      if (remainingMs <= 0) throw new ParameterWriteError(name, DEADLINE_EXCEEDED, attempt - 1);
      const abortSignal = remainingMs === Infinity ? undefined : AbortSignal.timeout(remainingMs);
      try {
        const output = await this.client.send(
          new PutParameterCommand({ Name: name, Value: value, Type: 'String', Overwrite: true, Description: description }),
          { abortSignal },
        );
        return output.Version ?? 0;
      } catch (error) {
        const errorName = abortSignal?.aborted ? DEADLINE_EXCEEDED : error instanceof Error ? error.name : 'UnknownError';
        if (!RETRYABLE.has(errorName) || attempt >= this.attempts) throw new ParameterWriteError(name, errorName, attempt);
        const delayMs = this.random() * this.baseDelayMs * 2 ** (attempt - 1);
        if (this.now() + delayMs >= (deadlineAt ?? Infinity)) throw new ParameterWriteError(name, errorName, attempt);
        await this.sleep(delayMs);
      }
    }
  }
}
