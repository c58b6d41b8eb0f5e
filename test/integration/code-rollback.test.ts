import { SSMClient } from '@aws-sdk/client-ssm';
import { ParameterWriter } from '../../lambda/adapters/parameter-writer';
import { routerCodeFromEnvironment, type RouterCode } from '../../lambda/adapters/router-code';
import { rollBackCode, type CodeLatch, type CodeMove } from '../../lambda/core/code-rollback';
import { ConflictError, UnavailableError } from '../../lambda/core/http-errors';
import { CLEAR_ROLLBACK_STATE } from '../../lambda/shared/routing-config';
import { CodeDeployFake } from '../fakes/codedeploy-fake';
import { LambdaFake } from '../fakes/lambda-fake';
import { SsmFake } from '../fakes/ssm-fake';
import { CONFIG_PATH, seedConfig } from './support/world';

/**
 * The code half of a level-3 rollback with the real Lambda, CodeDeploy and SSM clients against
 * wire fakes. `record` writes what the admin flow writes before the alias moves: the latch with
 * `code`, the flag off and traffic 0.
 */

let ssm: SsmFake;
let lambda: LambdaFake;
let codedeploy: CodeDeployFake;
let routerCode: RouterCode;
let writer: ParameterWriter;
const saved = { ...process.env };

const noop = async () => ({ statusCode: 200, body: '{}' });

beforeAll(async () => {
  [ssm, lambda, codedeploy] = await Promise.all([new SsmFake().start(), new LambdaFake().start(), new CodeDeployFake().start()]);
  Object.assign(process.env, {
    AWS_REGION: 'eu-central-1',
    AWS_ACCESS_KEY_ID: 'AKIAFAKEFORTESTS',
    AWS_SECRET_ACCESS_KEY: 'fake-secret-for-tests',
    AWS_ENDPOINT_URL_SSM: ssm.url,
    AWS_ENDPOINT_URL_LAMBDA: lambda.url,
    AWS_ENDPOINT_URL_CODEDEPLOY: codedeploy.url,
    ROUTER_FUNCTION_NAME: 'router',
    ROUTER_ALIAS_NAME: 'live',
    CODEDEPLOY_APPLICATION: 'HybridRouting-dev',
    CODEDEPLOY_DEPLOYMENT_GROUP: 'router-live',
  });
  routerCode = routerCodeFromEnvironment();
  writer = new ParameterWriter(new SSMClient({}));
});
afterAll(async () => {
  process.env = saved;
  await Promise.all([ssm.stop(), lambda.stop(), codedeploy.stop()]);
});

/** The alias position each `record` call saw, to prove the latch is written before the alias moves. */
let aliasWhenRecorded: string[];

beforeEach(() => {
  ssm.clear();
  seedConfig(ssm, { 'feature-flags/hybrid-routing': 'true', 'traffic/percentage': '25' });
  lambda.reset();
  codedeploy.reset();
  aliasWhenRecorded = [];
  // Versions 1-4; 4 was a deploy CodeDeploy already rolled back, so live serves 3.
  for (let i = 0; i < 4; i += 1) lambda.publish('router', noop);
  lambda.setAlias('router', 'live', '3');
});

const stored = (name: string) => ssm.get(`${CONFIG_PATH}/${name}`);
const latch = (): CodeLatch & Record<string, unknown> => JSON.parse(stored('rollback/state')!);

async function record(move: CodeMove): Promise<void> {
  aliasWhenRecorded.push(lambda.alias('router', 'live')!.version);
  const state = { active: true, level: 3, reason: 'bad deploy', source: 'manual: test', at: new Date().toISOString(), previous: { hybridEnabled: true, trafficPercentage: 25 }, code: move };
  await writer.put(`${CONFIG_PATH}/rollback/state`, JSON.stringify(state), 'rollback level 3: bad deploy');
  await writer.put(`${CONFIG_PATH}/feature-flags/hybrid-routing`, 'false', 'rollback level 3: bad deploy');
  await writer.put(`${CONFIG_PATH}/traffic/percentage`, '0', 'rollback level 3: bad deploy');
}

const levelThree = () => rollBackCode(routerCode, async () => latch(), record);

