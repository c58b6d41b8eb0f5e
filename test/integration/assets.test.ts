import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import errorRateAlarm from '../fixtures/alarm-event-error-rate.json';
import scheduledEvent from '../fixtures/scheduled-event.json';
import { DEFAULT_PARAMETER_VALUES } from '../../lambda/shared/routing-config';
import { StreamEventParser } from '../../lambda/shared/stream-events';
import { COMPONENTS } from '../../lambda/shared/vocabulary';
import { assetByPrefix, synthesizeAssets, type FunctionAsset } from '../support/assets';
import { JOBS_QUEUE, JOBS_TABLE, VISIBILITY_MS, jobsEvent, startJobsWorld, type JobsWorld } from './support/jobs-world';
import { CONFIG_PATH, HYBRID_FOR_EVERYONE, StdoutCapture, TOPIC_ARN, apiEvent, invokeEvent, seedConfig, startWorld, type World } from './support/world';

let world: World;
let jobs: JobsWorld;
let assets: Record<string, FunctionAsset>;

beforeAll(async () => {
  [world, jobs] = await Promise.all([startWorld(), startJobsWorld()]);
  assets = synthesizeAssets('dev');
}, 120_000);
afterAll(async () => Promise.all([world.stop(), jobs.stop()]));

interface AssetRun {
  readonly results: any[];
  /** What the process printed to stdout and stderr, in order: its logs and EMF documents. */
  readonly output: StdoutCapture;
}

interface AssetOptions {
  /** What CloudFormation resolves at deploy time (Refs to other resources). */
  readonly resolved?: Record<string, string>;
  /** Shrinks each invocation's timeout below the template's. */
  readonly timeoutMs?: number;
}

