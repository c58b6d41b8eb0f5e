import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { EXIT, main } from '../../cli/main';
import { COMPONENTS } from '../../lambda/shared/vocabulary';
import { CloudFormationFake } from '../fakes/cloudformation-fake';
import { SignedGateway, type Principal } from '../support/signed-gateway';
import { RouterCodeFakes } from './support/router-code';
import { CONFIG_PATH, StdoutCapture, lambdaEnvironment, loadHandler, seedConfig, startWorld, type World } from './support/world';

const ALICE: Principal = { accessKeyId: 'AKIAALICE', secretAccessKey: 'alice-secret', arn: 'arn:aws:iam::123456789012:user/alice' };
const BOB: Principal = { accessKeyId: 'AKIABOB', secretAccessKey: 'bob-secret', arn: 'arn:aws:iam::123456789012:user/bob' };
const MALLORY = { accessKeyId: 'AKIAALICE', secretAccessKey: 'guessed-secret' };

let world: World;
let gateway: SignedGateway;
let code: RouterCodeFakes;
const capture = new StdoutCapture();

beforeAll(async () => {
  [world, code] = await Promise.all([startWorld(), new RouterCodeFakes().start()]);
  const env = lambdaEnvironment(world, code.endpoints);
  const admin = loadHandler(require.resolve('../../lambda/admin/handler'), env);
  const router = loadHandler(require.resolve('../../lambda/router/handler'), env);
  const adminRoutes = [
    ['GET', '/admin/status'],
    ['PUT', '/admin/traffic'],
    ['PUT', '/admin/feature-flags/{flag}'],
    ['PUT', '/admin/routing/mode'],
    ['PUT', '/admin/routing/policy'],
    ['POST', '/admin/rollback'],
    ['DELETE', '/admin/rollback'],
    ['POST', '/admin/circuit-breakers/reset'],
    ['GET', '/admin/audit'],
  ].map(([method, resource]) => ({ method: method!, resource: resource!, handler: admin, iam: true }));
  gateway = await new SignedGateway(
    [
      ...adminRoutes,
      { method: 'GET', resource: '/health', handler: router, iam: false },
      { method: 'GET', resource: '/health/detailed', handler: router, iam: true },
      { method: 'GET', resource: '/health/component/{name}', handler: router, iam: true },
    ],
    [ALICE, BOB],
  ).start();
});
afterAll(async () => {
  await gateway.stop();
  await Promise.all([world.stop(), code.stop()]);
});
beforeEach(() => {
  world.ssm.heal();
  world.ssm.clear();
  seedConfig(world.ssm);
  const now = new Date().toISOString();
  for (const c of COMPONENTS) world.ssm.put(`${CONFIG_PATH}/health/${c}`, JSON.stringify({ status: 'healthy', lastCheckedAt: now, latencyMs: 9, consecutiveFailures: 0, message: 'ok' }));
  gateway.seen.length = 0;
});

/** Runs the CLI in-process against the gateway; the functions' own logs are kept out of the way. */
async function cli(args: string[], who: { accessKeyId: string; secretAccessKey: string } = ALICE) {
  const out: string[] = [];
  const err: string[] = [];
  capture.start();
  try {
    const code = await main(['--url', gateway.url, '--region', 'eu-central-1', ...args], {
      stdout: (t) => out.push(t),
      stderr: (t) => err.push(t),
      credentials: async () => ({ accessKeyId: who.accessKeyId, secretAccessKey: who.secretAccessKey }),
    });
    return { code, stdout: out.join('\n'), stderr: err.join('\n') };
  } finally {
    capture.stop();
    capture.clear();
  }
}

const stored = (name: string) => world.ssm.get(`${CONFIG_PATH}/${name}`);

