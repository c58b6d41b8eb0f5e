import { alarmNameOf } from '../../lambda/shared/alarms';
import { CONFIG_PATH, RAMP_FUNCTION_NAME, StdoutCapture } from './support/world';
import { OPERATOR, clock, freshStore, minutesAfter, recordHealth, recordHealthyMinute, recordTraffic, startRampWorld, type RampWorld } from './support/ramp-world';

/**
 * A whole automated ramp through the real admin and controller handlers, with the real SDK
 * clients against the SSM, CloudWatch, SNS and Lambda fakes. Bake times are 0 and `Date` is the
 * test's, so each step is judged on the minute of figures the test records for it.
 */

const T0 = new Date('2026-03-02T10:00:30.000Z');
let rw: RampWorld;
const stdout = new StdoutCapture();

beforeAll(async () => {
  rw = await startRampWorld();
});
afterAll(async () => rw.stop());
beforeEach(() => {
  clock.use(T0);
  freshStore(rw.world, T0);
  rw.lambda.calls.length = 0;
  stdout.start();
});
afterEach(() => {
  stdout.stop();
  stdout.clear();
  clock.restore();
});

const value = (name: string) => rw.world.ssm.get(`${CONFIG_PATH}/${name}`);
const ramp = () => JSON.parse(value('ramp/state')!) as Record<string, any>;
const latch = () => JSON.parse(value('rollback/state')!) as Record<string, any>;
const subjects = () => rw.world.sns.published.map((p) => p.subject);
const emitted = (metric: string) =>
  stdout
    .emf()
    .filter((d) => d.metrics.includes(metric))
    .map((d) => `${d.dimensions.Service} ${d.values[metric]}`);

/** Starts a ramp that bakes 0 minutes per step, at T0. */
async function start(body: Record<string, unknown> = {}) {
  const answer = await rw.admin('POST', '/admin/ramp', { bakeMinutes: 0, reason: 'go live', ...body });
  expect(answer).toMatchObject({ status: 200 });
  return answer;
}

/** Moves to `minutes` after T0 and records a healthy minute of the current step 20 seconds into that minute. */
function healthyMinute(minutes: number, trafficPercentage: number): void {
  const now = minutesAfter(T0, minutes);
  clock.set(now);
  recordHealthyMinute(rw.world, new Date(now.getTime() - 20_000), trafficPercentage);
}

