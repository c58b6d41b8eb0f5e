import type { AiProvider, ProviderRequest, ProviderResponse } from '../../lambda/core/hybrid-router';
import { ProviderFailure } from '../../lambda/core/provider-failure';
import { CONTROL_CONFIG, DEFAULT_POLICY, type RoutingConfig } from '../../lambda/shared/routing-config';
import type { Provider } from '../../lambda/shared/vocabulary';

/** A configuration with hybrid routing on for everyone, changed by `overrides`. */
export function hybridConfig(overrides: Partial<RoutingConfig> = {}): RoutingConfig {
  return { ...CONTROL_CONFIG, hybridEnabled: true, trafficPercentage: 100, policy: DEFAULT_POLICY, ...overrides };
}

export const okResponse = (text: string): ProviderResponse => ({
  text,
  stopReason: 'end_turn',
  usage: { inputTokens: 10, outputTokens: 5 },
});

/** One scripted step: answer, fail, or hang (until aborted) after an optional delay. */
export type Step =
  | { readonly answer: string; readonly delayMs?: number }
  | { readonly fail: ProviderFailure['kind']; readonly retryable?: boolean; readonly delayMs?: number }
  | { readonly hang: true };

/** A provider that plays `steps` in order and repeats the last one; records every call. */
export class ScriptedProvider implements AiProvider {
  readonly calls: ProviderRequest[] = [];

  constructor(
    private readonly name: Provider,
    private readonly steps: Step[],
  ) {}

  async invoke(request: ProviderRequest, signal: AbortSignal): Promise<ProviderResponse> {
    this.calls.push(request);
    const step = this.steps[Math.min(this.calls.length - 1, this.steps.length - 1)];
    if (!step) throw new Error('no step scripted');
    if ('hang' in step) {
      return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
    }
    if (step.delayMs) await new Promise((resolve) => setTimeout(resolve, step.delayMs));
    if ('answer' in step) return okResponse(step.answer);
    throw new ProviderFailure(this.name, step.fail, `scripted ${step.fail}`, step.retryable);
  }
}

export const request = (operation: ProviderRequest['operation']): ProviderRequest => ({
  operation,
  messages: [{ role: 'user', content: 'hello' }],
});
