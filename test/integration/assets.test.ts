import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import errorRateAlarm from '../fixtures/alarm-event-error-rate.json';
import scheduledEvent from '../fixtures/scheduled-event.json';
import { COMPONENTS } from '../../lambda/shared/vocabulary';
import { assetByPrefix, synthesizeAssets, type FunctionAsset } from '../support/assets';
import { CONFIG_PATH, HYBRID_FOR_EVERYONE, TOPIC_ARN, apiEvent, invokeEvent, seedConfig, startWorld, type World } from './support/world';

const run = promisify(execFile);
let world: World;
let assets: Record<string, FunctionAsset>;

beforeAll(async () => {
  world = await startWorld();
  assets = synthesizeAssets('dev');
}, 120_000);
afterAll(async () => world.stop());

/**
 * Runs a bundled function from the cloud assembly in its own Node process, configured only by its
 * template environment, the standard AWS_ENDPOINT_URL_* variables and MCP_SERVER_URL.
 */
async function invokeAsset(asset: FunctionAsset, events: unknown[], resolved: Record<string, string> = {}): Promise<any[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'asset-'));
  const eventsFile = path.join(dir, 'events.json');
  const resultsFile = path.join(dir, 'results.json');
  writeFileSync(eventsFile, JSON.stringify(events));
  await run(process.execPath, [path.join(__dirname, '..', 'support', 'invoke-asset.mjs'), asset.file, eventsFile, resultsFile], {
    env: {
      PATH: process.env.PATH,
      ...asset.environment,
      // What CloudFormation resolves at deploy time (Refs to other resources).
      ...resolved,
      AWS_REGION: 'eu-central-1',
      AWS_ACCESS_KEY_ID: 'AKIAFAKEFORTESTS',
      AWS_SECRET_ACCESS_KEY: 'fake-secret-for-tests',
      AWS_ENDPOINT_URL_SSM: world.ssm.url,
      AWS_ENDPOINT_URL_BEDROCK_RUNTIME: world.bedrock.url,
      AWS_ENDPOINT_URL_SNS: world.sns.url,
      MCP_SERVER_URL: world.mcp.url,
    },
    timeout: 60_000,
  });
  return JSON.parse(readFileSync(resultsFile, 'utf8')) as any[];
}

