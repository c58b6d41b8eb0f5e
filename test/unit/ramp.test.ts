import { decide, evaluationChanged, holdDownEnd, rampProgress, refuseStart, startState, stepWindow, transition, WRITE_GRACE_MS } from '../../lambda/core/ramp';
import { judgeGates } from '../../lambda/core/ramp-gates';
import { mergeOverwritten, mergeRampStates } from '../../lambda/core/ramp-record';
import { RampStartSchema, readRampValue, type RampFigures, type RampState } from '../../lambda/shared/ramp';
import { CLEAR_ROLLBACK_STATE, CONTROL_CONFIG, type RollbackState, type RoutingConfig } from '../../lambda/shared/routing-config';

const T0 = new Date('2026-03-02T10:00:30.000Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

const ramp = (overrides: Partial<RampState> = {}): RampState => ({ ...startState({ reason: 'go live', bakeMinutes: 30 }, 'alice', T0), ...overrides });
const config = (traffic: number, overrides: Partial<RoutingConfig> = {}): RoutingConfig => ({ ...CONTROL_CONFIG, hybridEnabled: true, trafficPercentage: traffic, ...overrides });

const figures = (requests: number, errors = 0): RampFigures => ({
  window: null,
  hybrid: { requests, errors, latencyP95Ms: 900, withinLatencyPercent: 100 },
  control: { requests: requests * 10, errors: 0 },
  health: { 'direct-bedrock': 1, 'mcp-router': 1 },
  alarmsInAlarm: [],
});
const judged = (state: RampState, f: RampFigures, now: Date) => judgeGates(f, { gates: state.gates, trafficPercentage: state.steps[state.stepIndex]!, at: now });
const latch = (overrides: Partial<RollbackState>): RollbackState => ({ ...CLEAR_ROLLBACK_STATE, ...overrides });

describe('decide', () => {
  it('holds a passing step until its bake time has passed, then promotes; the last step ends the ramp', () => {
    const r = ramp();
    expect(decide(r, config(5), judged(r, figures(200), at(29)), at(29)).kind).toBe('hold');
    expect(decide(r, config(5), judged(r, figures(200), at(30)), at(30))).toMatchObject({ kind: 'promote', toStep: 1 });
    const last = ramp({ stepIndex: 3 });
    expect(decide(last, config(100), judged(last, figures(200), at(30)), at(30)).kind).toBe('done');
  });

  it('with bakeMinutes 0 promotes at the first tick whose gates pass', () => {
    const r = ramp({ bakeMinutes: [0, 0, 0, 0] });
    expect(decide(r, config(5), judged(r, figures(3), at(1)), at(1)).kind).toBe('hold');
    expect(decide(r, config(5), judged(r, figures(60), at(1)), at(1)).kind).toBe('promote');
  });

  it('keeps baking without enough evidence, and pauses after three bake times, never sooner than ten minutes', () => {
    const r = ramp();
    expect(decide(r, config(5), judged(r, figures(10), at(89)), at(89)).kind).toBe('hold');
    const paused = decide(r, config(5), judged(r, figures(10), at(90)), at(90));
    expect(paused).toMatchObject({ kind: 'pause', reason: expect.stringContaining('not enough evidence after 90 minutes (hybrid-error-rate: 10 of the 50 hybrid requests needed') });
    const quick = ramp({ bakeMinutes: [0, 0, 0, 0] });
    expect(decide(quick, config(5), judged(quick, figures(10), at(9)), at(9)).kind).toBe('hold');
    expect(decide(quick, config(5), judged(quick, figures(10), at(10)), at(10)).kind).toBe('pause');
  });

  it('rolls back at once on a gate that failed with enough evidence, paused or not', () => {
    const r = ramp();
    const failing = judged(r, figures(200, 40), at(1));
    expect(decide(r, config(5), failing, at(1))).toMatchObject({ kind: 'roll-back', reason: expect.stringMatching(/^ramp gate failed at step 1 of 4 \(5%\): hybrid-error-rate: 20% \(40 of 200\)/) });
    expect(decide({ ...r, status: 'paused' }, config(5), failing, at(1)).kind).toBe('roll-back');
  });

  it('ends the ramp when a rollback latched since it started, even once the latch is cleared', () => {
    const r = ramp();
    const active = latch({ active: true, level: 1, source: 'alarm: HybridRouting-dev-hybrid-latency', reason: 'p95', at: at(5).toISOString() });
    expect(decide(r, config(5, { rollback: active }), null, at(6))).toEqual({ kind: 'rolled-back', reason: expect.stringContaining('the rollback latch is active (level 1, by alarm: HybridRouting-dev-hybrid-latency: p95)') });
    const cleared = { ...active, active: false, clearedAt: at(7).toISOString() };
    expect(decide(r, config(0, { hybridEnabled: false, rollback: cleared }), judged(r, figures(200), at(8)), at(8))).toMatchObject({ kind: 'rolled-back', reason: expect.stringContaining('and was cleared at') });
    // A rollback from before the ramp started is history, not a reason.
    const old = latch({ level: 2, source: 'manual: bob', at: at(-60).toISOString(), clearedAt: at(-40).toISOString() });
    expect(decide(r, config(5, { rollback: old }), judged(r, figures(200), at(30)), at(30)).kind).toBe('promote');
  });

  it('pauses when flag or traffic were changed by hand, but not while a start is still writing them', () => {
    const r = ramp();
    expect(decide(r, config(0), judged(r, figures(200), at(0.25)), new Date(T0.getTime() + WRITE_GRACE_MS - 1)).kind).toBe('hold');
    expect(decide(r, config(0), judged(r, figures(200), at(1)), at(1))).toMatchObject({ kind: 'pause', reason: expect.stringContaining('hybrid routing is on at 0%, not on at the step\'s 5%') });
    expect(decide(r, config(5, { hybridEnabled: false }), judged(r, figures(200), at(1)), at(1)).kind).toBe('pause');
  });

  it('pauses on a failed health check instead of rolling back, and a paused ramp never promotes', () => {
    const r = ramp();
    const unhealthy = { ...figures(200), health: { 'direct-bedrock': 0, 'mcp-router': 1 } };
    expect(decide(r, config(5), judged(r, unhealthy, at(31)), at(31))).toMatchObject({ kind: 'pause', reason: expect.stringContaining('direct-bedrock-health: a health check failed') });
    expect(decide({ ...r, status: 'paused' }, config(5), judged(r, figures(200), at(31)), at(31)).kind).toBe('hold');
  });

  it('a repeated tick on the same state decides the same', () => {
    const r = ramp({ bakeMinutes: [0, 0, 0, 0] });
    const e = judged(r, figures(60), at(1));
    expect(decide(r, config(5), e, at(1))).toEqual(decide(r, config(5), e, at(1)));
  });
});

describe('the step window', () => {
  it('starts at the first whole minute after the step started and ends now', () => {
    const r = ramp();
    expect(stepWindow(r, at(0.4))).toBeNull();
    expect(stepWindow(r, at(1))).toEqual({ start: new Date('2026-03-02T10:01:00.000Z'), end: at(1) });
  });

  it('progress counts the bake time down from the step start', () => {
    expect(rampProgress(ramp(), at(12))).toMatchObject({ step: 1, steps: 4, trafficPercentage: 5, bakeMinutes: 30, elapsedSeconds: 720, bakeLeftSeconds: 1080, pausesWithoutEvidenceAt: at(90).toISOString() });
  });
});

describe('start', () => {
  const input = { stored: { kind: 'none' } as const, latch: CLEAR_ROLLBACK_STATE, alarmsInAlarm: [], holdDownMinutes: 30, now: T0 };

  it('is refused while the latch is active, during the hold-down, while a rollback alarm is in ALARM, and while a ramp is open', () => {
    expect(refuseStart(input)).toBeUndefined();
    expect(refuseStart({ ...input, latch: latch({ active: true, level: 2, source: 'ramp', reason: 'x' }) })).toMatch(/^the rollback latch is active/);
    const cleared = latch({ level: 2, at: at(-60).toISOString(), clearedAt: at(-20).toISOString() });
    expect(refuseStart({ ...input, latch: cleared })).toBe(`the hold-down after the last rollback or clear runs until ${at(10).toISOString()} (30 minutes); start the ramp then`);
    expect(refuseStart({ ...input, latch: cleared, now: at(10) })).toBeUndefined();
    expect(holdDownEnd(latch({ at: at(-5).toISOString() }), 30)).toBe(at(25).getTime());
    expect(refuseStart({ ...input, alarmsInAlarm: ['HybridRouting-dev-hybrid-error-rate'] })).toMatch(/HybridRouting-dev-hybrid-error-rate in ALARM/);
    expect(refuseStart({ ...input, stored: { kind: 'ramp', state: ramp({ status: 'paused' }) } })).toMatch(/a ramp is paused at step 1 of 4 \(5%\); resume or abort it first/);
    expect(refuseStart({ ...input, stored: { kind: 'ramp', state: ramp({ status: 'done' }) } })).toBeUndefined();
    expect(refuseStart({ ...input, stored: { kind: 'unreadable', problem: 'ramp/state is not JSON' } })).toMatch(/abort it/);
  });

  it('fills the runbook defaults, one bake for every step, or the runbook bakes for custom steps', () => {
    expect(startState({ reason: 'r' }, 'a', T0)).toMatchObject({ steps: [5, 25, 75, 100], bakeMinutes: [30, 45, 60, 30], gates: { errorRatePercent: 1, latencyP95Ms: 10_000, minSamples: 50 } });
    expect(startState({ reason: 'r', bakeMinutes: 0, gates: { minSamples: 10 } }, 'a', T0)).toMatchObject({ bakeMinutes: [0, 0, 0, 0], gates: { minSamples: 10, errorRatePercent: 1 } });
    expect(startState({ reason: 'r', steps: [10, 50] }, 'a', T0).bakeMinutes).toEqual([30, 45]);
  });

  it('validates the body: rising steps, one bake or one per step, known gates only', () => {
    expect(RampStartSchema.safeParse({ reason: 'r', steps: [5, 5] }).success).toBe(false);
    expect(RampStartSchema.safeParse({ reason: 'r', bakeMinutes: [1, 2] }).success).toBe(false);
    expect(RampStartSchema.safeParse({ reason: 'r', bakeMinutes: 1441 }).success).toBe(false);
    expect(RampStartSchema.safeParse({ reason: 'r', gates: { confidence: 0.9 } }).success).toBe(false);
    expect(RampStartSchema.safeParse({ reason: 'r', steps: [1, 2, 100], bakeMinutes: [0, 1, 2], gates: { minSamples: 5 } }).success).toBe(true);
  });
});

describe('ramp/state', () => {
  it('reads {} as no ramp, a valid record as a ramp, and anything else as unreadable', () => {
    expect(readRampValue('{}')).toEqual({ kind: 'none' });
    expect(readRampValue(JSON.stringify(ramp()))).toMatchObject({ kind: 'ramp' });
    expect(readRampValue('{"status":"running"')).toEqual({ kind: 'unreadable', problem: 'ramp/state is not JSON' });
    expect(readRampValue(JSON.stringify({ ...ramp(), stepIndex: 4 }))).toMatchObject({ kind: 'unreadable' });
  });

  it('fits in a standard parameter (4 KB) at its largest', () => {
    const long = 'x'.repeat(500);
    const r = ramp({ steps: [1, 2, 3, 4, 5, 6, 7, 8, 9, 100], bakeMinutes: Array(10).fill(1440), reason: long, by: `arn:aws:sts::123456789012:assumed-role/${'r'.repeat(64)}/${'s'.repeat(64)}` });
    const worst: RampFigures = { ...figures(123_456_789, 12_345_678), window: { start: T0.toISOString(), end: T0.toISOString() }, alarmsInAlarm: null, hybrid: { requests: 123_456_789, errors: 12_345_678, latencyP95Ms: 59_999.123, withinLatencyPercent: 12.3456 } };
    const evaluation = judged(r, { ...worst, health: { 'direct-bedrock': 0, 'mcp-router': null } }, at(1));
    const state = transition(r, { status: 'paused', reason: long.repeat(3), by: r.by, now: at(1), evaluation });
    expect(JSON.stringify(state).length).toBeLessThan(4096);
  });

  it('notices a new evaluation only when a verdict or a gate outcome changed', () => {
    const r = ramp();
    const a = judged(r, figures(10), at(1));
    expect(evaluationChanged(null, a)).toBe(true);
    expect(evaluationChanged(a, judged(r, figures(20), at(2)))).toBe(false);
    expect(evaluationChanged(a, judged(r, figures(200), at(3)))).toBe(true);
  });
});

describe('merging concurrent ramp/state writes', () => {
  const running = ramp();
  const promoted = transition(running, { status: 'running', stepIndex: 1, reason: 'promoted', by: 'ramp controller', now: at(30) });
  const paused = transition(running, { status: 'paused', reason: 'operator pause', by: 'alice', now: at(29) });
  const aborted = transition(running, { status: 'aborted', reason: 'abort', by: 'bob', now: at(29) });

  it('a pause is not lost to a promote written over it: paused at the promoted step', () => {
    const merged = mergeRampStates(paused, promoted);
    expect(merged).toMatchObject({ status: 'paused', reason: 'operator pause', by: 'alice', stepIndex: 1, stepStartedAt: at(30).toISOString() });
    expect(mergeRampStates(promoted, paused)).toMatchObject({ status: 'paused', stepIndex: 1 });
  });

  it('a finished ramp stays finished, the first finish standing', () => {
    const rolledBack = transition(running, { status: 'rolled-back', reason: 'gate', by: 'ramp controller', now: at(30) });
    expect(mergeOverwritten([aborted], rolledBack)).toMatchObject({ status: 'aborted', by: 'bob' });
    expect(mergeOverwritten([aborted], promoted)).toMatchObject({ status: 'aborted', stepIndex: 1 });
  });

  it('a later ramp wins whole', () => {
    const next = startState({ reason: 'again' }, 'carol', at(120));
    expect(mergeRampStates(aborted, next)).toBe(next);
    expect(mergeRampStates(next, aborted)).toBe(next);
  });
});
