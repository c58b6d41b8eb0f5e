/**
 * Settings for the DynamoDB and SQS clients of the jobs functions: the SDK's retries are off (the
 * queue's redelivery, or the caller told to retry, is the only retry policy) and every call has a
 * deadline, so none can hang a request or a try.
 */
export const DATA_CLIENT_CONFIG = {
  maxAttempts: 1,
  requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000 },
} as const;
