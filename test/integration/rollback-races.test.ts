import type { APIGatewayProxyEvent } from 'aws-lambda';
import errorRateAlarm from '../fixtures/alarm-event-error-rate.json';
import latencyAlarm from '../fixtures/alarm-event-latency.json';
import type { RollbackOutcome } from '../../lambda/rollback/rollback';
import { alarmNameOf } from '../../lambda/shared/alarms';
import { AssetProcess } from '../support/asset-process';
import { assetByPrefix, synthesizeAssets } from '../support/assets';
import { forEveryInterleaving, runInterleaving, type Interleaving, type Writer } from '../support/interleavings';
import { ROUTER_CODE_VARIABLES, RouterCodeFakes } from './support/router-code';
import {
  CONFIG_PATH,
  StdoutCapture,
  TOPIC_ARN,
  apiEvent,
  lambdaContext,
  lambdaEnvironment,
  loadHandler,
  rollbackEnvironment,
  seedConfig,
  startWorld,
  type World,
} from './support/world';

/**
 * DESIGN §6 invariants 1–4 under every order of two writers' SSM requests: a widening write and a
 * rollback, a clear and a rollback, a manual and an alarm rollback, a clear and a widening write.
 * The SSM fake holds each request at a gate and the test lets one through at a time, so each order
 * is forced rather than hoped for. The in-process handlers run every order; the bundled assets run
 * the orders that reproduced the bugs.
 */

const ALICE = 'arn:aws:sts::123456789012:assumed-role/operators/alice';
const ERROR_RATE = alarmNameOf('dev', 'hybridErrorRate');
const LATENCY = alarmNameOf('dev', 'hybridLatency');

type Answer = { status: number; json: Record<string, any> } | RollbackOutcome;
type ApiHandler = ReturnType<typeof loadHandler>;

let world: World;
let code: RouterCodeFakes;
let admin: ApiHandler;
let rollbackFunction: (event: unknown, context: unknown) => Promise<RollbackOutcome>;
const stdout = new StdoutCapture();

beforeAll(async () => {
  [world, code] = await Promise.all([startWorld(), new RouterCodeFakes().start()]);
  admin = loadHandler(require.resolve('../../lambda/admin/handler'), lambdaEnvironment(world, code.endpoints));
  rollbackFunction = loadHandler(require.resolve('../../lambda/rollback/handler'), rollbackEnvironment(world)) as unknown as typeof rollbackFunction;
});
afterAll(async () => Promise.all([world.stop(), code.stop()]));
beforeEach(() => stdout.start());
afterEach(() => {
  stdout.stop();
  stdout.clear();
});

const value = (name: string) => world.ssm.get(`${CONFIG_PATH}/${name}`);
const latch = () => JSON.parse(value('rollback/state')!) as Record<string, any>;
const history = (name: string) => world.ssm.history(`${CONFIG_PATH}/${name}`);

/** The store, alarms, topic and logs as a run starts: `values` over the defaults, nothing in ALARM. */
function startFrom(values: Record<string, string>): void {
  world.ssm.clear();
  seedConfig(world.ssm, values);
  world.cloudwatch.reset();
  world.sns.published.length = 0;
  stdout.clear();
}

function adminEvent(method: string, path: string, body: unknown): APIGatewayProxyEvent {
  const resource = path.startsWith('/admin/feature-flags/') ? '/admin/feature-flags/{flag}' : path;
  const event = apiEvent(method, resource, path, resource === path ? null : { flag: path.split('/').at(-1)! });
  event.body = JSON.stringify(body);
  event.requestContext.identity.userArn = ALICE;
  return event;
}

const viaAdmin = (name: string, method: string, path: string, body: unknown): Writer<Answer> => ({
  name,
  run: async () => {
    const result = await admin(adminEvent(method, path, body), lambdaContext());
    return { status: result.statusCode, json: JSON.parse(result.body) as Record<string, any> };
  },
});

/** The rollback function invoked by an alarm, which is in ALARM from just before the function's first read. */
const viaAlarm = (name: string, event: typeof errorRateAlarm): Writer<Answer> => ({
  name,
  beforeFirstServe: () => world.cloudwatch.setAlarm(event.alarmData.alarmName, 'ALARM'),
  run: () => rollbackFunction(event, lambdaContext()),
});

