import * as z from 'zod/v4';
import type { InvokeRequest } from '../shared/invoke-request';
import { DEFAULT_POLICY } from '../shared/routing-config';
import { COMPONENTS, HEALTH_STATUSES, type Operation } from '../shared/vocabulary';

/**
 * The smoke test of DESIGN §11: what the pre-traffic hook sends a new router version, what
 * `hybrid-routing smoke` sends a deployed environment, and how each answer is judged.
 */

/**
 * The runbook's operation classes, each with the operation a smoke test sends for it. The pass
 * line is the class's latency target, which is DESIGN §5's target budget of that operation.
 */
export const OPERATION_CLASSES = [
  { name: 'emergency', operation: 'emergency' },
  { name: 'critical', operation: 'infrastructure' },
  { name: 'standard', operation: 'standard-analysis' },
] as const satisfies readonly { name: string; operation: Operation }[];

export const latencyTargetMs = (operation: Operation): number => DEFAULT_POLICY.operations[operation].budget.targetMs;

/** A short request: one line in, a few tokens out. It names no routing key, so the caller's identity picks the cohort. */
export function smokeRequest(operation: Operation): InvokeRequest {
  return { operation, messages: [{ role: 'user', content: 'Smoke test: reply with OK.' }], maxTokens: 16 };
}

/** The outcome of one check, as the hook logs it and the CLI prints it. */
export interface SmokeCheck {
  readonly check: string;
  readonly pass: boolean;
  /** Why it failed, or a short summary of the answer. */
  readonly detail: string;
  readonly latencyMs?: number;
  readonly targetMs?: number;
  readonly provider?: string;
  readonly fallback?: boolean;
}

const HealthReportSchema = z.object({
  status: z.enum(HEALTH_STATUSES),
  components: z.object(Object.fromEntries(COMPONENTS.map((c) => [c, z.object({ status: z.enum(HEALTH_STATUSES) })]))),
  routing: z.object({ config: z.object({ origin: z.string(), problems: z.array(z.string()) }) }),
});

export interface HealthJudgement {
  /**
   * Whether an overall `unhealthy` fails the check. The pre-traffic hook judges the new code
   * only, so an environment that is down for other reasons (both paths, stale health checks)
   * does not block the deploy that may fix it; `smoke` judges the environment as a whole.
   */
  readonly requireHealthy: boolean;
}

/**
 * Judges a `GET /health/detailed` answer. It passes when it is a complete health report (200, or
 * 503 for an unhealthy one) from a router that read its configuration store and could parse
 * every parameter in it: a version that cannot read or parse the store serves the control path.
 */
export function judgeHealthReport(status: number, body: unknown, latencyMs: number, options: HealthJudgement): SmokeCheck {
  const check = 'health';
  const parsed = HealthReportSchema.safeParse(body);
  if ((status !== 200 && status !== 503) || !parsed.success) {
    return { check, pass: false, latencyMs, detail: `answered ${status} without a complete health report${errorSummary(body)}` };
  }
  const { status: overall, routing } = parsed.data;
  if (routing.config.origin !== 'store') {
    return { check, pass: false, latencyMs, detail: `could not read the configuration store (configuration origin: ${routing.config.origin})` };
  }
  if (routing.config.problems.length > 0) {
    return { check, pass: false, latencyMs, detail: `cannot parse the configuration store: ${routing.config.problems.join('; ')}` };
  }
  if (options.requireHealthy && overall === 'unhealthy') {
    const down = COMPONENTS.filter((c) => parsed.data.components[c]!.status === 'unhealthy');
    return { check, pass: false, latencyMs, detail: `the environment is unhealthy (${down.join(', ')})` };
  }
  return { check, pass: true, latencyMs, detail: `overall ${overall}` };
}

const InvokeAnswerSchema = z.object({
  output: z.object({ text: z.string() }),
  routing: z.object({ provider: z.string(), fallback: z.boolean() }),
});

/**
 * Judges a `POST /v1/invoke` answer: it passes when it is a 200 from either path and, when a
 * target is given, arrived within it.
 */
export function judgeInvokeAnswer(check: string, status: number, body: unknown, latencyMs: number, targetMs?: number): SmokeCheck {
  const parsed = InvokeAnswerSchema.safeParse(body);
  if (status !== 200 || !parsed.success) {
    const what = status === 200 ? ' without an output and its routing' : errorSummary(body);
    return { check, pass: false, latencyMs, targetMs, detail: `answered ${status}${what}` };
  }
  const { provider, fallback } = parsed.data.routing;
  if (targetMs !== undefined && latencyMs > targetMs) {
    return { check, pass: false, latencyMs, targetMs, provider, fallback, detail: `took ${latencyMs} ms; the target is ${targetMs} ms` };
  }
  return { check, pass: true, latencyMs, targetMs, provider, fallback, detail: `answered by ${provider}${fallback ? ' after a fallback' : ''}` };
}

/** `: Code: message` from an error body of DESIGN §4's shape, or nothing. */
function errorSummary(body: unknown): string {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  if (typeof error?.code !== 'string') return '';
  return `: ${error.code}${typeof error.message === 'string' ? `: ${error.message}` : ''}`;
}
