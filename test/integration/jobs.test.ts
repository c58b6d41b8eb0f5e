import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { JOB_MAX_RECEIVE_COUNT } from '../../lambda/shared/jobs';
import { JOBS_DEAD_LETTERS, JOBS_QUEUE, VISIBILITY_MS, jobsEnvironment, jobsEvent, startJobsWorld, type JobsWorld } from './support/jobs-world';
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

const ALICE = 'arn:aws:iam::123456789012:user/alice';
const BOB = 'arn:aws:iam::123456789012:user/bob';

let world: World;
let jobs: JobsWorld;
const stdout = new StdoutCapture();
type SqsHandler = (event: SQSEvent, context: unknown) => Promise<SQSBatchResponse>;
let api: ReturnType<typeof loadHandler>;
let worker: SqsHandler;
let deadLetters: SqsHandler;

beforeAll(async () => {
  [world, jobs] = await Promise.all([startWorld(), startJobsWorld()]);
  const env = jobsEnvironment(world, jobs);
  api = loadHandler(require.resolve('../../lambda/jobs/api-handler'), env);
  worker = loadHandler(require.resolve('../../lambda/jobs/worker-handler'), env) as unknown as SqsHandler;
  deadLetters = loadHandler(require.resolve('../../lambda/jobs/dead-letter-handler'), env) as unknown as SqsHandler;
});
afterAll(async () => {
  await Promise.all([world.stop(), jobs.stop()]);
});
beforeEach(() => {
  seedConfig(world.ssm, HYBRID_FOR_EVERYONE);
  world.bedrock.reset();
  world.mcp.behavior = 'answer';
  world.mcp.toolCalls.length = 0;
  jobs.sqs.purge();
  stdout.clear();
  stdout.start();
});
afterEach(() => stdout.stop());

const request = (operation = 'standard-analysis') => ({ operation, messages: [{ role: 'user', content: 'Summarise the incident timeline' }] });

async function submit(body: unknown = request(), caller = ALICE) {
  const result = await api(jobsEvent(caller, { submit: body }), lambdaContext());
  return { status: result.statusCode, json: JSON.parse(result.body) };
}

async function status(jobId: string, caller = ALICE) {
  const result = await api(jobsEvent(caller, { jobId }), lambdaContext());
  return { status: result.statusCode, json: JSON.parse(result.body) };
}

// The worker container caches the configuration for a second, so every test here routes by the
// same one (HYBRID_FOR_EVERYONE) and picks its path by operation instead of by a new mode.

/** One run of the event source mapping over the jobs queue; the worker's context allows its budget. */
const runWorker = () => jobs.sqs.poll(JOBS_QUEUE, (event) => worker(event, { ...lambdaContext(), getRemainingTimeInMillis: () => 60_000 }), 5);
const emfWith = (metric: string) => stdout.emf().filter((doc) => doc.metrics.includes(metric));