const http = (answer: Answer | undefined) => answer as { status: number; json: Record<string, any> };
const outcome = (answer: Answer | undefined) => answer as RollbackOutcome;

/** Every write after the seed says why and for whom, in one of the forms the writers use. */
function expectAudited(allowed: readonly RegExp[]): void {
  for (const name of ['feature-flags/hybrid-routing', 'traffic/percentage', 'routing/mode', 'rollback/state']) {
    for (const version of history(name).slice(1)) {
      const description = version.description;
      expect({ name, description, allowed: allowed.some((pattern) => pattern.test(description)) }).toEqual({ name, description, allowed: true });
    }
  }
}

const BY_ALARM = (alarm: string) => String.raw`\[by alarm: ${alarm}\]$`;
const ROLLBACK_WRITE = (alarm: string) => new RegExp(String.raw`^rollback level [12]: .*${BY_ALARM(alarm)}`);
const BY_ALICE = String.raw`\[by ${ALICE.replace(/[/.]/g, (c) => `\\${c}`)}\]$`;

/** The RollbackExecuted EMF documents of this run, as `Service Level Source`. */
const executed = () =>
  stdout
    .emf()
    .filter((d) => d.metrics.includes('RollbackExecuted'))
    .map((d) => `${d.dimensions.Service} ${d.dimensions.Level} ${d.dimensions.Source}`)
    .sort();

const stepIndex = (run: Interleaving<Answer>, writer: string, operation: string, name?: string) =>
  run.steps.findIndex((s) => s.writer === writer && s.request.operation === operation && (name === undefined || s.request.name.endsWith(name)));

describe('a widening write and a rollback, in every order', () => {
  it('level 2: traffic ends at 0 and the latch active, whatever the raise read or wrote', async () => {
    const runs = await forEveryInterleaving<Answer>(world.ssm, {
      setup: () => startFrom({ 'feature-flags/hybrid-routing': 'true', 'traffic/percentage': '5' }),
      writers: () => [viaAdmin('raise', 'PUT', '/admin/traffic', { percentage: 25, reason: 'ramp to 25' }), viaAlarm('rollback', errorRateAlarm)],
      check: ({ results }) => {
        expect(outcome(results.rollback)).toMatchObject({ action: 'rolled-back', level: 2 });
        expect([200, 409]).toContain(http(results.raise).status);
        expect(latch()).toMatchObject({ active: true, level: 2, source: `alarm: ${ERROR_RATE}`, previous: { hybridEnabled: true } });
        expect([5, 25]).toContain(latch().previous.trafficPercentage);
        expect([value('feature-flags/hybrid-routing'), value('traffic/percentage')]).toEqual(['false', '0']);
        expectAudited([new RegExp(`^ramp to 25 ${BY_ALICE}`), new RegExp(`^reverted: a rollback latched while "ramp to 25" was being written ${BY_ALICE}`), ROLLBACK_WRITE(ERROR_RATE)]);
        expect(world.sns.published.map((p) => p.subject)).toEqual([`Hybrid Routing dev: rollback level 2 (alarm: ${ERROR_RATE})`]);
        expect(executed()).toEqual(['rollback 2 alarm']);
      },
    });
    expect(runs).toBeGreaterThanOrEqual(30);
  });

  it('level 1: the flag ends off, never on with the latch active', async () => {
    const runs = await forEveryInterleaving<Answer>(world.ssm, {
      setup: () => startFrom({ 'feature-flags/hybrid-routing': 'false', 'traffic/percentage': '50' }),
      writers: () => [viaAdmin('enable', 'PUT', '/admin/feature-flags/hybrid-routing', { enabled: true, reason: 'go live' }), viaAlarm('rollback', latencyAlarm)],
      check: ({ results }) => {
        expect(outcome(results.rollback)).toMatchObject({ action: 'rolled-back', level: 1 });
        expect([200, 409]).toContain(http(results.enable).status);
        expect(latch()).toMatchObject({ active: true, level: 1, source: `alarm: ${LATENCY}` });
        expect([value('feature-flags/hybrid-routing'), value('traffic/percentage')]).toEqual(['false', '50']);
        expectAudited([new RegExp(`^go live ${BY_ALICE}`), new RegExp(`^reverted: .* ${BY_ALICE}`), ROLLBACK_WRITE(LATENCY)]);
      },
    });
    expect(runs).toBeGreaterThanOrEqual(15);
  });

  it('level 1: a refused raise takes its own traffic back, an accepted one stays, and the flag ends off', async () => {
    const runs = await forEveryInterleaving<Answer>(world.ssm, {
      setup: () => startFrom({ 'feature-flags/hybrid-routing': 'true', 'traffic/percentage': '5' }),
      writers: () => [viaAdmin('raise', 'PUT', '/admin/traffic', { percentage: 25, reason: 'ramp to 25' }), viaAlarm('rollback', latencyAlarm)],
      check: ({ results }) => {
        const raised = http(results.raise).status === 200;
        expect(value('feature-flags/hybrid-routing')).toBe('false');
        expect(value('traffic/percentage')).toBe(raised ? '25' : '5');
        expect(latch()).toMatchObject({ active: true, level: 1 });
      },
    });
    expect(runs).toBeGreaterThanOrEqual(15);
  });

  it('level 1: forcing Bedrock that raced the rollback is taken back', async () => {
    await forEveryInterleaving<Answer>(world.ssm, {
      setup: () => startFrom({ 'feature-flags/hybrid-routing': 'true', 'traffic/percentage': '50' }),
      writers: () => [viaAdmin('force', 'PUT', '/admin/routing/mode', { mode: 'force-bedrock', reason: 'bypass MCP' }), viaAlarm('rollback', latencyAlarm)],
      check: ({ results }) => {
        expect(value('routing/mode')).toBe(http(results.force).status === 200 ? 'force-bedrock' : 'auto');
        expect(value('feature-flags/hybrid-routing')).toBe('false');
        expect(latch()).toMatchObject({ active: true, level: 1 });
      },
    });
  });
});

