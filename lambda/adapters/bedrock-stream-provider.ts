import { ConverseStreamCommand, type BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import type { ProviderRequest } from '../core/hybrid-router';
import { ProviderFailure, classifyBedrockError } from '../core/provider-failure';
import type { StreamPart, StreamingProvider } from '../core/stream-router';

/**
 * The direct path, streamed: Bedrock's ConverseStream API. `signal` is handed to the SDK call,
 * which stays subscribed until the HTTP/2 stream closes, so an abort at any point (budget, caller
 * gone, answer too large) resets the stream and Bedrock stops generating; merely leaving the event
 * loop would not. The client must be built with `maxAttempts: 1`: the router owns retries.
 */
export class BedrockStreamProvider implements StreamingProvider {
  constructor(
    private readonly client: BedrockRuntimeClient,
    private readonly modelId: string,
  ) {}

  async *stream(request: ProviderRequest, signal: AbortSignal): AsyncGenerator<StreamPart> {
    const command = new ConverseStreamCommand({
      modelId: this.modelId,
      messages: request.messages.map((m) => ({ role: m.role, content: [{ text: m.content }] })),
      system: request.system ? [{ text: request.system }] : undefined,
      inferenceConfig: { maxTokens: request.maxTokens, temperature: request.temperature },
    });
    let stopReason = 'unknown';
    let usage = { inputTokens: 0, outputTokens: 0 };
    try {
      const output = await this.client.send(command, { abortSignal: signal });
      for await (const event of output.stream ?? []) {
        const text = event.contentBlockDelta?.delta?.text;
        if (text) yield { kind: 'delta', text };
        if (event.messageStop) stopReason = event.messageStop.stopReason ?? 'unknown';
        if (event.metadata?.usage) {
          usage = { inputTokens: event.metadata.usage.inputTokens ?? 0, outputTokens: event.metadata.usage.outputTokens ?? 0 };
        }
      }
    } catch (error) {
      throw streamFailure(error, signal);
    }
    // An aborted HTTP/2 stream can end without an error: it is still no answer.
    if (signal.aborted) throw streamFailure(undefined, signal);
    yield { kind: 'end', stopReason, usage };
  }
}

function streamFailure(error: unknown, signal: AbortSignal): ProviderFailure {
  if (signal.aborted) return new ProviderFailure('bedrock', 'budget', 'aborted: the stream was stopped');
  const name = error instanceof Error ? error.name : 'UnknownError';
  const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
  // An error event in the stream is the model failing mid-answer: the same kind as a model error.
  const { kind, retryable } = classifyBedrockError(name === 'ModelStreamErrorException' ? 'ModelErrorException' : name, status);
  return new ProviderFailure('bedrock', kind, `${name}${status ? ` (HTTP ${status})` : ''}`, retryable);
}
