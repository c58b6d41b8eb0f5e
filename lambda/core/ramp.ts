import type { RollbackState, RoutingConfig } from '../shared/routing-config';
import {
  DEFAULT_BAKE_MINUTES,
  DEFAULT_GATES,
  DEFAULT_STEPS,
  INSUFFICIENT_PAUSE_BAKES,
  INSUFFICIENT_PAUSE_FLOOR_MINUTES,
  isOpen,
  type RampEvaluation,
  type RampStartRequest,
  type RampState,
  type RampStatus,
  type StoredRamp,
} from '../shared/ramp';
import { failedGates } from './ramp-gates';

/**
 * The automated ramp's rules (DESIGN §10) as plain decisions. The controller is level-triggered,
 * like Flagger's scheduler: each tick reads `ramp/state`, the configuration and the step's figures,
 * and `decide` names the one step that moves the ramp on. Nothing depends on an earlier tick, so a
 * lost tick is caught up by the next and a repeated one judges the same state again.
 */

const MINUTE = 60_000;

/**
 * A start or resume writes `ramp/state` before flag and traffic; for this long after a step
 * starts, flag and traffic that do not match it are taken as that write still in progress (the
 * admin function answers within 29 s), not as a change made by hand.
 */
export const WRITE_GRACE_MS = 30_000;

export type RampDecision =
  /** Keep baking; `evaluation` is what this tick saw. */
  | { readonly kind: 'hold'; readonly evaluation: RampEvaluation | null }
  | { readonly kind: 'promote'; readonly toStep: number; readonly evaluation: RampEvaluation }
  | { readonly kind: 'done'; readonly evaluation: RampEvaluation }
  | { readonly kind: 'pause'; readonly reason: string; readonly evaluation: RampEvaluation | null }
  /** A gate failed with enough evidence: roll back at level 2, source `ramp`. */
  | { readonly kind: 'roll-back'; readonly reason: string; readonly evaluation: RampEvaluation }
  /** A rollback happened since the ramp started (an alarm, an operator, a clear): the ramp is over. */
  | { readonly kind: 'rolled-back'; readonly reason: string };

/** The bake and the insufficient-evidence deadline of the current step, in ms from its start. */
export function stepTiming(ramp: RampState): { readonly bakeMs: number; readonly pauseAfterMs: number } {
  const bakeMinutes = ramp.bakeMinutes[ramp.stepIndex]!;
  return {
    bakeMs: bakeMinutes * MINUTE,
    pauseAfterMs: Math.max(INSUFFICIENT_PAUSE_BAKES * bakeMinutes, INSUFFICIENT_PAUSE_FLOOR_MINUTES) * MINUTE,
  };
}

/**
 * The window the step is judged over: from the first whole minute after the step started (the
 * minute before holds the previous step's traffic, and routers take a few seconds to read the new
 * percentage) to now. Null until that minute has begun.
 */
export function stepWindow(ramp: RampState, now: Date): { readonly start: Date; readonly end: Date } | null {
  const started = Date.parse(ramp.stepStartedAt);
  const start = Math.ceil(started / MINUTE) * MINUTE;
  return now.getTime() > start ? { start: new Date(start), end: now } : null;
}

/**
 * Why the ramp is over because of a rollback, if it is: the latch is active, or it was set (and
 * perhaps cleared) since the ramp started. A clear never hands the ramp its traffic back.
 */
export function rolledBackSince(ramp: RampState, latch: RollbackState): string | undefined {
  const by = `${latch.source || 'unknown'}${latch.reason ? `: ${latch.reason}` : ''}`;
  if (latch.active) return `the rollback latch is active (level ${latch.level ?? 'unknown'}, by ${by})`;
  if (latch.at !== null && latch.at >= ramp.startedAt) {
    return `a rollback (level ${latch.level ?? 'unknown'}, by ${by}) happened at ${latch.at} during the ramp${latch.clearedAt ? ` and was cleared at ${latch.clearedAt}` : ''}`;
  }
  return undefined;
}

/** Flag and traffic as a running step holds them, or why they differ. */
export function stepMismatch(ramp: RampState, config: RoutingConfig): string | undefined {
  const step = ramp.steps[ramp.stepIndex]!;
  if (config.hybridEnabled && config.trafficPercentage === step) return undefined;
  return `hybrid routing is ${config.hybridEnabled ? 'on' : 'off'} at ${config.trafficPercentage}%, not on at the step's ${step}%: flag or traffic was changed outside the ramp`;
}

