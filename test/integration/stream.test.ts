import type { APIGatewayProxyEvent } from 'aws-lambda';
import { StreamEventParser, type StreamEvent } from '../../lambda/shared/stream-events';
import { StreamedResponse, installRuntime, invokeStreaming } from '../support/lambda-runtime';
import {
  HYBRID_FOR_EVERYONE,
  StdoutCapture,
  invokeEvent,
  lambdaContext,
  lambdaEnvironment,
  loadHandler,
  seedConfig,
  startWorld,
  type World,
} from './support/world';

const STREAM = require.resolve('../../lambda/stream/handler');
const ROUTER = require.resolve('../../lambda/router/handler');

let world: World;
const stdout = new StdoutCapture();

beforeAll(async () => {
  installRuntime();
  world = await startWorld();
});
afterAll(async () => world.stop());
beforeEach(() => {
  world.bedrock.reset();
  world.mcp.behavior = 'answer';
  world.mcp.toolCalls.length = 0;
  stdout.clear();
  stdout.start();
});
afterEach(() => stdout.stop());

const body = (operation: string, extra: Record<string, unknown> = {}) => ({ operation, messages: [{ role: 'user', content: 'Summarise the incident timeline' }], ...extra });

export function streamEvent(payload: unknown): APIGatewayProxyEvent {
  const event = invokeEvent(payload);
  Object.assign(event, { resource: '/v1/stream', path: '/v1/stream' });
  Object.assign(event.requestContext, { resourcePath: '/v1/stream', path: '/dev/v1/stream' });
  return event;
}

/** A new stream-function container against the world, with the store seeded from `config`. */
function newStream(config: Record<string, string> = HYBRID_FOR_EVERYONE, env: Record<string, string> = {}) {
  seedConfig(world.ssm, config);
  const handler = loadHandler(STREAM, lambdaEnvironment(world, { STREAM_BUDGET_MS: '10000', ...env })) as unknown;
  return async (payload: unknown, response = new StreamedResponse()) => {
    const parser = new StreamEventParser();
    const events: StreamEvent[] = [];
    response.on('data', (chunk: Buffer) => events.push(...parser.push(chunk.toString('utf8'))));
    await invokeStreaming(handler, streamEvent(payload), lambdaContext(), response);
    return { prelude: response.prelude!, events, text: response.text(), pending: parser.pending };
  };
}

const names = (events: readonly StreamEvent[]) => events.map((e) => e.event);
const emfWith = (metric: string) => stdout.emf().filter((doc) => doc.metrics.includes(metric));

