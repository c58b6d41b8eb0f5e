import type { GateName, GateResult, RampEvaluation, RampFigures, RampGates, RampVerdict } from '../shared/ramp';
import { ALPHA, fisherGreaterPValue, wilsonBounds } from './ramp-statistics';

/**
 * The go/no-go gates of DESIGN §10, judged from raw CloudWatch figures over the step so far. Each
 * gate answers one of:
 *
 * - `pass`: enough evidence, and the value is on the right side of the threshold;
 * - `fail`: enough evidence that it is on the wrong side, by the gate's 95 % one-sided rule;
 * - `insufficient`: neither; a metric with no data, too few requests, or a value past the
 *   threshold whose bound is not (more requests will tell);
 * - `not-applicable`: the comparison with the control cohort at a step of 100 %, where there is none.
 *
 * Insufficient evidence never passes. The rules:
 *
 * | gate | evidence needed | pass | fail |
 * |---|---|---|---|
 * | hybrid-error-rate | Requests and Errors present, ≥ minSamples hybrid requests | observed rate < threshold | Wilson 95 % lower bound > threshold |
 * | hybrid-vs-control | Requests and Errors of both cohorts, ≥ minSamples in each | not significantly worse | Fisher's exact one-sided p < 0.05 that hybrid's rate is higher |
 * | hybrid-latency-p95 | p95 present, ≥ minSamples hybrid requests | p95 ≤ threshold | Wilson 95 % lower bound of the share slower than the threshold > 5 % |
 * | rollback-alarms | DescribeAlarms answered | none in ALARM | one or more in ALARM |
 * | direct-bedrock-health, mcp-router-health | a health check ran in the window | every check passed (Minimum 1) | a check failed (Minimum 0) |
 *
 * Nothing here does I/O; `judgeGates` is a function of the figures and the ramp's gates.
 */

/** Gates whose failure rolls the ramp back (level 2). A failed health check pauses it instead. */
export const ROLLBACK_GATES: ReadonlySet<GateName> = new Set(['hybrid-error-rate', 'hybrid-vs-control', 'hybrid-latency-p95', 'rollback-alarms']);

/** p95 ≤ threshold exactly when at most 5 % of requests are slower than the threshold. */
const P95_SLOW_SHARE = 0.05;

export interface JudgeContext {
  readonly gates: RampGates;
  /** The hybrid cohort's share of callers in this step; at 100 % there is no control cohort. */
  readonly trafficPercentage: number;
  readonly at: Date;
}

interface Judged {
  readonly result: GateResult;
  /** Why, when the gate did not pass. */
  readonly why?: string;
}

const pct = (fraction: number): string => `${round(fraction * 100)}%`;
const round = (value: number): number => Math.round(value * 100) / 100;

function judgeErrorRate(figures: RampFigures, gates: RampGates): Judged {
  const { requests, errors } = figures.hybrid;
  const base = { gate: 'hybrid-error-rate', threshold: gates.errorRatePercent } as const;
  if (requests === null || errors === null) {
    return { result: { ...base, outcome: 'insufficient', value: null, evidence: null }, why: `no ${requests === null ? 'Requests' : 'Errors'} data for the step (missing data is not zero)` };
  }
  if (requests < gates.minSamples) {
    return { result: { ...base, outcome: 'insufficient', value: null, evidence: null }, why: `${requests} of the ${gates.minSamples} hybrid requests needed` };
  }
  const bounds = wilsonBounds(Math.min(errors, requests), requests);
  const value = round(bounds.estimate * 100);
  const threshold = gates.errorRatePercent / 100;
  if (bounds.lower > threshold) {
    return {
      result: { ...base, outcome: 'fail', value, evidence: round(bounds.lower * 100) },
      why: `${pct(bounds.estimate)} (${errors} of ${requests}): its 95% lower bound ${pct(bounds.lower)} is above ${gates.errorRatePercent}%`,
    };
  }
  if (bounds.estimate < threshold) return { result: { ...base, outcome: 'pass', value, evidence: round(bounds.lower * 100) } };
  return {
    result: { ...base, outcome: 'insufficient', value, evidence: round(bounds.lower * 100) },
    why: `${pct(bounds.estimate)} (${errors} of ${requests}) is not below ${gates.errorRatePercent}%, but its 95% lower bound ${pct(bounds.lower)} is not above it: more requests will tell`,
  };
}

function judgeVersusControl(figures: RampFigures, gates: RampGates, trafficPercentage: number): Judged {
  const base = { gate: 'hybrid-vs-control', threshold: ALPHA } as const;
  if (trafficPercentage >= 100) return { result: { ...base, outcome: 'not-applicable', value: null, evidence: null } };
  const { hybrid, control } = figures;
  if (hybrid.requests === null || hybrid.errors === null || control.requests === null || control.errors === null) {
    return { result: { ...base, outcome: 'insufficient', value: null, evidence: null }, why: 'no Requests or Errors data for one of the cohorts (missing data is not zero)' };
  }
  if (hybrid.requests < gates.minSamples || control.requests < gates.minSamples) {
    return {
      result: { ...base, outcome: 'insufficient', value: null, evidence: null },
      why: `${hybrid.requests} hybrid and ${control.requests} control requests; each cohort needs ${gates.minSamples}`,
    };
  }
  const hybridErrors = Math.min(hybrid.errors, hybrid.requests);
  const controlErrors = Math.min(control.errors, control.requests);
  const difference = round((hybridErrors / hybrid.requests - controlErrors / control.requests) * 100);
  const p = fisherGreaterPValue(hybridErrors, hybrid.requests, controlErrors, control.requests);
  const evidence = Math.round(p * 10_000) / 10_000;
  const rates = `hybrid ${pct(hybridErrors / hybrid.requests)} (${hybridErrors} of ${hybrid.requests}) vs control ${pct(controlErrors / control.requests)} (${controlErrors} of ${control.requests})`;
  if (p < ALPHA) {
    return { result: { ...base, outcome: 'fail', value: difference, evidence }, why: `${rates}; hybrid is worse at 95% (one-sided Fisher p = ${evidence})` };
  }
  return { result: { ...base, outcome: 'pass', value: difference, evidence } };
}

