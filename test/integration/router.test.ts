import { DEFAULT_PARAMETER_VALUES } from '../../lambda/shared/routing-config';
import { OPERATIONS, type Operation } from '../../lambda/shared/vocabulary';
import {
  CONFIG_PATH,
  HYBRID_FOR_EVERYONE,
  MODEL_ID,
  StdoutCapture,
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
const TTL_MS = 1_000;

let world: World;
const stdout = new StdoutCapture();

beforeAll(async () => {
  world = await startWorld();
});
afterAll(async () => {
  await world.stop();
});
beforeEach(() => {
  world.bedrock.reset();
  world.mcp.behavior = 'answer';
  world.mcp.toolCalls.length = 0;
  world.ssm.heal();
  world.ssm.resetCalls();
  stdout.clear();
  stdout.start();
});
afterEach(() => stdout.stop());

const body = (operation: Operation, extra: Record<string, unknown> = {}) => ({
  operation,
  messages: [{ role: 'user', content: 'Summarise the incident timeline' }],
  ...extra,
});

/** A new router container against the world, with the store seeded from `config`. */
function newRouter(config: Record<string, string> = HYBRID_FOR_EVERYONE, env: Record<string, string> = {}) {
  seedConfig(world.ssm, config);
  const handler = loadHandler(ROUTER, lambdaEnvironment(world, env));
  return async (payload: unknown, options?: Parameters<typeof invokeEvent>[1]) => {
    const result = await handler(invokeEvent(payload, options), lambdaContext());
    return { status: result.statusCode, headers: result.headers ?? {}, json: JSON.parse(result.body) as Record<string, any> };
  };
}

describe('router: every operation type in both cohorts', () => {
  const expectedHybrid: Record<Operation, string> = {
    emergency: 'bedrock',
    infrastructure: 'bedrock',
    'meta-monitor': 'bedrock',
    implementation: 'bedrock',
    'kiro-communication': 'mcp',
    'standard-analysis': 'mcp',
    background: 'mcp',
  };

  it.each(OPERATIONS)('routes %s by the table in the hybrid cohort and to MCP in the control cohort', async (operation) => {
    const hybrid = await newRouter(HYBRID_FOR_EVERYONE)(body(operation));
    expect(hybrid.status).toBe(200);
    expect(hybrid.json.routing).toMatchObject({ cohort: 'hybrid', provider: expectedHybrid[operation], fallback: false });
    expect(hybrid.json.output.text).toContain(expectedHybrid[operation] === 'bedrock' ? 'bedrock answer' : `mcp answer to ${operation}`);

    const control = await newRouter({ 'feature-flags/hybrid-routing': 'false' })(body(operation));
    expect(control.status).toBe(200);
    expect(control.json.routing).toMatchObject({ cohort: 'control', provider: 'mcp', intended: 'mcp', fallback: false });
  });

  it('answers in the DESIGN §4 shape with x-request-id, and sends Bedrock the request as Converse', async () => {
    const invoke = newRouter();
    const result = await invoke(body('emergency', { system: 'You are an SRE assistant.', maxTokens: 64, temperature: 0.2 }));
    expect(result.headers['x-request-id']).toBe(result.json.requestId);
    expect(result.json).toEqual({
      requestId: expect.any(String),
      output: { text: 'bedrock answer to 1 message(s)', stopReason: 'end_turn' },
      usage: { inputTokens: 31, outputTokens: 30 },
      routing: { provider: 'bedrock', intended: 'bedrock', cohort: 'hybrid', fallback: false, reason: 'emergency prefers bedrock' },
      latencyMs: expect.any(Number),
    });
    expect(world.bedrock.calls).toEqual([
      {
        modelId: MODEL_ID,
        body: {
          messages: [{ role: 'user', content: [{ text: 'Summarise the incident timeline' }] }],
          system: [{ text: 'You are an SRE assistant.' }],
          inferenceConfig: { maxTokens: 64, temperature: 0.2 },
        },
      },
    ]);
  });

  it('passes the MCP tool the operation, messages, system, maxTokens and temperature', async () => {
    await newRouter()(body('background', { system: 'brief', maxTokens: 10, temperature: 0 }));
    expect(world.mcp.toolCalls).toEqual([
      { operation: 'background', messages: [{ role: 'user', content: 'Summarise the incident timeline' }], system: 'brief', maxTokens: 10, temperature: 0 },
    ]);
  });

  it('keeps a caller in its cohort by routing key, and uses the IAM caller when there is none', async () => {
    // tenant-42 is in bucket 7516, tenant-2 in bucket 1326: at 25% only tenant-2 is hybrid.
    const invoke = newRouter({ 'feature-flags/hybrid-routing': 'true', 'traffic/percentage': '25' });
    expect((await invoke(body('emergency', { routingKey: 'tenant-42' }))).json.routing.cohort).toBe('control');
    expect((await invoke(body('emergency', { routingKey: 'tenant-2' }))).json.routing.cohort).toBe('hybrid');
    const alice = 'arn:aws:sts::123456789012:assumed-role/operators/alice';
    const first = await invoke(body('emergency'), { caller: alice });
    const again = await invoke(body('emergency'), { caller: alice });
    expect(first.json.routing.cohort).toBe(again.json.routing.cohort);
  });
});

describe('router: fallback', () => {
  it('falls back from Bedrock to MCP when Bedrock denies access, without retrying', async () => {
    world.bedrock.queue({ kind: 'error', type: 'AccessDeniedException', status: 403 });
    const result = await newRouter()(body('emergency'));
    expect(result.status).toBe(200);
    expect(result.json.routing).toMatchObject({ provider: 'mcp', intended: 'bedrock', fallback: true });
    expect(world.bedrock.calls).toHaveLength(1);
  });

  it('retries a throttled Bedrock call once, then falls back to MCP', async () => {
    world.bedrock.queue({ kind: 'error', type: 'ThrottlingException', status: 429 }, { kind: 'error', type: 'ThrottlingException', status: 429 });
    const result = await newRouter()(body('emergency'));
    expect(result.json.routing).toMatchObject({ provider: 'mcp', fallback: true });
    expect(world.bedrock.calls).toHaveLength(2);
  });

  it('falls back from MCP to Bedrock when the MCP tool reports an error', async () => {
    world.mcp.behavior = 'tool-error';
    const result = await newRouter()(body('standard-analysis'));
    expect(result.status).toBe(200);
    expect(result.json.routing).toMatchObject({ provider: 'bedrock', intended: 'mcp', fallback: true });
  });

  it('falls back from MCP to Bedrock when the MCP server is unreachable, and reconnects once it is back', async () => {
    const invoke = newRouter();
    expect((await invoke(body('background'))).json.routing.provider).toBe('mcp');
    world.mcp.behavior = 'http-500';
    expect((await invoke(body('background'))).json.routing).toMatchObject({ provider: 'bedrock', fallback: true });
    world.mcp.behavior = 'answer';
    expect((await invoke(body('background'))).json.routing).toMatchObject({ provider: 'mcp', fallback: false });
  });

  it('sends health-gated operations to MCP while direct-bedrock is unhealthy', async () => {
    const unhealthy = JSON.stringify({ status: 'unhealthy', lastCheckedAt: new Date().toISOString(), latencyMs: 5, consecutiveFailures: 3, message: 'probe failed' });
    const result = await newRouter({ ...HYBRID_FOR_EVERYONE, 'health/direct-bedrock': unhealthy })(body('infrastructure'));
    expect(result.json.routing).toMatchObject({ provider: 'mcp', intended: 'mcp' });
    expect(world.bedrock.calls).toHaveLength(0);
  });
});

describe('router: failures the caller sees', () => {
  it('answers 503 with Retry-After when both paths are down', async () => {
    world.bedrock.defaultBehavior = { kind: 'error', type: 'ServiceUnavailableException', status: 503 };
    world.mcp.behavior = 'http-500';
    const result = await newRouter()(body('emergency'));
    expect(result.status).toBe(503);
    expect(result.json).toMatchObject({ error: { code: 'Unavailable', details: [] }, requestId: expect.any(String) });
    expect(Number(result.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });

  it('answers 429 with Retry-After when every usable path is throttled', async () => {
    world.bedrock.defaultBehavior = { kind: 'error', type: 'ThrottlingException', status: 429 };
    world.mcp.behavior = 'http-429';
    const result = await newRouter()(body('emergency'));
    expect(result.status).toBe(429);
    expect(result.json.error.code).toBe('Throttled');
    expect(Number(result.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });

  it('answers 502 when Bedrock cannot find the model and MCP errors', async () => {
    world.bedrock.defaultBehavior = { kind: 'error', type: 'ResourceNotFoundException', status: 404 };
    world.mcp.behavior = 'tool-error';
    const result = await newRouter()(body('emergency'));
    expect(result.status).toBe(502);
    expect(result.json.error.code).toBe('ProviderError');
  });

  it('answers 400 when Bedrock rejects the request as invalid, without falling back', async () => {
    world.bedrock.queue({ kind: 'error', type: 'ValidationException', status: 400 });
    const result = await newRouter()(body('emergency'));
    expect(result.status).toBe(400);
    expect(world.mcp.toolCalls).toHaveLength(0);
  });

  it('answers 504 when the latency budget runs out on both paths', async () => {
    const policy = JSON.stringify({ operations: { emergency: { strategy: 'bedrock-first', budget: { targetMs: 300, hardMs: 600 } } } });
    world.bedrock.defaultBehavior = { kind: 'hang' };
    world.mcp.behavior = 'hang';
    const started = Date.now();
    const result = await newRouter({ ...HYBRID_FOR_EVERYONE, 'routing/policy': policy })(body('emergency'));
    expect(result.status).toBe(504);
    expect(result.json.error.code).toBe('Timeout');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('sheds non-emergency operations with 503 and Retry-After in emergency-only mode', async () => {
    const invoke = newRouter({ ...HYBRID_FOR_EVERYONE, 'routing/mode': 'emergency-only' });
    const shed = await invoke(body('background'));
    expect(shed.status).toBe(503);
    expect(Number(shed.headers['retry-after'])).toBeGreaterThan(0);
    expect((await invoke(body('emergency'))).status).toBe(200);
    expect(world.mcp.toolCalls).toHaveLength(0);
  });

  it('sends everyone down the control path while the rollback latch is active', async () => {
    const latch = JSON.stringify({ active: true, level: 2, reason: 'alarm', source: 'hybrid-error-rate', at: new Date().toISOString(), previous: { hybridEnabled: true, trafficPercentage: 100 } });
    const result = await newRouter({ ...HYBRID_FOR_EVERYONE, 'routing/mode': 'force-bedrock', 'rollback/state': latch })(body('emergency'));
    expect(result.json.routing).toMatchObject({ cohort: 'control', provider: 'mcp', reason: 'rollback latch active' });
    expect(world.bedrock.calls).toHaveLength(0);
  });
});

describe('router: bad input reaches no provider', () => {
  const valid = body('emergency');
  it.each([
    ['malformed JSON', '{"operation": "emergency",', true, 400, 'ValidationError'],
    ['a wrong type', { ...valid, maxTokens: '5' }, false, 400, 'ValidationError'],
    ['an unknown field', { ...valid, stream: true }, false, 400, 'ValidationError'],
    ['an out-of-range value', { ...valid, temperature: 3 }, false, 400, 'ValidationError'],
    ['an unknown operation', { ...valid, operation: 'chat' }, false, 400, 'ValidationError'],
    ['a body over 256 KiB', { ...valid, system: 'x'.repeat(256 * 1024) }, false, 413, 'PayloadTooLarge'],
  ])('rejects %s', async (_name, payload, raw, status, code) => {
    const result = await newRouter()(payload, { raw });
    expect(result.status).toBe(status);
    expect(result.json).toEqual({ error: { code, message: expect.any(String), details: expect.any(Array) }, requestId: expect.any(String) });
    expect(world.bedrock.calls).toHaveLength(0);
    expect(world.mcp.toolCalls).toHaveLength(0);
  });
});

describe('router: configuration store', () => {
  it('reads SSM once, not on every request, while the copy is young', async () => {
    const invoke = newRouter(HYBRID_FOR_EVERYONE, { CONFIG_TTL_SECONDS: '60' });
    for (let i = 0; i < 20; i += 1) await invoke(body('background'));
    expect(world.ssm.count('GetParametersByPath')).toBe(1);
  });

  it('reads SSM again once the time-to-live has passed, and serves what it read', async () => {
    const invoke = newRouter();
    expect((await invoke(body('emergency'))).json.routing.cohort).toBe('hybrid');
    world.ssm.put(`${CONFIG_PATH}/feature-flags/hybrid-routing`, 'false');
    await sleep(TTL_MS + 50);
    expect((await invoke(body('emergency'))).json.routing.cohort).toBe('control');
    expect(world.ssm.count('GetParametersByPath')).toBe(2);
  });

  it('answers within its budget from the last good copy while SSM hangs, and counts the request', async () => {
    const policy = JSON.stringify({ operations: { emergency: { strategy: 'bedrock-first', budget: { targetMs: 2_000, hardMs: 4_000 } } } });
    const invoke = newRouter({ ...HYBRID_FOR_EVERYONE, 'routing/policy': policy });
    await invoke(body('emergency'));
    world.ssm.delay({ operations: ['GetParametersByPath'] });
    await sleep(TTL_MS + 50);
    stdout.clear();
    const during = await invoke(body('emergency'));
    expect(during.status).toBe(200);
    // The hybrid cohort: its last good copy, not the control path.
    expect(during.json.routing).toMatchObject({ cohort: 'hybrid' });
    // It waited for SSM half the 2 s target, then answered inside the 4 s hard budget.
    expect(during.json.latencyMs).toBeGreaterThanOrEqual(1_000);
    expect(during.json.latencyMs).toBeLessThan(4_000);
    expect(stdout.json().find((l) => l.message === 'request routed')).toMatchObject({ configOrigin: 'last-good', status: 200 });
    expect(stdout.emf().find((d) => d.metrics.includes('Requests'))?.values).toMatchObject({ Requests: 1, Errors: 0, Latency: during.json.latencyMs });
  });

  it('answers a first request with the control path in time while SSM is slow', async () => {
    world.ssm.delay({ ms: 5_000, operations: ['GetParametersByPath'] });
    const result = await newRouter(HYBRID_FOR_EVERYONE, { CONFIG_READ_TIMEOUT_MS: '100' })(body('emergency'));
    expect(result.status).toBe(200);
    expect(result.json.routing).toMatchObject({ cohort: 'control', provider: 'mcp' });
    expect(result.json.latencyMs).toBeLessThan(5_000);
    expect(world.bedrock.calls).toHaveLength(0);
  });

  it('keeps serving the last good copy while SSM fails', async () => {
    const invoke = newRouter();
    expect((await invoke(body('emergency'))).json.routing.cohort).toBe('hybrid');
    world.ssm.fail({ type: 'InternalServerError', status: 500 });
    await sleep(TTL_MS + 50);
    const during = await invoke(body('emergency'));
    expect(during.status).toBe(200);
    expect(during.json.routing).toMatchObject({ cohort: 'hybrid', provider: 'bedrock' });
    const warnings = stdout.json().filter((l) => l.message === 'configuration read failed');
    expect(warnings[0]).toMatchObject({ level: 'WARN', origin: 'last-good' });
  });

  it('serves the control path when SSM fails before any copy was read', async () => {
    world.ssm.fail({ type: 'InternalServerError', status: 500 });
    const result = await newRouter()(body('emergency'));
    expect(result.status).toBe(200);
    expect(result.json.routing).toMatchObject({ cohort: 'control', provider: 'mcp' });
    expect(world.bedrock.calls).toHaveLength(0);
  });

  it('opens the Bedrock breaker after the threshold and closes it when the epoch is bumped', async () => {
    const policy = JSON.stringify({ circuitBreaker: { failureThreshold: 2, coolDownMs: 600_000 } });
    world.bedrock.defaultBehavior = { kind: 'error', type: 'AccessDeniedException', status: 403 };
    const invoke = newRouter({ ...HYBRID_FOR_EVERYONE, 'routing/policy': policy });
    await invoke(body('emergency'));
    await invoke(body('emergency'));
    expect(world.bedrock.calls).toHaveLength(2);
    const skipped = await invoke(body('emergency'));
    expect(skipped.json.routing).toMatchObject({ provider: 'mcp', fallback: true });
    expect(world.bedrock.calls).toHaveLength(2);
    expect(stdout.emf().some((d) => d.metrics.includes('CircuitOpen') && d.dimensions.Provider === 'bedrock')).toBe(true);

    world.bedrock.defaultBehavior = { kind: 'answer' };
    world.ssm.put(`${CONFIG_PATH}/circuit-breakers/epoch`, '1', 'breakers reset');
    await sleep(TTL_MS + 50);
    const reset = await invoke(body('emergency'));
    expect(reset.json.routing).toMatchObject({ provider: 'bedrock', fallback: false });
    expect(world.bedrock.calls).toHaveLength(3);
  });
});

describe('router: observability', () => {
  it('emits DESIGN §7 metrics with Service, Environment and the extra dimension', async () => {
    await newRouter()(body('emergency'));
    const docs = stdout.emf();
    const byCohort = docs.find((d) => d.metrics.includes('Requests'));
    expect(byCohort?.dimensions).toEqual({ Service: 'router', Environment: 'dev', Cohort: 'hybrid' });
    expect(byCohort?.metrics).toEqual(expect.arrayContaining(['Requests', 'Errors', 'ClientErrors', 'Latency', 'Fallbacks', 'FirstChoiceSuccess']));
    const byProvider = docs.find((d) => d.metrics.includes('ProviderRequests'));
    expect(byProvider?.dimensions).toEqual({ Service: 'router', Environment: 'dev', Provider: 'bedrock' });
    const highResolution = (byCohort?.values._aws as any).CloudWatchMetrics[0].Metrics.filter((m: any) => m.StorageResolution === 1).map((m: any) => m.Name);
    expect(highResolution.sort()).toEqual(['Errors', 'Latency', 'Requests']);
  });

  it('logs routing facts but never the prompt, system text or output', async () => {
    const secret = 'patient John Doe, card 4111-1111-1111-1111';
    await newRouter()(body('emergency', { system: `system ${secret}`, messages: [{ role: 'user', content: secret }] }));
    world.bedrock.queue({ kind: 'answer', text: `echo ${secret}` });
    await newRouter()(body('emergency', { messages: [{ role: 'user', content: secret }] }));
    expect(stdout.lines.join('\n')).not.toContain('4111');
    const routed = stdout.json().find((l) => l.message === 'request routed');
    expect(routed).toMatchObject({ operation: 'emergency', cohort: 'hybrid', provider: 'bedrock', fallback: false, status: 200 });
  });
});

describe('router: reading the rollback latch (invariant 5)', () => {
  const problemMetrics = () => stdout.emf().filter((d) => d.metrics.includes('ConfigProblems'));

  it('reads a hand-written {"active":false} as clear, with no problem', async () => {
    const result = await newRouter({ ...HYBRID_FOR_EVERYONE, 'rollback/state': '{"active":false}' })(body('emergency'));
    expect(result.json.routing).toMatchObject({ cohort: 'hybrid', provider: 'bedrock' });
    expect(problemMetrics()).toEqual([]);
  });

  it.each([
    ['does not parse', 'active: false'],
    ['is missing', undefined],
  ])('fails safe to the control path when rollback/state %s, and reports it once per read', async (why, latch) => {
    const values: Record<string, string> = { ...DEFAULT_PARAMETER_VALUES, ...HYBRID_FOR_EVERYONE, 'routing/mode': 'force-bedrock' };
    if (latch === undefined) delete values['rollback/state'];
    else values['rollback/state'] = latch;
    world.ssm.clear();
    for (const [name, value] of Object.entries(values)) world.ssm.put(`${CONFIG_PATH}/${name}`, value);
    const handler = loadHandler(ROUTER, lambdaEnvironment(world));
    const invoke = async () => JSON.parse((await handler(invokeEvent(body('emergency')), lambdaContext())).body);

    expect((await invoke()).routing).toMatchObject({ cohort: 'control', provider: 'mcp', reason: 'rollback latch active' });
    await invoke();
    expect(world.bedrock.calls).toHaveLength(0);
    const problem = `rollback/state ${why}; reading it as an active latch (control path)`;
    expect(stdout.json().filter((l) => l.message === 'configuration problems')).toEqual([
      expect.objectContaining({ level: 'WARN', problems: [problem] }),
    ]);
    expect(problemMetrics()).toEqual([
      expect.objectContaining({ dimensions: { Service: 'router', Environment: 'dev' }, values: expect.objectContaining({ ConfigProblems: 1 }) }),
    ]);
  });
});

describe('router: provider answers and permanent failures', () => {
  it('falls back to Bedrock when the MCP answer is over 1 MiB', async () => {
    world.mcp.behavior = 'huge';
    world.mcp.hugeAnswerBytes = 1024 * 1024 + 1;
    const result = await newRouter()(body('standard-analysis'));
    expect(result.status).toBe(200);
    expect(result.json.routing).toMatchObject({ provider: 'bedrock', intended: 'mcp', fallback: true });
    const routed = stdout.json().find((l) => l.message === 'request routed');
    expect(routed?.attempts).toEqual(['mcp:fatal', 'bedrock:success']);
  });

  it('stops reading a 50 MB MCP answer and falls back, and the next call reconnects', async () => {
    world.mcp.behavior = 'huge';
    world.mcp.hugeAnswerBytes = 50 * 1024 * 1024;
    world.mcp.responses.length = 0;
    const invoke = newRouter();
    const result = await invoke(body('standard-analysis'));
    expect(result.status).toBe(200);
    expect(result.json.routing).toMatchObject({ provider: 'bedrock', fallback: true });
    expect(world.mcp.responses).toContain('cut off');
    world.mcp.behavior = 'answer';
    expect((await invoke(body('standard-analysis'))).json.routing).toMatchObject({ provider: 'mcp', fallback: false });
  });

  it.each([
    ['just over 1 MiB', 1024 * 1024 + 1],
    ['over the response cap', 10 * 1024 * 1024],
  ])('falls back to MCP when the Bedrock answer is %s', async (_name, bytes) => {
    world.bedrock.queue({ kind: 'answer', text: 'y'.repeat(bytes) });
    const result = await newRouter()(body('emergency'));
    expect(result.status).toBe(200);
    expect(result.json.routing).toMatchObject({ provider: 'mcp', intended: 'bedrock', fallback: true });
    expect(stdout.json().find((l) => l.message === 'request routed')?.attempts).toEqual(['bedrock:fatal', 'mcp:success']);
  });

  it.each(['http-401', 'http-403', 'http-404'] as const)(
    'answers 502 without Retry-After when Bedrock denies access and the MCP server answers %s',
    async (behavior) => {
      world.bedrock.defaultBehavior = { kind: 'error', type: 'AccessDeniedException', status: 403 };
      world.mcp.behavior = behavior;
      const result = await newRouter()(body('emergency'));
      expect(result.status).toBe(502);
      expect(result.json.error.code).toBe('ProviderError');
      expect(result.headers['retry-after']).toBeUndefined();
    },
  );

  it('answers 502 when Bedrock denies access and the MCP server has no such tool', async () => {
    world.bedrock.defaultBehavior = { kind: 'error', type: 'AccessDeniedException', status: 403 };
    world.mcp.exposeTool = false;
    try {
      const result = await newRouter()(body('emergency'));
      expect(result.status).toBe(502);
    } finally {
      world.mcp.exposeTool = true;
    }
  });
});