describe('the assets in cdk.out', () => {
  it('the rollback function latches and rolls back on a real alarm event, and notifies', async () => {
    world.ssm.clear();
    seedConfig(world.ssm, HYBRID_FOR_EVERYONE);
    world.sns.published.length = 0;
    const rollback = assetByPrefix(assets, 'RollbackRollbackFunction');
    expect(rollback.environment).toMatchObject({ ENVIRONMENT: 'dev', CONFIG_PATH: '/hybrid-routing/dev', TOPIC_ARN: { Ref: expect.any(String) } });
    const [first, second] = await invokeAsset(rollback, [errorRateAlarm, errorRateAlarm], { TOPIC_ARN });
    expect(first).toEqual({ action: 'rolled-back', level: 2, written: ['rollback/state', 'feature-flags/hybrid-routing', 'traffic/percentage'] });
    expect(second).toMatchObject({ action: 'already-rolled-back' });
    expect(JSON.parse(world.ssm.get(`${CONFIG_PATH}/rollback/state`)!)).toMatchObject({ active: true, level: 2, source: 'alarm: HybridRouting-dev-hybrid-error-rate' });
    expect([world.ssm.get(`${CONFIG_PATH}/feature-flags/hybrid-routing`), world.ssm.get(`${CONFIG_PATH}/traffic/percentage`)]).toEqual(['false', '0']);
    expect(world.sns.published).toHaveLength(1);
  });

  it('the admin function runs the go-live ramp, a rollback, a refused raise and the audit', async () => {
    world.ssm.clear();
    seedConfig(world.ssm);
    const admin = assetByPrefix(assets, 'AdminApiAdminFunction');
    const put = (path: string, body: unknown, resource = path) => {
      const event = apiEvent('PUT', resource, path, resource.includes('{flag}') ? { flag: 'hybrid-routing' } : null);
      event.body = JSON.stringify(body);
      return event;
    };
    const rollback = apiEvent('POST', '/admin/rollback', '/admin/rollback');
    rollback.body = JSON.stringify({ level: 2, reason: 'error spike' });
    const audit = apiEvent('GET', '/admin/audit', '/admin/audit');
    audit.queryStringParameters = { limit: '3' };
    const results = await invokeAsset(admin, [
      put('/admin/feature-flags/hybrid-routing', { enabled: true, reason: 'go live' }, '/admin/feature-flags/{flag}'),
      ...[5, 25, 75, 100].map((percentage) => put('/admin/traffic', { percentage, reason: `ramp to ${percentage}` })),
      rollback,
      put('/admin/traffic', { percentage: 100, reason: 'again' }),
      audit,
    ], { TOPIC_ARN });
    expect(results.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200, 200, 409, 200]);
    expect(JSON.parse(results[5].body).state).toMatchObject({ hybridEnabled: false, trafficPercentage: 0, rollback: { active: true, level: 2 } });
    expect(JSON.parse(results[7].body).entries.map((e: any) => `${e.parameter} ${e.oldValue} -> ${e.newValue}`)).toEqual([
      'traffic/percentage 100 -> 0',
      'feature-flags/hybrid-routing true -> false',
      expect.stringMatching(/^rollback\/state /),
    ]);
  });

  it('the router routes API Gateway events against the fakes, loaded on its own', async () => {
    const router = assetByPrefix(assets, 'RouterApiRouterFunction');
    seedConfig(world.ssm, HYBRID_FOR_EVERYONE);
    world.bedrock.reset();
    world.mcp.toolCalls.length = 0;
    const messages = [{ role: 'user', content: 'hello' }];
    const [emergency, background, invalid] = await invokeAsset(router, [
      invokeEvent({ operation: 'emergency', messages }),
      invokeEvent({ operation: 'background', messages }),
      invokeEvent({ operation: 'emergency', messages, extra: true }),
    ]);
    expect(emergency.statusCode).toBe(200);
    expect(JSON.parse(emergency.body).routing).toMatchObject({ provider: 'bedrock', cohort: 'hybrid' });
    expect(JSON.parse(background.body).routing).toMatchObject({ provider: 'mcp', cohort: 'hybrid' });
    expect(invalid.statusCode).toBe(400);
    expect(world.bedrock.calls.map((c) => c.modelId)).toEqual([router.environment.BEDROCK_MODEL_ID]);
    expect(world.mcp.toolCalls).toHaveLength(1);
  });

  it('the health check writes the five components, and the router reports them', async () => {
    seedConfig(world.ssm, HYBRID_FOR_EVERYONE);
    world.bedrock.reset();
    const [report] = await invokeAsset(assetByPrefix(assets, 'HealthChecksHealthCheckFunction'), [scheduledEvent]);
    for (const component of COMPONENTS) {
      expect(JSON.parse(world.ssm.get(`${CONFIG_PATH}/health/${component}`)!)).toMatchObject({ status: 'healthy', lastCheckedAt: report.checkedAt });
    }

    const [detailed] = await invokeAsset(assetByPrefix(assets, 'RouterApiRouterFunction'), [apiEvent('GET', '/health/detailed', '/health/detailed')]);
    expect(detailed.statusCode).toBe(200);
    const body = JSON.parse(detailed.body);
    expect(body.status).toBe('healthy');
    expect(Object.fromEntries(Object.entries(body.components).map(([name, h]: [string, any]) => [name, h.status]))).toEqual(
      Object.fromEntries(COMPONENTS.map((c) => [c, 'healthy'])),
    );
  });
});