function judgeLatency(figures: RampFigures, gates: RampGates): Judged {
  const { requests, latencyP95Ms, withinLatencyPercent } = figures.hybrid;
  const base = { gate: 'hybrid-latency-p95', threshold: gates.latencyP95Ms } as const;
  if (requests === null || latencyP95Ms === null) {
    return { result: { ...base, outcome: 'insufficient', value: null, evidence: null }, why: 'no Latency data for the step (missing data is not zero)' };
  }
  if (requests < gates.minSamples) {
    return { result: { ...base, outcome: 'insufficient', value: Math.round(latencyP95Ms), evidence: null }, why: `${requests} of the ${gates.minSamples} hybrid requests needed` };
  }
  const value = Math.round(latencyP95Ms);
  let slowLower: number | null = null;
  if (withinLatencyPercent !== null) {
    const slow = Math.round((requests * Math.max(0, 100 - withinLatencyPercent)) / 100);
    slowLower = wilsonBounds(Math.min(slow, requests), requests).lower;
  }
  const evidence = slowLower === null ? null : round(slowLower * 100);
  if (slowLower !== null && slowLower > P95_SLOW_SHARE) {
    return {
      result: { ...base, outcome: 'fail', value, evidence },
      why: `p95 ${value} ms: at 95% more than 5% of requests (lower bound ${pct(slowLower)}) took over ${gates.latencyP95Ms} ms`,
    };
  }
  if (latencyP95Ms <= gates.latencyP95Ms) return { result: { ...base, outcome: 'pass', value, evidence } };
  return {
    result: { ...base, outcome: 'insufficient', value, evidence },
    why: `p95 ${value} ms is above ${gates.latencyP95Ms} ms, but not at 95% confidence: more requests will tell`,
  };
}

function judgeAlarms(figures: RampFigures): Judged {
  const base = { gate: 'rollback-alarms', threshold: 0, evidence: null } as const;
  const firing = figures.alarmsInAlarm;
  if (firing === null) return { result: { ...base, outcome: 'insufficient', value: null }, why: 'CloudWatch could not say whether one is in ALARM' };
  if (firing.length > 0) return { result: { ...base, outcome: 'fail', value: firing.length }, why: `in ALARM: ${firing.join(', ')}` };
  return { result: { ...base, outcome: 'pass', value: 0 } };
}

function judgeHealth(figures: RampFigures, component: 'direct-bedrock' | 'mcp-router'): Judged {
  const base = { gate: `${component}-health`, threshold: 1, evidence: null } as const;
  const minimum = figures.health[component];
  if (minimum === null) return { result: { ...base, outcome: 'insufficient', value: null }, why: `no health check reported during the step` };
  if (minimum < 1) return { result: { ...base, outcome: 'fail', value: minimum }, why: `a health check failed during the step (Minimum HealthCheckSuccess ${minimum})` };
  return { result: { ...base, outcome: 'pass', value: minimum } };
}

/** Judges every gate of DESIGN §10 on `figures`; the verdict is `fail` if one fails, else `insufficient` if one lacks evidence. */
export function judgeGates(figures: RampFigures, context: JudgeContext): RampEvaluation {
  const judged = [
    judgeErrorRate(figures, context.gates),
    judgeVersusControl(figures, context.gates, context.trafficPercentage),
    judgeLatency(figures, context.gates),
    judgeAlarms(figures),
    judgeHealth(figures, 'direct-bedrock'),
    judgeHealth(figures, 'mcp-router'),
  ];
  const outcomes = judged.map((j) => j.result.outcome);
  const verdict: RampVerdict = outcomes.includes('fail') ? 'fail' : outcomes.includes('insufficient') ? 'insufficient' : 'pass';
  return {
    at: context.at.toISOString(),
    figures,
    gates: judged.map((j) => j.result),
    verdict,
    reasons: judged.flatMap((j) => (j.why ? [`${j.result.gate}: ${j.why}`] : [])),
  };
}

/** The gates that failed, split by what their failure does. */
export function failedGates(evaluation: RampEvaluation): { readonly rollBack: GateResult[]; readonly pause: GateResult[] } {
  const failed = evaluation.gates.filter((g) => g.outcome === 'fail');
  return { rollBack: failed.filter((g) => ROLLBACK_GATES.has(g.gate)), pause: failed.filter((g) => !ROLLBACK_GATES.has(g.gate)) };
}
