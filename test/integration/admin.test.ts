import type { APIGatewayProxyEvent } from 'aws-lambda';
import { alarmNameOf } from '../../lambda/shared/alarms';
import { COMPONENTS } from '../../lambda/shared/vocabulary';
import { RouterCodeFakes } from './support/router-code';
import {
  CONFIG_PATH,
  HYBRID_FOR_EVERYONE,
  StdoutCapture,
  TOPIC_ARN,
  apiEvent,
  lambdaContext,
  lambdaEnvironment,
  loadHandler,
  seedConfig,
  startWorld,
  type World,
} from './support/world';

const ADMIN = require.resolve('../../lambda/admin/handler');
const ALICE = 'arn:aws:sts::123456789012:assumed-role/operators/alice';
let world: World;
let code: RouterCodeFakes;
let handler: ReturnType<typeof loadHandler>;
const stdout = new StdoutCapture();

beforeAll(async () => {
  [world, code] = await Promise.all([startWorld(), new RouterCodeFakes().start()]);
  handler = loadHandler(ADMIN, lambdaEnvironment(world, code.endpoints));
});
afterAll(async () => Promise.all([world.stop(), code.stop()]));
beforeEach(() => {
  world.ssm.heal();
  world.ssm.clear();
  world.cloudwatch.reset();
  world.sns.published.length = 0;
  world.sns.failing = false;
  seedConfig(world.ssm);
  for (const component of COMPONENTS) world.ssm.put(`${CONFIG_PATH}/health/${component}`, JSON.stringify({ status: 'healthy', lastCheckedAt: new Date().toISOString(), latencyMs: 5, consecutiveFailures: 0, message: 'ok' }));
  world.ssm.resetCalls();
  stdout.start();
});
afterEach(() => {
  stdout.stop();
  stdout.clear();
});

const ROUTES: Record<string, string> = {
  '/admin/status': '/admin/status',
  '/admin/traffic': '/admin/traffic',
  '/admin/routing/mode': '/admin/routing/mode',
  '/admin/routing/policy': '/admin/routing/policy',
  '/admin/rollback': '/admin/rollback',
  '/admin/circuit-breakers/reset': '/admin/circuit-breakers/reset',
  '/admin/audit': '/admin/audit',
};

async function call(method: string, path: string, body?: unknown, options: { query?: Record<string, string>; raw?: boolean; caller?: string } = {}) {
  const flag = /^\/admin\/feature-flags\/(.*)$/.exec(path);
  const resource = flag ? '/admin/feature-flags/{flag}' : ROUTES[path] ?? path;
  const event: APIGatewayProxyEvent = apiEvent(method, resource, path, flag ? { flag: flag[1]! } : null);
  event.body = body === undefined ? null : options.raw ? (body as string) : JSON.stringify(body);
  event.queryStringParameters = options.query ?? null;
  event.requestContext.identity.userArn = options.caller ?? ALICE;
  const result = await handler(event, lambdaContext());
  return { status: result.statusCode, json: JSON.parse(result.body) as Record<string, any> };
}

const value = (name: string) => world.ssm.get(`${CONFIG_PATH}/${name}`);
const lastDescription = (name: string) => world.ssm.history(`${CONFIG_PATH}/${name}`).at(-1)!.description;

describe('admin: each route', () => {
  it('GET /admin/status answers the whole state', async () => {
    const { status, json } = await call('GET', '/admin/status');
    expect(status).toBe(200);
    expect(json.state).toMatchObject({
      environment: 'dev',
      hybridEnabled: false,
      trafficPercentage: 0,
      effectiveTrafficPercentage: 0,
      mode: 'auto',
      rollback: { active: false },
      breakerEpoch: 0,
      health: { status: 'healthy', components: { 'direct-bedrock': 'healthy', 'bedrock-support': 'healthy' } },
      problems: [],
    });
    expect(json.state.policy.operations.emergency).toEqual({ strategy: 'bedrock-first', budget: { targetMs: 5000, hardMs: 10000 } });
  });

  it('PUT /admin/traffic sets the percentage, records reason and caller, and answers the new state', async () => {
    const { status, json } = await call('PUT', '/admin/traffic', { percentage: 25, reason: 'Limited rollout' });
    expect(status).toBe(200);
    expect(json.changed).toEqual([{ parameter: 'traffic/percentage', version: 2 }]);
    expect(json.state.trafficPercentage).toBe(25);
    expect(value('traffic/percentage')).toBe('25');
    expect(lastDescription('traffic/percentage')).toBe(`Limited rollout [by ${ALICE}]`);
  });

  it('PUT /admin/feature-flags/hybrid-routing turns the flag on and off', async () => {
    expect((await call('PUT', '/admin/feature-flags/hybrid-routing', { enabled: true, reason: 'go live' })).json.state.hybridEnabled).toBe(true);
    expect((await call('PUT', '/admin/feature-flags/hybrid-routing', { enabled: false, reason: 'pause' })).json.state.hybridEnabled).toBe(false);
    expect(value('feature-flags/hybrid-routing')).toBe('false');
  });

  it('PUT /admin/routing/mode sets the mode', async () => {
    const { json } = await call('PUT', '/admin/routing/mode', { mode: 'force-mcp', reason: 'Bedrock incident' });
    expect(json.state.mode).toBe('force-mcp');
  });

  it('PUT /admin/routing/policy stores the policy and answers it resolved with defaults', async () => {
    const policy = { circuitBreaker: { failureThreshold: 3, coolDownMs: 10_000 } };
    const { status, json } = await call('PUT', '/admin/routing/policy', { policy, reason: 'faster trips' });
    expect(status).toBe(200);
    expect(JSON.parse(value('routing/policy')!)).toEqual(policy);
    expect(json.state.policy.circuitBreaker).toEqual(policy.circuitBreaker);
    expect(json.state.policy.retry).toEqual({ baseDelayMs: 100 });
  });

  it('POST /admin/circuit-breakers/reset bumps the epoch', async () => {
    await call('POST', '/admin/circuit-breakers/reset', { reason: 'MCP recovered' });
    const { json } = await call('POST', '/admin/circuit-breakers/reset', { reason: 'again' });
    expect(json.state.breakerEpoch).toBe(2);
    expect(lastDescription('circuit-breakers/epoch')).toBe(`circuit breakers reset: again [by ${ALICE}]`);
  });
});

