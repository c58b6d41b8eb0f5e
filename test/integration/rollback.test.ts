import errorRateAlarm from '../fixtures/alarm-event-error-rate.json';
import errorRateOk from '../fixtures/alarm-event-error-rate-ok.json';
import latencyAlarm from '../fixtures/alarm-event-latency.json';
import type { RollbackOutcome } from '../../lambda/rollback/rollback';
import {
  CONFIG_PATH,
  HYBRID_FOR_EVERYONE,
  StdoutCapture,
  TOPIC_ARN,
  lambdaContext,
  loadHandler,
  rollbackEnvironment,
  seedConfig,
  startWorld,
  type World,
} from './support/world';

const ROLLBACK = require.resolve('../../lambda/rollback/handler');
type RollbackHandler = (event: unknown, context: unknown) => Promise<RollbackOutcome>;

let world: World;
let rollback: (event: unknown) => Promise<RollbackOutcome>;
const stdout = new StdoutCapture();

beforeAll(async () => {
  world = await startWorld();
});
afterAll(async () => world.stop());
beforeEach(() => {
  world.ssm.heal();
  world.ssm.clear();
  world.sns.published.length = 0;
  world.sns.failing = false;
  seedConfig(world.ssm, { ...HYBRID_FOR_EVERYONE, 'traffic/percentage': '75' });
  world.ssm.resetCalls();
  const handler = loadHandler(ROLLBACK, rollbackEnvironment(world)) as unknown as RollbackHandler;
  rollback = (event) => handler(event, lambdaContext());
  stdout.start();
});
afterEach(() => {
  stdout.stop();
  stdout.clear();
});

const value = (name: string) => world.ssm.get(`${CONFIG_PATH}/${name}`);
const latch = () => JSON.parse(value('rollback/state')!);
const putOrder = () => world.ssm.history(`${CONFIG_PATH}/rollback/state`).length;