describe('a healthy ramp', () => {
  it('runs start → 5 → 25 → 75 → 100 → done, promoting at the first tick whose gates pass', async () => {
    const started = await start();
    expect(started.json.ramp).toMatchObject({ status: 'running', steps: [5, 25, 75, 100], stepIndex: 0, bakeMinutes: [0, 0, 0, 0], by: OPERATOR });
    expect(started.json.state).toMatchObject({ hybridEnabled: true, trafficPercentage: 5, ramp: { status: 'running', step: 1, trafficPercentage: 5 } });
    expect([value('feature-flags/hybrid-routing'), value('traffic/percentage')]).toEqual(['true', '5']);
    // The admin function asked the controller for a tick right away, asynchronously.
    expect(rw.lambda.calls).toEqual([{ operation: 'Invoke', functionName: RAMP_FUNCTION_NAME, invocationType: 'Event' }]);

    // Nothing to judge before the first whole minute of the step.
    expect(await rw.tick()).toMatchObject({ action: 'hold', step: 1, verdict: 'insufficient' });

    const steps = [5, 25, 75, 100];
    for (let i = 1; i < steps.length; i += 1) {
      healthyMinute(i, steps[i - 1]!);
      expect(await rw.tick()).toMatchObject({ action: 'promote', status: 'running', step: i + 1, trafficPercentage: steps[i] });
      expect(value('traffic/percentage')).toBe(String(steps[i]));
      expect(ramp().lastEvaluation).toMatchObject({ verdict: 'pass', figures: { hybrid: { requests: 60, errors: 0 } } });
    }
    healthyMinute(4, 100);
    expect(await rw.tick()).toMatchObject({ action: 'done', status: 'done', step: 4, trafficPercentage: 100 });
    expect(ramp()).toMatchObject({ status: 'done', reason: 'every gate passed at the last step, step 4 of 4 (100%)', by: 'ramp controller' });
    expect(ramp().lastEvaluation.gates.find((g: any) => g.gate === 'hybrid-vs-control').outcome).toBe('not-applicable');
    expect([value('feature-flags/hybrid-routing'), value('traffic/percentage')]).toEqual(['true', '100']);
    expect(latch().active).toBe(false);

    expect(subjects()).toEqual(['started at 5%', 'promoted at 25%', 'promoted at 75%', 'promoted at 100%', 'done at 100%'].map((s) => `Hybrid Routing dev: ramp ${s}`));
    expect(rw.world.sns.published[1]!.message).toMatch(/hybrid-error-rate +PASS +0% \(< 1% \(95% lower bound 0%\)\)/);
    expect(emitted('RampTrafficPercentage')).toEqual(['ramp 5', 'ramp 25', 'ramp 75', 'ramp 100', 'ramp 100']);
    expect(emitted('RampGateFailures').every((line) => line === 'ramp 0')).toBe(true);

    // A finished ramp is left alone; its traffic is still drawn.
    expect(await rw.tick()).toEqual({ action: 'none', why: 'the ramp is done' });
    expect(emitted('RampTrafficPercentage').at(-1)).toBe('ramp 100');

    // Every transition is in the audit trail, with its reason and who made it.
    const audit = await rw.admin('GET', '/admin/audit');
    const rampEntries = audit.json.entries.filter((e: any) => e.parameter === 'ramp/state' || e.parameter === 'traffic/percentage');
    expect(rampEntries.map((e: any) => `${e.parameter} ${e.who}: ${e.reason.split(':')[0]}`)).toEqual(
      expect.arrayContaining([
        'ramp/state ramp controller: ramp done at step 4 of 4 (100%)',
        'traffic/percentage ramp controller: ramp promote to step 4 of 4 (100%)',
        'ramp/state ramp controller: ramp promoted to step 2 of 4 (25%)',
        `ramp/state ${OPERATOR}: ramp start at step 1 of 4 (5%)`,
        `traffic/percentage ${OPERATOR}: ramp start at step 1 of 4 (5%)`,
      ]),
    );
  });

  it('a repeated tick changes nothing, and a lost one is caught up by the next', async () => {
    await start({ bakeMinutes: 2 });
    healthyMinute(1, 5);
    expect(await rw.tick()).toMatchObject({ action: 'hold', verdict: 'pass' });
    rw.world.ssm.resetCalls();
    expect(await rw.tick()).toMatchObject({ action: 'hold', verdict: 'pass' });
    expect(rw.world.ssm.writes).toEqual([]);
    // Minute 2 is never ticked; minute 3 promotes on the whole step's figures.
    healthyMinute(2, 5);
    healthyMinute(3, 5);
    expect(await rw.tick()).toMatchObject({ action: 'promote', step: 2 });
    expect(ramp().lastEvaluation.figures.hybrid.requests).toBe(180);
    // Repeated right after the promote: the new step has no figures of its own yet.
    expect(await rw.tick()).toMatchObject({ action: 'hold', step: 2, verdict: 'insufficient' });
    expect(value('traffic/percentage')).toBe('25');
  });

  it('GET /admin/ramp shows the step, the bake time left and each gate judged now', async () => {
    await start({ bakeMinutes: 30 });
    healthyMinute(5, 5);
    const { status, json } = await rw.admin('GET', '/admin/ramp');
    expect(status).toBe(200);
    expect(json.progress).toMatchObject({ step: 1, steps: 4, trafficPercentage: 5, bakeMinutes: 30, elapsedSeconds: 300, bakeLeftSeconds: 1500 });
    expect(json.evaluation).toMatchObject({ verdict: 'pass', figures: { window: { start: '2026-03-02T10:01:00.000Z' }, hybrid: { requests: 60, errors: 0, withinLatencyPercent: 100 } } });
    expect(json.evaluation.gates.map((g: any) => `${g.gate} ${g.outcome}`)).toContain('hybrid-latency-p95 pass');
    // The controller asked CloudWatch with MetricStat queries only, over one period spanning the step.
    const query = rw.world.cloudwatch.calls.filter((c) => c.operation === 'GetMetricData').at(-1)!.input as any;
    expect(query.MetricDataQueries.map((q: any) => `${q.Id} ${q.MetricStat.Metric.MetricName} ${q.MetricStat.Stat} ${q.MetricStat.Period}`)).toEqual([
      'hybridRequests Requests Sum 300',
      'hybridErrors Errors Sum 300',
      'controlRequests Requests Sum 300',
      'controlErrors Errors Sum 300',
      'hybridLatencyP95 Latency p95 300',
      'hybridWithinLatency Latency PR(:10000) 300',
      'healthDirectBedrock HealthCheckSuccess Minimum 300',
      'healthMcpRouter HealthCheckSuccess Minimum 300',
    ]);
    expect(query.MetricDataQueries.every((q: any) => q.Expression === undefined)).toBe(true);
  });
});

