import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';

/** The event the admin API sends the ramp controller: a tick, asked for now rather than at the next minute. */
export const ADMIN_TICK_EVENT = { source: 'hybrid-routing.admin', detail: 'ramp changed' } as const;

/**
 * Asks the ramp controller for a tick right away (an asynchronous invocation, answered as soon as
 * Lambda has queued it). A failure is only logged by the caller: the one-minute schedule ticks anyway.
 */
export function rampTrigger(client: LambdaClient, functionName: string, deadlineMs: number): () => Promise<void> {
  return async () => {
    await client.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'Event', Payload: new TextEncoder().encode(JSON.stringify(ADMIN_TICK_EVENT)) }), {
      abortSignal: AbortSignal.timeout(deadlineMs),
    });
  };
}
