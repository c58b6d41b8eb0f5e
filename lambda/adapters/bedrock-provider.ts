import { ConverseCommand, type BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import type { AiProvider, ProviderRequest, ProviderResponse } from '../core/hybrid-router';
import { ProviderFailure, classifyBedrockError } from '../core/provider-failure';
import { ResponseTooLargeError } from './response-cap';

/**
 * The direct path: Bedrock's Converse API. The client must be built with `maxAttempts: 1`
 * because the router owns retries (see `createBedrockRuntimeClient`); a call stops when `signal`
 * aborts, and a response body over the client's cap is a permanent failure.
 */
export class BedrockProvider implements AiProvider {
  constructor(
    private readonly client: BedrockRuntimeClient,
    private readonly modelId: string,
  ) {}

  async invoke(request: ProviderRequest, signal: AbortSignal): Promise<ProviderResponse> {
    const command = new ConverseCommand({
      modelId: this.modelId,
      messages: request.messages.map((m) => ({ role: m.role, content: [{ text: m.content }] })),
      system: request.system ? [{ text: request.system }] : undefined,
      inferenceConfig: { maxTokens: request.maxTokens, temperature: request.temperature },
    });
    try {
      const output = await this.client.send(command, { abortSignal: signal });
      const text = (output.output?.message?.content ?? [])
        .map((block) => ('text' in block && typeof block.text === 'string' ? block.text : ''))
        .join('');
      return {
        text,
        stopReason: output.stopReason ?? 'unknown',
        usage: { inputTokens: output.usage?.inputTokens ?? 0, outputTokens: output.usage?.outputTokens ?? 0 },
      };
    } catch (error) {
      if (signal.aborted) throw new ProviderFailure('bedrock', 'budget', 'aborted: latency budget exhausted');
      if (error instanceof ResponseTooLargeError) throw new ProviderFailure('bedrock', 'fatal', error.message);
      const { name, status } = describeError(error);
      const { kind, retryable } = classifyBedrockError(name, status);
      throw new ProviderFailure('bedrock', kind, `${name}${status ? ` (HTTP ${status})` : ''}`, retryable);
    }
  }
}

function describeError(error: unknown): { name: string; status: number | undefined } {
  if (error instanceof Error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    return { name: error.name, status };
  }
  return { name: 'UnknownError', status: undefined };
}
