import { METRICS, type MetricPoint } from '../shared/metric-catalog';
import {
  DEFAULT_HOLD_DOWN_MINUTES,
  NO_RAMP_VALUE,
  isOpen,
  readRampValue,
  type RampEvaluation,
  type RampFigures,
  type RampStartRequest,
  type RampState,
  type StoredRamp,
} from '../shared/ramp';
import { PARAMETER } from '../shared/routing-config';
import { describeChange } from './audit';
import { ConflictError, UnavailableError } from './http-errors';
import type { AdminChange } from './latch';
import { decide, evaluationChanged, rampProgress, refuseStart, rolledBackSince, startState, stepWindow, transition, type RampDecision, type RampProgress } from './ramp';
import { judgeGates } from './ramp-gates';
import { rampNotice, type RampTransitionKind } from './ramp-notices';
import { RampRecord } from './ramp-record';
import { STORE_RETRY_SECONDS, type AlarmStates, type LatchLogger, type LatchStore, type RollbackLatch, type StoreSnapshot } from './rollback-latch';

/**
 * The automated ramp carried out (DESIGN §10): the controller's tick and the admin API's start,
 * pause, resume and abort. It keeps no state but `ramp/state`. Its widening writes (start, promote,
 * resume) go through `RollbackLatch.write`, and its rollbacks through `RollbackLatch.rollBack` with
 * source `ramp`, so the safety invariants of DESIGN §6 hold against the admin API and the rollback
 * function as they do between those two. On top of them:
 *
 * - A promote writes traffic only if flag and traffic still hold the step's values it decided from,
 *   and puts back a write that landed between its read and its own (`expect`): the ramp never
 *   overwrites a change it did not see. Flag or traffic changed by hand pause the ramp.
 * - `ramp/state` is written through `RampRecord`, which merges concurrent transitions (a pause or
 *   an abort is never lost to a promote).
 * - A rollback since the ramp started ends it, even once the latch is cleared: a clear never hands
 *   the ramp its traffic back.
 */

/** Who the controller's writes name in the audit trail. */
export const RAMP_CONTROLLER = 'ramp controller';

const RAMP = PARAMETER.rampState;

/** CloudWatch's figures for a window, without the alarm states. */
export type MetricFigures = Pick<RampFigures, 'hybrid' | 'control' | 'health'>;

export interface RampFigureSource {
  /** Sums, p95 and Minimums of the step's window (GetMetricData); throws when CloudWatch cannot answer. */
  read(window: { readonly start: Date; readonly end: Date }, latencyThresholdMs: number): Promise<MetricFigures>;
}

export const NO_FIGURES: MetricFigures = {
  hybrid: { requests: null, errors: null, latencyP95Ms: null, withinLatencyPercent: null },
  control: { requests: null, errors: null },
  health: { 'direct-bedrock': null, 'mcp-router': null },
};

export interface RampControllerOptions {
  readonly environment: string;
  readonly store: LatchStore;
  /** Guarded writes and rollbacks, shared with the admin API and the rollback function. */
  readonly latch: Pick<RollbackLatch, 'write' | 'rollBack'>;
  readonly figures: RampFigureSource;
  readonly alarms: AlarmStates;
  readonly notify: (subject: string, message: string) => Promise<void>;
  readonly emit: (points: readonly MetricPoint[]) => void;
  readonly logger: LatchLogger;
  readonly now?: () => Date;
  /** @default DEFAULT_HOLD_DOWN_MINUTES */
  readonly holdDownMinutes?: number;
}

/** What a tick did to an open ramp; `settled` is a promote that found a change it had not read. */
export interface RampStep {
  readonly action: RampDecision['kind'] | 'settled';
  readonly ramp: RampState;
}

export type TickOutcome = { readonly action: 'none'; readonly why: string } | RampStep;

/** What `pause`, `resume` and `abort` answer: the ramp, whether it changed, and the store as read after the writes, if it was. */
export interface RampActionResult {
  readonly ramp: RampState | null;
  readonly changed: boolean;
  readonly state?: StoreSnapshot;
}

