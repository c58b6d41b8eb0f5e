import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import type { HttpError } from '../core/http-errors';
import { STREAM_CONTENT_TYPE, formatStreamEvent, type StreamEvent } from '../shared/stream-events';

/**
 * The response stream the Lambda Node.js runtime hands a streaming handler. The runtime's object
 * is a writable HTTP request to the runtime API that exposes only the Writable members, plus
 * `setContentType`; this code uses no more than those.
 */
export type LambdaResponseStream = awslambda.HttpResponseStream;

export type StreamingHandler = (event: APIGatewayProxyEvent, responseStream: LambdaResponseStream, context: Context) => Promise<void>;

/** Marks `handler` as a response-streaming handler for the Lambda runtime (`awslambda` is its global). */
export function streamifyResponse(handler: StreamingHandler): StreamingHandler {
  return awslambda.streamifyResponse(handler) as StreamingHandler;
}

/**
 * One HTTP answer over a Lambda response stream, for API Gateway's STREAM transfer mode: either
 * server-sent events (opened at the first event) or, if nothing was sent yet, one JSON body with
 * its own status. Writes honour back-pressure: a caller who stops reading holds the writer, never
 * an unbounded buffer. The stream closing or failing before the end means the caller is gone.
 */
export class StreamResponse {
  private stream: LambdaResponseStream | undefined;
  private gone = false;
  private readonly hungUp = new AbortController();

  constructor(
    private readonly raw: LambdaResponseStream,
    private readonly requestId: string,
  ) {
    const lost = () => {
      this.gone = true;
      this.hungUp.abort(new Error('the caller went away'));
    };
    raw.on('error', lost);
    raw.on('close', () => {
      if (!raw.writableEnded) lost();
    });
  }

  /** Aborts when the connection to the caller breaks before the answer ended. */
  get callerGone(): AbortSignal {
    return this.hungUp.signal;
  }

  /** Whether the SSE answer has begun; after that, failures can only be `error` events. */
  get opened(): boolean {
    return this.stream !== undefined;
  }

  /** Sends one event, opening the SSE answer if needed; rejects when the caller is gone. */
  async event(event: StreamEvent, signal: AbortSignal): Promise<void> {
    this.stream ??= this.open(200, { 'content-type': STREAM_CONTENT_TYPE, 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    await this.write(this.stream, formatStreamEvent(event), signal);
  }

  /** The DESIGN §4 error answer with its status; only before the SSE answer has begun. */
  async error(error: HttpError): Promise<void> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (error.retryAfterSeconds !== undefined) headers['retry-after'] = String(error.retryAfterSeconds);
    const stream = this.open(error.status, headers);
    this.stream = stream;
    await this.write(stream, JSON.stringify(error.toBody(this.requestId)), AbortSignal.timeout(5_000)).catch(() => undefined);
  }

  /** Ends the answer; resolves when the runtime has it all, at once when the caller is gone. */
  end(): Promise<void> {
    if (this.raw.writableEnded || this.raw.destroyed) return Promise.resolve();
    // Bytes a caller never read would hold `end` forever: drop them.
    if (this.gone) {
      this.raw.destroy();
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.raw.on('error', () => resolve());
      this.raw.end(() => resolve());
    });
  }

  private open(statusCode: number, headers: Record<string, string>): LambdaResponseStream {
    return awslambda.HttpResponseStream.from(this.raw, { statusCode, headers: { ...headers, 'x-request-id': this.requestId } });
  }

  private async write(stream: LambdaResponseStream, text: string, signal: AbortSignal): Promise<void> {
    if (this.gone || stream.destroyed) throw new Error('the caller went away');
    if (stream.write(text)) return;
    await new Promise<void>((resolve, reject) => {
      const settle = (error?: Error) => {
        stream.off('drain', onDrain);
        stream.off('close', onClose);
        stream.off('error', onClose);
        signal.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve();
      };
      const onDrain = () => settle();
      const onClose = () => {
        this.gone = true;
        settle(new Error('the caller went away'));
      };
      const onAbort = () => {
        this.gone = true;
        settle(new Error('the caller stopped reading until the stream budget ran out'));
      };
      stream.on('drain', onDrain);
      stream.on('close', onClose);
      stream.on('error', onClose);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
