import type { Context } from 'aws-lambda';
import scheduledEvent from '../fixtures/scheduled-event.json';
import type { HealthCheckReport } from '../../lambda/health-check/health-check';
import { COMPONENTS } from '../../lambda/shared/vocabulary';
import { CONFIG_PATH, MODEL_ID, StdoutCapture, healthCheckEnvironment, lambdaContext, loadHandler, seedConfig, sleep, startWorld, type World } from './support/world';

const HEALTH_CHECK = require.resolve('../../lambda/health-check/handler');
type HealthHandler = (event: unknown, context: Context) => Promise<HealthCheckReport>;

let world: World;
let run: () => Promise<HealthCheckReport>;
const stdout = new StdoutCapture();

beforeAll(async () => {
  world = await startWorld();
});
afterAll(async () => world.stop());
beforeEach(() => {
  world.bedrock.reset();
  world.mcp.behavior = 'answer';
  world.mcp.exposeTool = true;
  world.ssm.heal();
  seedConfig(world.ssm);
  for (const component of COMPONENTS) world.ssm.put(`${CONFIG_PATH}/health/${component}`, JSON.stringify({ status: 'unknown', lastCheckedAt: null, latencyMs: null, consecutiveFailures: 0, message: 'initial' }));
  world.ssm.resetCalls();
  const handler = loadHandler(HEALTH_CHECK, healthCheckEnvironment(world)) as unknown as HealthHandler;
  run = () => handler(scheduledEvent, lambdaContext());
  stdout.clear();
  stdout.start();
});
afterEach(() => stdout.stop());

const stored = (component: string) => JSON.parse(world.ssm.get(`${CONFIG_PATH}/health/${component}`)!);
const description = (component: string) => world.ssm.history(`${CONFIG_PATH}/health/${component}`).at(-1)!.description;