describe('POST /v1/stream', () => {
  it('streams Bedrock deltas in order as server-sent events, each as it comes', async () => {
    let firstArrived!: () => void;
    const firstAtClient = new Promise<void>((resolve) => (firstArrived = resolve));
    world.bedrock.queue({ kind: 'stream', deltas: ['The ', 'incident ', 'began ', 'at 09:12.'], gates: [undefined, firstAtClient] });
    const response = new StreamedResponse();
    response.on('data', (chunk: Buffer) => {
      if (chunk.toString('utf8').includes('event: delta')) firstArrived();
    });

    const { prelude, events, text } = await newStream()(body('emergency'), response);

    expect(prelude).toEqual({ statusCode: 200, headers: expect.objectContaining({ 'content-type': 'text/event-stream', 'x-request-id': expect.any(String) }) });
    expect(names(events)).toEqual(['routing', 'delta', 'delta', 'delta', 'delta', 'usage', 'done']);
    expect(events[0]!.data).toEqual({ provider: 'bedrock', intended: 'bedrock', cohort: 'hybrid', fallback: false, reason: 'emergency prefers bedrock' });
    expect(events.filter((e) => e.event === 'delta').map((e) => (e.data as { text: string }).text).join('')).toBe('The incident began at 09:12.');
    expect(events[5]!.data).toEqual({ inputTokens: 31, outputTokens: 28 });
    expect(events[6]!.data).toEqual({ stopReason: 'end_turn', latencyMs: expect.any(Number) });
    expect(text).toMatch(/^event: routing\ndata: \{.*\}\n\nevent: delta\ndata: \{"text":"The "\}\n\n/);
    expect(await world.bedrock.streamCalls[0]!.closed).toEqual({ reset: false });
    expect(world.mcp.toolCalls).toHaveLength(0);
    expect(emfWith('Requests')[0]!.dimensions).toMatchObject({ Service: 'router', Cohort: 'hybrid' });
    expect(emfWith('StreamsTruncated')).toHaveLength(0);
    const log = stdout.json().find((line) => line.message === 'stream routed')!;
    expect(log).toMatchObject({ provider: 'bedrock', status: 200, truncated: false, bytes: 28 });
    expect(JSON.stringify(stdout.lines)).not.toContain('incident timeline');
  });

  it.each([
    ['the HTTP call fails', { kind: 'error', type: 'AccessDeniedException', status: 403 } as const],
    ['the stream opens with an error event', { kind: 'stream', deltas: ['never sent'], failAfter: { deltas: 0, type: 'modelStreamErrorException' } } as const],
  ])('falls back to MCP before the first delta when %s, with a new routing event', async (_name, behavior) => {
    world.bedrock.queue(behavior);
    const { events } = await newStream()(body('emergency'));
    expect(names(events)).toEqual(['routing', 'routing', 'delta', 'usage', 'done']);
    expect(events[1]!.data).toMatchObject({ provider: 'mcp', intended: 'bedrock', fallback: true });
    expect(events[2]!.data).toEqual({ text: 'mcp answer to emergency' });
    expect(world.mcp.toolCalls).toHaveLength(1);
  });

  it('ends a stream cut after its first delta with error, no fallback text, and counts it truncated', async () => {
    world.bedrock.queue({ kind: 'stream', deltas: ['Partial ', 'answer'], failAfter: { deltas: 1, type: 'modelStreamErrorException' } });
    const { prelude, events } = await newStream()(body('emergency'));
    expect(prelude.statusCode).toBe(200);
    expect(names(events)).toEqual(['routing', 'delta', 'error']);
    expect(events[2]!.data).toEqual({ code: 'ProviderError', message: expect.stringContaining('ModelStreamErrorException') });
    expect(world.mcp.toolCalls).toHaveLength(0);
    expect(emfWith('StreamsTruncated')[0]!.values.StreamsTruncated).toBe(1);
    const byCohort = emfWith('Errors')[0]!;
    expect(byCohort.dimensions.Cohort).toBe('hybrid');
    expect(byCohort.values.Errors).toBe(1);
  });

  it('stops generation when the stream budget runs out: the abort resets the Bedrock stream', async () => {
    world.bedrock.queue({ kind: 'stream', deltas: ['First ', 'never'], holdAfter: 1 });
    const { events } = await newStream(HYBRID_FOR_EVERYONE, { STREAM_BUDGET_MS: '1500' })(body('emergency'));
    expect(names(events)).toEqual(['routing', 'delta', 'error']);
    expect(events[2]!.data).toMatchObject({ code: 'Timeout' });
    expect(await world.bedrock.streamCalls[0]!.closed).toEqual({ reset: true });
    expect(world.mcp.toolCalls).toHaveLength(0);
  });

  it('stops generation for a caller who stops reading, and ends within the budget', async () => {
    world.bedrock.queue({ kind: 'stream', deltas: Array.from({ length: 2_000 }, (_, i) => `token ${i} `.padEnd(200, '.')) });
    const response = new StreamedResponse({ highWaterMark: 1024 });
    let deltasSeen = 0;
    response.on('data', (chunk: Buffer) => {
      deltasSeen += (chunk.toString('utf8').match(/event: delta/g) ?? []).length;
      if (deltasSeen >= 2) response.pause();
    });
    const { events } = await newStream(HYBRID_FOR_EVERYONE, { STREAM_BUDGET_MS: '1500' })(body('emergency'), response);
    const call = world.bedrock.streamCalls[0]!;
    expect(await call.closed).toEqual({ reset: true });
    expect(call.sent).toBeLessThan(2_000);
    expect(names(events)).not.toContain('done');
    expect(stdout.json().find((line) => line.message === 'stream routed')).toMatchObject({ clientGone: true, status: 499 });
    expect(emfWith('ClientErrors')[0]!.values.ClientErrors).toBe(1);
  });

  it('stops generation when the caller hangs up mid-stream', async () => {
    world.bedrock.queue({ kind: 'stream', deltas: ['one ', 'two '], holdAfter: 1 });
    const response = new StreamedResponse();
    response.on('data', (chunk: Buffer) => {
      if (chunk.toString('utf8').includes('event: delta')) response.hangUp();
    });
    await newStream()(body('emergency'), response);
    expect(await world.bedrock.streamCalls[0]!.closed).toEqual({ reset: true });
    expect(stdout.json().find((line) => line.message === 'stream routed')).toMatchObject({ clientGone: true });
  });

  it('answers an answer slower than the synchronous limit, which /v1/invoke cannot', async () => {
    const slow = { kind: 'stream', deltas: ['slow ', 'but ', 'steady ', 'answer'], delayMs: 150 } as const;
    const forced = { ...HYBRID_FOR_EVERYONE, 'routing/mode': 'force-bedrock' };
    // The same answer whole: it takes as long as the four deltas together.
    world.bedrock.queue({ kind: 'answer', text: slow.deltas.join(''), delayMs: 600 });
    seedConfig(world.ssm, forced);
    const invoke = loadHandler(ROUTER, lambdaEnvironment(world, { BUDGET_CEILING_MS: '300' }));
    const sync = await invoke(invokeEvent(body('standard-analysis')), lambdaContext());
    expect(sync.statusCode).toBe(504);

    world.bedrock.queue(slow);
    const { events } = await newStream(forced)(body('standard-analysis'));
    expect(names(events)).toEqual(['routing', 'delta', 'delta', 'delta', 'delta', 'usage', 'done']);
    const total = (events[6]!.data as { latencyMs: number }).latencyMs;
    expect(total).toBeGreaterThanOrEqual(300);
    // Latency counts the wait for the first delta, not the whole answer.
    const latency = stdout.emf().filter((doc) => doc.metrics.includes('Latency')).at(-1)!.values.Latency as number;
    expect(latency).toBeLessThan(total);
  });

  it('answers bad input with the JSON error and its status, not a stream', async () => {
    const { prelude, text } = await newStream()({ operation: 'emergency', messages: [] });
    expect(prelude).toMatchObject({ statusCode: 400, headers: { 'content-type': 'application/json' } });
    expect(JSON.parse(text)).toMatchObject({ error: { code: 'ValidationError', message: 'messages must be an array of 1 to 100 messages' } });
  });

  it('sheds with 503 and Retry-After in emergency-only mode', async () => {
    const { prelude, text } = await newStream({ ...HYBRID_FOR_EVERYONE, 'routing/mode': 'emergency-only' })(body('background'));
    expect(prelude).toMatchObject({ statusCode: 503, headers: { 'retry-after': '60' } });
    expect(JSON.parse(text).error.code).toBe('Unavailable');
  });
});