describe('admin: rollback and the latch', () => {
  beforeEach(() => seedConfig(world.ssm, { ...HYBRID_FOR_EVERYONE, 'traffic/percentage': '75' }));

  it('POST /admin/rollback level 2 writes the latch first, then the flag, then traffic', async () => {
    world.ssm.resetCalls();
    const { status, json } = await call('POST', '/admin/rollback', { level: 2, reason: 'error spike' });
    expect(status).toBe(200);
    expect(json.changed.map((c: any) => c.parameter)).toEqual(['rollback/state', 'feature-flags/hybrid-routing', 'traffic/percentage']);
    expect(world.ssm.writes).toEqual(['rollback/state', 'feature-flags/hybrid-routing', 'traffic/percentage'].map((n) => `${CONFIG_PATH}/${n}`));
    expect(json.state).toMatchObject({ hybridEnabled: false, trafficPercentage: 0, effectiveTrafficPercentage: 0 });
    expect(json.state.rollback).toMatchObject({
      active: true,
      level: 2,
      reason: 'error spike',
      source: `manual: ${ALICE}`,
      previous: { hybridEnabled: true, trafficPercentage: 75 },
    });
  });

  it('POST /admin/rollback level 1 turns only the flag off, and a repeat changes nothing', async () => {
    const first = await call('POST', '/admin/rollback', { level: 1, reason: 'latency' });
    expect(first.json.state).toMatchObject({ hybridEnabled: false, trafficPercentage: 75 });
    world.ssm.resetCalls();
    const again = await call('POST', '/admin/rollback', { level: 1, reason: 'latency again' });
    expect(again.json).toMatchObject({ changed: [], message: expect.stringContaining('already in effect') });
    expect(world.ssm.count('PutParameter')).toBe(0);
  });

  it('escalates a level-1 latch to level 2 and keeps the original previous state', async () => {
    await call('POST', '/admin/rollback', { level: 1, reason: 'latency' });
    const { json } = await call('POST', '/admin/rollback', { level: 2, reason: 'errors too' });
    expect(json.state.rollback).toMatchObject({ level: 2, previous: { hybridEnabled: true, trafficPercentage: 75 } });
    expect(json.state.trafficPercentage).toBe(0);
  });

  it.each([
    ['raising traffic', 'PUT', '/admin/traffic', { percentage: 100, reason: 'more' }],
    ['enabling the flag', 'PUT', '/admin/feature-flags/hybrid-routing', { enabled: true, reason: 'on again' }],
    ['forcing Bedrock', 'PUT', '/admin/routing/mode', { mode: 'force-bedrock', reason: 'bypass' }],
  ])('answers 409 for %s while the latch is active, and says how to clear it', async (_name, method, path, body) => {
    await call('POST', '/admin/rollback', { level: 2, reason: 'errors' });
    world.ssm.resetCalls();
    const { status, json } = await call(method, path, body);
    expect(status).toBe(409);
    expect(json.error).toMatchObject({ code: 'Conflict', message: expect.stringContaining('rollback clear --reason') });
    expect(world.ssm.count('PutParameter')).toBe(0);
  });

  it.each([
    ['lowering traffic', 'PUT', '/admin/traffic', { percentage: 0, reason: 'hold' }],
    ['disabling the flag', 'PUT', '/admin/feature-flags/hybrid-routing', { enabled: false, reason: 'off' }],
    ['forcing MCP', 'PUT', '/admin/routing/mode', { mode: 'force-mcp', reason: 'safe' }],
  ])('allows %s while the latch is active', async (_name, method, path, body) => {
    await call('POST', '/admin/rollback', { level: 1, reason: 'latency' });
    expect((await call(method, path, body)).status).toBe(200);
  });

  it('DELETE /admin/rollback clears the latch and restores nothing', async () => {
    await call('POST', '/admin/rollback', { level: 2, reason: 'errors' });
    const { status, json } = await call('DELETE', '/admin/rollback', { reason: 'fixed the model ARN' });
    expect(status).toBe(200);
    expect(json.state).toMatchObject({ rollback: { active: false }, hybridEnabled: false, trafficPercentage: 0 });
    expect((await call('PUT', '/admin/traffic', { percentage: 5, reason: 'canary again' })).status).toBe(200);
  });

  it('a clear keeps the record with clearedAt, and writes flag and traffic down first when they are above the latch', async () => {
    await call('POST', '/admin/rollback', { level: 2, reason: 'errors' });
    const latched = JSON.parse(value('rollback/state')!);
    // Someone raised traffic by hand in the console while latched.
    world.ssm.put(`${CONFIG_PATH}/traffic/percentage`, '40', 'console edit');
    world.ssm.resetCalls();
    const { status, json } = await call('DELETE', '/admin/rollback', { reason: 'fixed' });
    expect(status).toBe(200);
    expect(world.ssm.writes).toEqual(['traffic/percentage', 'rollback/state'].map((n) => `${CONFIG_PATH}/${n}`));
    expect(JSON.parse(value('rollback/state')!)).toEqual({ ...latched, active: false, clearedAt: expect.any(String) });
    expect(json.state).toMatchObject({ hybridEnabled: false, trafficPercentage: 0, rollback: { active: false, level: 2, clearedAt: expect.any(String) } });
    expect(lastDescription('rollback/state')).toBe(`latch cleared: fixed [by ${ALICE}]`);
  });

  it('a clear of a clear latch changes nothing and notifies no one', async () => {
    const { status, json } = await call('DELETE', '/admin/rollback', { reason: 'nothing to do' });
    expect(status).toBe(200);
    expect(json.message).toContain('not active');
    expect(world.ssm.count('PutParameter')).toBe(0);
    expect(world.sns.published).toHaveLength(0);
  });
});