describe('not enough evidence', () => {
  it('keeps baking below minSamples, then pauses after ten minutes and says why', async () => {
    await start();
    clock.set(minutesAfter(T0, 1));
    recordTraffic(rw.world, minutesAfter(T0, 0.7), 'hybrid', 3, 0);
    recordTraffic(rw.world, minutesAfter(T0, 0.7), 'control', 300, 0);
    recordHealth(rw.world, minutesAfter(T0, 0.7));
    expect(await rw.tick()).toMatchObject({ action: 'hold', verdict: 'insufficient' });
    expect(ramp().lastEvaluation.reasons).toContain('hybrid-error-rate: 3 of the 50 hybrid requests needed');
    expect(value('traffic/percentage')).toBe('5');

    clock.set(minutesAfter(T0, 10.01));
    expect(await rw.tick()).toMatchObject({ action: 'pause', status: 'paused' });
    expect(ramp().reason).toMatch(/^step 1 of 4 \(5%\): not enough evidence after 10 minutes \(hybrid-error-rate: 3 of the 50 hybrid requests needed/);
    expect(value('traffic/percentage')).toBe('5');
    expect(subjects().at(-1)).toBe('Hybrid Routing dev: ramp paused at 5%');
  });

  it('a metric with no data is not zero: Requests without Errors holds the step', async () => {
    await start();
    clock.set(minutesAfter(T0, 1));
    recordTraffic(rw.world, minutesAfter(T0, 0.7), 'hybrid', 500, 0, 800, { errorsMetric: false });
    recordTraffic(rw.world, minutesAfter(T0, 0.7), 'control', 500, 0);
    recordHealth(rw.world, minutesAfter(T0, 0.7));
    expect(await rw.tick()).toMatchObject({ action: 'hold', verdict: 'insufficient' });
    expect(ramp().lastEvaluation.reasons).toContain('hybrid-error-rate: no Errors data for the step (missing data is not zero)');
  });
});

describe('a bad canary', () => {
  it('rolls back at level 2, source ramp, within one tick', async () => {
    await start();
    clock.set(minutesAfter(T0, 1));
    recordTraffic(rw.world, minutesAfter(T0, 0.7), 'hybrid', 200, 40);
    recordTraffic(rw.world, minutesAfter(T0, 0.7), 'control', 200, 0);
    recordHealth(rw.world, minutesAfter(T0, 0.7));
    expect(await rw.tick()).toMatchObject({ action: 'roll-back', status: 'rolled-back', trafficPercentage: 5 });
    expect(latch()).toMatchObject({ active: true, level: 2, source: 'ramp', reason: expect.stringMatching(/^ramp gate failed at step 1 of 4 \(5%\): hybrid-error-rate: 20% \(40 of 200\)/) });
    expect([value('feature-flags/hybrid-routing'), value('traffic/percentage')]).toEqual(['false', '0']);
    expect(ramp()).toMatchObject({ status: 'rolled-back', lastEvaluation: { verdict: 'fail' } });
    expect(subjects()).toEqual(['Hybrid Routing dev: ramp started at 5%', 'Hybrid Routing dev: rollback level 2 (ramp)', 'Hybrid Routing dev: ramp rolled-back at 5%']);
    const executed = stdout.emf().filter((d) => d.metrics.includes('RollbackExecuted')).map((d) => `${d.dimensions.Service} ${d.dimensions.Level} ${d.dimensions.Source}`);
    expect(executed).toEqual(['ramp 2 ramp']);
    expect(emitted('RampGateFailures')).toEqual(['ramp 2']);
    expect(emitted('RampTrafficPercentage').at(-1)).toBe('ramp 0');
    expect(await rw.tick()).toEqual({ action: 'none', why: 'the ramp is rolled-back' });
  });

  it('a rollback alarm in ALARM fails its gate and rolls back too', async () => {
    await start();
    healthyMinute(1, 5);
    rw.world.cloudwatch.setAlarm(alarmNameOf('dev', 'hybridLatency'), 'ALARM');
    expect(await rw.tick()).toMatchObject({ action: 'roll-back' });
    expect(latch()).toMatchObject({ active: true, level: 2, source: 'ramp', reason: expect.stringContaining('rollback-alarms: in ALARM: HybridRouting-dev-hybrid-latency') });
  });

  it('a rollback during the ramp ends it, and a clear does not bring it back', async () => {
    await start();
    clock.set(minutesAfter(T0, 1));
    expect((await rw.admin('POST', '/admin/rollback', { level: 1, reason: 'p95 spike' })).status).toBe(200);
    expect((await rw.admin('DELETE', '/admin/rollback', { reason: 'spike over' })).status).toBe(200);
    healthyMinute(2, 5);
    expect(await rw.tick()).toMatchObject({ action: 'rolled-back', status: 'rolled-back' });
    expect(ramp().reason).toMatch(/^a rollback \(level 1, by manual: .*\) happened at .* during the ramp and was cleared at /);
    expect(value('feature-flags/hybrid-routing')).toBe('false');
  });

  it('pauses when traffic was changed by hand during a step', async () => {
    await start();
    expect((await rw.admin('PUT', '/admin/traffic', { percentage: 50, reason: 'by hand' })).status).toBe(200);
    healthyMinute(1, 5);
    expect(await rw.tick()).toMatchObject({ action: 'pause', status: 'paused' });
    expect(ramp().reason).toContain('hybrid routing is on at 50%, not on at the step\'s 5%');
    expect(value('traffic/percentage')).toBe('50');
  });
});

describe('operators', () => {
  it('pause holds the step, resume starts it over, abort rolls back at level 2', async () => {
    await start();
    const paused = await rw.admin('POST', '/admin/ramp/pause', { reason: 'lunch' });
    expect(paused).toMatchObject({ status: 200, json: { ramp: { status: 'paused', reason: 'lunch', by: OPERATOR }, state: { ramp: { status: 'paused' } } } });
    expect((await rw.admin('POST', '/admin/ramp/pause', { reason: 'again' })).json.message).toBe('the ramp is already paused; nothing was changed');
    healthyMinute(1, 5);
    expect(await rw.tick()).toMatchObject({ action: 'hold', status: 'paused', step: 1 });
    expect(value('traffic/percentage')).toBe('5');

    clock.set(minutesAfter(T0, 2));
    const resumed = await rw.admin('POST', '/admin/ramp/resume', { reason: 'back' });
    expect(resumed.json.ramp).toMatchObject({ status: 'running', stepIndex: 0, stepStartedAt: minutesAfter(T0, 2).toISOString(), lastEvaluation: null });
    // The figures of before the resume do not count for the step started over.
    expect(await rw.tick()).toMatchObject({ action: 'hold', verdict: 'insufficient' });

    const aborted = await rw.admin('POST', '/admin/ramp/abort', { reason: 'changed our mind' });
    expect(aborted).toMatchObject({ status: 200, json: { ramp: { status: 'aborted', reason: 'changed our mind' }, state: { hybridEnabled: false, trafficPercentage: 0 } } });
    expect(latch()).toMatchObject({ active: true, level: 2, source: `manual: ${OPERATOR}`, reason: 'ramp aborted: changed our mind' });
    expect(subjects()).toEqual([
      'Hybrid Routing dev: ramp started at 5%',
      'Hybrid Routing dev: ramp paused at 5%',
      'Hybrid Routing dev: ramp resumed at 5%',
      `Hybrid Routing dev: rollback level 2 (manual: ${OPERATOR})`.slice(0, 100),
      'Hybrid Routing dev: ramp aborted at 5%',
    ]);
    // Each POST asked the controller for a tick.
    expect(rw.lambda.calls.filter((c) => c.invocationType === 'Event')).toHaveLength(5);
  });

  it('answers 409 in each case DESIGN §10 lists, 404 for an unknown action, 400 for a bad body', async () => {
    const conflict = async (body: Record<string, unknown>, message: RegExp) => {
      const answer = await rw.admin('POST', '/admin/ramp', { reason: 'go', ...body });
      expect(answer).toMatchObject({ status: 409, json: { error: { code: 'Conflict' } } });
      expect(answer.json.error.message).toMatch(message);
    };
    expect((await rw.admin('POST', '/admin/ramp/pause', { reason: 'x' })).json.error.message).toBe('cannot pause: no ramp has run; start one with POST /admin/ramp');
    expect(await rw.admin('POST', '/admin/ramp/skip', { reason: 'x' })).toMatchObject({ status: 404, json: { error: { code: 'NotFound', message: 'no ramp action "skip"; actions are pause, resume, abort' } } });
    expect(await rw.admin('POST', '/admin/ramp', { reason: 'x', steps: [25, 5] })).toMatchObject({ status: 400, json: { error: { code: 'ValidationError' } } });

    rw.world.cloudwatch.setAlarm(alarmNameOf('dev', 'hybridErrorRate'), 'ALARM');
    await conflict({}, /HybridRouting-dev-hybrid-error-rate in ALARM/);
    rw.world.cloudwatch.reset();

    await start();
    await conflict({}, /a ramp is running at step 1 of 4 \(5%\)/);
    await rw.admin('POST', '/admin/ramp/pause', { reason: 'x' });
    await conflict({}, /a ramp is paused .*resume or abort it first/);
    await rw.admin('POST', '/admin/ramp/abort', { reason: 'x' });
    expect((await rw.admin('POST', '/admin/ramp/resume', { reason: 'x' })).status).toBe(409);
    await conflict({}, /the rollback latch is active/);

    clock.set(minutesAfter(T0, 5));
    expect((await rw.admin('DELETE', '/admin/rollback', { reason: 'fixed' })).status).toBe(200);
    await conflict({}, /the hold-down after the last rollback or clear runs until 2026-03-02T10:35:30.000Z/);
    clock.set(minutesAfter(T0, 35));
    expect((await rw.admin('POST', '/admin/ramp', { reason: 'again', bakeMinutes: 0 })).status).toBe(200);
    // Nothing a refused start touched: every 409 left flag and traffic as they were.
    expect(rw.world.ssm.history(`${CONFIG_PATH}/traffic/percentage`).map((v) => v.value)).toEqual(['0', '5', '0', '5']);
  });

  it('a ramp/state that does not parse fails the tick (so its alarm notifies), blocks a start, and can be aborted', async () => {
    rw.world.ssm.put(`${CONFIG_PATH}/ramp/state`, '{"status":"running"', 'broken by hand');
    await expect(rw.tick()).rejects.toThrow('ramp/state is not JSON: the ramp is unsupervised; abort it (POST /admin/ramp/abort)');
    expect((await rw.admin('GET', '/admin/ramp')).json).toMatchObject({ ramp: null, problem: 'ramp/state is not JSON' });
    expect((await rw.admin('GET', '/admin/status')).json.state.ramp).toEqual({ status: 'unreadable', problem: 'ramp/state is not JSON' });
    expect((await rw.admin('POST', '/admin/ramp', { reason: 'go' })).json.error.message).toMatch(/ramp\/state is not JSON; abort it/);
    const aborted = await rw.admin('POST', '/admin/ramp/abort', { reason: 'clean up' });
    expect(aborted).toMatchObject({ status: 200, json: { ramp: null, state: { ramp: null, trafficPercentage: 0 } } });
    expect(latch()).toMatchObject({ active: true, level: 2, reason: 'ramp aborted: clean up' });
    expect(value('ramp/state')).toBe('{}');
  });

  it('/admin/status shows the ramp', async () => {
    await start();
    const { json } = await rw.admin('GET', '/admin/status');
    expect(json.state.ramp).toMatchObject({ status: 'running', step: 1, steps: [5, 25, 75, 100], trafficPercentage: 5, open: true, by: OPERATOR });
  });
});
