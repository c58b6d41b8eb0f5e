import errorRateAlarm from '../fixtures/alarm-event-error-rate.json';
import type { RampTickResult } from '../../lambda/ramp/ramp-function';
import type { RollbackOutcome } from '../../lambda/rollback/rollback';
import { startState, transition } from '../../lambda/core/ramp';
import { alarmNameOf } from '../../lambda/shared/alarms';
import { AssetProcess } from '../support/asset-process';
import { assetByPrefix, synthesizeAssets } from '../support/assets';
import { forEveryInterleaving, runInterleaving, type Writer } from '../support/interleavings';
import { OPERATOR, SCHEDULED_EVENT, clock, freshStore, minutesAfter, recordHealthyMinute, startRampWorld, type RampWorld } from './support/ramp-world';
import { CONFIG_PATH, StdoutCapture, TOPIC_ARN, lambdaContext, loadHandler, rollbackEnvironment } from './support/world';

/**
 * The ramp's writers against the others, in every order of their SSM requests (DESIGN §6
 * invariants 1–4, and the ramp's own rule: it never overwrites a change it did not see). The SSM
 * fake holds each request at a gate and the test lets one through at a time; CloudWatch answers at
 * once, so what the controller judges is fixed by the order too.
 */

const T0 = new Date('2026-03-02T10:00:30.000Z');
const ERROR_RATE = alarmNameOf('dev', 'hybridErrorRate');

type Answer = RampTickResult | RollbackOutcome | { status: number; json: Record<string, any> };

let rw: RampWorld;
let rollbackFunction: (event: unknown, context: unknown) => Promise<RollbackOutcome>;
const stdout = new StdoutCapture();

