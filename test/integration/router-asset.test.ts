import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { assetByPrefix, synthesizeAssets, type FunctionAsset } from '../support/assets';
import { HYBRID_FOR_EVERYONE, invokeEvent, seedConfig, startWorld, type World } from './support/world';

const run = promisify(execFile);
let world: World;
let router: FunctionAsset;

beforeAll(async () => {
  world = await startWorld();
  router = assetByPrefix(synthesizeAssets('dev'), 'RouterApiRouterFunction');
}, 120_000);
afterAll(async () => world.stop());

/** Runs the bundled router in its own Node process with the template's environment. */
async function invokeAsset(bodies: unknown[]): Promise<APIGatewayProxyResult[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'router-asset-'));
  const events = path.join(dir, 'events.json');
  const results = path.join(dir, 'results.json');
  writeFileSync(events, JSON.stringify(bodies.map((b) => invokeEvent(b))));
  await run(process.execPath, [path.join(__dirname, '..', 'support', 'invoke-asset.mjs'), router.file, events, results], {
    env: {
      PATH: process.env.PATH,
      ...router.environment,
      AWS_REGION: 'eu-central-1',
      AWS_ACCESS_KEY_ID: 'AKIAFAKEFORTESTS',
      AWS_SECRET_ACCESS_KEY: 'fake-secret-for-tests',
      AWS_ENDPOINT_URL_SSM: world.ssm.url,
      AWS_ENDPOINT_URL_BEDROCK_RUNTIME: world.bedrock.url,
      MCP_SERVER_URL: world.mcp.url,
    },
    timeout: 60_000,
  });
  return JSON.parse(readFileSync(results, 'utf8')) as APIGatewayProxyResult[];
}

describe('the router asset in cdk.out', () => {
  it('is configured by the template to read its own environment and call the configured model', () => {
    expect(router.environment).toMatchObject({ ENVIRONMENT: 'dev', CONFIG_PATH: '/hybrid-routing/dev', MCP_TOOL_NAME: 'invoke' });
  });

  it('routes API Gateway events against the fakes, loaded on its own', async () => {
    seedConfig(world.ssm, HYBRID_FOR_EVERYONE);
    world.bedrock.reset();
    world.mcp.toolCalls.length = 0;
    const messages = [{ role: 'user', content: 'hello' }];
    const [emergency, background, invalid] = await invokeAsset([
      { operation: 'emergency', messages },
      { operation: 'background', messages },
      { operation: 'emergency', messages, extra: true },
    ]);
    expect(emergency!.statusCode).toBe(200);
    expect(JSON.parse(emergency!.body).routing).toMatchObject({ provider: 'bedrock', cohort: 'hybrid' });
    expect(JSON.parse(background!.body).routing).toMatchObject({ provider: 'mcp', cohort: 'hybrid' });
    expect(invalid!.statusCode).toBe(400);
    expect(world.bedrock.calls).toHaveLength(1);
    expect(world.bedrock.calls[0]!.modelId).toBe(router.environment.BEDROCK_MODEL_ID);
    expect(world.mcp.toolCalls).toHaveLength(1);
  });
});
