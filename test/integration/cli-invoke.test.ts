import { EXIT, main } from '../../cli/main';
import { installRuntime } from '../support/lambda-runtime';
import { SignedGateway, type Principal } from '../support/signed-gateway';
import { JOBS_QUEUE, jobsEnvironment, startJobsWorld, type JobsWorld } from './support/jobs-world';
import { HYBRID_FOR_EVERYONE, StdoutCapture, lambdaContext, loadHandler, seedConfig, startWorld, type World } from './support/world';

const ALICE: Principal = { accessKeyId: 'AKIAALICE', secretAccessKey: 'alice-secret', arn: 'arn:aws:iam::123456789012:user/alice' };
const FORCE_BEDROCK = { ...HYBRID_FOR_EVERYONE, 'routing/mode': 'force-bedrock' };

let world: World;
let jobs: JobsWorld;
let gateway: SignedGateway;
let worker: (event: unknown, context: unknown) => Promise<unknown>;
const capture = new StdoutCapture();

beforeAll(async () => {
  installRuntime();
  [world, jobs] = await Promise.all([startWorld(), startJobsWorld()]);
  const env = jobsEnvironment(world, jobs, { STREAM_BUDGET_MS: '10000' });
  const router = loadHandler(require.resolve('../../lambda/router/handler'), env);
  const stream = loadHandler(require.resolve('../../lambda/stream/handler'), env);
  const jobsApi = loadHandler(require.resolve('../../lambda/jobs/api-handler'), env);
  worker = loadHandler(require.resolve('../../lambda/jobs/worker-handler'), env) as unknown as typeof worker;
  gateway = await new SignedGateway(
    [
      { method: 'POST', resource: '/v1/invoke', handler: router, iam: true },
      { method: 'POST', resource: '/v1/stream', handler: stream, iam: true, streaming: true },
      { method: 'POST', resource: '/v1/jobs', handler: jobsApi, iam: true },
      { method: 'GET', resource: '/v1/jobs/{jobId}', handler: jobsApi, iam: true },
    ],
    [ALICE],
  ).start();
});
afterAll(async () => {
  await gateway.stop();
  await Promise.all([world.stop(), jobs.stop()]);
});
beforeEach(() => {
  seedConfig(world.ssm, FORCE_BEDROCK);
  world.bedrock.reset();
  world.mcp.behavior = 'answer';
  jobs.sqs.purge();
  gateway.seen.length = 0;
});

/**
 * Runs the CLI in-process against the gateway. `onWrite` sees each raw write (streamed tokens) as
 * it happens; `onSleep` runs when `--job` waits between polls, before the wait ends.
 */
async function cli(args: string[], hooks: { onWrite?: (text: string) => void; onSleep?: () => Promise<void> } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const written: string[] = [];
  capture.start();
  try {
    const code = await main(['--url', gateway.url, '--region', 'eu-central-1', ...args], {
      stdout: (t) => out.push(t),
      stderr: (t) => err.push(t),
      write: (t) => {
        written.push(t);
        hooks.onWrite?.(t);
      },
      sleep: async () => hooks.onSleep?.(),
      credentials: async () => ALICE,
    });
    return { code, stdout: out.join('\n'), stderr: err.join('\n'), written };
  } finally {
    capture.stop();
    capture.clear();
  }
}