/** What `GET /admin/ramp` shows. */
export interface RampView {
  readonly ramp: RampState | null;
  /** Why `ramp/state` could not be read, if it could not. */
  readonly problem: string | null;
  /** The gates judged now over the step so far, for an open ramp; null when CloudWatch could not answer. */
  readonly evaluation: RampEvaluation | null;
  readonly progress: RampProgress | null;
}

export class RampController {
  private readonly now: () => Date;
  private readonly record: RampRecord;
  private readonly holdDownMinutes: number;

  constructor(private readonly options: RampControllerOptions) {
    this.now = options.now ?? (() => new Date());
    this.record = new RampRecord(options.store, options.logger);
    this.holdDownMinutes = options.holdDownMinutes ?? DEFAULT_HOLD_DOWN_MINUTES;
  }

  /** One reconciliation: read, judge, take the one step `decide` names, write, notify. */
  async tick(): Promise<TickOutcome> {
    const now = this.now();
    const snapshot = await this.read();
    const stored = storedRamp(snapshot);
    if (stored.kind === 'unreadable') {
      this.options.logger.error('ramp/state does not parse; the ramp is unsupervised', { problem: stored.problem });
      throw new Error(`${stored.problem}: the ramp is unsupervised; abort it (POST /admin/ramp/abort)`);
    }
    if (stored.kind === 'none') return { action: 'none', why: 'no ramp has run' };
    const ramp = stored.state;
    if (!isOpen(ramp.status)) {
      this.emitTraffic(ramp);
      return { action: 'none', why: `the ramp is ${ramp.status}` };
    }

    const evaluation = rolledBackSince(ramp, snapshot.config.rollback) ? null : await this.evaluate(ramp, now);
    const decision = decide(ramp, snapshot.config, evaluation, now);
    if (evaluation) this.emitGateFailures(evaluation);
    const version = snapshot.versions[RAMP] ?? 0;
    this.options.logger.info('ramp tick', { decision: decision.kind, status: ramp.status, step: ramp.stepIndex + 1, verdict: evaluation?.verdict });

    switch (decision.kind) {
      case 'hold': {
        if (evaluationChanged(ramp.lastEvaluation, decision.evaluation)) {
          const held = { ...ramp, lastEvaluation: decision.evaluation, updatedAt: now.toISOString() };
          const written = await this.record.write(held, version, describeChange(`ramp evaluation at ${stepLabel(ramp)}: ${decision.evaluation!.verdict}`, RAMP_CONTROLLER));
          this.emitTraffic(written.state);
          return { action: 'hold', ramp: written.state };
        }
        this.emitTraffic(ramp);
        return { action: 'hold', ramp };
      }
      case 'promote':
        return this.promote(ramp, snapshot, decision.toStep, decision.evaluation, now);
      case 'done':
        return this.finish(ramp, version, 'done', 'done', `every gate passed at the last step, ${stepLabel(ramp)}`, decision.evaluation, now);
      case 'pause':
        return this.finish(ramp, version, 'paused', 'paused', decision.reason, decision.evaluation, now);
      case 'rolled-back':
        return this.finish(ramp, version, 'rolled-back', 'rolled-back', decision.reason, ramp.lastEvaluation, now);
      case 'roll-back': {
        await this.options.latch.rollBack({ level: 2, reason: decision.reason, source: 'ramp', origin: 'ramp', at: now.toISOString(), requestedBy: RAMP_CONTROLLER });
        const outcome = await this.finish(ramp, version, 'rolled-back', 'rolled-back', decision.reason, decision.evaluation, now);
        return { ...outcome, action: 'roll-back' };
      }
    }
  }

  /**
   * `POST /admin/ramp`: refuses (409) in each case of DESIGN §10, else writes step 1 and turns
   * hybrid routing on. Answers the ramp and the store as read after the writes.
   */
  async start(request: RampStartRequest, by: string): Promise<{ ramp: RampState; state?: StoreSnapshot }> {
    const now = this.now();
    const snapshot = await this.read();
    const stored = storedRamp(snapshot);
    const refusal = refuseStart({ stored, latch: snapshot.config.rollback, alarmsInAlarm: await this.alarmsOrUnavailable(), holdDownMinutes: this.holdDownMinutes, now });
    if (refusal) throw new ConflictError(`the ramp cannot start: ${refusal}; nothing was changed`);

    const state = startState(request, by, now);
    const written = await this.record.write(state, snapshot.versions[RAMP] ?? 0, describeChange(`ramp start at ${stepLabel(state)}: ${request.reason}`, by));
    if (written.state.startedAt !== state.startedAt) {
      throw new ConflictError(`another ramp started at the same time (by ${written.state.by}); this start was not recorded`);
    }
    const after = await this.widen(written.state, snapshot, `ramp start at ${stepLabel(state)}: ${request.reason}`, by);
    await this.announce('started', written.state);
    return { ramp: written.state, state: after };
  }

