import type { RouteResult, RoutingSummary } from './hybrid-router';

/** The `POST /v1/invoke` answer (DESIGN §4); a job's `result` is the same object. */
export interface InvokeAnswer {
  readonly requestId: string;
  readonly output: { readonly text: string; readonly stopReason: string };
  readonly usage: { readonly inputTokens: number; readonly outputTokens: number };
  readonly routing: RoutingSummary;
  readonly latencyMs: number;
}

export function invokeAnswer(requestId: string, result: RouteResult): InvokeAnswer {
  return {
    requestId,
    output: { text: result.response?.text ?? '', stopReason: result.response?.stopReason ?? 'unknown' },
    usage: result.response?.usage ?? { inputTokens: 0, outputTokens: 0 },
    routing: result.routing,
    latencyMs: result.latencyMs,
  };
}