describe('hybrid-routing invoke', () => {
  it('waits for the answer from /v1/invoke and prints its text; --json prints the API answer', async () => {
    const plain = await cli(['invoke', '--operation', 'emergency', '--message', 'What broke?']);
    expect(plain).toMatchObject({ code: EXIT.ok, stdout: 'bedrock answer to 1 message(s)' });
    expect(plain.stderr).toMatch(/^answered by bedrock in \d+ ms$/);
    const json = await cli(['--json', 'invoke', '--operation', 'emergency', '--message', 'What broke?', '--max-tokens', '64']);
    expect(JSON.parse(json.stdout)).toMatchObject({ output: { text: 'bedrock answer to 1 message(s)' }, routing: { provider: 'bedrock' } });
    expect(world.bedrock.calls[1]!.body.inferenceConfig).toEqual({ maxTokens: 64 });
    expect(gateway.seen.every((r) => r.verified)).toBe(true);
  });

  it('--stream prints each token as it arrives, through the signed gateway', async () => {
    let firstPrinted!: () => void;
    const printed = new Promise<void>((resolve) => (firstPrinted = resolve));
    world.bedrock.queue({ kind: 'stream', deltas: ['Disk ', 'full ', 'on ', 'db-1.'], gates: [undefined, printed] });
    const result = await cli(['invoke', '--operation', 'standard-analysis', '--message', 'What broke?', '--stream'], { onWrite: () => firstPrinted() });
    expect(result.code).toBe(EXIT.ok);
    expect(result.written).toEqual(['Disk ', 'full ', 'on ', 'db-1.', '\n']);
    expect(result.stderr).toMatch(/^answering from bedrock \(hybrid cohort\)\ndone: end_turn, \d+ ms$/);
    expect(gateway.seen[0]).toMatchObject({ path: '/v1/stream', verified: true });
  });

  it('--stream --json passes the server-sent events through as the API sends them', async () => {
    world.bedrock.queue({ kind: 'stream', deltas: ['one'] });
    const result = await cli(['--json', 'invoke', '--operation', 'emergency', '--message', 'hi', '--stream']);
    expect(result.written.join('')).toMatch(/^event: routing\ndata: .*\n\nevent: delta\ndata: \{"text":"one"\}\n\nevent: usage\n.*\n\nevent: done\n.*\n\n$/s);
  });

  it('--stream exits 6 with the error event when the stream is cut', async () => {
    world.bedrock.queue({ kind: 'stream', deltas: ['Partial', 'never'], failAfter: { deltas: 1, type: 'modelStreamErrorException' } });
    const result = await cli(['invoke', '--operation', 'emergency', '--message', 'hi', '--stream']);
    expect(result.code).toBe(EXIT.unavailable);
    expect(result.written).toEqual(['Partial', '\n']);
    expect(result.stderr).toContain('error: ProviderError: the bedrock stream failed after it began');
  });

  it('--job submits, shows progress until the job ends, and prints the answer', async () => {
    let polls = 0;
    const result = await cli(['invoke', '--operation', 'background', '--message', 'Summarise last week', '--job'], {
      onSleep: async () => {
        polls += 1;
        if (polls === 1) await jobs.sqs.poll(JOBS_QUEUE, (event) => worker(event, { ...lambdaContext(), getRemainingTimeInMillis: () => 60_000 }) as never);
      },
    });
    expect(result.code).toBe(EXIT.ok);
    expect(result.stdout).toBe('bedrock answer to 1 message(s)');
    expect(result.stderr).toMatch(/^job [0-9a-f-]{36}: queued, \d+ s\njob [0-9a-f-]{36}: succeeded \(try 1\), \d+ s$/);
  });

  it('--job exits 6 with the job\'s error when it fails', async () => {
    world.bedrock.defaultBehavior = { kind: 'error', type: 'AccessDeniedException', status: 403 };
    const result = await cli(['--json', 'invoke', '--operation', 'background', '--message', 'hi', '--job'], {
      onSleep: async () => void (await jobs.sqs.poll(JOBS_QUEUE, (event) => worker(event, { ...lambdaContext(), getRemainingTimeInMillis: () => 60_000 }) as never)),
    });
    expect(result.code).toBe(EXIT.unavailable);
    expect(JSON.parse(result.stdout)).toMatchObject({ status: 'failed', error: { code: 'ProviderError' } });
    expect(result.stderr).toContain('error: ProviderError: no path could serve the request');
  });

  it.each([
    ['--stream with --job', ['--stream', '--job'], /cannot be used with option '--job'/],
    ['an unknown operation', ['--operation', 'turbo'], /Allowed choices are emergency, infrastructure/],
    ['a temperature over 1', ['--temperature', '1.5'], /must be a number from 0 to 1/],
  ])('exits 2 before calling the API for %s', async (_name, extra, message) => {
    const result = await cli(['invoke', '--operation', 'emergency', '--message', 'hi', ...extra]);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(message);
    expect(gateway.seen).toHaveLength(0);
  });

  it('exits 2 with the API\'s details when it rejects the request, streamed or not', async () => {
    for (const extra of [[], ['--stream'], ['--job']]) {
      const result = await cli(['invoke', '--operation', 'emergency', '--message', 'hi', '--max-tokens', '9000', ...extra]);
      expect(result.code).toBe(EXIT.usage);
      expect(result.stderr).toContain('ValidationError (400): maxTokens must be an integer from 1 to 8192');
    }
  });
});