/** A level-1 latch from an earlier latency alarm, with the flag off and traffic where it was. */
const OLD_LATCH = {
  active: true,
  level: 1,
  reason: 'alarm HybridRouting-dev-hybrid-latency: p95 high',
  source: `alarm: ${LATENCY}`,
  at: '2026-01-01T00:00:00.000Z',
  previous: { hybridEnabled: true, trafficPercentage: 50 },
};
const LATCHED_AT_LEVEL_1 = { 'feature-flags/hybrid-routing': 'false', 'traffic/percentage': '50', 'rollback/state': JSON.stringify(OLD_LATCH) };

describe('a clear and a rollback, in every order', () => {
  const clear = (force: boolean) => viaAdmin('clear', 'DELETE', '/admin/rollback', { reason: 'p95 fixed', ...(force ? { force: true } : {}) });

  it('a new level-2 alarm during a clear: the latch ends active at level 2 and traffic at 0', async () => {
    const runs = await forEveryInterleaving<Answer>(world.ssm, {
      setup: () => startFrom(LATCHED_AT_LEVEL_1),
      writers: () => [clear(false), viaAlarm('rollback', errorRateAlarm)],
      check: ({ results }) => {
        expect([200, 409]).toContain(http(results.clear).status);
        expect(outcome(results.rollback)).toMatchObject({ action: 'rolled-back', level: 2 });
        expect(latch()).toMatchObject({ active: true, level: 2, source: `alarm: ${ERROR_RATE}` });
        expect([value('feature-flags/hybrid-routing'), value('traffic/percentage')]).toEqual(['false', '0']);
        expect(world.sns.published.filter((p) => p.subject?.includes('cleared'))).toHaveLength(http(results.clear).status === 200 ? 1 : 0);
        expect(executed()).toEqual(http(results.clear).status === 200 ? ['admin clear manual', 'rollback 2 alarm'] : ['rollback 2 alarm']);
        expectAudited([new RegExp(`^latch (cleared|restored): .*${BY_ALICE}`), ROLLBACK_WRITE(ERROR_RATE)]);
      },
    });
    expect(runs).toBeGreaterThanOrEqual(10);
  });

  it('a forced clear erases only a latch it read: a rollback written after its read survives', async () => {
    await forEveryInterleaving<Answer>(world.ssm, {
      setup: () => startFrom(LATCHED_AT_LEVEL_1),
      writers: () => [clear(true), viaAlarm('rollback', errorRateAlarm)],
      check: (run) => {
        const { results } = run;
        const final = latch();
        if (!final.active) {
          // Cleared: then the clear read the rollback's latch, and says so by keeping its record.
          expect(final).toMatchObject({ level: 2, source: `alarm: ${ERROR_RATE}`, clearedAt: expect.any(String) });
          expect(stepIndex(run, 'clear', 'GetParametersByPath')).toBeGreaterThan(stepIndex(run, 'rollback', 'PutParameter', 'rollback/state'));
          expect(http(results.clear).status).toBe(200);
        } else {
          expect(final).toMatchObject({ level: 2, source: `alarm: ${ERROR_RATE}` });
        }
        expect([value('feature-flags/hybrid-routing'), value('traffic/percentage')]).toEqual(['false', '0']);
      },
    });
  });

  it('the same alarm firing again during a clear, finding the old latch covering it: the latch ends active', async () => {
    const runs = await forEveryInterleaving<Answer>(world.ssm, {
      setup: () => startFrom(LATCHED_AT_LEVEL_1),
      writers: () => [clear(false), viaAlarm('rollback', latencyAlarm)],
      check: ({ results }) => {
        expect([200, 409]).toContain(http(results.clear).status);
        expect(['rolled-back', 'already-rolled-back']).toContain(outcome(results.rollback).action);
        expect(latch()).toMatchObject({ active: true, level: 1 });
        expect([value('feature-flags/hybrid-routing'), value('traffic/percentage')]).toEqual(['false', '50']);
      },
    });
    expect(runs).toBeGreaterThanOrEqual(5);
  });
});