/** Starts a bundled function in its own Node process; `child` can be killed mid-run. */
function startAsset(asset: FunctionAsset, events: unknown[], options: AssetOptions = {}): { child: ChildProcess; run: Promise<AssetRun> } {
  const dir = mkdtempSync(path.join(tmpdir(), 'asset-'));
  const eventsFile = path.join(dir, 'events.json');
  const resultsFile = path.join(dir, 'results.json');
  const outputFile = path.join(dir, 'output.log');
  writeFileSync(eventsFile, JSON.stringify(events));
  const timeoutMs = options.timeoutMs ?? asset.timeoutSeconds * 1000;
  // One file for both streams, as CloudWatch Logs gets them: their lines stay in order.
  const output = openSync(outputFile, 'w');
  const child = spawn(process.execPath, [path.join(__dirname, '..', 'support', 'invoke-asset.mjs'), asset.file, eventsFile, resultsFile, String(timeoutMs)], {
    env: {
      PATH: process.env.PATH,
      ...asset.environment,
      ...options.resolved,
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
    stdio: ['ignore', output, output],
    timeout: 60_000,
  });
  const run = new Promise<AssetRun>((resolve, reject) =>
    child.on('exit', (code, signal) => {
      closeSync(output);
      const printed = readFileSync(outputFile, 'utf8');
      if (code !== 0) return reject(new Error(`the asset run exited with ${signal ?? code}:\n${printed}`));
      const capture = new StdoutCapture();
      capture.lines.push(...printed.split('\n').filter((line) => line.trim() !== ''));
      resolve({ results: JSON.parse(readFileSync(resultsFile, 'utf8')) as any[], output: capture });
    }),
  );
  return { child, run };
}

/**
 * Runs a bundled function from the cloud assembly in its own Node process, configured only by its
 * template environment, the standard AWS_ENDPOINT_URL_* variables and MCP_SERVER_URL. Each
 * invocation gets the template's timeout unless `timeoutMs` shrinks it.
 */
function runAsset(asset: FunctionAsset, events: unknown[], options: AssetOptions = {}): Promise<AssetRun> {
  return startAsset(asset, events, options).run;
}

async function invokeAsset(asset: FunctionAsset, events: unknown[], resolved: Record<string, string> = {}): Promise<any[]> {
  return (await runAsset(asset, events, { resolved })).results;
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

describe('the router asset under faults (issue 8)', () => {
  const messages = [{ role: 'user', content: 'hello' }];
  const router = () => assetByPrefix(assets, 'RouterApiRouterFunction');
  const requestMetrics = (output: StdoutCapture) => output.emf().filter((d) => d.metrics.includes('Requests')).map((d) => d.values);

  beforeEach(() => {
    world.ssm.heal();
    world.ssm.clear();
    world.bedrock.reset();
    world.mcp.behavior = 'answer';
  });
  afterAll(() => world.ssm.heal());

  it.each([
    ['answers in 5 s', { ms: 5_000 }],
    ['hangs', {}],
  ])('answers a first request with the control path within its budget while SSM %s, and counts it', async (_name, delay) => {
    seedConfig(world.ssm, HYBRID_FOR_EVERYONE);
    world.ssm.delay({ ...delay, operations: ['GetParametersByPath'] });
    const { results, output } = await runAsset(router(), [invokeEvent({ operation: 'emergency', messages })], { resolved: { CONFIG_READ_TIMEOUT_MS: '200' } });
    expect(results[0].statusCode).toBe(200);
    const body = JSON.parse(results[0].body);
    expect(body.routing).toMatchObject({ cohort: 'control', provider: 'mcp' });
    // Emergency's hard budget is 10 s; SSM alone would have taken 5 s or forever.
    expect(body.latencyMs).toBeLessThan(5_000);
    expect(requestMetrics(output)).toEqual([expect.objectContaining({ Cohort: 'control', Requests: 1, Errors: 0, Latency: body.latencyMs })]);
  });

  it('answers from its last good copy within the budget while SSM hangs after the first read', async () => {
    const policy = JSON.stringify({ operations: { emergency: { strategy: 'bedrock-first', budget: { targetMs: 2_000, hardMs: 4_000 } } } });
    seedConfig(world.ssm, { ...HYBRID_FOR_EVERYONE, 'routing/policy': policy });
    world.ssm.delay({ operations: ['GetParametersByPath'], after: 1 });
    const invoke = invokeEvent({ operation: 'emergency', messages });
    const { results, output } = await runAsset(router(), [invoke, { __pauseMs: 1_100 }, invoke], { resolved: { CONFIG_TTL_SECONDS: '1' } });
    const [first, , second] = results.map((r) => (r.body ? JSON.parse(r.body) : r));
    expect(first.routing).toMatchObject({ cohort: 'hybrid', provider: 'bedrock' });
    expect(results[2].statusCode).toBe(200);
    // The hybrid cohort: its last good copy, not the control path.
    expect(second.routing).toMatchObject({ cohort: 'hybrid' });
    // It waited for SSM as long as the router allows (1 s, under half the 2 s target), then
    // answered inside the 4 s hard budget.
    expect(second.latencyMs).toBeGreaterThanOrEqual(1_000);
    expect(second.latencyMs).toBeLessThan(4_000);
    expect(output.json().find((l) => l.message === 'request routed' && l.configOrigin === 'last-good')).toBeDefined();
    expect(requestMetrics(output).map((m) => m.Requests)).toEqual([1, 1]);
  });

  describe('reading rollback/state', () => {
    const problemLine = (why: string) => `rollback/state ${why}; reading it as an active latch (control path)`;
    const cases = [
      { name: 'the hand-written clear value', latch: '{"active":false}' as string | undefined, clear: true, problems: [] as string[] },
      { name: 'a value that does not parse', latch: '{"active": nope}', clear: false, problems: [problemLine('does not parse')] },
      { name: 'no parameter at all', latch: undefined, clear: false, problems: [problemLine('is missing')] },
    ];

    it.each(cases)('reads $name as the invariant says, and reports a problem in every place', async ({ latch, clear, problems }) => {
      const path = `${CONFIG_PATH}-latch-${cases.findIndex((c) => c.latch === latch)}`;
      const values: Record<string, string> = { ...DEFAULT_PARAMETER_VALUES, ...HYBRID_FOR_EVERYONE, 'routing/mode': 'force-bedrock' };
      if (latch === undefined) delete values['rollback/state'];
      else values['rollback/state'] = latch;
      for (const [name, value] of Object.entries(values)) world.ssm.put(`${path}/${name}`, value);

      const { results, output } = await runAsset(
        router(),
        [invokeEvent({ operation: 'emergency', messages }), apiEvent('GET', '/health/detailed', '/health/detailed')],
        { resolved: { CONFIG_PATH: path } },
      );
      const routed = JSON.parse(results[0].body).routing;
      const detailed = JSON.parse(results[1].body);
      const status = (await runAsset(assetByPrefix(assets, 'AdminApiAdminFunction'), [apiEvent('GET', '/admin/status', '/admin/status')], { resolved: { CONFIG_PATH: path } }))
        .results.map((r) => JSON.parse(r.body))[0];

      expect(routed).toMatchObject(clear ? { cohort: 'hybrid', provider: 'bedrock' } : { cohort: 'control', provider: 'mcp', reason: 'rollback latch active' });
      expect(detailed.routing.rollback.active).toBe(!clear);
      expect(detailed.routing.config.problems).toEqual(problems);
      expect(status.state.problems).toEqual(problems);
      const metric = output.emf().filter((d) => d.metrics.includes('ConfigProblems'));
      const warnings = output.json().filter((l) => l.message === 'configuration problems');
      if (clear) {
        expect([metric, warnings]).toEqual([[], []]);
      } else {
        expect(detailed.components['intelligent-router'].status).toBe('degraded');
        expect(metric.map((d) => [d.dimensions.Service, d.values.ConfigProblems])).toEqual([['router', 1]]);
        expect(warnings).toEqual([expect.objectContaining({ level: 'WARN', problems })]);
      }
    });
  });

  it('stops reading a 50 MB MCP answer, falls back to Bedrock, and counts the MCP failure', async () => {
    seedConfig(world.ssm, HYBRID_FOR_EVERYONE);
    world.mcp.behavior = 'huge';
    world.mcp.hugeAnswerBytes = 50 * 1024 * 1024;
    world.mcp.responses.length = 0;
    const { results, output } = await runAsset(router(), [invokeEvent({ operation: 'standard-analysis', messages })]);
    expect(results[0].statusCode).toBe(200);
    expect(results[0].body.length).toBeLessThan(10_000);
    expect(JSON.parse(results[0].body).routing).toMatchObject({ provider: 'bedrock', intended: 'mcp', fallback: true });
    expect(world.mcp.responses).toContain('cut off');
    const mcpErrors = output.emf().find((d) => d.metrics.includes('ProviderErrors') && d.dimensions.Provider === 'mcp');
    expect(mcpErrors?.values.ProviderErrors).toBe(1);
  });

  it('answers 502, not 503 with Retry-After, when Bedrock denies access and the MCP server answers 401', async () => {
    seedConfig(world.ssm, HYBRID_FOR_EVERYONE);
    world.bedrock.defaultBehavior = { kind: 'error', type: 'AccessDeniedException', status: 403 };
    world.mcp.behavior = 'http-401';
    const [answer] = await invokeAsset(router(), [invokeEvent({ operation: 'emergency', messages })]);
    expect(answer.statusCode).toBe(502);
    expect(JSON.parse(answer.body).error.code).toBe('ProviderError');
    expect(answer.headers['retry-after']).toBeUndefined();
  });
});

describe('the health-check asset with SSM throttled', () => {
  afterEach(() => world.ssm.heal());

  it('ends within its timeout, and emits its metrics before it writes', async () => {
    seedConfig(world.ssm, HYBRID_FOR_EVERYONE);
    world.bedrock.reset();
    world.mcp.behavior = 'answer';
    world.ssm.fail({ type: 'ThrottlingException', status: 400 });
    world.ssm.resetCalls();
    const { results, output } = await runAsset(assetByPrefix(assets, 'HealthChecksHealthCheckFunction'), [scheduledEvent], { timeoutMs: 3_000 });
    // Not Sandbox.Timedout: the run ended by itself and reported the writes it could not make.
    expect(results).toEqual([expect.objectContaining({ errorType: 'HealthWriteFailure' })]);
    const lines = output.json();
    const lastMetric = lines.map((l, i) => (l._aws && 'HealthCheckSuccess' in l ? i : -1)).reduce((a, b) => Math.max(a, b));
    const firstWriteFailure = lines.findIndex((l) => l.message === 'health write failed');
    expect(output.emf().filter((d) => d.metrics.includes('HealthCheckSuccess')).map((d) => [d.dimensions.Component, d.values.HealthCheckSuccess])).toEqual([
      ['direct-bedrock', 1],
      ['mcp-router', 1],
      ['intelligent-router', 0],
    ]);
    expect(firstWriteFailure).toBeGreaterThan(lastMetric);
    // One SDK attempt for the read: the only retries are the writer's, bounded by the deadline.
    expect(world.ssm.count('GetParametersByPath')).toBe(1);
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
    const first = startAsset(worker, [{ Records: [record] }], { resolved: jobsResolved() });
    for (let waited = 0; world.mcp.toolCalls.length === 0 && waited < 20_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(world.mcp.toolCalls).toHaveLength(1);
    first.child.kill('SIGKILL');
    await expect(first.run).rejects.toThrow(/SIGKILL/);
    expect(jobs.sqs.messages(JOBS_QUEUE)).toHaveLength(1);

    world.mcp.behavior = 'answer';
    jobs.sqs.advance(VISIBILITY_MS);
    const second = await jobs.sqs.poll(JOBS_QUEUE, async (event) => (await invokeAsset(worker, [event], jobsResolved()))[0]);
    expect(second).toEqual({ received: 1, failed: [] });
    const [status] = await invokeAsset(api, [jobsEvent(alice, { jobId })], jobsResolved());
    expect(JSON.parse(status.body)).toMatchObject({ jobId, status: 'succeeded', attempts: 2, result: { output: { text: 'mcp answer to background' } } });
  });
});