describe('admin: clearing while an alarm holds the rollback', () => {
  const errorRate = alarmNameOf('dev', 'hybridErrorRate');
  beforeEach(async () => {
    seedConfig(world.ssm, { ...HYBRID_FOR_EVERYONE, 'traffic/percentage': '75' });
    await call('POST', '/admin/rollback', { level: 2, reason: 'errors' });
    world.sns.published.length = 0;
    stdout.clear();
    world.ssm.resetCalls();
  });

  it('answers 409 while a rollback alarm is in ALARM, names it, and changes nothing', async () => {
    world.cloudwatch.setAlarm(errorRate, 'ALARM');
    world.cloudwatch.setAlarm(alarmNameOf('dev', 'routingEfficiency'), 'ALARM');
    const { status, json } = await call('DELETE', '/admin/rollback', { reason: 'looks fine to me' });
    expect(status).toBe(409);
    expect(json.error.code).toBe('Conflict');
    expect(json.error.message).toContain(`${errorRate} is in ALARM`);
    expect(json.error.message).not.toContain('routing-efficiency');
    expect(json.error.message).toContain('"force": true');
    expect(world.ssm.count('PutParameter')).toBe(0);
    expect(world.sns.published).toHaveLength(0);
    const asked = world.cloudwatch.calls[0]!.input.AlarmNames as string[];
    expect(asked).toEqual(expect.arrayContaining((['hybridErrorRate', 'hybridLatency', 'directBedrockHealth'] as const).map((id) => alarmNameOf('dev', id))));
    expect(asked).not.toContain(alarmNameOf('dev', 'routingEfficiency'));
  });

  it('clears with force while the alarm is in ALARM, and records the force in the audit trail and the notification', async () => {
    world.cloudwatch.setAlarm(errorRate, 'ALARM');
    const { status, json } = await call('DELETE', '/admin/rollback', { reason: 'false alarm, metric bug', force: true });
    expect(status).toBe(200);
    expect(json.message).toContain('forced');
    expect(json.state.rollback).toMatchObject({ active: false, clearedAt: expect.any(String) });
    expect(lastDescription('rollback/state')).toBe(`latch cleared by force (while ${errorRate} in ALARM): false alarm, metric bug [by ${ALICE}]`);
    const audit = await call('GET', '/admin/audit', undefined, { query: { limit: '1' } });
    expect(audit.json.entries[0]).toMatchObject({ parameter: 'rollback/state', reason: `latch cleared by force (while ${errorRate} in ALARM): false alarm, metric bug`, who: ALICE });
    expect(world.sns.published).toHaveLength(1);
    expect(world.sns.published[0]).toMatchObject({ topicArn: TOPIC_ARN, subject: `Hybrid Routing dev: rollback latch cleared by force (${ALICE})`.slice(0, 100) });
    expect(world.sns.published[0]!.message).toContain(`FORCED: cleared without waiting for the rollback alarms (while ${errorRate} in ALARM).`);
    expect(world.sns.published[0]!.message).toContain('Now: hybrid routing off, traffic 0%. The clear restores nothing');
  });

  it('answers 503 when CloudWatch cannot answer, unless forced', async () => {
    world.cloudwatch.fault = { code: 'InternalServiceError', status: 500 };
    const refused = await call('DELETE', '/admin/rollback', { reason: 'fixed' });
    expect(refused.status).toBe(503);
    expect(refused.json.error).toMatchObject({ code: 'Unavailable', message: expect.stringContaining('CloudWatch cannot say') });
    expect(world.ssm.count('PutParameter')).toBe(0);
    const forced = await call('DELETE', '/admin/rollback', { reason: 'fixed', force: true });
    expect(forced.status).toBe(200);
    expect(lastDescription('rollback/state')).toBe(`latch cleared by force (alarm states unknown): fixed [by ${ALICE}]`);
  });

  it('answers 503 within its deadline when CloudWatch hangs', async () => {
    world.cloudwatch.hanging = true;
    const started = Date.now();
    const { status } = await call('DELETE', '/admin/rollback', { reason: 'fixed' });
    expect(status).toBe(503);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(JSON.parse(value('rollback/state')!).active).toBe(true);
  });

  it('restores the latch and answers 409 when the alarm goes into ALARM while the clear writes', async () => {
    const remove = world.ssm.afterServe({ operation: 'PutParameter', name: `${CONFIG_PATH}/rollback/state` }, () => {
      remove();
      world.cloudwatch.setAlarm(errorRate, 'ALARM');
    });
    const before = JSON.parse(value('rollback/state')!);
    const { status, json } = await call('DELETE', '/admin/rollback', { reason: 'fixed' });
    expect(status).toBe(409);
    expect(json.error.message).toContain('the latch is restored');
    expect(JSON.parse(value('rollback/state')!)).toEqual(before);
    expect(lastDescription('rollback/state')).toMatch(/^latch restored: /);
    expect(world.sns.published).toHaveLength(0);
  });

  it('restores a latch written after its read and answers 409: a clear never erases a latch it did not read', async () => {
    const newer = { active: true, level: 2, reason: 'alarm again', source: `alarm: ${errorRate}`, at: new Date().toISOString(), previous: { hybridEnabled: true, trafficPercentage: 75 } };
    const remove = world.ssm.afterServe({ operation: 'GetParametersByPath' }, () => {
      remove();
      world.ssm.put(`${CONFIG_PATH}/rollback/state`, JSON.stringify(newer), 'rollback level 2: alarm again');
    });
    const { status, json } = await call('DELETE', '/admin/rollback', { reason: 'fixed', force: true });
    expect(status).toBe(409);
    expect(json.error.message).toContain(`a rollback latched while this clear was running (level 2, by alarm: ${errorRate}`);
    const latch = JSON.parse(value('rollback/state')!);
    expect(latch).toMatchObject({ active: true, level: 2 });
    expect(latch.clearedAt).toBeUndefined();
  });
});