describe('jobs', () => {
  it('submits, runs and succeeds: the result is the /v1/invoke answer', async () => {
    const submitted = await submit();
    expect(submitted.status).toBe(202);
    const { jobId } = submitted.json;
    expect(submitted.json).toEqual({
      jobId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      status: 'queued',
      statusUrl: `https://abc123defg.execute-api.eu-central-1.amazonaws.com/dev/v1/jobs/${jobId}`,
    });
    expect(jobs.sqs.messages(JOBS_QUEUE).map((m) => JSON.parse(m.body))).toEqual([{ jobId }]);
    expect((await status(jobId)).json).toMatchObject({ jobId, status: 'queued', attempts: 0 });

    expect(await runWorker()).toEqual({ received: 1, failed: [] });

    const done = await status(jobId);
    expect(done.status).toBe(200);
    expect(done.json).toEqual({
      jobId,
      status: 'succeeded',
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      completedAt: expect.any(String),
      attempts: 1,
      result: {
        requestId: jobId,
        output: { text: 'mcp answer to standard-analysis', stopReason: 'end_turn' },
        usage: { inputTokens: 7, outputTokens: 3 },
        routing: { provider: 'mcp', intended: 'mcp', cohort: 'hybrid', fallback: false, reason: 'standard-analysis prefers mcp' },
        latencyMs: expect.any(Number),
      },
    });
    expect(jobs.sqs.messages(JOBS_QUEUE)).toHaveLength(0);
    expect(emfWith('JobsSubmitted')[0]!.values.JobsSubmitted).toBe(1);
    expect(emfWith('Requests').find((d) => d.dimensions.Cohort === 'hybrid')!.dimensions.Service).toBe('router');
    expect(emfWith('Latency')).toHaveLength(0);
    expect(JSON.stringify(stdout.lines)).not.toContain('incident timeline');
  });

  it('shows a job only to the identity that submitted it: anyone else, and unknown ids, get 404', async () => {
    const { jobId } = (await submit()).json;
    expect(await status(jobId, BOB)).toEqual({ status: 404, json: { error: { code: 'NotFound', message: `no job ${jobId}`, details: [] }, requestId: expect.any(String) } });
    expect((await status('6f1c9a52-3b7e-4c1d-9f0a-1e2d3c4b5a69')).status).toBe(404);
    expect((await status('not-a-job-id')).status).toBe(404);
    expect((await status(jobId)).status).toBe(200);
  });

  it('retries a transient failure with backoff until the last receive, then ends failed with its error', async () => {
    world.bedrock.defaultBehavior = { kind: 'error', type: 'ServiceUnavailableException', status: 503 };
    world.mcp.behavior = 'http-500';
    const { jobId } = (await submit()).json;

    for (let receive = 1; receive <= JOB_MAX_RECEIVE_COUNT; receive += 1) {
      const run = await runWorker();
      const job = (await status(jobId)).json;
      if (receive < JOB_MAX_RECEIVE_COUNT) {
        expect(run.failed).toHaveLength(1);
        expect(job).toMatchObject({ status: 'queued', attempts: receive });
        const change = jobs.sqs.calls.filter((c) => c.operation === 'ChangeMessageVisibility').at(-1)!;
        expect(change.input.VisibilityTimeout).toBe(30 * 2 ** (receive - 1));
        jobs.sqs.advance(VISIBILITY_MS);
      } else {
        expect(run.failed).toHaveLength(0);
        expect(job).toMatchObject({ status: 'failed', attempts: receive, error: { code: 'Unavailable', message: expect.stringContaining('no path is available'), details: [] } });
        expect(job.completedAt).toEqual(expect.any(String));
      }
    }
    expect(jobs.sqs.messages(JOBS_QUEUE)).toHaveLength(0);
    expect(jobs.sqs.messages(JOBS_DEAD_LETTERS)).toHaveLength(0);
    expect(emfWith('JobsFailed')[0]!.values.JobsFailed).toBe(1);
  });

  it('fails at once when the model rejects the request: another try would fail the same way', async () => {
    world.bedrock.defaultBehavior = { kind: 'error', type: 'ValidationException', status: 400 };
    const { jobId } = (await submit(request('emergency'))).json;
    expect((await runWorker()).failed).toHaveLength(0);
    expect((await status(jobId)).json).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'ValidationError' } });
  });

  it('runs again a message whose worker died, once its visibility timeout has passed', async () => {
    const { jobId } = (await submit()).json;
    // A worker received the message and died: nobody deleted it.
    expect(jobs.sqs.receive(JOBS_QUEUE, 1)).toHaveLength(1);
    expect(await runWorker()).toEqual({ received: 0, failed: [] });

    jobs.sqs.advance(VISIBILITY_MS);
    expect(await runWorker()).toEqual({ received: 1, failed: [] });
    expect((await status(jobId)).json).toMatchObject({ status: 'succeeded', attempts: 2 });
  });

  it('marks failed a job whose message reached the dead-letter queue after every worker died', async () => {
    const { jobId } = (await submit()).json;
    for (let i = 0; i < JOB_MAX_RECEIVE_COUNT; i += 1) {
      expect(jobs.sqs.receive(JOBS_QUEUE, 1)).toHaveLength(1);
      jobs.sqs.advance(VISIBILITY_MS);
    }
    expect(await runWorker()).toEqual({ received: 0, failed: [] });
    expect(jobs.sqs.messages(JOBS_DEAD_LETTERS).map((m) => JSON.parse(m.body))).toEqual([{ jobId }]);

    expect(await jobs.sqs.poll(JOBS_DEAD_LETTERS, (event) => deadLetters(event, lambdaContext()))).toEqual({ received: 1, failed: [] });
    expect((await status(jobId)).json).toMatchObject({ status: 'failed', error: { code: 'InternalError', message: expect.stringContaining('stopped before finishing') } });
    expect(emfWith('JobsFailed')[0]!.values.JobsFailed).toBe(1);
  });

  it('never overwrites a finished job: a late dead letter leaves a success alone', async () => {
    const { jobId } = (await submit()).json;
    await runWorker();
    const event = { Records: [{ messageId: 'late', receiptHandle: 'late', body: JSON.stringify({ jobId }), attributes: { ApproximateReceiveCount: '1' } }] } as unknown as SQSEvent;
    await deadLetters(event, lambdaContext());
    expect((await status(jobId)).json).toMatchObject({ status: 'succeeded' });
  });

  it('answers an answer slower than the synchronous limit, which /v1/invoke cannot', async () => {
    world.bedrock.defaultBehavior = { kind: 'answer', text: 'a slow, considered answer', delayMs: 600 };
    const invoke = loadHandler(require.resolve('../../lambda/router/handler'), lambdaEnvironment(world, { BUDGET_CEILING_MS: '300' }));
    expect((await invoke(invokeEvent(request('emergency')), lambdaContext())).statusCode).toBe(504);

    const { jobId } = (await submit(request('emergency'))).json;
    await runWorker();
    expect((await status(jobId)).json).toMatchObject({ status: 'succeeded', result: { output: { text: 'a slow, considered answer' }, routing: { provider: 'bedrock' } } });
  });

  it('rejects bad input with 400 and writes and queues nothing', async () => {
    const result = await submit({ operation: 'emergency', messages: [], extra: 1 });
    expect(result.status).toBe(400);
    expect(result.json.error.code).toBe('ValidationError');
    expect(jobs.sqs.messages(JOBS_QUEUE)).toHaveLength(0);
  });

  it('answers 503 when the job cannot be queued, and the written job reads failed', async () => {
    const broken = loadHandler(require.resolve('../../lambda/jobs/api-handler'), jobsEnvironment(world, jobs, { JOBS_QUEUE_URL: jobs.sqs.queueUrl('no-such-queue') }));
    const result = await broken(jobsEvent(ALICE, { submit: request() }), lambdaContext());
    expect(result.statusCode).toBe(503);
    expect(result.headers?.['retry-after']).toBe('5');
    const ids = stdout.json().filter((line) => line.message === 'job not queued').map((line) => String(line.jobId));
    expect(ids).toHaveLength(1);
    expect((await status(ids[0]!)).json).toMatchObject({ status: 'failed', error: { code: 'Unavailable' } });
  });
});