describe('level-3 rollback of the router code', () => {
  it('records both versions in the latch, then moves live to the highest published version below it', async () => {
    const result = await levelThree();
    expect(result).toEqual({ from: '3', to: '2', moved: true });
    expect(lambda.alias('router', 'live')).toEqual({ version: '2', weights: {} });
    expect(aliasWhenRecorded).toEqual(['3']);
    expect(latch()).toMatchObject({ active: true, level: 3, code: { from: '3', to: '2' } });
    expect([stored('feature-flags/hybrid-routing'), stored('traffic/percentage')]).toEqual(['false', '0']);
    // All five versions (with $LATEST) over three pages of two.
    expect(lambda.count('ListVersionsByFunction')).toBe(3);
    expect(lambda.count('UpdateAlias')).toBe(1);
  });

  it('is idempotent: a repeat recognises the recorded move and leaves the alias on it', async () => {
    await levelThree();
    const repeat = await levelThree();
    expect(repeat).toEqual({ from: '3', to: '2', moved: false });
    expect(lambda.alias('router', 'live')!.version).toBe('2');
    expect(lambda.count('UpdateAlias')).toBe(1);
  });

  it('after a newer deploy, goes back to the version the active latch recorded, past the versions in between', async () => {
    await levelThree();
    const fix = lambda.publish('router', noop);
    lambda.setAlias('router', 'live', fix);
    expect(await levelThree()).toEqual({ from: fix, to: '2', moved: true });
    expect(latch().code).toEqual({ from: fix, to: '2' });
  });

  it('starts afresh once the latch is cleared: the served version becomes the one to go back from', async () => {
    await levelThree();
    ssm.put(`${CONFIG_PATH}/rollback/state`, JSON.stringify(CLEAR_ROLLBACK_STATE));
    expect(await levelThree()).toEqual({ from: '2', to: '1', moved: true });
  });

  describe('is refused with 409 and changes nothing', () => {
    const unchanged = async (message: RegExp) => {
      const before = [stored('rollback/state'), stored('feature-flags/hybrid-routing'), stored('traffic/percentage')];
      const aliasBefore = lambda.alias('router', 'live');
      const error = await levelThree().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConflictError);
      expect((error as Error).message).toMatch(message);
      expect([stored('rollback/state'), stored('feature-flags/hybrid-routing'), stored('traffic/percentage')]).toEqual(before);
      expect(lambda.alias('router', 'live')).toEqual(aliasBefore);
      expect(lambda.count('UpdateAlias')).toBe(0);
      expect(aliasWhenRecorded).toEqual([]);
    };

    it('when no published version is older than the one serving', async () => {
      lambda.setAlias('router', 'live', '1');
      await unchanged(/no published version of the router is older than version 1, which the live alias serves; there is nothing to roll back to/);
    });

    it('while a CodeDeploy deployment of the alias is in progress, saying how to stop it', async () => {
      codedeploy.deployments.set('d-OLD', { application: 'HybridRouting-dev', deploymentGroup: 'router-live', status: 'Succeeded' });
      codedeploy.deployments.set('d-OTHERGROUP', { application: 'HybridRouting-dev', deploymentGroup: 'other', status: 'InProgress' });
      codedeploy.deployments.set('d-CANARY', { application: 'HybridRouting-dev', deploymentGroup: 'router-live', status: 'InProgress' });
      lambda.setAlias('router', 'live', '3', { '4': 0.1 });
      await unchanged(/in progress \(d-CANARY\); stop it and let CodeDeploy put the alias back: aws deploy stop-deployment --deployment-id d-CANARY --auto-rollback-enabled/);
    });

    it('while the alias splits traffic outside any deployment', async () => {
      lambda.setAlias('router', 'live', '3', { '4': 0.25 });
      await unchanged(/sends traffic to version 3 and to version 4 outside any CodeDeploy deployment; settle it on one version first/);
    });
  });

  it('answers 503 and changes nothing when the Lambda API fails the read', async () => {
    lambda.fail({ operation: 'GetAlias', type: 'TooManyRequestsException', status: 429 });
    const error = await levelThree().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as Error).message).toBe("cannot read the router's alias, versions and deployments (TooManyRequestsException); nothing was changed");
    expect(aliasWhenRecorded).toEqual([]);
    expect(lambda.alias('router', 'live')!.version).toBe('3');
  });

  it('when the move fails after the latch is written, a repeat finishes the same move rather than going further back', async () => {
    lambda.fail({ operation: 'UpdateAlias', type: 'ServiceException', status: 500, times: 1 });
    const error = await levelThree().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as Error).message).toMatch(/the latch is set, but moving the live alias to version 2 failed \(ServiceException\); repeat the level-3 rollback/);
    expect(latch().code).toEqual({ from: '3', to: '2' });
    expect(lambda.alias('router', 'live')!.version).toBe('3');

    expect(await levelThree()).toEqual({ from: '3', to: '2', moved: true });
    expect(lambda.alias('router', 'live')!.version).toBe('2');
  });

  it('does not overwrite a deployment that moved the alias between the read and the move', async () => {
    lambda.before('UpdateAlias', () => {
      lambda.before('UpdateAlias', () => undefined);
      lambda.setAlias('router', 'live', '4');
    });
    const error = await levelThree().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as Error).message).toMatch(/the live alias changed while the rollback was being recorded/);
    expect(lambda.alias('router', 'live')!.version).toBe('4');
  });

  it('reads the latch after the alias: a level 3 that recorded and moved in between is seen as done, not gone past', async () => {
    const other = async () => {
      await record({ from: '3', to: '2' });
      lambda.setAlias('router', 'live', '2');
      return latch();
    };
    const result = await rollBackCode(routerCode, other, record);
    expect(result).toEqual({ from: '3', to: '2', moved: false });
    expect(lambda.alias('router', 'live')!.version).toBe('2');
  });

  it('two level-3 rollbacks at once both end on the version before, not one further back', async () => {
    let reads = 0;
    let bothRead!: () => void;
    const gate = new Promise<void>((resolve) => (bothRead = resolve));
    lambda.before('GetAlias', async () => {
      reads += 1;
      if (reads === 2) bothRead();
      await gate;
    });
    const latchBefore = latch();
    const results = await Promise.all([rollBackCode(routerCode, async () => latchBefore, record), rollBackCode(routerCode, async () => latchBefore, record)]);
    expect(results.map((r) => `${r.from}->${r.to}`)).toEqual(['3->2', '3->2']);
    expect(results.map((r) => r.moved).sort()).toEqual([false, true]);
    expect(lambda.alias('router', 'live')!.version).toBe('2');
    expect(lambda.count('UpdateAlias')).toBe(2);
  });
});