  /** `POST /admin/ramp/pause`: stops promotion; a failing gate still rolls back. */
  async pause(reason: string, by: string): Promise<RampActionResult> {
    const now = this.now();
    const snapshot = await this.read();
    const ramp = openRamp(storedRamp(snapshot), 'pause');
    if (ramp.status === 'paused') return { ramp, changed: false };
    const written = await this.record.write(transition(ramp, { status: 'paused', reason, by, now }), snapshot.versions[RAMP] ?? 0, describeChange(`ramp paused at ${stepLabel(ramp)}: ${reason}`, by));
    await this.announce('paused', written.state);
    return { ramp: written.state, changed: true };
  }

  /** `POST /admin/ramp/resume`: the paused step starts over, at its traffic, under the same preconditions as a start. */
  async resume(reason: string, by: string): Promise<RampActionResult> {
    const now = this.now();
    const snapshot = await this.read();
    const ramp = openRamp(storedRamp(snapshot), 'resume');
    if (ramp.status === 'running') return { ramp, changed: false };
    const rolledBack = rolledBackSince(ramp, snapshot.config.rollback);
    if (rolledBack) throw new ConflictError(`the ramp cannot resume: ${rolledBack}; start a new ramp once the latch is clear and the hold-down has passed`);
    const firing = await this.alarmsOrUnavailable();
    if (firing.length > 0) throw new ConflictError(`the ramp cannot resume: rollback alarm${firing.length > 1 ? 's' : ''} ${firing.join(', ')} in ALARM; nothing was changed`);

    const resumed = transition(ramp, { status: 'running', reason, by, now, restartStep: true, evaluation: null });
    const written = await this.record.write(resumed, snapshot.versions[RAMP] ?? 0, describeChange(`ramp resumed at ${stepLabel(ramp)}: ${reason}`, by));
    if (written.state.status !== 'running') throw new ConflictError(`the ramp was ${written.state.status} meanwhile (${written.state.reason}); it did not resume`);
    const after = await this.widen(written.state, snapshot, `ramp resume at ${stepLabel(ramp)}: ${reason}`, by);
    await this.announce('resumed', written.state);
    return { ramp: written.state, changed: true, state: after };
  }

  /** `POST /admin/ramp/abort`: a manual level-2 rollback, then the ramp is over. */
  async abort(reason: string, by: string): Promise<RampActionResult> {
    const now = this.now();
    const snapshot = await this.read();
    const stored = storedRamp(snapshot);
    const ramp = stored.kind === 'unreadable' ? null : openRamp(stored, 'abort');
    const rolledBack = await this.options.latch.rollBack({ level: 2, reason: `ramp aborted: ${reason}`, source: `manual: ${by}`, origin: 'manual', at: now.toISOString(), requestedBy: by });
    const description = describeChange(`ramp aborted: ${reason}`, by);
    if (!ramp) {
      await this.record.writeRaw(NO_RAMP_VALUE, `${description} (${stored.kind === 'unreadable' ? stored.problem : 'no ramp'})`);
      return { ramp: null, changed: true };
    }
    const written = await this.record.write(transition(ramp, { status: 'aborted', reason, by, now }), snapshot.versions[RAMP] ?? 0, description);
    await this.announce('aborted', written.state);
    return { ramp: written.state, changed: true, state: rolledBack.state };
  }

