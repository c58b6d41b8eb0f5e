import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { COMPONENTS } from '../../lambda/shared/vocabulary';
import { CodeDeployFake } from '../fakes/codedeploy-fake';
import { LambdaFake, type VersionHandler } from '../fakes/lambda-fake';
import { assetByPrefix, synthesizeAssets } from '../support/assets';
import { CONFIG_PATH, StdoutCapture, TOPIC_ARN, lambdaEnvironment, loadHandler, seedConfig, startWorld, type World } from './support/world';

const run = promisify(execFile);
let world: World;
let lambda: LambdaFake;
let codedeploy: CodeDeployFake;
const stdout = new StdoutCapture();

beforeAll(async () => {
  world = await startWorld();
  [lambda, codedeploy] = await Promise.all([new LambdaFake().start(), new CodeDeployFake().start()]);
}, 120_000);
afterAll(async () => {
  stdout.stop();
  await Promise.all([world.stop(), lambda.stop(), codedeploy.stop()]);
});

describe('the smoke-test hook asset in cdk.out', () => {
  it('runs on its own, smoke-tests the new router version and reports Succeeded to CodeDeploy', async () => {
    const hook = assetByPrefix(synthesizeAssets('dev'), 'RouterDeploymentSmokeTestFunction');
    expect(hook.environment).toMatchObject({ ENVIRONMENT: 'dev', ROUTER_VERSION_ARN: { Ref: expect.any(String) }, CHECK_TIMEOUT_MS: '20000' });

    seedConfig(world.ssm);
    const now = new Date().toISOString();
    for (const c of COMPONENTS) world.ssm.put(`${CONFIG_PATH}/health/${c}`, JSON.stringify({ status: 'healthy', lastCheckedAt: now, latencyMs: 9, consecutiveFailures: 0, message: 'ok' }));
    stdout.start();
    const version = lambda.publish('router', loadHandler(require.resolve('../../lambda/router/handler'), lambdaEnvironment(world)) as unknown as VersionHandler);
    codedeploy.deployments.set('d-ASSET', { application: 'HybridRouting-dev', deploymentGroup: 'router-live', status: 'InProgress' });

    const dir = mkdtempSync(path.join(tmpdir(), 'hook-asset-'));
    writeFileSync(path.join(dir, 'events.json'), JSON.stringify([{ DeploymentId: 'd-ASSET', LifecycleEventHookExecutionId: 'e-1' }]));
    await run(process.execPath, [path.join(__dirname, '..', 'support', 'invoke-asset.mjs'), hook.file, path.join(dir, 'events.json'), path.join(dir, 'results.json')], {
      env: {
        PATH: process.env.PATH,
        ...hook.environment,
        // What CloudFormation resolves at deploy time.
        ROUTER_VERSION_ARN: lambda.versionArn('router', version),
        TOPIC_ARN,
        AWS_REGION: 'eu-central-1',
        AWS_ACCESS_KEY_ID: 'AKIAFAKEFORTESTS',
        AWS_SECRET_ACCESS_KEY: 'fake-secret-for-tests',
        AWS_ENDPOINT_URL_LAMBDA: lambda.url,
        AWS_ENDPOINT_URL_CODEDEPLOY: codedeploy.url,
        AWS_ENDPOINT_URL_SNS: world.sns.url,
      },
      timeout: 60_000,
    });
    const [outcome] = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8'));
    expect(outcome).toMatchObject({ deploymentId: 'd-ASSET', status: 'Succeeded', checks: [{ check: 'health', pass: true }, { check: 'emergency', pass: true }] });
    expect(codedeploy.reports).toEqual([{ deploymentId: 'd-ASSET', executionId: 'e-1', status: 'Succeeded' }]);
    expect(lambda.calls.filter((c) => c.operation === 'Invoke').map((c) => c.qualifier)).toEqual([version, version]);
  });
});