describe('health check', () => {
  it('writes all five components, once each, when everything is up', async () => {
    const report = await run();
    for (const component of COMPONENTS) {
      expect(stored(component)).toEqual({
        status: 'healthy',
        lastCheckedAt: report.checkedAt,
        latencyMs: component === 'bedrock-support' ? null : expect.any(Number),
        consecutiveFailures: 0,
        message: expect.any(String),
      });
    }
    expect(world.ssm.count('PutParameter')).toBe(5);
    // One read of the path: 11 parameters come in two pages of at most 10.
    expect(world.ssm.count('GetParametersByPath')).toBe(2);
    expect(description('direct-bedrock')).toBe(`direct-bedrock unknown -> healthy: Converse on ${MODEL_ID} answered`);
    expect(stored('hybrid-monitor').message).toBe('3 of 3 probes passed');
  });

  it('probes Bedrock with a one-token Converse on the probe model', async () => {
    await run();
    expect(world.bedrock.calls).toEqual([{ modelId: MODEL_ID, body: { messages: [{ role: 'user', content: [{ text: 'ping' }] }], inferenceConfig: { maxTokens: 1 } } }]);
  });

  it('walks direct-bedrock through degraded to unhealthy as Bedrock fails 1, 2, 3, 4 times, then recovers', async () => {
    world.bedrock.queue(...Array(4).fill({ kind: 'error', type: 'ServiceUnavailableException', status: 503 }));
    const seen: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      await run();
      seen.push(`${stored('direct-bedrock').status}/${stored('direct-bedrock').consecutiveFailures} ${stored('bedrock-support').status}`);
    }
    expect(seen).toEqual(['degraded/1 degraded', 'degraded/2 degraded', 'unhealthy/3 degraded', 'unhealthy/4 degraded', 'healthy/0 healthy']);
    expect(world.ssm.history(`${CONFIG_PATH}/health/direct-bedrock`).map((v) => v.description).slice(-3)).toEqual([
      'direct-bedrock degraded -> unhealthy after 3 failed check(s): ServiceUnavailableException: injected ServiceUnavailableException',
      'direct-bedrock still unhealthy after 4 failed check(s): ServiceUnavailableException: injected ServiceUnavailableException',
      `direct-bedrock unhealthy -> healthy: Converse on ${MODEL_ID} answered`,
    ]);
    expect(stored('bedrock-support').message).toBe('both paths are healthy');
  });

  it('reports the MCP server stopped, and reconnects once it is back', async () => {
    await run();
    await world.mcp.stop();
    await run();
    expect(stored('mcp-router')).toMatchObject({ status: 'degraded', consecutiveFailures: 1, message: expect.stringMatching(/fetch failed|ECONNREFUSED|connect/i) });
    await world.mcp.start();
    await run();
    expect(stored('mcp-router')).toMatchObject({ status: 'healthy', consecutiveFailures: 0 });
  });

  it('fails the MCP probe when the server does not list the tool', async () => {
    world.mcp.exposeTool = false;
    await run();
    expect(stored('mcp-router')).toMatchObject({ status: 'degraded', message: 'the server does not list the tool "invoke" (it lists 1 other tool(s))' });
  });

  it('fails the intelligent-router probe when a parameter does not parse', async () => {
    world.ssm.put(`${CONFIG_PATH}/traffic/percentage`, 'fifty');
    await run();
    expect(stored('intelligent-router')).toMatchObject({ status: 'degraded', message: expect.stringContaining('traffic/percentage does not parse') });
  });

  it('reports a failed write, and still writes everything else and emits its metrics', async () => {
    world.ssm.fail({ type: 'InternalServerError', status: 500, operations: ['PutParameter'], names: [`${CONFIG_PATH}/health/mcp-router`] });
    await expect(run()).rejects.toThrow(`health check ran but could not write ${CONFIG_PATH}/health/mcp-router`);
    expect(stored('mcp-router').status).toBe('unknown');
    for (const component of ['direct-bedrock', 'intelligent-router', 'bedrock-support']) expect(stored(component).status).toBe('healthy');
    expect(stored('hybrid-monitor')).toMatchObject({ status: 'degraded', message: `3 of 3 probes passed; could not write ${CONFIG_PATH}/health/mcp-router` });
    const emf = stdout.emf().filter((d) => d.metrics.includes('HealthCheckSuccess'));
    expect(emf.map((d) => d.dimensions.Component).sort()).toEqual(['direct-bedrock', 'intelligent-router', 'mcp-router']);
  });

  it('retries a write throttled with TooManyUpdates', async () => {
    world.ssm.fail({ type: 'TooManyUpdates', status: 400, operations: ['PutParameter'], times: 2 });
    await run();
    expect(world.ssm.count('PutParameter')).toBe(7);
    for (const component of COMPONENTS) expect(stored(component).status).toBe('healthy');
  });

  it('emits HealthCheckSuccess and HealthCheckLatency per probed component', async () => {
    world.bedrock.queue({ kind: 'error', type: 'AccessDeniedException', status: 403 });
    await run();
    const byComponent = Object.fromEntries(stdout.emf().filter((d) => d.metrics.includes('HealthCheckSuccess')).map((d) => [d.dimensions.Component, d.values.HealthCheckSuccess]));
    expect(byComponent).toEqual({ 'direct-bedrock': 0, 'mcp-router': 1, 'intelligent-router': 1 });
  });
});