/**
 * The one step this tick takes. In order: a rollback since the start ends the ramp; a gate that
 * failed with enough evidence rolls back (paused ramps too: a pause stops promotion, not
 * protection); a running step whose flag or traffic were changed by hand pauses; a failed health
 * check pauses; a step promotes once its bake time has passed and every gate passes over the whole
 * step; a step without enough evidence after three bake times (at least ten minutes) pauses;
 * anything else holds.
 */
export function decide(ramp: RampState, config: RoutingConfig, evaluation: RampEvaluation | null, now: Date): RampDecision {
  const rolledBack = rolledBackSince(ramp, config.rollback);
  if (rolledBack) return { kind: 'rolled-back', reason: rolledBack };
  if (!evaluation) return { kind: 'hold', evaluation };

  const failed = failedGates(evaluation);
  const stepLabel = `step ${ramp.stepIndex + 1} of ${ramp.steps.length} (${ramp.steps[ramp.stepIndex]}%)`;
  if (failed.rollBack.length > 0) {
    const why = evaluation.reasons.filter((r) => failed.rollBack.some((g) => r.startsWith(`${g.gate}: `))).join('; ');
    return { kind: 'roll-back', reason: `ramp gate failed at ${stepLabel}: ${why}`, evaluation };
  }
  if (ramp.status !== 'running') return { kind: 'hold', evaluation };

  const elapsed = now.getTime() - Date.parse(ramp.stepStartedAt);
  const mismatch = stepMismatch(ramp, config);
  if (mismatch && elapsed >= WRITE_GRACE_MS) return { kind: 'pause', reason: `${stepLabel}: ${mismatch}`, evaluation };
  if (failed.pause.length > 0) {
    const why = evaluation.reasons.filter((r) => failed.pause.some((g) => r.startsWith(`${g.gate}: `))).join('; ');
    return { kind: 'pause', reason: `${stepLabel}: ${why}; resume once it is healthy again (the step starts over)`, evaluation };
  }

  const { bakeMs, pauseAfterMs } = stepTiming(ramp);
  if (evaluation.verdict === 'pass' && elapsed >= bakeMs && !mismatch) {
    const last = ramp.stepIndex === ramp.steps.length - 1;
    return last ? { kind: 'done', evaluation } : { kind: 'promote', toStep: ramp.stepIndex + 1, evaluation };
  }
  if (evaluation.verdict !== 'pass' && elapsed >= pauseAfterMs) {
    return {
      kind: 'pause',
      reason: `${stepLabel}: not enough evidence after ${Math.round(elapsed / MINUTE)} minutes (${evaluation.reasons.join('; ')}); resume to bake the step again, or abort`,
      evaluation,
    };
  }
  return { kind: 'hold', evaluation };
}

/** Whether a new evaluation says something the stored one does not: another verdict or another gate outcome. */
export function evaluationChanged(before: RampEvaluation | null, after: RampEvaluation | null): boolean {
  if (!after) return false;
  if (!before) return true;
  if (before.verdict !== after.verdict) return true;
  const outcomes = (e: RampEvaluation) => e.gates.map((g) => `${g.gate}=${g.outcome}`).join(',');
  return outcomes(before) !== outcomes(after);
}

export interface StartInput {
  readonly stored: StoredRamp;
  readonly latch: RollbackState;
  readonly alarmsInAlarm: readonly string[];
  readonly holdDownMinutes: number;
  readonly now: Date;
}

/**
 * Why a ramp may not start now (409), if it may not: the latch is active, the hold-down after the
 * last rollback or clear has not passed, a rollback alarm is in ALARM, or a ramp is running or paused.
 */
export function refuseStart({ stored, latch, alarmsInAlarm, holdDownMinutes, now }: StartInput): string | undefined {
  if (latch.active) {
    return `the rollback latch is active (level ${latch.level ?? 'unknown'}, by ${latch.source || 'unknown'}: ${latch.reason}); clear it once the cause is fixed, then wait out the ${holdDownMinutes}-minute hold-down`;
  }
  const holdDownEnds = holdDownEnd(latch, holdDownMinutes);
  if (holdDownEnds !== undefined && now.getTime() < holdDownEnds) {
    return `the hold-down after the last rollback or clear runs until ${new Date(holdDownEnds).toISOString()} (${holdDownMinutes} minutes); start the ramp then`;
  }
  if (alarmsInAlarm.length > 0) return `rollback alarm${alarmsInAlarm.length > 1 ? 's' : ''} ${alarmsInAlarm.join(', ')} in ALARM; start the ramp once ${alarmsInAlarm.length > 1 ? 'they are' : 'it is'} OK`;
  if (stored.kind === 'unreadable') return `${stored.problem}; abort it (POST /admin/ramp/abort) before starting a new ramp`;
  if (stored.kind === 'ramp' && isOpen(stored.state.status)) {
    return `a ramp is ${stored.state.status} at step ${stored.state.stepIndex + 1} of ${stored.state.steps.length} (${stored.state.steps[stored.state.stepIndex]}%); ${stored.state.status === 'paused' ? 'resume or abort it' : 'pause and abort it, or let it finish'} first`;
  }
  return undefined;
}

