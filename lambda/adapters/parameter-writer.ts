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
}

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
 * backoff and full jitter, since SSM limits how fast one parameter may change.
 */
export class ParameterWriter {
  private readonly attempts: number;
  private readonly baseDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(
    private readonly client: SSMClient,
    options: ParameterWriterOptions = {},
  ) {
    this.attempts = options.attempts ?? 5;
    this.baseDelayMs = options.baseDelayMs ?? 100;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
  }

  /** Writes `value` to `name`; returns the new parameter version. */
  async put(name: string, value: string, reason: string): Promise<number> {
    const description = reason.length > MAX_DESCRIPTION ? `${reason.slice(0, MAX_DESCRIPTION - 1)}…` : reason;
    for (let attempt = 1; ; attempt += 1) {
      try {
        const output = await this.client.send(
          new PutParameterCommand({ Name: name, Value: value, Type: 'String', Overwrite: true, Description: description }),
        );
        return output.Version ?? 0;
      } catch (error) {
        const errorName = error instanceof Error ? error.name : 'UnknownError';
        if (!RETRYABLE.has(errorName) || attempt >= this.attempts) throw new ParameterWriteError(name, errorName, attempt);
        await this.sleep(this.random() * this.baseDelayMs * 2 ** (attempt - 1));
      }
    }
  }
}