  /** `GET /admin/ramp`: the stored ramp, and for an open one its gates judged now and its progress. */
  async view(): Promise<RampView> {
    const now = this.now();
    const snapshot = await this.read();
    const stored = storedRamp(snapshot);
    if (stored.kind !== 'ramp') return { ramp: null, problem: stored.kind === 'unreadable' ? stored.problem : null, evaluation: null, progress: null };
    const open = isOpen(stored.state.status);
    return {
      ramp: stored.state,
      problem: null,
      evaluation: open ? await this.evaluate(stored.state, now, true) : null,
      progress: open ? rampProgress(stored.state, now) : null,
    };
  }

  private async promote(ramp: RampState, snapshot: StoreSnapshot, toStep: number, evaluation: RampEvaluation, now: Date): Promise<RampStep> {
    const to = ramp.steps[toStep]!;
    const version = snapshot.versions[RAMP] ?? 0;
    const promoted = transition(ramp, { status: 'running', stepIndex: toStep, reason: `every gate passed over ${stepLabel(ramp)} after its bake time`, by: RAMP_CONTROLLER, now, evaluation });
    try {
      // On the read this tick decided from: a change that landed since is put back, never overwritten.
      await this.options.latch.write({ changes: [{ kind: 'traffic', percentage: to }], reason: `ramp promote to ${stepLabel(promoted)}: every gate passed over ${stepLabel(ramp)}`, requestedBy: RAMP_CONTROLLER, basis: snapshot });
    } catch (error) {
      if (error instanceof ConflictError) return this.settle(ramp, `could not promote to ${to}%: ${error.message}`, evaluation);
      throw error;
    }
    const written = await this.record.write(promoted, version, describeChange(`ramp promoted to ${stepLabel(promoted)}: ${promoted.reason}`, RAMP_CONTROLLER));
    await this.announce('promoted', written.state);
    this.emitTraffic(written.state);
    return { action: 'promote', ramp: written.state };
  }

  /** Writes a transition to `status` and announces it. */
  private async finish(ramp: RampState, version: number, status: RampState['status'], kind: RampTransitionKind, reason: string, evaluation: RampEvaluation | null, now: Date): Promise<RampStep> {
    const next = transition(ramp, { status, reason, by: RAMP_CONTROLLER, now, evaluation });
    const written = await this.record.write(next, version, describeChange(`ramp ${kind} at ${stepLabel(ramp)}: ${reason}`, RAMP_CONTROLLER));
    await this.announce(kind, written.state);
    this.emitTraffic(written.state);
    return { action: kind === 'paused' ? 'pause' : kind === 'done' ? 'done' : 'rolled-back', ramp: written.state };
  }

  /**
   * After a widening write answered 409: reads again and ends the ramp as rolled back if a rollback
   * latched, or pauses it otherwise (a change it had not read).
   */
  private async settle(ramp: RampState, why: string, evaluation: RampEvaluation | null): Promise<RampStep> {
    const now = this.now();
    const snapshot = await this.read();
    const current = storedRamp(snapshot);
    const base = current.kind === 'ramp' && current.state.startedAt === ramp.startedAt ? current.state : ramp;
    const rolledBack = rolledBackSince(base, snapshot.config.rollback);
    const outcome = await this.finish(base, snapshot.versions[RAMP] ?? 0, rolledBack ? 'rolled-back' : 'paused', rolledBack ? 'rolled-back' : 'paused', rolledBack ?? why, evaluation, now);
    return { ...outcome, action: 'settled' };
  }

  /**
   * Turns hybrid routing on at the ramp's step, traffic first, on the read the caller decided from;
   * on a 409 the ramp is settled and the 409 passed on.
   */
  private async widen(ramp: RampState, basis: StoreSnapshot, reason: string, by: string): Promise<StoreSnapshot | undefined> {
    const changes: AdminChange[] = [
      { kind: 'traffic', percentage: ramp.steps[ramp.stepIndex]! },
      { kind: 'flag', enabled: true },
    ];
    try {
      return (await this.options.latch.write({ changes, reason, requestedBy: by, basis })).state;
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      const settled = await this.settle(ramp, `${reason} was refused: ${error.message}`, null);
      throw new ConflictError(`${error.message}; the ramp is ${settled.ramp.status}`);
    }
  }