beforeAll(async () => {
  rw = await startRampWorld();
  rollbackFunction = loadHandler(require.resolve('../../lambda/rollback/handler'), rollbackEnvironment(rw.world)) as unknown as typeof rollbackFunction;
});
afterAll(async () => rw.stop());
beforeEach(() => {
  clock.use(minutesAfter(T0, 2));
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
const flagAndTraffic = () => [value('feature-flags/hybrid-routing'), value('traffic/percentage')];

/** A ramp at `step` (0-based) of 5 → 25 → 75 → 100, started at T0 with bake 0, its step begun a minute in, with a healthy minute recorded. */
function rampAt(step: number, values: Record<string, string> = {}): void {
  const started = startState({ reason: 'go live', bakeMinutes: 0 }, OPERATOR, T0);
  const state = step === 0 ? started : transition(started, { status: 'running', stepIndex: step, reason: 'promoted', by: 'ramp controller', now: minutesAfter(T0, 0.5) });
  const traffic = String(state.steps[step]);
  freshStore(rw.world, clock.now(), { 'feature-flags/hybrid-routing': 'true', 'traffic/percentage': traffic, 'ramp/state': JSON.stringify(state), ...values }, false);
  recordHealthyMinute(rw.world, minutesAfter(T0, 1.2), state.steps[step]!);
  stdout.clear();
}

const controller = (name = 'controller'): Writer<Answer> => ({ name, run: () => rw.tick() });
const alarm = (): Writer<Answer> => ({
  name: 'alarm',
  beforeFirstServe: () => rw.world.cloudwatch.setAlarm(ERROR_RATE, 'ALARM'),
  run: () => rollbackFunction(errorRateAlarm, lambdaContext()),
});
const admin = (name: string, method: string, path: string, body: unknown): Writer<Answer> => ({ name, run: () => rw.admin(method, path, body) });
const http = (answer: Answer | undefined) => answer as { status: number; json: Record<string, any> };

/** One more tick a minute later, as the schedule would run it once both writers are done; none is needed once the ramp is over. */
async function nextTick(): Promise<void> {
  const stored = JSON.parse(value('ramp/state')!) as { status?: string };
  if (stored.status !== 'running' && stored.status !== 'paused') return;
  clock.set(minutesAfter(clock.now(), 1));
  await rw.tick();
}

describe('the ramp and the others, in every order of their SSM requests', () => {
  it('controller promote × alarm rollback: the rollback wins, and the ramp ends rolled back', async () => {
    const runs = await forEveryInterleaving<Answer>(rw.world.ssm, {
      setup: () => rampAt(0),
      writers: () => [controller(), alarm()],
      check: async ({ results }) => {
        expect((results.alarm as RollbackOutcome).action).toMatch(/^(rolled-back|already-rolled-back)$/);
        // Invariants 1 and 2 when both have finished: the latch stands, flag off and traffic 0.
        expect(latch()).toMatchObject({ active: true, level: 2 });
        expect(flagAndTraffic()).toEqual(['false', '0']);
        // The ramp is over by the next tick at the latest, and never widened again.
        await nextTick();
        expect(ramp().status).toBe('rolled-back');
        expect(flagAndTraffic()).toEqual(['false', '0']);
      },
    });
    expect(runs).toBeGreaterThanOrEqual(20);
  });

  it('controller × admin clear: a clear during the ramp\'s tick never hands the ramp its traffic back', async () => {
    const alarmLatch = { active: true, level: 2, reason: 'errors', source: `alarm: ${ERROR_RATE}`, at: minutesAfter(T0, 1.5).toISOString(), previous: { hybridEnabled: true, trafficPercentage: 25 } };
    const runs = await forEveryInterleaving<Answer>(rw.world.ssm, {
      setup: () => rampAt(1, { 'feature-flags/hybrid-routing': 'false', 'traffic/percentage': '0', 'rollback/state': JSON.stringify(alarmLatch) }),
      writers: () => [controller(), admin('clear', 'DELETE', '/admin/rollback', { reason: 'fixed' })],
      check: async ({ results }) => {
        expect(http(results.clear).status).toBe(200);
        expect(latch()).toMatchObject({ active: false, level: 2, clearedAt: expect.any(String) });
        // Invariant 3: after the clear, flag and traffic stay at most what the rollback set.
        expect(flagAndTraffic()).toEqual(['false', '0']);
        await nextTick();
        expect(ramp().status).toBe('rolled-back');
        expect(flagAndTraffic()).toEqual(['false', '0']);
      },
    });
    expect(runs).toBeGreaterThanOrEqual(3);
  });

  it('controller promote × an operator lowering traffic: the operator\'s value stands and the ramp pauses', async () => {
    const runs = await forEveryInterleaving<Answer>(rw.world.ssm, {
      setup: () => rampAt(0),
      writers: () => [controller(), admin('operator', 'PUT', '/admin/traffic', { percentage: 0, reason: 'hold everything' })],
      check: async ({ results }) => {
        expect(http(results.operator).status).toBe(200);
        expect(value('traffic/percentage')).toBe('0');
        await nextTick();
        expect(value('traffic/percentage')).toBe('0');
        expect(ramp()).toMatchObject({ status: 'paused', reason: expect.stringMatching(/hybrid routing is on at 0%|changed while this write was landing/) });
      },
    });
    expect(runs).toBeGreaterThanOrEqual(10);
  });

  it('start × alarm rollback: the start lands before the rollback or not at all, and the ramp ends rolled back', async () => {
    const runs = await forEveryInterleaving<Answer>(rw.world.ssm, {
      setup: () => freshStore(rw.world, clock.now(), {}, false),
      writers: () => [admin('start', 'POST', '/admin/ramp', { reason: 'go live', bakeMinutes: 0 }), alarm()],
      check: async ({ results }) => {
        expect([200, 409]).toContain(http(results.start).status);
        expect(latch()).toMatchObject({ active: true, level: 2, source: `alarm: ${ERROR_RATE}` });
        expect(flagAndTraffic()).toEqual(['false', '0']);
        await nextTick();
        expect(flagAndTraffic()).toEqual(['false', '0']);
        const stored = JSON.parse(value('ramp/state')!);
        // Never started (refused before writing), or ended by the rollback.
        if (Object.keys(stored).length > 0) expect(stored.status).toBe('rolled-back');
        else expect(http(results.start).status).toBe(409);
      },
    });
    expect(runs).toBeGreaterThanOrEqual(10);
  });
});

describe('the bundled controller and rollback function, in the order that matters most', () => {
  let controllerAsset: AssetProcess;
  let rollbackAsset: AssetProcess;

  beforeAll(async () => {
    const assets = synthesizeAssets('dev');
    const env = {
      AWS_REGION: 'eu-central-1',
      AWS_ACCESS_KEY_ID: 'AKIAFAKEFORTESTS',
      AWS_SECRET_ACCESS_KEY: 'fake-secret-for-tests',
      AWS_ENDPOINT_URL_SSM: rw.world.ssm.url,
      AWS_ENDPOINT_URL_SNS: rw.world.sns.url,
      AWS_ENDPOINT_URL_CLOUDWATCH: rw.world.cloudwatch.url,
      // What CloudFormation resolves at deploy time.
      TOPIC_ARN,
    };
    [controllerAsset, rollbackAsset] = await Promise.all([
      AssetProcess.start(assetByPrefix(assets, 'RampControllerControllerFunction'), env),
      AssetProcess.start(assetByPrefix(assets, 'RollbackRollbackFunction'), env),
    ]);
  }, 120_000);
  afterAll(() => {
    controllerAsset?.stop();
    rollbackAsset?.stop();
  });

  it('the controller decides to promote, the alarm\'s whole rollback runs, then the promote lands: the rollback\'s values are put back and the ramp ends', async () => {
    // The bundles run on real time: a step begun 150 s ago, with a healthy minute of figures.
    clock.restore();
    const now = Date.now();
    const started = startState({ reason: 'go live', bakeMinutes: 0 }, OPERATOR, new Date(now - 150_000));
    freshStore(rw.world, new Date(now), { 'feature-flags/hybrid-routing': 'true', 'traffic/percentage': '5', 'ramp/state': JSON.stringify(started) }, false);
    recordHealthyMinute(rw.world, new Date(now - 30_000), 5);

    const run = await runInterleaving<Answer>(
      rw.world.ssm,
      [
        { name: 'controller', run: () => controllerAsset.invoke<RampTickResult>(SCHEDULED_EVENT) },
        { name: 'alarm', beforeFirstServe: () => rw.world.cloudwatch.setAlarm(ERROR_RATE, 'ALARM'), run: () => rollbackAsset.invoke<RollbackOutcome>(errorRateAlarm) },
      ],
      [0, 1, 1, 1, 1, 1],
    );
    expect(run.steps.slice(0, 7).map((s) => `${s.writer} ${s.request.operation} ${s.request.name.replace(`${CONFIG_PATH}/`, '')}`)).toEqual([
      `controller GetParametersByPath ${CONFIG_PATH}`,
      `alarm GetParametersByPath ${CONFIG_PATH}`,
      'alarm PutParameter rollback/state',
      'alarm PutParameter feature-flags/hybrid-routing',
      'alarm PutParameter traffic/percentage',
      `alarm GetParametersByPath ${CONFIG_PATH}`,
      'controller PutParameter traffic/percentage',
    ]);
    expect(run.results.controller).toMatchObject({ action: 'settled', status: 'rolled-back' });
    expect(latch()).toMatchObject({ active: true, level: 2, source: `alarm: ${ERROR_RATE}` });
    expect(flagAndTraffic()).toEqual(['false', '0']);
    expect(rw.world.ssm.history(`${CONFIG_PATH}/traffic/percentage`).map((v) => v.value)).toEqual(['5', '0', '25', '0']);
    expect(rw.world.ssm.history(`${CONFIG_PATH}/traffic/percentage`).at(-1)!.description).toMatch(/^restored: "ramp promote to step 2 of 4 \(25%\)/);
    expect(ramp()).toMatchObject({ status: 'rolled-back', reason: expect.stringContaining('the rollback latch is active (level 2, by alarm: HybridRouting-dev-hybrid-error-rate') });
  });
});
