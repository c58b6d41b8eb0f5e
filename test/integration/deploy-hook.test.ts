import type { HookOutcome } from '../../lambda/deploy-hook/deploy-hook';
import { COMPONENTS } from '../../lambda/shared/vocabulary';
import { CodeDeployFake } from '../fakes/codedeploy-fake';
import { LambdaFake, type VersionHandler } from '../fakes/lambda-fake';
import { CONFIG_PATH, HYBRID_FOR_EVERYONE, StdoutCapture, TOPIC_ARN, lambdaContext, lambdaEnvironment, loadHandler, seedConfig, startWorld, type World } from './support/world';

const ROUTER = require.resolve('../../lambda/router/handler');
const HOOK = require.resolve('../../lambda/deploy-hook/handler');
const DEPLOYMENT = 'd-NEWVERSION1';
const EXECUTION = 'execution-1';
const hookEvent = { DeploymentId: DEPLOYMENT, LifecycleEventHookExecutionId: EXECUTION };

let world: World;
let lambda: LambdaFake;
let codedeploy: CodeDeployFake;
const stdout = new StdoutCapture();

beforeAll(async () => {
  world = await startWorld();
  [lambda, codedeploy] = await Promise.all([new LambdaFake().start(), new CodeDeployFake().start()]);
});
afterAll(async () => {
  await Promise.all([world.stop(), lambda.stop(), codedeploy.stop()]);
});
beforeEach(() => {
  world.ssm.clear();
  seedConfig(world.ssm);
  const now = new Date().toISOString();
  for (const c of COMPONENTS) world.ssm.put(`${CONFIG_PATH}/health/${c}`, JSON.stringify({ status: 'healthy', lastCheckedAt: now, latencyMs: 9, consecutiveFailures: 0, message: 'ok' }));
  world.bedrock.reset();
  world.mcp.behavior = 'answer';
  world.sns.published.length = 0;
  lambda.reset();
  codedeploy.reset();
  codedeploy.deployments.set(DEPLOYMENT, { application: 'HybridRouting-dev', deploymentGroup: 'router-live', status: 'InProgress' });
  stdout.start();
});
afterEach(() => {
  stdout.stop();
  stdout.clear();
});

/** A router version: the real router handler, loaded as a fresh container with `extra` in its environment. */
const routerVersion = (extra: Record<string, string> = {}) => loadHandler(ROUTER, lambdaEnvironment(world, extra)) as unknown as VersionHandler;

/** Publishes version 1 (serving) and `next` as version 2, and loads the hook as CloudFormation configures it for version 2. */
function deploy(next: VersionHandler, extra: Record<string, string> = {}) {
  lambda.publish('router', routerVersion());
  lambda.setAlias('router', 'live', '1');
  const version = lambda.publish('router', next);
  const handler = loadHandler(HOOK, {
    ...lambdaEnvironment(world),
    AWS_ENDPOINT_URL_LAMBDA: lambda.url,
    AWS_ENDPOINT_URL_CODEDEPLOY: codedeploy.url,
    ROUTER_VERSION_ARN: lambda.versionArn('router', version),
    TOPIC_ARN,
    CHECK_TIMEOUT_MS: '5000',
    ...extra,
  }) as unknown as (event: unknown, context: unknown) => Promise<HookOutcome>;
  return (event: unknown = hookEvent) => handler(event, lambdaContext());
}