describe('a manual and an alarm rollback, in every order', () => {
  const START = { 'feature-flags/hybrid-routing': 'true', 'traffic/percentage': '75' };
  const manual = (level: 1 | 2) => viaAdmin('manual', 'POST', '/admin/rollback', { level, reason: 'operator saw errors' });

  it('a manual level 1 never overwrites an alarm level 2: the higher level wins, previous is the state before both', async () => {
    const runs = await forEveryInterleaving<Answer>(world.ssm, {
      setup: () => startFrom(START),
      writers: () => [manual(1), viaAlarm('alarm', errorRateAlarm)],
      check: ({ results }) => {
        expect(http(results.manual).status).toBe(200);
        expect(outcome(results.alarm)).toMatchObject({ action: 'rolled-back', level: 2 });
        expect(latch()).toMatchObject({ active: true, level: 2, source: `alarm: ${ERROR_RATE}`, previous: { hybridEnabled: true, trafficPercentage: 75 } });
        expect([value('feature-flags/hybrid-routing'), value('traffic/percentage')]).toEqual(['false', '0']);
        const manualRan = world.sns.published.some((p) => p.subject?.includes('(manual: '));
        // Level is the level the latch reached: a manual level 1 merged into the alarm's counts as 2.
        expect(executed()).toEqual(manualRan ? [expect.stringMatching(/^admin [12] manual$/), 'rollback 2 alarm'] : ['rollback 2 alarm']);
      },
    });
    expect(runs).toBeGreaterThanOrEqual(50);
  });

  it('an alarm level 1 never overwrites a manual level 2', async () => {
    await forEveryInterleaving<Answer>(world.ssm, {
      setup: () => startFrom(START),
      writers: () => [manual(2), viaAlarm('alarm', latencyAlarm)],
      check: () => {
        expect(latch()).toMatchObject({ active: true, level: 2, source: `manual: ${ALICE}`, previous: { hybridEnabled: true, trafficPercentage: 75 } });
        expect([value('feature-flags/hybrid-routing'), value('traffic/percentage')]).toEqual(['false', '0']);
      },
    });
  });
});

