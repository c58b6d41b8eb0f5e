import type { ComponentHealth } from '../../lambda/shared/routing-config';
import { COMPONENTS } from '../../lambda/shared/vocabulary';
import {
  CONFIG_PATH,
  HYBRID_FOR_EVERYONE,
  StdoutCapture,
  apiEvent,
  invokeEvent,
  lambdaContext,
  lambdaEnvironment,
  loadHandler,
  seedConfig,
  sleep,
  startWorld,
  type World,
} from './support/world';

const ROUTER = require.resolve('../../lambda/router/handler');
let world: World;
const stdout = new StdoutCapture();

beforeAll(async () => {
  world = await startWorld();
});
afterAll(async () => world.stop());
beforeEach(() => {
  world.bedrock.reset();
  world.ssm.heal();
  stdout.start();
});
afterEach(() => stdout.stop());

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
const health = (status: ComponentHealth['status'], lastCheckedAt = minutesAgo(0.5), consecutiveFailures = 0): string =>
  JSON.stringify({ status, lastCheckedAt, latencyMs: 42, consecutiveFailures, message: `${status} by test` });
const allHealthy = (at = minutesAgo(0.5)) => Object.fromEntries(COMPONENTS.map((c) => [`health/${c}`, health('healthy', at)]));

function router(config: Record<string, string>) {
  seedConfig(world.ssm, config);
  const handler = loadHandler(ROUTER, lambdaEnvironment(world));
  return {
    get: async (path: string) => {
      const component = /^\/health\/component\/(.*)$/.exec(path);
      const event = component
        ? apiEvent('GET', '/health/component/{name}', path, { name: component[1]! })
        : apiEvent('GET', path, path);
      const result = await handler(event, lambdaContext());
      return { status: result.statusCode, json: JSON.parse(result.body) as Record<string, any> };
    },
    invoke: async (operation: string) => {
      const result = await handler(invokeEvent({ operation, messages: [{ role: 'user', content: 'x' }] }), lambdaContext());
      return JSON.parse(result.body) as Record<string, any>;
    },
  };
}

describe('GET /health', () => {
  it('answers 200 with the overall status and a timestamp when healthy', async () => {
    const { status, json } = await router(allHealthy()).get('/health');
    expect(status).toBe(200);
    expect(json).toEqual({ status: 'healthy', timestamp: expect.any(String) });
  });

  it('answers 200 degraded when one path is down', async () => {
    const { status, json } = await router({ ...allHealthy(), 'health/mcp-router': health('unhealthy', minutesAgo(0.5), 3) }).get('/health');
    expect([status, json.status]).toEqual([200, 'degraded']);
  });

  it('answers 503 unhealthy when both paths are down', async () => {
    const config = { ...allHealthy(), 'health/mcp-router': health('unhealthy'), 'health/direct-bedrock': health('unhealthy') };
    const { status, json } = await router(config).get('/health');
    expect([status, json.status]).toEqual([503, 'unhealthy']);
  });

  it('answers 503 unhealthy when the health data is stale', async () => {
    const { status, json } = await router(allHealthy(minutesAgo(10))).get('/health');
    expect([status, json.status]).toEqual([503, 'unhealthy']);
  });
});

describe('GET /health/detailed', () => {
  it('reports the five components and the routing state', async () => {
    const { status, json } = await router({ ...HYBRID_FOR_EVERYONE, 'traffic/percentage': '25', ...allHealthy() }).get('/health/detailed');
    expect(status).toBe(200);
    expect(Object.keys(json.components).sort()).toEqual([...COMPONENTS].sort());
    for (const component of COMPONENTS) {
      expect(json.components[component]).toEqual({
        status: 'healthy',
        lastCheckedAt: expect.any(String),
        latencyMs: component === 'bedrock-support' ? null : 42,
        consecutiveFailures: 0,
        message: expect.any(String),
      });
    }
    expect(json.routing).toEqual({
      hybridEnabled: true,
      trafficPercentage: 25,
      effectiveTrafficPercentage: 25,
      mode: 'auto',
      rollback: { active: false, level: null, reason: '', source: '', at: null },
      breakerEpoch: 0,
      breakers: { bedrock: 'closed', mcp: 'closed' },
      config: { origin: 'store', readAt: expect.any(String), problems: [] },
    });
  });

  it('shows effective traffic 0 while the rollback latch is active', async () => {
    const latch = JSON.stringify({ active: true, level: 1, reason: 'latency', source: 'alarm', at: minutesAgo(1), previous: { hybridEnabled: true, trafficPercentage: 100 } });
    const { json } = await router({ ...HYBRID_FOR_EVERYONE, 'rollback/state': latch, ...allHealthy() }).get('/health/detailed');
    expect(json.routing).toMatchObject({ trafficPercentage: 100, effectiveTrafficPercentage: 0, rollback: { active: true, level: 1 } });
  });

  it('reports the monitor unhealthy and the whole unhealthy on stale data', async () => {
    const { status, json } = await router(allHealthy(minutesAgo(10))).get('/health/detailed');
    expect(status).toBe(503);
    expect(json.components['hybrid-monitor'].status).toBe('unhealthy');
    expect(json.components['bedrock-support'].status).toBe('unhealthy');
  });

  it('reports this router degraded while it serves a last good copy', async () => {
    const { get } = router(allHealthy());
    await get('/health');
    world.ssm.fail({ type: 'InternalServerError', status: 500 });
    await sleep(1_050);
    const { json } = await get('/health/detailed');
    expect(json.components['intelligent-router']).toMatchObject({ status: 'degraded', message: expect.stringContaining('last good configuration') });
    expect(json.routing.config.origin).toBe('last-good');
  });
});

describe('GET /health/component/{name}', () => {
  it('answers one component', async () => {
    const { status, json } = await router({ ...allHealthy(), 'health/direct-bedrock': health('unhealthy', minutesAgo(0.5), 4) }).get('/health/component/direct-bedrock');
    expect(status).toBe(503);
    expect(json).toMatchObject({ component: 'direct-bedrock', status: 'unhealthy', consecutiveFailures: 4, timestamp: expect.any(String) });
  });

  it('answers 404 in the error shape for an unknown component', async () => {
    const { status, json } = await router(allHealthy()).get('/health/component/hybrid-router');
    expect(status).toBe(404);
    expect(json).toEqual({ error: { code: 'NotFound', message: expect.stringContaining('no component "hybrid-router"'), details: [] }, requestId: expect.any(String) });
  });
});

describe('health-gated routing', () => {
  it('follows a direct-bedrock flip within one config TTL', async () => {
    const { invoke } = router({ ...HYBRID_FOR_EVERYONE, ...allHealthy() });
    expect((await invoke('infrastructure')).routing).toMatchObject({ provider: 'bedrock', intended: 'bedrock' });
    world.ssm.put(`${CONFIG_PATH}/health/direct-bedrock`, health('unhealthy', new Date().toISOString(), 3));
    expect((await invoke('implementation')).routing.provider).toBe('bedrock');
    await sleep(1_050);
    expect((await invoke('meta-monitor')).routing).toMatchObject({ provider: 'mcp', intended: 'mcp' });
    world.ssm.put(`${CONFIG_PATH}/health/direct-bedrock`, health('healthy', new Date().toISOString()));
    await sleep(1_050);
    expect((await invoke('infrastructure')).routing.provider).toBe('bedrock');
  });
});