describe('admin: every rollback and clear is announced and counted', () => {
  beforeEach(() => seedConfig(world.ssm, { ...HYBRID_FOR_EVERYONE, 'traffic/percentage': '75' }));

  it('a manual rollback and a clear each notify the topic and emit RollbackExecuted with Level and Source', async () => {
    await call('POST', '/admin/rollback', { level: 1, reason: 'latency' });
    await call('POST', '/admin/rollback', { level: 1, reason: 'again' });
    await call('DELETE', '/admin/rollback', { reason: 'fixed' });
    expect(world.sns.published.map((p) => p.subject)).toEqual([
      `Hybrid Routing dev: rollback level 1 (manual: ${ALICE})`.slice(0, 100),
      `Hybrid Routing dev: rollback latch cleared (${ALICE})`.slice(0, 100),
    ]);
    expect(world.sns.published[0]!.message).toContain('Before: hybrid routing on at 75% of callers.');
    expect(world.sns.published[1]!.message).toContain(`The latch was level 1, set by manual: ${ALICE}`);
    const executed = stdout.emf().filter((d) => d.metrics.includes('RollbackExecuted'));
    expect(executed.map((d) => d.dimensions)).toEqual([
      { Service: 'admin', Environment: 'dev', Level: '1', Source: 'manual' },
      { Service: 'admin', Environment: 'dev', Level: 'clear', Source: 'manual' },
    ]);
  });

  it('a notification that fails undoes nothing and is logged as an error', async () => {
    world.sns.failing = true;
    expect((await call('POST', '/admin/rollback', { level: 2, reason: 'errors' })).status).toBe(200);
    expect(JSON.parse(value('rollback/state')!).active).toBe(true);
    expect(stdout.json().some((l) => l.level === 'ERROR' && l.message === 'rollback notification failed')).toBe(true);
    expect((await call('DELETE', '/admin/rollback', { reason: 'fixed' })).status).toBe(200);
    expect(stdout.json().some((l) => l.level === 'ERROR' && l.message === 'clear notification failed')).toBe(true);
  });
});

