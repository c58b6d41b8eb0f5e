import { Readable, Transform, pipeline } from 'node:stream';
import { MAX_ANSWER_BYTES } from '../core/provider-failure';

/**
 * The most a provider's HTTP response body may hold before the read stops. Room for a 1 MiB
 * answer with its JSON escaping and envelope; anything bigger is never buffered, and the answer
 * itself is then held to `MAX_ANSWER_BYTES` by the router.
 */
export const MAX_RESPONSE_BODY_BYTES = 8 * MAX_ANSWER_BYTES;

/** Raised when a response body passes its cap; the read stops there. */
export class ResponseTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`the response body is over ${maxBytes} bytes; stopped reading it`);
    this.name = 'ResponseTooLargeError';
  }
}

const declaredLength = (value: string | null | undefined): number => (value ? Number(value) : NaN);

/**
 * A `fetch` whose response bodies stop at `maxBytes`: a declared length over the cap fails at
 * once, and a body that passes it errors and cancels the download. `onTooLarge` hears of each.
 */
export function cappedFetch(maxBytes: number, onTooLarge: (error: ResponseTooLargeError) => void): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    if (!response.body) return response;
    if (declaredLength(response.headers.get('content-length')) > maxBytes) {
      await response.body.cancel();
      const error = new ResponseTooLargeError(maxBytes);
      onTooLarge(error);
      throw error;
    }
    let seen = 0;
    const capped = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          seen += chunk.byteLength;
          if (seen <= maxBytes) return controller.enqueue(chunk);
          const error = new ResponseTooLargeError(maxBytes);
          onTooLarge(error);
          controller.error(error);
        },
      }),
    );
    return new Response(capped, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}

/**
 * The same cap for an AWS SDK response (a Node stream body), for a middleware between the HTTP
 * handler and the deserializer. Returns the body to read instead of `body`.
 */
export function capNodeBody(body: unknown, headers: Record<string, string | undefined>, maxBytes: number): unknown {
  if (!(body instanceof Readable)) return body;
  if (declaredLength(headers['content-length']) > maxBytes) {
    body.destroy();
    throw new ResponseTooLargeError(maxBytes);
  }
  let seen = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      callback(seen <= maxBytes ? null : new ResponseTooLargeError(maxBytes), seen <= maxBytes ? chunk : undefined);
    },
  });
  // pipeline destroys the source when the counter errors, which ends the download.
  return pipeline(body, counter, () => undefined);
}