/** Epoch ms at which the hold-down after the latch's last rollback or clear ends, if it ever began. */
export function holdDownEnd(latch: RollbackState, holdDownMinutes: number): number | undefined {
  const times = [latch.at, latch.clearedAt].filter((t): t is string => typeof t === 'string').map(Date.parse).filter(Number.isFinite);
  return times.length === 0 ? undefined : Math.max(...times) + holdDownMinutes * MINUTE;
}

/** The record a start writes: the request over the runbook's defaults, at step 1. */
export function startState(request: RampStartRequest, by: string, now: Date): RampState {
  const steps = [...(request.steps ?? DEFAULT_STEPS)];
  const bake = request.bakeMinutes;
  const bakeMinutes = Array.isArray(bake) ? [...bake] : bake !== undefined ? steps.map(() => bake) : request.steps ? steps.map((_, i) => DEFAULT_BAKE_MINUTES[i] ?? DEFAULT_BAKE_MINUTES.at(-1)!) : [...DEFAULT_BAKE_MINUTES];
  const at = now.toISOString();
  return {
    status: 'running',
    steps,
    stepIndex: 0,
    bakeMinutes,
    gates: { ...DEFAULT_GATES, ...request.gates },
    startedAt: at,
    stepStartedAt: at,
    lastEvaluation: null,
    reason: request.reason,
    by,
    updatedAt: at,
  };
}

export interface Transition {
  readonly status: RampStatus;
  readonly reason: string;
  readonly by: string;
  readonly now: Date;
  readonly evaluation?: RampEvaluation | null;
  /** A new step (promote), or the same step started over (resume). */
  readonly stepIndex?: number;
  readonly restartStep?: boolean;
}

/** Longest reason a transition records: the whole record must stay within a standard parameter's 4 KB. */
export const MAX_TRANSITION_REASON = 700;

/** `ramp` after a transition: the new status with its reason, who, when and the figures that decided it. */
export function transition(ramp: RampState, t: Transition): RampState {
  const at = t.now.toISOString();
  const newStep = t.stepIndex !== undefined && t.stepIndex !== ramp.stepIndex;
  return {
    ...ramp,
    status: t.status,
    stepIndex: t.stepIndex ?? ramp.stepIndex,
    stepStartedAt: newStep || t.restartStep ? at : ramp.stepStartedAt,
    lastEvaluation: t.evaluation === undefined ? ramp.lastEvaluation : t.evaluation,
    reason: t.reason.length > MAX_TRANSITION_REASON ? `${t.reason.slice(0, MAX_TRANSITION_REASON - 1)}…` : t.reason,
    by: t.by,
    updatedAt: at,
  };
}

/** Where a ramp stands now, for operators: the step, its traffic, and the bake time passed and left. */
export function rampProgress(ramp: RampState, now: Date) {
  const { bakeMs, pauseAfterMs } = stepTiming(ramp);
  const elapsedMs = Math.max(0, now.getTime() - Date.parse(ramp.stepStartedAt));
  return {
    step: ramp.stepIndex + 1,
    steps: ramp.steps.length,
    trafficPercentage: ramp.steps[ramp.stepIndex]!,
    bakeMinutes: ramp.bakeMinutes[ramp.stepIndex]!,
    elapsedSeconds: Math.floor(elapsedMs / 1000),
    bakeLeftSeconds: Math.max(0, Math.ceil((bakeMs - elapsedMs) / 1000)),
    /** When a step still without enough evidence pauses, if it is running. */
    pausesWithoutEvidenceAt: ramp.status === 'running' ? new Date(Date.parse(ramp.stepStartedAt) + pauseAfterMs).toISOString() : null,
  };
}
export type RampProgress = ReturnType<typeof rampProgress>;