describe('admin: level-3 rollback of the router code', () => {
  const LEVEL_3 = { level: 3, reason: 'bad deploy' };
  const latch = () => JSON.parse(value('rollback/state')!) as Record<string, any>;
  const configValues = () => [value('rollback/state'), value('feature-flags/hybrid-routing'), value('traffic/percentage')];
  const executed = () => stdout.emf().filter((d) => d.metrics.includes('RollbackExecuted')).map((d) => d.dimensions);

  beforeEach(() => {
    seedConfig(world.ssm, { ...HYBRID_FOR_EVERYONE, 'traffic/percentage': '75' });
    world.ssm.resetCalls();
    // Versions 1-3 published, live on 3: the deploy that just finished.
    code.reset(3, '3');
  });

  it('does level 2 and moves live to the version before, after the latch records both versions', async () => {
    const seenAtMove: string[][] = [];
    code.lambda.before('UpdateAlias', () => void seenAtMove.push(configValues().map(String)));
    const { status, json } = await call('POST', '/admin/rollback', LEVEL_3);
    expect(status).toBe(200);
    expect(code.live).toEqual({ version: '2', weights: {} });
    expect(json.code).toEqual({ from: '3', to: '2', moved: true });
    expect(json.message).toBe('the live alias moved from version 3 to version 2; the latch records the move, and a clear does not undo it');
    expect(json.changed.map((c: any) => c.parameter)).toEqual(['rollback/state', 'feature-flags/hybrid-routing', 'traffic/percentage']);
    expect(json.state).toMatchObject({ hybridEnabled: false, trafficPercentage: 0, effectiveTrafficPercentage: 0 });
    const recorded = { active: true, level: 3, reason: 'bad deploy', source: `manual: ${ALICE}`, previous: { hybridEnabled: true, trafficPercentage: 75 }, code: { from: '3', to: '2' } };
    expect(json.state.rollback).toMatchObject(recorded);
    expect(latch()).toMatchObject(recorded);
    // The alias moved only once the latch, the flag and traffic were written.
    expect(seenAtMove).toHaveLength(1);
    expect(JSON.parse(seenAtMove[0]![0]!)).toMatchObject(recorded);
    expect(seenAtMove[0]!.slice(1)).toEqual(['false', '0']);
    expect(lastDescription('rollback/state')).toBe(`rollback level 3: bad deploy [by ${ALICE}]`);

    expect(world.sns.published.map((p) => p.subject)).toEqual([`Hybrid Routing dev: rollback level 3 (manual: ${ALICE})`.slice(0, 100)]);
    const notice = world.sns.published[0]!.message;
    expect(notice).toContain("What changed: rollback/state, feature-flags/hybrid-routing, traffic/percentage, the router's live alias.");
    expect(notice).toContain('Router code: the live alias moved from version 3 to version 2, which serves every invocation from now on.');
    expect(notice).toContain('Before: hybrid routing on at 75% of callers.');
    expect(notice).toContain('Clearing the latch restores nothing by itself, and does not move the live alias back to version 3');
    expect(executed()).toEqual([{ Service: 'admin', Environment: 'dev', Level: '3', Source: 'manual' }]);
  });

  it('is idempotent: a repeat leaves live on the version it moved to, writes nothing and announces nothing', async () => {
    await call('POST', '/admin/rollback', LEVEL_3);
    world.ssm.resetCalls();
    const again = await call('POST', '/admin/rollback', { level: 3, reason: 'bad deploy, again' });
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ changed: [], code: { from: '3', to: '2', moved: false }, message: expect.stringContaining('already in effect: the live alias serves version 2') });
    expect(code.live.version).toBe('2');
    expect(code.lambda.count('UpdateAlias')).toBe(1);
    expect(world.ssm.count('PutParameter')).toBe(0);
    expect(latch()).toMatchObject({ reason: 'bad deploy', code: { from: '3', to: '2' } });
    expect(world.sns.published).toHaveLength(1);
    expect(executed()).toHaveLength(1);
  });

  it('GET /admin/status shows the code move the latch records', async () => {
    await call('POST', '/admin/rollback', LEVEL_3);
    const { json } = await call('GET', '/admin/status');
    expect(json.state.rollback).toMatchObject({ active: true, level: 3, code: { from: '3', to: '2' } });
  });

  it('escalates a level-2 latch, keeping the state before the first rollback', async () => {
    await call('POST', '/admin/rollback', { level: 2, reason: 'errors' });
    const { status, json } = await call('POST', '/admin/rollback', LEVEL_3);
    expect(status).toBe(200);
    expect(json.state.rollback).toMatchObject({ level: 3, reason: 'bad deploy', previous: { hybridEnabled: true, trafficPercentage: 75 }, code: { from: '3', to: '2' } });
    expect(code.live.version).toBe('2');
  });

  it.each([1, 2])('a later level %i keeps level 3 and its code record: the higher level wins', async (level) => {
    await call('POST', '/admin/rollback', LEVEL_3);
    const before = value('rollback/state');
    world.ssm.resetCalls();
    const { status, json } = await call('POST', '/admin/rollback', { level, reason: 'alarm-like' });
    expect(status).toBe(200);
    expect(json.message).toContain('already in effect');
    expect(value('rollback/state')).toBe(before);
    expect(world.ssm.count('PutParameter')).toBe(0);
    expect(code.live.version).toBe('2');
  });

  it('after a newer deploy under the latch, goes back to the version it recorded and records the new move', async () => {
    await call('POST', '/admin/rollback', LEVEL_3);
    const fix = code.lambda.publish('router', async () => ({}));
    code.lambda.setAlias('router', 'live', fix);
    const { status, json } = await call('POST', '/admin/rollback', { level: 3, reason: 'the fix is bad too' });
    expect(status).toBe(200);
    expect(json.code).toEqual({ from: fix, to: '2', moved: true });
    expect(code.live.version).toBe('2');
    expect(latch()).toMatchObject({ level: 3, reason: 'the fix is bad too', code: { from: fix, to: '2' }, previous: { hybridEnabled: true, trafficPercentage: 75 } });
  });

  it('a clear restores no code: live stays where level 3 put it, and the notice says so', async () => {
    await call('POST', '/admin/rollback', LEVEL_3);
    const { status, json } = await call('DELETE', '/admin/rollback', { reason: 'version 3 fixed in 4' });
    expect(status).toBe(200);
    expect(json.state.rollback).toMatchObject({ active: false, level: 3, code: { from: '3', to: '2' }, clearedAt: expect.any(String) });
    expect(code.live.version).toBe('2');
    expect(code.lambda.count('UpdateAlias')).toBe(1);
    expect(world.sns.published.at(-1)!.message).toContain(
      'Router code: the clear does not move the live alias back to version 3; it stays where the level-3 rollback put it (version 2) until the next deploy that changes the router.',
    );
  });

  describe('is refused with 409, saying why, and changes nothing', () => {
    const refused = async (message: string) => {
      const config = configValues();
      const aliasBefore = code.live;
      const { status, json } = await call('POST', '/admin/rollback', LEVEL_3);
      expect({ status, code: json.error?.code }).toEqual({ status: 409, code: 'Conflict' });
      expect(json.error.message).toContain(message);
      expect(configValues()).toEqual(config);
      expect(world.ssm.count('PutParameter')).toBe(0);
      expect(code.live).toEqual(aliasBefore);
      expect(code.lambda.count('UpdateAlias')).toBe(0);
      expect(world.sns.published).toHaveLength(0);
      expect(executed()).toEqual([]);
    };

    it('when no published version is older than the one serving', async () => {
      code.reset(1, '1');
      await refused('level 3 refused: no published version of the router is older than version 1, which the live alias serves; there is nothing to roll back to');
    });

    it('while a CodeDeploy deployment of the alias is in progress, and says how to stop it', async () => {
      code.lambda.publish('router', async () => ({}));
      code.lambda.setAlias('router', 'live', '3', { '4': 0.1 });
      code.deployment('d-CANARY4', 'InProgress');
      await refused('a CodeDeploy deployment of the live alias is in progress (d-CANARY4); stop it and let CodeDeploy put the alias back: aws deploy stop-deployment --deployment-id d-CANARY4 --auto-rollback-enabled');
    });
  });

  describe('answers 503 when AWS fails, leaving nothing a repeat cannot finish', () => {
    it.each([
      ['Lambda cannot be read', () => code.lambda.fail({ operation: 'ListVersionsByFunction', type: 'ServiceException', status: 500 }), 'ServiceException'],
      ['CodeDeploy cannot be read', () => code.codedeploy.fail('ListDeployments', 'ThrottlingException', 1, 400), 'ThrottlingException'],
    ])('when %s: nothing is changed', async (_name, inject, errorName) => {
      inject();
      const { status, json } = await call('POST', '/admin/rollback', LEVEL_3);
      expect(status).toBe(503);
      expect(json.error).toMatchObject({ code: 'Unavailable', message: `cannot read the router's alias, versions and deployments (${errorName}); nothing was changed` });
      expect(world.ssm.count('PutParameter')).toBe(0);
      expect(code.live.version).toBe('3');
      expect(world.sns.published).toHaveLength(0);
    });

    it('when Lambda fails the move: the latch and level 2 stand, the alias has not moved, and a repeat moves it to the same version', async () => {
      code.lambda.fail({ operation: 'UpdateAlias', type: 'ServiceException', status: 500, times: 1 });
      const failed = await call('POST', '/admin/rollback', LEVEL_3);
      expect(failed.status).toBe(503);
      expect(failed.json.error.message).toBe('the latch is set, but moving the live alias to version 2 failed (ServiceException); repeat the level-3 rollback to finish it');
      expect(latch()).toMatchObject({ active: true, level: 3, code: { from: '3', to: '2' } });
      expect(configValues().slice(1)).toEqual(['false', '0']);
      expect(code.live.version).toBe('3');
      expect(world.sns.published).toHaveLength(0);

      world.ssm.resetCalls();
      const repeat = await call('POST', '/admin/rollback', LEVEL_3);
      expect(repeat.status).toBe(200);
      expect(repeat.json).toMatchObject({ changed: [], code: { from: '3', to: '2', moved: true } });
      expect(code.live.version).toBe('2');
      expect(world.ssm.count('PutParameter')).toBe(0);
      expect(world.sns.published.map((p) => p.subject)).toEqual([`Hybrid Routing dev: rollback level 3 (manual: ${ALICE})`.slice(0, 100)]);
      expect(world.sns.published[0]!.message).toContain("What changed: the router's live alias.");
      expect(executed()).toEqual([{ Service: 'admin', Environment: 'dev', Level: '3', Source: 'manual' }]);
    });

    it('when SSM fails midway: the router is on the control path, the alias has not moved, and a repeat finishes both', async () => {
      world.ssm.fail({ type: 'InternalServerError', status: 500, operations: ['PutParameter'], names: [`${CONFIG_PATH}/traffic/percentage`] });
      const failed = await call('POST', '/admin/rollback', LEVEL_3);
      expect(failed.status).toBe(503);
      expect(failed.json.error.message).toContain('could not write traffic/percentage');
      expect(latch()).toMatchObject({ active: true, level: 3, code: { from: '3', to: '2' } });
      expect(code.live.version).toBe('3');
      expect(code.lambda.count('UpdateAlias')).toBe(0);

      world.ssm.heal();
      const repeat = await call('POST', '/admin/rollback', LEVEL_3);
      expect(repeat.status).toBe(200);
      expect(repeat.json.code).toEqual({ from: '3', to: '2', moved: true });
      expect(configValues().slice(1)).toEqual(['false', '0']);
      expect(code.live.version).toBe('2');
      expect(latch()).toMatchObject({ reason: 'bad deploy', code: { from: '3', to: '2' } });
    });

    it('when the store cannot be read: nothing is changed', async () => {
      world.ssm.fail({ type: 'InternalServerError', status: 500, operations: ['GetParametersByPath'] });
      const { status, json } = await call('POST', '/admin/rollback', LEVEL_3);
      expect(status).toBe(503);
      expect(json.error.message).toBe('the configuration store cannot be read; nothing was changed');
      expect(code.live.version).toBe('3');
      expect(code.lambda.count('UpdateAlias')).toBe(0);
    });
  });
});

