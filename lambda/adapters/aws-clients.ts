import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { SSMClient } from '@aws-sdk/client-ssm';
import { NodeHttp2Handler, NodeHttpHandler } from '@smithy/node-http-handler';
import { MAX_RESPONSE_BODY_BYTES, capNodeBody } from './response-cap';

/**
 * The AWS SDK clients of the router and the health check, built one way: the SDK's retries off,
 * since the project's own retry policy is the only one, and every HTTP request bounded, so a call
 * nothing aborts still ends. Callers put their own, shorter deadlines on top.
 */

export interface ClientTimeouts {
  /** Bound on opening the TCP connection. */
  readonly connectionTimeoutMs: number;
  /** Bound on one HTTP request, from sending it to the end of its response. */
  readonly requestTimeoutMs: number;
}

/** SSM answers in tens of milliseconds; these only stop a read or write that hangs. */
export const SSM_TIMEOUTS: ClientTimeouts = { connectionTimeoutMs: 1_000, requestTimeoutMs: 3_000 };

/** Above the longest budget (28 s): the budget's abort ends a call first; this stops a forgotten one. */
export const BEDROCK_REQUEST_TIMEOUT_MS = 30_000;

export function createSsmClient(timeouts: ClientTimeouts = SSM_TIMEOUTS): SSMClient {
  return new SSMClient({
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: timeouts.connectionTimeoutMs,
      requestTimeout: timeouts.requestTimeoutMs,
      throwOnRequestTimeout: true,
    }),
  });
}

/**
 * Bedrock Runtime over the SDK's default HTTP/2 handler (one session per request, as the SDK
 * does by default), with an idle bound on each stream and response bodies capped at
 * `MAX_RESPONSE_BODY_BYTES` so an oversized answer is never buffered whole.
 */
export function createBedrockRuntimeClient(requestTimeoutMs = BEDROCK_REQUEST_TIMEOUT_MS): BedrockRuntimeClient {
  const client = new BedrockRuntimeClient({
    maxAttempts: 1,
    requestHandler: new NodeHttp2Handler({ requestTimeout: requestTimeoutMs, disableConcurrentStreams: true }),
  });
  client.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      const response = result.response as { headers?: Record<string, string | undefined>; body?: unknown };
      response.body = capNodeBody(response.body, response.headers ?? {}, MAX_RESPONSE_BODY_BYTES);
      return result;
    },
    // Below the deserializer, so it sees the raw body before anything reads it.
    { step: 'deserialize', priority: 'low', name: 'responseBodyCap' },
  );
  return client;
}

/**
 * Settings for the DynamoDB and SQS clients of the jobs functions: the SDK's retries are off (the
 * queue's redelivery, or the caller told to retry, is the only retry policy) and every call has a
 * deadline, so none can hang a request or a try.
 */
export const DATA_CLIENT_CONFIG = {
  maxAttempts: 1,
  requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000 },
} as const;