describe('the pre-traffic smoke-test hook', () => {
  it('passes a healthy new version: health and an emergency request, then Succeeded to CodeDeploy', async () => {
    const hook = deploy(routerVersion());
    const outcome = await hook();
    expect(outcome.status).toBe('Succeeded');
    expect(outcome.checks).toEqual([
      expect.objectContaining({ check: 'health', pass: true, detail: 'overall healthy' }),
      expect.objectContaining({ check: 'emergency', pass: true, provider: 'mcp', fallback: false }),
    ]);
    expect(codedeploy.reports).toEqual([{ deploymentId: DEPLOYMENT, executionId: EXECUTION, status: 'Succeeded' }]);
    // Only the new version was invoked, by its version ARN; never the alias that serves traffic.
    expect(lambda.calls.filter((c) => c.operation === 'Invoke')).toEqual([
      { operation: 'Invoke', functionName: 'router', qualifier: '2' },
      { operation: 'Invoke', functionName: 'router', qualifier: '2' },
    ]);
    expect(world.mcp.toolCalls.map((c) => c.operation)).toEqual(['emergency']);
    expect(world.sns.published).toEqual([]);
    expect(stdout.lines.join('\n')).not.toContain('Smoke test: reply with OK.');
  });

  it('stops a version that cannot parse the configuration store, and notifies', async () => {
    const hook = deploy(routerVersion({ CONFIG_PATH: '/hybrid-routing/renamed' }));
    const outcome = await hook();
    expect(outcome.status).toBe('Failed');
    expect(outcome.checks[0]).toMatchObject({ check: 'health', pass: false, detail: expect.stringContaining('cannot parse the configuration store: feature-flags/hybrid-routing is missing') });
    expect(codedeploy.reports).toEqual([{ deploymentId: DEPLOYMENT, executionId: EXECUTION, status: 'Failed' }]);
    expect(world.sns.published).toHaveLength(1);
    expect(world.sns.published[0]!.subject).toBe('Hybrid Routing dev: router deploy stopped by its smoke test');
    expect(world.sns.published[0]!.message).toContain(`deployment ${DEPLOYMENT} of the router in dev was stopped before any traffic shifted`);
    expect(world.sns.published[0]!.message).toContain('health: cannot parse the configuration store');
  });

  it('stops a version that crashes', async () => {
    const hook = deploy(async () => {
      throw new TypeError('Cannot read properties of undefined');
    });
    const outcome = await hook();
    expect(outcome.status).toBe('Failed');
    expect(outcome.checks.map((c) => c.detail)).toEqual([
      'the function failed: TypeError: Cannot read properties of undefined',
      'the function failed: TypeError: Cannot read properties of undefined',
    ]);
    expect(codedeploy.reports.map((r) => r.status)).toEqual(['Failed']);
  });

  it('stops a version whose emergency request neither path answers', async () => {
    const hook = deploy(routerVersion());
    world.bedrock.defaultBehavior = { kind: 'error', type: 'ServiceUnavailableException', status: 503 };
    world.mcp.behavior = 'http-500';
    seedConfig(world.ssm, HYBRID_FOR_EVERYONE);
    const outcome = await hook();
    expect(outcome.status).toBe('Failed');
    expect(outcome.checks[1]).toMatchObject({ check: 'emergency', pass: false, detail: expect.stringMatching(/^answered 50[23]: /) });
    expect(world.bedrock.calls.length).toBeGreaterThan(0);
    expect(codedeploy.reports.map((r) => r.status)).toEqual(['Failed']);
  });

  it('fails a check the new version does not answer within its deadline', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const hook = deploy(async () => released.then(() => ({ statusCode: 200, body: '{}' })), { CHECK_TIMEOUT_MS: '200' });
    const outcome = await hook();
    release();
    expect(outcome.status).toBe('Failed');
    expect(outcome.checks.map((c) => c.detail)).toEqual(['no answer within 200 ms', 'no answer within 200 ms']);
  });

  it('fails the invocation when the report fails, so Lambda runs it again; a repeat after the report changes nothing', async () => {
    const hook = deploy(routerVersion());
    codedeploy.fail('PutLifecycleEventHookExecutionStatus', 'ThrottlingException', 1, 400);
    await expect(hook()).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(codedeploy.reports).toEqual([]);

    expect((await hook()).status).toBe('Succeeded');
    expect((await hook()).status).toBe('Succeeded');
    expect(codedeploy.reports).toEqual([{ deploymentId: DEPLOYMENT, executionId: EXECUTION, status: 'Succeeded' }]);
    expect(codedeploy.calls.filter((c) => c === 'PutLifecycleEventHookExecutionStatus')).toHaveLength(3);
  });

  it('refuses an event that is not a lifecycle hook event, reporting nothing', async () => {
    const hook = deploy(routerVersion());
    await expect(hook({ source: 'aws.events' })).rejects.toThrow('the event has no DeploymentId and LifecycleEventHookExecutionId');
    expect(lambda.count('Invoke')).toBe(0);
    expect(codedeploy.calls).toEqual([]);
  });
});