describe('admin: bad input changes nothing', () => {
  it.each([
    ['101', { percentage: 101, reason: 'r' }],
    ['-1', { percentage: -1, reason: 'r' }],
    ['"50"', { percentage: '50', reason: 'r' }],
    ['50.5', { percentage: 50.5, reason: 'r' }],
    ['a missing reason', { percentage: 50 }],
    ['an empty reason', { percentage: 50, reason: '   ' }],
    ['a 600-character reason', { percentage: 50, reason: 'x'.repeat(600) }],
    ['an extra field', { percentage: 50, reason: 'r', force: true }],
  ])('PUT /admin/traffic rejects %s with 400', async (_name, body) => {
    const { status, json } = await call('PUT', '/admin/traffic', body);
    expect(status).toBe(400);
    expect(json.error.code).toBe('ValidationError');
    expect(world.ssm.count('PutParameter')).toBe(0);
  });

  it('rejects NaN, which is not JSON, with 400', async () => {
    const { status } = await call('PUT', '/admin/traffic', '{"percentage": NaN, "reason": "r"}', { raw: true });
    expect(status).toBe(400);
    expect(world.ssm.count('PutParameter')).toBe(0);
  });

  it.each([
    ['an unknown mode', 'PUT', '/admin/routing/mode', { mode: 'turbo', reason: 'r' }, 400],
    ['a non-boolean flag value', 'PUT', '/admin/feature-flags/hybrid-routing', { enabled: 'yes', reason: 'r' }, 400],
    ['an unknown flag', 'PUT', '/admin/feature-flags/bedrock-support', { enabled: true, reason: 'r' }, 404],
    ['a policy with an unknown field', 'PUT', '/admin/routing/policy', { policy: { turbo: true }, reason: 'r' }, 400],
    ['a policy whose target exceeds its hard limit', 'PUT', '/admin/routing/policy', { policy: { operations: { background: { strategy: 'mcp-first', budget: { targetMs: 9000, hardMs: 1000 } } } }, reason: 'r' }, 400],
    ['rollback level 4', 'POST', '/admin/rollback', { level: 4, reason: 'r' }, 400],
    ['rollback level "3"', 'POST', '/admin/rollback', { level: '3', reason: 'r' }, 400],
    ['a latch clear without reason', 'DELETE', '/admin/rollback', {}, 400],
    ['a latch clear with a force that is not a boolean', 'DELETE', '/admin/rollback', { reason: 'r', force: 'yes' }, 400],
    ['a breaker reset with force', 'POST', '/admin/circuit-breakers/reset', { reason: 'r', force: true }, 400],
  ])('rejects %s', async (_name, method, path, body, status) => {
    expect((await call(method, path, body)).status).toBe(status);
    expect(world.ssm.count('PutParameter')).toBe(0);
  });

  it('answers 404 for an unknown admin route', async () => {
    expect((await call('POST', '/admin/emergency/enable', {})).status).toBe(404);
  });
});