describe('a level-3 and an alarm rollback, in every order', () => {
  const START = { 'feature-flags/hybrid-routing': 'true', 'traffic/percentage': '75' };
  const levelThree = () => viaAdmin('code', 'POST', '/admin/rollback', { level: 3, reason: 'bad deploy' });

  it('an alarm level 2 never takes level 3 or its code record away, and live ends on the version before', async () => {
    const runs = await forEveryInterleaving<Answer>(world.ssm, {
      setup: () => {
        startFrom(START);
        code.reset(3, '3');
      },
      writers: () => [levelThree(), viaAlarm('alarm', errorRateAlarm)],
      check: ({ results }) => {
        expect(http(results.code)).toMatchObject({ status: 200, json: { code: { from: '3', to: '2', moved: true } } });
        expect(['rolled-back', 'already-rolled-back']).toContain(outcome(results.alarm).action);
        expect(code.live).toEqual({ version: '2', weights: {} });
        expect(latch()).toMatchObject({ active: true, level: 3, source: `manual: ${ALICE}`, code: { from: '3', to: '2' }, previous: { hybridEnabled: true, trafficPercentage: 75 } });
        expect([value('feature-flags/hybrid-routing'), value('traffic/percentage')]).toEqual(['false', '0']);
        expect(world.sns.published.map((p) => p.subject)).toContain(`Hybrid Routing dev: rollback level 3 (manual: ${ALICE})`.slice(0, 100));
        expect(executed()).toContain('admin 3 manual');
        expectAudited([new RegExp(`^rollback level 3: bad deploy( \\(.*\\))? ${BY_ALICE}`), ROLLBACK_WRITE(ERROR_RATE)]);
      },
    });
    expect(runs).toBeGreaterThanOrEqual(30);
  });
});

describe('a clear and a widening write, in every order', () => {
  const LEVEL_2 = { ...OLD_LATCH, level: 2, source: `alarm: ${ERROR_RATE}` };

  it('the raise lands only after the clear, and is never left standing under an active latch', async () => {
    const runs = await forEveryInterleaving<Answer>(world.ssm, {
      setup: () => startFrom({ 'feature-flags/hybrid-routing': 'false', 'traffic/percentage': '0', 'rollback/state': JSON.stringify(LEVEL_2) }),
      writers: () => [viaAdmin('clear', 'DELETE', '/admin/rollback', { reason: 'fixed' }), viaAdmin('raise', 'PUT', '/admin/traffic', { percentage: 25, reason: 'canary again' })],
      check: (run) => {
        const { results } = run;
        expect(http(results.clear).status).toBe(200);
        expect(latch()).toMatchObject({ active: false, level: 2, clearedAt: expect.any(String) });
        if (http(results.raise).status === 200) {
          expect(value('traffic/percentage')).toBe('25');
          expect(stepIndex(run, 'raise', 'GetParametersByPath')).toBeGreaterThan(stepIndex(run, 'clear', 'PutParameter', 'rollback/state'));
        } else {
          expect(http(results.raise)).toMatchObject({ status: 409, json: { error: { message: expect.stringContaining('rollback latch is active') } } });
          expect(value('traffic/percentage')).toBe('0');
        }
      },
    });
    expect(runs).toBeGreaterThanOrEqual(3);
  });
});