describe('health check: bounded, and blind to nothing', () => {
  const successMetrics = () =>
    Object.fromEntries(stdout.emf().filter((d) => d.metrics.includes('HealthCheckSuccess')).map((d) => [d.dimensions.Component, d.values.HealthCheckSuccess]));
  /**
   * One run in a container whose function times out `timeoutMs` after the invocation starts, with
   * probes bounded by `probeTimeoutMs`: how it ended, and how long the invocation took.
   */
  const runWithin = async (timeoutMs: number, probeTimeoutMs = 2_000) => {
    const handler = loadHandler(HEALTH_CHECK, { ...healthCheckEnvironment(world), PROBE_TIMEOUT_MS: String(probeTimeoutMs) }) as unknown as HealthHandler;
    const started = Date.now();
    const deadline = started + timeoutMs;
    const outcome = await handler(scheduledEvent, { ...lambdaContext(), getRemainingTimeInMillis: () => deadline - Date.now() }).catch((error: unknown) => error);
    return { outcome, elapsedMs: Date.now() - started };
  };
  const until = async (condition: () => boolean) => {
    while (!condition()) await sleep(10);
  };

  it('emits its metrics before it writes anything', async () => {
    world.ssm.delay({ operations: ['PutParameter'] });
    const running = run();
    // The first write is being held: nothing has been written yet.
    await until(() => world.ssm.count('PutParameter') >= 1);
    expect(successMetrics()).toEqual({ 'direct-bedrock': 1, 'mcp-router': 1, 'intelligent-router': 1 });
    expect(world.ssm.writes).toEqual([]);
    world.ssm.heal();
    await running;
    expect(world.ssm.writes).toHaveLength(5);
  });

  it('keeps the failure count when the previous health cannot be read: the failed probe is not written', async () => {
    world.ssm.put(`${CONFIG_PATH}/health/direct-bedrock`, JSON.stringify({ status: 'degraded', lastCheckedAt: new Date().toISOString(), latencyMs: 5, consecutiveFailures: 2, message: 'failing' }));
    world.bedrock.defaultBehavior = { kind: 'error', type: 'ServiceUnavailableException', status: 503 };
    world.ssm.fail({ type: 'ThrottlingException', status: 400, operations: ['GetParametersByPath'], times: 1 });
    const report = await run();
    expect(report.skippedWrites).toEqual(['direct-bedrock', 'intelligent-router', 'bedrock-support']);
    expect(stored('direct-bedrock')).toMatchObject({ status: 'degraded', consecutiveFailures: 2 });
    expect(stored('mcp-router')).toMatchObject({ status: 'healthy' });
    expect(stored('hybrid-monitor')).toMatchObject({
      status: 'degraded',
      message: '1 of 3 probes passed; previous health unreadable, not written: direct-bedrock, intelligent-router, bedrock-support',
    });
    expect(successMetrics()).toEqual({ 'direct-bedrock': 0, 'mcp-router': 1, 'intelligent-router': 0 });

    // The next run reads the count it kept, and the third failure in a row makes it unhealthy.
    await run();
    expect(stored('direct-bedrock')).toMatchObject({ status: 'unhealthy', consecutiveFailures: 3 });
  });

  it('reports configuration problems in ConfigProblems on each run, with no traffic', async () => {
    world.ssm.put(`${CONFIG_PATH}/rollback/state`, 'garbage');
    await run();
    await run();
    const problems = stdout.emf().filter((d) => d.metrics.includes('ConfigProblems'));
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatchObject({ dimensions: { Service: 'health-check', Environment: 'dev' }, values: expect.objectContaining({ ConfigProblems: 1 }) });
    expect(stdout.json().filter((l) => l.message === 'configuration problems')[0]).toMatchObject({
      level: 'WARN',
      problems: ['rollback/state does not parse; reading it as an active latch (control path)'],
    });
  });

  it('ends within its timeout while SSM throttles everything, metrics first', async () => {
    world.ssm.fail({ type: 'ThrottlingException', status: 400 });
    const { outcome, elapsedMs } = await runWithin(3_000);
    expect(outcome).toMatchObject({ name: 'HealthWriteFailure', message: expect.stringContaining('health check ran but could not write') });
    expect(elapsedMs).toBeLessThan(3_000);
    expect(successMetrics()).toEqual({ 'direct-bedrock': 1, 'mcp-router': 1, 'intelligent-router': 0 });
    // One attempt per SDK call: the writer's retries are the only ones, and they stop at the deadline.
    expect(world.ssm.count('GetParametersByPath')).toBe(1);
  });

  it('ends within its timeout while SSM hangs, metrics first', async () => {
    world.ssm.delay({});
    const { outcome: failure, elapsedMs } = await runWithin(3_000, 1_000);
    expect(elapsedMs).toBeLessThan(3_000);
    expect(failure).toMatchObject({ name: 'HealthWriteFailure', report: { skippedWrites: expect.arrayContaining(['intelligent-router']) } });
    expect(successMetrics()).toMatchObject({ 'direct-bedrock': 1, 'intelligent-router': 0 });
    expect(stdout.json().filter((l) => l.message === 'health write failed').map((l) => l.errorName)).toContain('DeadlineExceeded');
  });
});