describe('admin: SSM failures', () => {
  it('retries TooManyUpdates and then succeeds', async () => {
    world.ssm.fail({ type: 'TooManyUpdates', status: 400, operations: ['PutParameter'], times: 2 });
    const { status } = await call('PUT', '/admin/traffic', { percentage: 5, reason: 'canary' });
    expect(status).toBe(200);
    expect(value('traffic/percentage')).toBe('5');
  });

  it('answers 503 when a write keeps failing, and writes nothing after it', async () => {
    seedConfig(world.ssm, { ...HYBRID_FOR_EVERYONE });
    world.ssm.fail({ type: 'InternalServerError', status: 500, operations: ['PutParameter'], names: [`${CONFIG_PATH}/feature-flags/hybrid-routing`] });
    const { status, json } = await call('POST', '/admin/rollback', { level: 2, reason: 'errors' });
    expect(status).toBe(503);
    expect(json.error.message).toContain('could not write feature-flags/hybrid-routing');
    expect(JSON.parse(value('rollback/state')!).active).toBe(true);
    expect(value('traffic/percentage')).toBe('100');
  });

  it('answers 503 and writes nothing when the store cannot be read', async () => {
    world.ssm.fail({ type: 'InternalServerError', status: 500, operations: ['GetParametersByPath'] });
    const { status, json } = await call('PUT', '/admin/traffic', { percentage: 5, reason: 'canary' });
    expect(status).toBe(503);
    expect(json.error.code).toBe('Unavailable');
    expect(world.ssm.count('PutParameter')).toBe(0);
  });
});