describe('hybrid-routing CLI', () => {
  it('finds the API URL from the stack outputs with --env, in the region cdk.json names', async () => {
    const cloudformation = await new CloudFormationFake().start();
    const saved = process.env.AWS_ENDPOINT_URL_CLOUDFORMATION;
    process.env.AWS_ENDPOINT_URL_CLOUDFORMATION = cloudformation.url;
    try {
      cloudformation.stacks.set('HybridRouting-dev', { ApiUrl: gateway.url, ConfigPath: '/hybrid-routing/dev' });
      const out: string[] = [];
      const code = await main(['--env', 'dev', 'status'], { stdout: (t) => out.push(t), stderr: () => undefined, credentials: async () => ALICE, env: {} });
      expect(code).toBe(EXIT.ok);
      expect(out.join('\n')).toContain('environment     dev');

      const err: string[] = [];
      const missing = await main(['--env', 'staging', 'status'], { stdout: () => undefined, stderr: (t) => err.push(t), credentials: async () => ALICE, env: {} });
      expect(missing).toBe(EXIT.network);
      expect(err.join('\n')).toContain('cannot read stack HybridRouting-staging in eu-central-1');
    } finally {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_CLOUDFORMATION;
      else process.env.AWS_ENDPOINT_URL_CLOUDFORMATION = saved;
      await cloudformation.stop();
    }
  });

  it('signs every request with SigV4', async () => {
    await cli(['status']);
    await cli(['traffic', 'set', '5', '--reason', 'canary']);
    expect(gateway.seen.length).toBeGreaterThanOrEqual(2);
    expect(gateway.seen.every((r) => r.signed && r.verified)).toBe(true);
  });

  it('runs the go-live ramp, a rollback, the audit and the latch clear', async () => {
    expect((await cli(['flag', 'enable', '--reason', 'go live'])).code).toBe(EXIT.ok);
    for (const percentage of ['5', '25', '75', '100']) {
      const step = await cli(['traffic', 'set', percentage, '--reason', `ramp to ${percentage}%`]);
      expect(step.code).toBe(EXIT.ok);
      expect(step.stdout).toContain(`traffic         ${percentage}% (effective ${percentage}%)`);
    }
    const rollback = await cli(['rollback', '--level', '2', '--reason', 'error spike'], BOB);
    expect(rollback.code).toBe(EXIT.ok);
    expect(rollback.stdout).toContain('changed rollback/state');
    expect(rollback.stdout).toMatch(/rollback latch +ACTIVE level 2 .* by manual: arn:aws:iam::123456789012:user\/bob: error spike/);

    const refused = await cli(['traffic', 'set', '5', '--reason', 'try again']);
    expect(refused.code).toBe(EXIT.conflict);
    expect(refused.stderr).toContain('rollback clear --reason');

    const audit = await cli(['audit', '--limit', '8']);
    expect(audit.code).toBe(EXIT.ok);
    const lines = audit.stdout.split('\n');
    expect(lines[0]).toMatch(/^WHEN +PARAMETER +CHANGE +WHO +REASON$/);
    expect(lines[2]).toMatch(/traffic\/percentage +100 -> 0 +user\/bob +rollback level 2: error spike/);
    expect(audit.stdout).toMatch(/traffic\/percentage +75 -> 100 +user\/alice +ramp to 100%/);

    const clear = await cli(['rollback', 'clear', '--reason', 'root cause fixed']);
    expect(clear.code).toBe(EXIT.ok);
    expect(clear.stdout).toContain('rollback latch  clear');
    expect(clear.stdout).toContain('traffic         0% (effective 0%)');
    expect((await cli(['traffic', 'set', '5', '--reason', 'canary again'])).code).toBe(EXIT.ok);
  });

  it('rollback clear is refused (exit 5) while a rollback alarm is in ALARM, and --force clears it on the record', async () => {
    world.cloudwatch.reset();
    expect((await cli(['rollback', '--level', '1', '--reason', 'latency'])).code).toBe(EXIT.ok);
    world.cloudwatch.setAlarm('HybridRouting-dev-hybrid-latency', 'ALARM');
    const refused = await cli(['rollback', 'clear', '--reason', 'fixed']);
    expect(refused.code).toBe(EXIT.conflict);
    expect(refused.stderr).toContain('HybridRouting-dev-hybrid-latency is in ALARM');
    expect((await cli(['rollback', '--force', '--reason', 'x'])).code).toBe(EXIT.usage);
    const forced = await cli(['rollback', 'clear', '--force', '--reason', 'alarm is stuck on a metric bug']);
    expect(forced.code).toBe(EXIT.ok);
    expect(forced.stdout).toContain('rollback latch  clear');
    expect(world.ssm.history(`${CONFIG_PATH}/rollback/state`).at(-1)!.description).toMatch(/^latch cleared by force \(while HybridRouting-dev-hybrid-latency in ALARM\): alarm is stuck on a metric bug \[by /);
    world.cloudwatch.reset();
  });

  it('rollback --level 3 moves live back, and status shows the code move while latched and after the clear', async () => {
    code.reset(7, '7');
    const rollback = await cli(['rollback', '--level', '3', '--reason', 'bad deploy']);
    expect(rollback.code).toBe(EXIT.ok);
    expect(rollback.stdout).toContain('the live alias moved from version 7 to version 6');
    expect(code.live.version).toBe('6');
    expect((await cli(['status'])).stdout).toMatch(/rollback latch +ACTIVE level 3 .*: bad deploy \(router code: version 7 -> 6\)/);

    const again = await cli(['rollback', '--level', '3', '--reason', 'bad deploy']);
    expect(again.code).toBe(EXIT.ok);
    expect(again.stdout).toContain('already in effect: the live alias serves version 6');

    expect((await cli(['rollback', 'clear', '--reason', 'fixed in 8'])).code).toBe(EXIT.ok);
    expect((await cli(['status'])).stdout).toMatch(/rollback latch +clear \(cleared at .*; the level-3 rollback before it moved the router code from version 7 to 6, and the clear did not move it back\)/);
    expect(code.live.version).toBe('6');

    code.reset(1, '1');
    const refused = await cli(['rollback', '--level', '3', '--reason', 'bad deploy']);
    expect(refused.code).toBe(EXIT.conflict);
    expect(refused.stderr).toContain('no published version of the router is older than version 1');
  });

  it('status prints a readable summary, and --json the API answer', async () => {
    const table = await cli(['status']);
    expect(table.stdout).toContain('hybrid routing  off');
    expect(table.stdout).toContain('health          healthy (direct-bedrock healthy');
    const json = await cli(['--json', 'status']);
    expect(JSON.parse(json.stdout).state).toMatchObject({ environment: 'dev', trafficPercentage: 0, mode: 'auto' });
  });

  it('mode set, policy get and set, breakers reset', async () => {
    expect((await cli(['mode', 'set', 'force-mcp', '--reason', 'drill'])).stdout).toContain('mode            force-mcp');
    const dir = mkdtempSync(path.join(tmpdir(), 'policy-'));
    const file = path.join(dir, 'policy.json');
    writeFileSync(file, JSON.stringify({ retry: { baseDelayMs: 250 } }));
    expect((await cli(['policy', 'set', file, '--reason', 'slower retries'])).code).toBe(EXIT.ok);
    // Merged over the policy in force: the other sections stay as they were.
    expect(JSON.parse(stored('routing/policy')!)).toMatchObject({ retry: { baseDelayMs: 250 }, circuitBreaker: { failureThreshold: 5, coolDownMs: 30_000 } });
    expect(JSON.parse((await cli(['policy', 'get'])).stdout).retry).toEqual({ baseDelayMs: 250 });
    expect((await cli(['breakers', 'reset', '--reason', 'MCP back'])).stdout).toContain('breaker epoch   1');
  });

  it('health shows every component, or one', async () => {
    const all = await cli(['health']);
    expect(all.code).toBe(EXIT.ok);
    expect(all.stdout.split('\n')[0]).toBe('overall: healthy');
    for (const component of COMPONENTS) expect(all.stdout).toMatch(new RegExp(`^${component} +healthy`, 'm'));
    const one = await cli(['--json', 'health', 'direct-bedrock']);
    expect(JSON.parse(one.stdout)).toMatchObject({ component: 'direct-bedrock', status: 'healthy' });
  });

  it('health reports an unhealthy system and exits 6', async () => {
    for (const c of ['direct-bedrock', 'mcp-router']) world.ssm.put(`${CONFIG_PATH}/health/${c}`, JSON.stringify({ status: 'unhealthy', lastCheckedAt: new Date().toISOString(), latencyMs: 9, consecutiveFailures: 3, message: 'down' }));
    await new Promise((resolve) => setTimeout(resolve, 1_050));
    const result = await cli(['health']);
    expect(result.code).toBe(EXIT.unavailable);
    expect(result.stdout).toContain('overall: unhealthy');
    expect(result.stderr).toBe('');
  });

  it.each([
    ['a percentage over 100', ['traffic', 'set', '101', '--reason', 'x'], EXIT.usage, /must be an integer from 0 to 100/],
    ['a fractional percentage', ['traffic', 'set', '50.5', '--reason', 'x'], EXIT.usage, /must be an integer from 0 to 100/],
    ['a missing reason', ['traffic', 'set', '5'], EXIT.usage, /required option '--reason <text>'/],
    ['an unknown flag state', ['flag', 'toggle', '--reason', 'x'], EXIT.usage, /Allowed choices are enable, disable/],
    ['an unknown mode', ['mode', 'set', 'turbo', '--reason', 'x'], EXIT.usage, /Allowed choices are auto, force-mcp/],
    ['an unknown rollback action', ['rollback', 'undo', '--reason', 'x'], EXIT.usage, /the only one is "clear"/],
    ['a missing policy file', ['policy', 'set', '/nonexistent/policy.json', '--reason', 'x'], EXIT.usage, /cannot read a JSON policy/],
  ])('exits 2 before calling the API for %s', async (_name, args, code, message) => {
    const result = await cli(args);
    expect(result.code).toBe(code);
    expect(result.stderr).toMatch(message);
    expect(gateway.seen).toHaveLength(0);
  });

  it('exits 2 with the API\'s details for a request it rejects', async () => {
    const result = await cli(['traffic', 'set', '5', '--reason', 'x'.repeat(600)]);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toContain('ValidationError (400): reason must be at most 500 characters');
  });

  it('exits 4 for an unknown component', async () => {
    const result = await cli(['health', 'hybrid-router']);
    expect(result.code).toBe(EXIT.notFound);
    expect(result.stderr).toContain('no component "hybrid-router"');
  });

  it('exits 3 with a clear message when the signature does not verify', async () => {
    const result = await cli(['status'], MALLORY);
    expect(result.code).toBe(EXIT.forbidden);
    expect(result.stderr).toContain('not signed with valid credentials, or they are not allowed execute-api:Invoke');
    expect(gateway.seen[0]).toMatchObject({ signed: true, verified: false });
  });

  it('exits 7 when the API cannot be reached', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(['--url', 'http://127.0.0.1:9/dev/', '--region', 'eu-central-1', 'status'], {
      stdout: (t) => out.push(t),
      stderr: (t) => err.push(t),
      credentials: async () => ALICE,
    });
    expect(code).toBe(EXIT.network);
    expect(err.join('\n')).toContain('cannot reach http://127.0.0.1:9');
  });

  it('exits 2 when neither --env nor --url says which API to call', async () => {
    const code = await main(['status'], { stdout: () => undefined, stderr: () => undefined, credentials: async () => ALICE, env: { AWS_REGION: 'eu-central-1' } });
    expect(code).toBe(EXIT.usage);
  });

  it('prints --help for every command', async () => {
    for (const args of [[], ['status'], ['traffic', 'set'], ['flag'], ['mode', 'set'], ['policy', 'set'], ['rollback'], ['breakers', 'reset'], ['audit'], ['health'], ['invoke']]) {
      const result = await cli([...args, '--help']);
      expect(result.code).toBe(EXIT.ok);
      expect(result.stdout).toContain('Usage: hybrid-routing');
    }
  });

  it('is installed as the hybrid-routing bin of the package', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(__dirname, '..', '..', 'bin', 'hybrid-routing-cli.js'), '--help']);
    expect(stdout).toContain('Exit codes: 0 ok');
  });
});