describe('the bundled assets, in the orders that reproduced the bugs', () => {
  let assets: ReturnType<typeof synthesizeAssets>;
  let adminAsset: AssetProcess;
  let secondAdminAsset: AssetProcess;
  let rollbackAsset: AssetProcess;

  beforeAll(async () => {
    assets = synthesizeAssets('dev');
    const env = {
      AWS_REGION: 'eu-central-1',
      AWS_ACCESS_KEY_ID: 'AKIAFAKEFORTESTS',
      AWS_SECRET_ACCESS_KEY: 'fake-secret-for-tests',
      AWS_ENDPOINT_URL_SSM: world.ssm.url,
      AWS_ENDPOINT_URL_SNS: world.sns.url,
      AWS_ENDPOINT_URL_CLOUDWATCH: world.cloudwatch.url,
      ...code.endpoints,
      // What CloudFormation resolves at deploy time.
      TOPIC_ARN,
      ...ROUTER_CODE_VARIABLES,
    };
    [adminAsset, secondAdminAsset, rollbackAsset] = await Promise.all([
      AssetProcess.start(assetByPrefix(assets, 'AdminApiAdminFunction'), env),
      AssetProcess.start(assetByPrefix(assets, 'AdminApiAdminFunction'), env),
      AssetProcess.start(assetByPrefix(assets, 'RollbackRollbackFunction'), env),
    ]);
  }, 120_000);
  afterAll(() => {
    for (const asset of [adminAsset, secondAdminAsset, rollbackAsset]) asset?.stop();
  });

  const assetApi = (name: string, asset: AssetProcess, method: string, path: string, body: unknown): Writer<Answer> => ({
    name,
    run: async () => {
      const result = await asset.invoke<{ statusCode: number; body: string }>(adminEvent(method, path, body));
      return { status: result.statusCode, json: JSON.parse(result.body) as Record<string, any> };
    },
  });
  const assetAlarm = (name: string, event: typeof errorRateAlarm): Writer<Answer> => ({
    name,
    beforeFirstServe: () => world.cloudwatch.setAlarm(event.alarmData.alarmName, 'ALARM'),
    run: () => rollbackAsset.invoke<RollbackOutcome>(event),
  });
  const executedBy = (...assetsRun: AssetProcess[]) =>
    assetsRun.flatMap((a) => a.emf().filter((d) => d.metrics.includes('RollbackExecuted')).map((d) => `${d.dimensions.Service} ${d.dimensions.Level} ${d.dimensions.Source}`));

  it('widening write × level-1 rollback: the rollback read the flag off, then the admin turned it on; the flag ends off', async () => {
    startFrom({ 'feature-flags/hybrid-routing': 'false', 'traffic/percentage': '50' });
    // rollback reads; then the admin reads, writes and checks; then the rollback writes.
    const run = await runInterleaving(world.ssm, [assetApi('enable', adminAsset, 'PUT', '/admin/feature-flags/hybrid-routing', { enabled: true, reason: 'go live' }), assetAlarm('rollback', latencyAlarm)], [1, 0, 0, 0]);
    expect(run.steps.slice(0, 4).map((s) => `${s.writer} ${s.request.operation}`)).toEqual([
      'rollback GetParametersByPath',
      'enable GetParametersByPath',
      'enable PutParameter',
      'enable GetParametersByPath',
    ]);
    expect(http(run.results.enable).status).toBe(200);
    expect(latch()).toMatchObject({ active: true, level: 1 });
    expect(value('feature-flags/hybrid-routing')).toBe('false');
  });

  it('widening write × level-2 rollback: the raise re-checks after the rollback and writes its values, not its own earlier read', async () => {
    startFrom({ 'feature-flags/hybrid-routing': 'true', 'traffic/percentage': '5' });
    // The raise reads; the whole rollback runs; then the raise writes 25 and checks.
    const run = await runInterleaving(world.ssm, [assetApi('raise', adminAsset, 'PUT', '/admin/traffic', { percentage: 25, reason: 'ramp to 25' }), assetAlarm('rollback', errorRateAlarm)], [0, 1, 1, 1, 1, 1]);
    expect(http(run.results.raise)).toMatchObject({ status: 409, json: { error: { code: 'Conflict' } } });
    expect(value('traffic/percentage')).toBe('0');
    expect(history('traffic/percentage').map((v) => v.value)).toEqual(['5', '0', '25', '0']);
    expect(history('traffic/percentage').at(-1)!.description).toMatch(/^reverted: a rollback latched while "ramp to 25" was being written/);
  });

  it('clear × rollback: a clear that read the old latch does not erase the new alarm\'s latch', async () => {
    startFrom(LATCHED_AT_LEVEL_1);
    // The clear reads the old latch (no alarm in ALARM yet); the new alarm's rollback runs; the clear writes.
    const run = await runInterleaving(world.ssm, [assetApi('clear', adminAsset, 'DELETE', '/admin/rollback', { reason: 'p95 fixed' }), assetAlarm('rollback', errorRateAlarm)], [0, 1, 1, 1, 1, 1]);
    expect(http(run.results.clear)).toMatchObject({ status: 409, json: { error: { message: expect.stringContaining('a rollback latched while this clear was running') } } });
    expect(latch()).toMatchObject({ active: true, level: 2, source: `alarm: ${ERROR_RATE}` });
    expect([value('feature-flags/hybrid-routing'), value('traffic/percentage')]).toEqual(['false', '0']);
    expect(executedBy(rollbackAsset).at(-1)).toBe('rollback 2 alarm');
  });

  it('manual level 1 × alarm level 2: the manual rollback that read before the alarm\'s does not overwrite its level-2 record', async () => {
    startFrom({ 'feature-flags/hybrid-routing': 'true', 'traffic/percentage': '75' });
    const run = await runInterleaving(world.ssm, [assetApi('manual', adminAsset, 'POST', '/admin/rollback', { level: 1, reason: 'operator saw errors' }), assetAlarm('alarm', errorRateAlarm)], [0, 1, 1, 1, 1, 1]);
    expect(http(run.results.manual).status).toBe(200);
    expect(latch()).toMatchObject({ active: true, level: 2, source: `alarm: ${ERROR_RATE}`, previous: { hybridEnabled: true, trafficPercentage: 75 } });
    expect([value('feature-flags/hybrid-routing'), value('traffic/percentage')]).toEqual(['false', '0']);
    expect(history('rollback/state').at(-1)!.description).toContain(`merged with a concurrent rollback by alarm: ${ERROR_RATE}`);
    expect(world.sns.published.map((p) => p.subject)).toEqual([`Hybrid Routing dev: rollback level 2 (alarm: ${ERROR_RATE})`, `Hybrid Routing dev: rollback level 2 (manual: ${ALICE})`.slice(0, 100)]);
  });

  it('level 3 × alarm level 2: the alarm that read before the level-3 rollback does not overwrite its level and code record', async () => {
    startFrom({ 'feature-flags/hybrid-routing': 'true', 'traffic/percentage': '75' });
    code.reset(3, '3');
    // The alarm's rollback reads; the whole level 3 runs and moves live; then the alarm writes.
    const run = await runInterleaving(world.ssm, [assetApi('code', adminAsset, 'POST', '/admin/rollback', { level: 3, reason: 'bad deploy' }), assetAlarm('alarm', errorRateAlarm)], [1, 0, 0, 0, 0, 0]);
    expect(run.steps.slice(0, 6).map((s) => `${s.writer} ${s.request.operation}`)).toEqual([
      'alarm GetParametersByPath',
      'code GetParametersByPath',
      'code PutParameter',
      'code PutParameter',
      'code PutParameter',
      'code GetParametersByPath',
    ]);
    expect(http(run.results.code)).toMatchObject({ status: 200, json: { code: { from: '3', to: '2', moved: true } } });
    expect(outcome(run.results.alarm)).toMatchObject({ action: 'rolled-back', level: 3 });
    expect(code.live).toEqual({ version: '2', weights: {} });
    expect(latch()).toMatchObject({ active: true, level: 3, source: `manual: ${ALICE}`, code: { from: '3', to: '2' }, previous: { hybridEnabled: true, trafficPercentage: 75 } });
    expect([value('feature-flags/hybrid-routing'), value('traffic/percentage')]).toEqual(['false', '0']);
    expect(history('rollback/state').at(-1)!.description).toContain(`merged with a concurrent rollback by manual: ${ALICE}`);
    expect(executedBy(adminAsset).at(-1)).toBe('admin 3 manual');
  });

  it('clear × widening write: a raise that reads after the clear lands, and the clear restored nothing', async () => {
    startFrom({ 'feature-flags/hybrid-routing': 'false', 'traffic/percentage': '0', 'rollback/state': JSON.stringify({ ...OLD_LATCH, level: 2 }) });
    // The clear reads and writes the latch; the raise then runs whole; the clear answers.
    const run = await runInterleaving(world.ssm, [assetApi('clear', adminAsset, 'DELETE', '/admin/rollback', { reason: 'fixed' }), assetApi('raise', secondAdminAsset, 'PUT', '/admin/traffic', { percentage: 25, reason: 'canary again' })], [0, 0, 1, 1, 1, 1]);
    expect([http(run.results.clear).status, http(run.results.raise).status]).toEqual([200, 200]);
    expect(http(run.results.clear).json.state.trafficPercentage).toBe(25);
    expect(latch()).toMatchObject({ active: false, clearedAt: expect.any(String) });
    expect(executedBy(adminAsset, secondAdminAsset)).toContain('admin clear manual');
  });
});