  /** Judges the step so far; CloudWatch failures leave figures missing (insufficient), never zero. */
  private async evaluate(ramp: RampState, now: Date, quiet = false): Promise<RampEvaluation> {
    const window = stepWindow(ramp, now);
    let figures = NO_FIGURES;
    if (window) {
      try {
        figures = await this.options.figures.read(window, ramp.gates.latencyP95Ms);
      } catch (error) {
        if (!quiet) this.options.logger.error('ramp figures could not be read; judging them as missing', { errorName: nameOf(error) });
      }
    }
    let alarmsInAlarm: string[] | null = null;
    try {
      alarmsInAlarm = [...(await this.options.alarms.inAlarm())];
    } catch (error) {
      if (!quiet) this.options.logger.error('alarm states could not be read; judging them as unknown', { errorName: nameOf(error) });
    }
    const fullFigures: RampFigures = { window: window && { start: window.start.toISOString(), end: window.end.toISOString() }, ...figures, alarmsInAlarm };
    return judgeGates(fullFigures, { gates: ramp.gates, trafficPercentage: ramp.steps[ramp.stepIndex]!, at: now });
  }

  private async alarmsOrUnavailable(): Promise<readonly string[]> {
    try {
      return await this.options.alarms.inAlarm();
    } catch (error) {
      this.options.logger.error('alarm states could not be read', { errorName: nameOf(error) });
      throw new UnavailableError('CloudWatch cannot say whether a rollback alarm is in ALARM, so hybrid traffic cannot be widened safely; nothing was changed', STORE_RETRY_SECONDS);
    }
  }

  private async read(): Promise<StoreSnapshot> {
    try {
      return await this.options.store.read();
    } catch (error) {
      this.options.logger.error('configuration store read failed', { errorName: nameOf(error) });
      throw new UnavailableError('the configuration store cannot be read; nothing was changed', STORE_RETRY_SECONDS);
    }
  }

  private async announce(kind: RampTransitionKind, ramp: RampState): Promise<void> {
    const { subject, message } = rampNotice(this.options.environment, kind, ramp);
    this.options.logger.warn('ramp transition', { kind, status: ramp.status, step: ramp.stepIndex + 1, by: ramp.by });
    try {
      await this.options.notify(subject, message);
    } catch (error) {
      this.options.logger.error('ramp notification failed', { errorName: nameOf(error), kind });
    }
  }

  /** `RampTrafficPercentage`, a gauge the controller alone emits at every tick: the step's traffic, 0 once rolled back or aborted. */
  private emitTraffic(ramp: RampState): void {
    const traffic = ramp.status === 'rolled-back' || ramp.status === 'aborted' ? 0 : ramp.steps[ramp.stepIndex]!;
    this.options.emit([{ metric: METRICS.rampTrafficPercentage, value: traffic }]);
  }

  private emitGateFailures(evaluation: RampEvaluation): void {
    this.options.emit([{ metric: METRICS.rampGateFailures, value: evaluation.gates.filter((g) => g.outcome === 'fail').length }]);
  }
}

function storedRamp(snapshot: StoreSnapshot): StoredRamp {
  return readRampValue(snapshot.values[RAMP]);
}

/** The open ramp an action applies to, or 409 saying why there is none. */
function openRamp(stored: StoredRamp, action: string): RampState {
  if (stored.kind === 'unreadable') throw new ConflictError(`cannot ${action}: ${stored.problem}; abort it (POST /admin/ramp/abort)`);
  if (stored.kind === 'none') throw new ConflictError(`cannot ${action}: no ramp has run; start one with POST /admin/ramp`);
  if (!isOpen(stored.state.status)) {
    throw new ConflictError(
      `cannot ${action}: the last ramp is ${stored.state.status} (${stored.state.reason})${action === 'abort' ? '; POST /admin/rollback rolls back without a ramp' : '; start a new one with POST /admin/ramp'}`,
    );
  }
  return stored.state;
}

const stepLabel = (ramp: RampState): string => `step ${ramp.stepIndex + 1} of ${ramp.steps.length} (${ramp.steps[ramp.stepIndex]}%)`;

function nameOf(error: unknown): string {
  if (error && typeof error === 'object' && 'errorName' in error && typeof error.errorName === 'string') return error.errorName;
  return error instanceof Error ? error.name : typeof error;
}