describe('admin: audit', () => {
  it('lists every change newest first: parameter, old → new, reason, who, when', async () => {
    await call('PUT', '/admin/feature-flags/hybrid-routing', { enabled: true, reason: 'go live' });
    for (const percentage of [5, 25]) await call('PUT', '/admin/traffic', { percentage, reason: `ramp to ${percentage}` }, { caller: 'arn:aws:iam::123456789012:user/bob' });
    const { status, json } = await call('GET', '/admin/audit', undefined, { query: { limit: '3' } });
    expect(status).toBe(200);
    expect(json.entries).toEqual([
      { parameter: 'traffic/percentage', version: 3, oldValue: '5', newValue: '25', reason: 'ramp to 25', who: 'arn:aws:iam::123456789012:user/bob', at: expect.any(String) },
      { parameter: 'traffic/percentage', version: 2, oldValue: '0', newValue: '5', reason: 'ramp to 5', who: 'arn:aws:iam::123456789012:user/bob', at: expect.any(String) },
      { parameter: 'feature-flags/hybrid-routing', version: 2, oldValue: 'false', newValue: 'true', reason: 'go live', who: ALICE, at: expect.any(String) },
    ]);
    const times = json.entries.map((e: any) => Date.parse(e.at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
  });

  it('leaves health writes out unless asked', async () => {
    const without = await call('GET', '/admin/audit', undefined, { query: { limit: '500' } });
    expect(without.json.entries.some((e: any) => e.parameter.startsWith('health/'))).toBe(false);
    const withHealth = await call('GET', '/admin/audit', undefined, { query: { limit: '500', include: 'health' } });
    expect(withHealth.json.entries.filter((e: any) => e.parameter.startsWith('health/'))).toHaveLength(COMPONENTS.length);
  });

  it.each([['0'], ['501'], ['ten']])('rejects limit=%s with 400', async (limit) => {
    expect((await call('GET', '/admin/audit', undefined, { query: { limit } })).status).toBe(400);
  });
});

describe('admin: concurrency', () => {
  it('20 concurrent writes interleaved with a rollback end latched, at effective traffic 0, all audited', async () => {
    seedConfig(world.ssm, { ...HYBRID_FOR_EVERYONE, 'traffic/percentage': '5' });
    const writes = Array.from({ length: 20 }, (_, i) =>
      i % 2 === 0
        ? call('PUT', '/admin/traffic', { percentage: 10 + i, reason: `ramp ${i}` })
        : call('PUT', '/admin/feature-flags/hybrid-routing', { enabled: true, reason: `flag ${i}` }),
    );
    const rollback = call('POST', '/admin/rollback', { level: 2, reason: 'alarm during ramp' });
    const results = await Promise.all([...writes.slice(0, 10), rollback, ...writes.slice(10)]);
    expect(results.every((r) => [200, 409].includes(r.status))).toBe(true);

    const { json } = await call('GET', '/admin/status');
    expect(json.state.rollback.active).toBe(true);
    expect(json.state.effectiveTrafficPercentage).toBe(0);

    for (const name of ['traffic/percentage', 'feature-flags/hybrid-routing', 'rollback/state']) {
      const versions = world.ssm.history(`${CONFIG_PATH}/${name}`).map((v) => v.version);
      expect(versions).toEqual(versions.map((_, i) => i + 1));
    }
    const audit = await call('GET', '/admin/audit', undefined, { query: { limit: '500' } });
    const audited = audit.json.entries.filter((e: any) => e.version > 1);
    const stored = ['traffic/percentage', 'feature-flags/hybrid-routing', 'rollback/state'].reduce((n, name) => n + world.ssm.history(`${CONFIG_PATH}/${name}`).length - 1, 0);
    expect(audited.filter((e: any) => ['traffic/percentage', 'feature-flags/hybrid-routing', 'rollback/state'].includes(e.parameter))).toHaveLength(stored);
  });
});
