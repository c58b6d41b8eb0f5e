import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import errorRateAlarm from '../fixtures/alarm-event-error-rate.json';
import scheduledEvent from '../fixtures/scheduled-event.json';
import { StreamEventParser } from '../../lambda/shared/stream-events';
import { COMPONENTS } from '../../lambda/shared/vocabulary';
import { assetByPrefix, synthesizeAssets, type FunctionAsset } from '../support/assets';
import { JOBS_QUEUE, JOBS_TABLE, VISIBILITY_MS, jobsEvent, startJobsWorld, type JobsWorld } from './support/jobs-world';
import { CONFIG_PATH, HYBRID_FOR_EVERYONE, TOPIC_ARN, apiEvent, invokeEvent, seedConfig, startWorld, type World } from './support/world';

let world: World;
let jobs: JobsWorld;
let assets: Record<string, FunctionAsset>;

beforeAll(async () => {
  [world, jobs] = await Promise.all([startWorld(), startJobsWorld()]);
  assets = synthesizeAssets('dev');
}, 120_000);
afterAll(async () => Promise.all([world.stop(), jobs.stop()]));

/**
 * Runs a bundled function from the cloud assembly in its own Node process, configured only by its
 * template environment, the standard AWS_ENDPOINT_URL_* variables and MCP_SERVER_URL.
 */
async function invokeAsset(asset: FunctionAsset, events: unknown[], resolved: Record<string, string> = {}): Promise<any[]> {
  return startAsset(asset, events, resolved).results;
}

/** Starts a bundled function in its own Node process; `child` can be killed mid-run. */
function startAsset(asset: FunctionAsset, events: unknown[], resolved: Record<string, string> = {}): { child: ChildProcess; results: Promise<any[]> } {
  const dir = mkdtempSync(path.join(tmpdir(), 'asset-'));
  const eventsFile = path.join(dir, 'events.json');
  const resultsFile = path.join(dir, 'results.json');
  writeFileSync(eventsFile, JSON.stringify(events));
  const child = spawn(process.execPath, [path.join(__dirname, '..', 'support', 'invoke-asset.mjs'), asset.file, eventsFile, resultsFile], {
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
      AWS_ENDPOINT_URL_DYNAMODB: jobs.dynamodb.url,
      AWS_ENDPOINT_URL_SQS: jobs.sqs.url,
      MCP_SERVER_URL: world.mcp.url,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 60_000,
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const results = new Promise<any[]>((resolve, reject) =>
    child.on('exit', (code, signal) => {
      if (code === 0) resolve(JSON.parse(readFileSync(resultsFile, 'utf8')) as any[]);
      else reject(new Error(`asset exited with ${signal ?? code}: ${stderr}`));
    }),
  );
  return { child, results };
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
    ]);
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

describe('the long-operation assets in cdk.out', () => {
  const jobsResolved = () => ({ JOBS_TABLE_NAME: JOBS_TABLE, JOBS_QUEUE_URL: jobs.sqs.queueUrl(JOBS_QUEUE) });

  it('the stream function streams Bedrock deltas as server-sent events through the runtime\'s streaming contract', async () => {
    const stream = assetByPrefix(assets, 'StreamApiStreamFunction');
    expect(stream.environment).toMatchObject({ STREAM_BUDGET_MS: '60000', CONFIG_PATH: '/hybrid-routing/dev' });
    seedConfig(world.ssm, HYBRID_FOR_EVERYONE);
    world.bedrock.reset();
    world.bedrock.queue({ kind: 'stream', deltas: ['Streamed ', 'from ', 'the ', 'bundle.'], delayMs: 20 });
    const event = invokeEvent({ operation: 'emergency', messages: [{ role: 'user', content: 'hello' }] });
    Object.assign(event, { resource: '/v1/stream', path: '/v1/stream' });
    const [result] = await invokeAsset(stream, [event]);
    expect(result.prelude).toMatchObject({ statusCode: 200, headers: { 'content-type': 'text/event-stream' } });
    const events = new StreamEventParser().push(result.body);
    expect(events.map((e) => e.event)).toEqual(['routing', 'delta', 'delta', 'delta', 'delta', 'usage', 'done']);
    expect(events.filter((e) => e.event === 'delta').map((e) => (e.data as { text: string }).text).join('')).toBe('Streamed from the bundle.');
    expect(world.bedrock.streamCalls.map((c) => c.modelId)).toEqual([stream.environment.BEDROCK_MODEL_ID]);
  });

  it('the jobs assets submit a job; a worker killed mid-try leaves it to the next, which finishes it', async () => {
    seedConfig(world.ssm, HYBRID_FOR_EVERYONE);
    jobs.sqs.purge();
    world.mcp.toolCalls.length = 0;
    const api = assetByPrefix(assets, 'JobsApiFunction');
    const worker = assetByPrefix(assets, 'JobsWorkerFunction');
    expect(worker.environment).toMatchObject({ JOB_BUDGET_MS: '600000', JOBS_TABLE_NAME: { Ref: expect.any(String) }, JOBS_QUEUE_URL: { Ref: expect.any(String) } });
    const alice = 'arn:aws:iam::123456789012:user/alice';
    const [submitted] = await invokeAsset(api, [jobsEvent(alice, { submit: { operation: 'background', messages: [{ role: 'user', content: 'hello' }] } })], jobsResolved());
    expect(submitted.statusCode).toBe(202);
    const { jobId } = JSON.parse(submitted.body);

    // The first worker hangs in the MCP call and is killed there, as a timeout or a crash would.
    world.mcp.behavior = 'hang';
    const [message] = jobs.sqs.receive(JOBS_QUEUE, 1);
    const record = { messageId: message!.messageId, receiptHandle: message!.receiptHandle, body: message!.body, attributes: { ApproximateReceiveCount: '1' }, eventSource: 'aws:sqs' };
    const first = startAsset(worker, [{ Records: [record] }], jobsResolved());
    for (let waited = 0; world.mcp.toolCalls.length === 0 && waited < 20_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(world.mcp.toolCalls).toHaveLength(1);
    first.child.kill('SIGKILL');
    await expect(first.results).rejects.toThrow(/SIGKILL/);
    expect(jobs.sqs.messages(JOBS_QUEUE)).toHaveLength(1);

    world.mcp.behavior = 'answer';
    jobs.sqs.advance(VISIBILITY_MS);
    const second = await jobs.sqs.poll(JOBS_QUEUE, async (event) => (await invokeAsset(worker, [event], jobsResolved()))[0]);
    expect(second).toEqual({ received: 1, failed: [] });
    const [status] = await invokeAsset(api, [jobsEvent(alice, { jobId })], jobsResolved());
    expect(JSON.parse(status.body)).toMatchObject({ jobId, status: 'succeeded', attempts: 2, result: { output: { text: 'mcp answer to background' } } });
  });
});
