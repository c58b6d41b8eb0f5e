import type { Provider } from '../shared/vocabulary';
import type { AiProvider, ProviderRequest, ProviderResponse } from './hybrid-router';
import { ProviderFailure } from './provider-failure';

/** DESIGN §12: a provider answer larger than this much UTF-8 text is a provider failure. */
export const MAX_ANSWER_BYTES = 1024 * 1024;

export const utf8Bytes = (text: string): number => Buffer.byteLength(text, 'utf8');

export const answerTooLarge = (provider: Provider, bytes: number): ProviderFailure =>
  new ProviderFailure(provider, 'fatal', `the answer passed ${MAX_ANSWER_BYTES} bytes of UTF-8 text (${bytes} bytes)`);

/**
 * A provider whose answers over `MAX_ANSWER_BYTES` fail (and so fall back), for paths whose
 * provider does not enforce the limit itself.
 */
export function withAnswerLimit(provider: Provider, inner: AiProvider): AiProvider {
  return {
    async invoke(request: ProviderRequest, signal: AbortSignal): Promise<ProviderResponse> {
      const response = await inner.invoke(request, signal);
      const bytes = utf8Bytes(response.text);
      if (bytes > MAX_ANSWER_BYTES) throw answerTooLarge(provider, bytes);
      return response;
    },
  };
}