describe('rollback function', () => {
  it('rolls back at level 2 on the error-rate alarm: latch first, then flag, then traffic', async () => {
    const outcome = await rollback(errorRateAlarm);
    expect(outcome).toEqual({ action: 'rolled-back', level: 2, written: ['rollback/state', 'feature-flags/hybrid-routing', 'traffic/percentage'] });
    expect(latch()).toEqual({
      active: true,
      level: 2,
      reason: expect.stringContaining('alarm HybridRouting-dev-hybrid-error-rate: Threshold Crossed'),
      source: 'alarm: HybridRouting-dev-hybrid-error-rate',
      at: expect.any(String),
      previous: { hybridEnabled: true, trafficPercentage: 75 },
    });
    expect(value('feature-flags/hybrid-routing')).toBe('false');
    expect(value('traffic/percentage')).toBe('0');
    expect(world.ssm.writes).toEqual(['rollback/state', 'feature-flags/hybrid-routing', 'traffic/percentage'].map((n) => `${CONFIG_PATH}/${n}`));
    expect(world.ssm.history(`${CONFIG_PATH}/feature-flags/hybrid-routing`).at(-1)!.description).toMatch(/^rollback level 2: alarm HybridRouting-dev-hybrid-error-rate: .* \[by alarm: HybridRouting-dev-hybrid-error-rate\]$/);
  });

  it('rolls back at level 1 on the latency alarm: the flag goes off, traffic stays', async () => {
    expect(await rollback(latencyAlarm)).toMatchObject({ action: 'rolled-back', level: 1, written: ['rollback/state', 'feature-flags/hybrid-routing'] });
    expect(value('traffic/percentage')).toBe('75');
    expect(latch()).toMatchObject({ active: true, level: 1 });
  });

  it('notifies the topic with what changed and how to clear the latch, and emits RollbackExecuted', async () => {
    await rollback(errorRateAlarm);
    expect(world.sns.published).toHaveLength(1);
    const [message] = world.sns.published;
    expect(message!.topicArn).toBe(TOPIC_ARN);
    expect(message!.subject).toBe('Hybrid Routing dev: rollback level 2 (alarm: HybridRouting-dev-hybrid-error-rate)');
    expect(message!.message).toContain('What changed: rollback/state, feature-flags/hybrid-routing, traffic/percentage.');
    expect(message!.message).toContain('Before: hybrid routing on at 75% of callers.');
    expect(message!.message).toContain('hybrid-routing --env dev rollback clear --reason');
    const emf = stdout.emf().find((d) => d.metrics.includes('RollbackExecuted'));
    expect(emf?.dimensions).toEqual({ Service: 'rollback', Environment: 'dev', Level: '2', Source: 'alarm' });
  });

  it('ignores OK and INSUFFICIENT_DATA transitions', async () => {
    const insufficient = structuredClone(errorRateOk);
    insufficient.alarmData.state.value = 'INSUFFICIENT_DATA';
    for (const event of [errorRateOk, insufficient]) {
      expect(await rollback(event)).toMatchObject({ action: 'ignored' });
    }
    expect(world.ssm.count('PutParameter')).toBe(0);
    expect(world.sns.published).toHaveLength(0);
  });

  it('changes nothing and says so when invoked again for an active latch', async () => {
    await rollback(errorRateAlarm);
    world.ssm.resetCalls();
    expect(await rollback(errorRateAlarm)).toEqual({ action: 'already-rolled-back', level: 2, since: expect.any(String) });
    expect(world.ssm.count('PutParameter')).toBe(0);
    expect(world.sns.published).toHaveLength(1);
    expect(stdout.json().some((l) => l.message === 'rollback already in effect; nothing changed')).toBe(true);
  });

  it('records one rollback for two concurrent invocations', async () => {
    const outcomes = await Promise.all([rollback(errorRateAlarm), rollback(errorRateAlarm)]);
    expect(outcomes.map((o) => o.action).sort()).toEqual(['already-rolled-back', 'rolled-back']);
    expect(putOrder()).toBe(2);
    expect(latch()).toMatchObject({ active: true, level: 2 });
    expect([value('feature-flags/hybrid-routing'), value('traffic/percentage')]).toEqual(['false', '0']);
  });

  it('escalates to level 2 when a level-1 and a level-2 alarm fire together, keeping the first previous state', async () => {
    await Promise.all([rollback(latencyAlarm), rollback(errorRateAlarm)]);
    expect(latch()).toMatchObject({ level: 2, previous: { hybridEnabled: true, trafficPercentage: 75 } });
    expect(value('traffic/percentage')).toBe('0');
  });

  it('retries SSM TooManyUpdates and throttling', async () => {
    world.ssm.fail({ type: 'TooManyUpdates', status: 400, operations: ['PutParameter'], times: 2 });
    world.ssm.fail({ type: 'ThrottlingException', status: 400, operations: ['PutParameter'], times: 1 });
    expect(await rollback(errorRateAlarm)).toMatchObject({ action: 'rolled-back' });
    expect(world.ssm.count('PutParameter')).toBeGreaterThan(3);
    expect(latch().active).toBe(true);
  });

  it('still rolls back when the notification fails', async () => {
    world.sns.failing = true;
    expect(await rollback(errorRateAlarm)).toMatchObject({ action: 'rolled-back' });
    expect(latch().active).toBe(true);
    expect(stdout.json().some((l) => l.message === 'rollback notification failed')).toBe(true);
  });

  it('can be invoked by hand, and counts that as a manual rollback', async () => {
    const outcome = await rollback({ manual: { level: 1, reason: 'drill', requestedBy: 'alice' } });
    expect(outcome).toMatchObject({ action: 'rolled-back', level: 1 });
    expect(latch()).toMatchObject({ source: 'manual: alice', reason: 'drill' });
    expect(stdout.emf().find((d) => d.metrics.includes('RollbackExecuted'))?.dimensions).toEqual({ Service: 'rollback', Environment: 'dev', Level: '1', Source: 'manual' });
    expect(world.sns.published.map((p) => p.subject)).toEqual(['Hybrid Routing dev: rollback level 1 (manual: alice)']);
  });

  it('writes flag and traffic even when a read said they were down, and writes them down again after a late raise', async () => {
    seedConfig(world.ssm, { 'feature-flags/hybrid-routing': 'false', 'traffic/percentage': '0' });
    // An admin raise lands right after the rollback's traffic write, before its check.
    const remove = world.ssm.afterServe({ operation: 'PutParameter', name: `${CONFIG_PATH}/traffic/percentage` }, () => {
      remove();
      world.ssm.put(`${CONFIG_PATH}/traffic/percentage`, '25', 'late raise');
      world.ssm.put(`${CONFIG_PATH}/feature-flags/hybrid-routing`, 'true', 'late raise');
    });
    const outcome = await rollback(errorRateAlarm);
    expect(outcome).toEqual({
      action: 'rolled-back',
      level: 2,
      written: ['rollback/state', 'feature-flags/hybrid-routing', 'traffic/percentage', 'feature-flags/hybrid-routing', 'traffic/percentage'],
    });
    expect([value('feature-flags/hybrid-routing'), value('traffic/percentage')]).toEqual(['false', '0']);
    expect(world.ssm.history(`${CONFIG_PATH}/traffic/percentage`).at(-1)!.description).toMatch(/^rollback level 2: .*\(written again: a change landed after the rollback\) \[by alarm: HybridRouting-dev-hybrid-error-rate\]$/);
  });

  it('merges with a rollback that landed between its read and its latch write: the higher level wins', async () => {
    // A manual level 2 from the admin API writes its latch just after this level-1 rollback read.
    const manual = { active: true, level: 2, reason: 'manual', source: 'manual: bob', at: '2026-01-01T00:00:00.000Z', previous: { hybridEnabled: true, trafficPercentage: 75 } };
    const remove = world.ssm.afterServe({ operation: 'GetParametersByPath' }, () => {
      remove();
      world.ssm.put(`${CONFIG_PATH}/rollback/state`, JSON.stringify(manual), 'rollback level 2: manual');
    });
    expect(await rollback(latencyAlarm)).toMatchObject({ action: 'rolled-back', level: 2 });
    expect(latch()).toEqual(manual);
    expect([value('feature-flags/hybrid-routing'), value('traffic/percentage')]).toEqual(['false', '0']);
    expect(world.ssm.history(`${CONFIG_PATH}/rollback/state`).at(-1)!.description).toContain('merged with a concurrent rollback by manual: bob');
  });

  it('ignores an event that is neither an alarm nor a manual request', async () => {
    expect(await rollback({ hello: 'world' })).toMatchObject({ action: 'ignored' });
    expect(world.ssm.count('PutParameter')).toBe(0);
  });
});
