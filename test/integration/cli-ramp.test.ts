import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { EXIT, main, type CliIo } from '../../cli/main';
import { CloudFormationFake } from '../fakes/cloudformation-fake';
import { SignedGateway, type Principal } from '../support/signed-gateway';
import { clock, freshStore, minutesAfter, recordHealthyMinute, recordTraffic, recordHealth, startRampWorld, type RampWorld } from './support/ramp-world';
import { CONFIG_PATH, StdoutCapture } from './support/world';

/**
 * `hybrid-routing ramp …` and the CLI fixes of issue 9, against the signature-verifying gateway in
 * front of the real admin handler, with the ramp controller ticked between refreshes.
 */

const ALICE: Principal = {
  accessKeyId: 'AKIAALICE',
  secretAccessKey: 'alice-secret',
  arn: 'arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_PlatformOperators_0123456789abcdef/alice@example.com',
};
const T0 = new Date('2026-03-02T10:00:30.000Z');
const BIN = path.join(__dirname, '..', '..', 'bin', 'hybrid-routing-cli.js');
const ADMIN_ROUTES = [
  ['GET', '/admin/status'],
  ['PUT', '/admin/traffic'],
  ['PUT', '/admin/feature-flags/{flag}'],
  ['PUT', '/admin/routing/policy'],
  ['POST', '/admin/rollback'],
  ['DELETE', '/admin/rollback'],
  ['GET', '/admin/audit'],
  ['GET', '/admin/ramp'],
  ['POST', '/admin/ramp'],
  ['POST', '/admin/ramp/{action}'],
];

let rw: RampWorld;
let gateway: SignedGateway;
const capture = new StdoutCapture();

beforeAll(async () => {
  rw = await startRampWorld();
  gateway = await new SignedGateway(ADMIN_ROUTES.map(([method, resource]) => ({ method: method!, resource: resource!, handler: rw.adminHandler, iam: true })), [ALICE]).start();
});
afterAll(async () => {
  await gateway.stop();
  await rw.stop();
});
beforeEach(() => {
  freshStore(rw.world, T0);
  gateway.seen.length = 0;
});
afterEach(() => clock.restore());

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  written: string;
}

/** Runs the CLI in-process against the gateway; the functions' own logs are kept out of the way. */
async function cli(args: string[], io: Partial<CliIo> = {}): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const written: string[] = [];
  capture.start();
  try {
    const code = await main(['--url', gateway.url, '--region', 'eu-central-1', ...args], {
      stdout: (t) => out.push(t),
      stderr: (t) => err.push(t),
      write: (t) => written.push(t),
      credentials: async () => ({ accessKeyId: ALICE.accessKeyId, secretAccessKey: ALICE.secretAccessKey }),
      ...io,
    });
    return { code, stdout: out.join('\n'), stderr: err.join('\n'), written: written.join('') };
  } finally {
    capture.stop();
    capture.clear();
  }
}

const stored = (name: string) => rw.world.ssm.get(`${CONFIG_PATH}/${name}`);

/** A watch's sleep: one minute passes, a healthy minute of the current step is recorded, and the controller ticks. */
function tickingSleep(): (ms: number) => Promise<void> {
  let minute = 0;
  return async () => {
    minute += 1;
    const now = minutesAfter(T0, minute);
    clock.set(now);
    recordHealthyMinute(rw.world, new Date(now.getTime() - 20_000), Number(stored('traffic/percentage')));
    // Inside cli(), whose capture keeps the controller's logs out of the way too.
    await rw.tick();
  };
}

describe('hybrid-routing ramp', () => {
  it('start prints the ramp and the state, status shows each gate against its threshold, and every request is signed', async () => {
    clock.use(T0);
    const started = await cli(['ramp', 'start', '--bake', '0', '--min-samples', '20', '--reason', 'go live']);
    expect(started.code).toBe(EXIT.ok);
    expect(started.stdout).toContain('ramp RUNNING · step 1 of 4 at 5% · 5 → 25 → 75 → 100 %');
    expect(started.stdout).toContain('traffic         5% (effective 5%)');
    expect(started.stdout).toMatch(/^ramp +running at step 1 of 4 \(5%\) since 2026-03-02T10:00:30.000Z \("ramp status" for its gates\)$/m);
    expect(JSON.parse(stored('ramp/state')!).gates).toEqual({ errorRatePercent: 1, latencyP95Ms: 10_000, minSamples: 20 });

    clock.set(minutesAfter(T0, 1));
    recordHealthyMinute(rw.world, minutesAfter(T0, 0.7), 5);
    const status = await cli(['ramp', 'status']);
    expect(status.code).toBe(EXIT.ok);
    expect(status.stdout).toMatch(/^bake +\[#{24}\] 0m 00s of 0m 00s · bake time passed$/m);
    expect(status.stdout).toMatch(/^ {2}hybrid-error-rate +pass +0% +< 1% \(95% lower bound 0%\)$/m);
    expect(status.stdout).toMatch(/^ {2}hybrid-vs-control +pass +-0\.5 points +not worse at 95% \(one-sided p = 1\)$/m);
    expect(status.stdout).toMatch(/^ {2}hybrid-latency-p95 +pass +\d+ ms +<= 10000 ms/m);
    expect(status.stdout).toMatch(/^last +running at .* by …[A-Za-z]*_0123456789abcdef\/alice@example\.com: go live$/m);
    const json = await cli(['--json', 'ramp', 'status']);
    expect(JSON.parse(json.stdout)).toMatchObject({ ramp: { status: 'running' }, progress: { step: 1 }, evaluation: { verdict: 'pass' } });
    expect(gateway.seen.every((r) => r.signed && r.verified)).toBe(true);
  });

  it('status --watch refreshes in plain lines until the ramp is done, and exits 0', async () => {
    clock.use(T0);
    await cli(['ramp', 'start', '--bake', '0', '--reason', 'go live']);
    const watched = await cli(['ramp', 'status', '--watch', '--interval', '1'], { sleep: tickingSleep(), isTTY: false });
    expect(watched.code).toBe(EXIT.ok);
    const frames = watched.stdout.split(/\n\n(?=\d{4}-)/);
    expect(frames.map((f) => /ramp (\w+) · step (\d)/.exec(f)!.slice(1).join(' '))).toEqual(['RUNNING 1', 'RUNNING 2', 'RUNNING 3', 'RUNNING 4', 'DONE 4']);
    expect(watched.stdout).not.toContain('\x1b[');
    expect(watched.written).toBe('');
  });

  it('status --watch on a terminal redraws in place, and --json prints one object per refresh', async () => {
    clock.use(T0);
    await cli(['ramp', 'start', '--bake', '0', '--reason', 'go live']);
    const tty = await cli(['ramp', 'status', '--watch', '--interval', '1'], { sleep: tickingSleep(), isTTY: true });
    expect(tty.code).toBe(EXIT.ok);
    expect(tty.stdout).toBe('');
    expect(tty.written.match(/\x1b\[\d+F\x1b\[J/g)).toHaveLength(4);
    expect(tty.written).toContain('(refreshing every 1 s; Ctrl-C stops watching, not the ramp)');

    freshStore(rw.world, T0);
    clock.set(T0);
    await cli(['ramp', 'start', '--bake', '0', '--reason', 'go live']);
    const json = await cli(['--json', 'ramp', 'status', '--watch', '--interval', '1'], { sleep: tickingSleep() });
    const objects = json.stdout.split('\n').map((line) => JSON.parse(line));
    expect(objects.map((o) => `${o.ramp.status} ${o.ramp.stepIndex + 1}`)).toEqual(['running 1', 'running 2', 'running 3', 'running 4', 'done 4']);
    expect(objects[0]).toHaveProperty('at');
  });

  it('a watched ramp that rolls back exits 9', async () => {
    clock.use(T0);
    await cli(['ramp', 'start', '--bake', '0', '--reason', 'go live']);
    const failing = async () => {
      clock.set(minutesAfter(T0, 1));
      recordTraffic(rw.world, minutesAfter(T0, 0.7), 'hybrid', 200, 40);
      recordTraffic(rw.world, minutesAfter(T0, 0.7), 'control', 200, 0);
      recordHealth(rw.world, minutesAfter(T0, 0.7));
      await rw.tick();
    };
    const watched = await cli(['ramp', 'status', '--watch'], { sleep: failing, isTTY: false });
    expect(watched.code).toBe(EXIT.rampStopped);
    expect(watched.stdout).toContain('ramp ROLLED-BACK · step 1 of 4 at 5%');
    expect(watched.stdout).toMatch(/last +rolled-back at .* by ramp controller: ramp gate failed at step 1 of 4 \(5%\): hybrid-error-rate: 20%/);
  });

  it('pause, resume and abort; 409 exits 5 and an unknown action exits 2', async () => {
    clock.use(T0);
    expect((await cli(['ramp', 'pause', '--reason', 'x'])).code).toBe(EXIT.conflict);
    await cli(['ramp', 'start', '--reason', 'go live']);
    const paused = await cli(['ramp', 'pause', '--reason', 'lunch']);
    expect(paused).toMatchObject({ code: EXIT.ok });
    expect(paused.stdout).toContain('ramp PAUSED · step 1 of 4 at 5%');
    expect((await cli(['ramp', 'start', '--reason', 'again'])).stderr).toMatch(/Conflict \(409\): the ramp cannot start: a ramp is paused/);
    expect((await cli(['ramp', 'resume', '--reason', 'back'])).stdout).toContain('ramp RUNNING');
    const aborted = await cli(['ramp', 'abort', '--reason', 'changed our mind']);
    expect(aborted.stdout).toContain('rollback latch  ACTIVE level 2');
    expect((await cli(['ramp', 'skip', '--reason', 'x'])).code).toBe(EXIT.usage);
    expect((await cli(['ramp', 'start', '--steps', '25,5', '--reason', 'x'])).stderr).toContain('steps must rise strictly');
  });
});

describe('traffic set asks before skipping a runbook step', () => {
  it('0 → 5 and 5 → 25 go through; 0 → 100 asks, and without an answer changes nothing', async () => {
    const asked: string[] = [];
    const refused = await cli(['traffic', 'set', '100', '--reason', 'all in'], { confirm: async (q) => (asked.push(q), false) });
    expect(refused.code).toBe(EXIT.usage);
    expect(asked).toEqual(['raise hybrid traffic from 0% to 100%, past the runbook\'s 5%, 25%, 75% steps? ("ramp start" ramps on evidence)']);
    expect(refused.stderr).toContain('answer yes, or pass --yes');
    expect(stored('traffic/percentage')).toBe('0');

    expect((await cli(['traffic', 'set', '100', '--reason', 'all in'], { confirm: async () => true })).code).toBe(EXIT.ok);
    expect((await cli(['traffic', 'set', '0', '--reason', 'back'])).code).toBe(EXIT.ok);
    expect((await cli(['traffic', 'set', '5', '--reason', 'canary'], { confirm: async () => fail('no question for one step') })).code).toBe(EXIT.ok);
    expect((await cli(['traffic', 'set', '25', '--reason', 'next'], { confirm: async () => fail('no question for one step') })).code).toBe(EXIT.ok);
    expect((await cli(['traffic', 'set', '100', '--yes', '--reason', 'skip'], { confirm: async () => fail('--yes asks nothing') })).code).toBe(EXIT.ok);
    expect(stored('traffic/percentage')).toBe('100');
  });
});

describe('CLI fixes', () => {
  it('--version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
    expect(await cli(['--version'])).toMatchObject({ code: EXIT.ok, stdout: version });
  });

  it('lists the global options in every subcommand\'s help', async () => {
    for (const args of [['status'], ['traffic', 'set'], ['ramp'], ['ramp', 'start'], ['ramp', 'status'], ['rollback'], ['invoke']]) {
      const help = await cli([...args, '--help']);
      expect({ args, code: help.code }).toEqual({ args, code: EXIT.ok });
      expect(help.stdout).toMatch(/Global Options:[\s\S]*--env <name>[\s\S]*--url <url>[\s\S]*--json/);
    }
  });

  it('shows Retry-After as seconds', async () => {
    rw.world.ssm.fail({ type: 'InternalServerError', status: 500, operations: ['GetParametersByPath'] });
    const result = await cli(['ramp', 'status']);
    expect(result.code).toBe(EXIT.unavailable);
    expect(result.stderr).toContain('the API asks to retry in 5 seconds (Retry-After)');
  });

  it('--url that is not a URL is a usage error', async () => {
    const err: string[] = [];
    const code = await main(['--url', 'not-a-url', 'status'], { stdout: () => undefined, stderr: (t) => err.push(t), credentials: async () => ALICE });
    expect(code).toBe(EXIT.usage);
    expect(err.join('\n')).toContain("option '--url <url>' argument 'not-a-url' is invalid. must be the API's stage URL");
  });

  it('exits 3 for missing credentials with --env as with --url', async () => {
    const noCredentials = async () => {
      throw Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
    };
    const run = async (args: string[]) => {
      const err: string[] = [];
      const code = await main([...args, 'status'], { stdout: () => undefined, stderr: (t) => err.push(t), credentials: noCredentials, env: {} });
      return { code, stderr: err.join('\n') };
    };
    const withUrl = await run(['--url', gateway.url, '--region', 'eu-central-1']);
    const withEnv = await run(['--env', 'dev']);
    expect([withUrl.code, withEnv.code]).toEqual([EXIT.forbidden, EXIT.forbidden]);
    expect(withEnv.stderr).toBe(withUrl.stderr);
    expect(withEnv.stderr).toBe('error: no AWS credentials to sign the request with (Could not load credentials from any providers); set AWS_PROFILE or log in');
  });

  it('audit keeps the end of an assumed-role ARN, where it says who', async () => {
    await cli(['traffic', 'set', '5', '--reason', 'canary']);
    const audit = await cli(['audit', '--limit', '1']);
    expect(audit.stdout.split('\n')[2]).toMatch(/traffic\/percentage +0 -> 5 +…[A-Za-z_]*_0123456789abcdef\/alice@example\.com +canary$/);
  });

  it('policy set merges a partial file over the policy in force; --replace stores it whole', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'policy-'));
    const file = path.join(dir, 'policy.json');
    writeFileSync(file, JSON.stringify({ circuitBreaker: { failureThreshold: 3, coolDownMs: 10_000 } }));
    expect((await cli(['policy', 'set', file, '--reason', 'tighter breaker'])).code).toBe(EXIT.ok);
    writeFileSync(file, JSON.stringify({ retry: { baseDelayMs: 250 }, operations: { emergency: { strategy: 'mcp-first', budget: { targetMs: 4000, hardMs: 10_000 } } } }));
    expect((await cli(['policy', 'set', file, '--reason', 'slower retries'])).code).toBe(EXIT.ok);
    const policy = JSON.parse(stored('routing/policy')!);
    expect(policy.circuitBreaker).toEqual({ failureThreshold: 3, coolDownMs: 10_000 });
    expect(policy.retry).toEqual({ baseDelayMs: 250 });
    expect(policy.operations.emergency).toEqual({ strategy: 'mcp-first', budget: { targetMs: 4000, hardMs: 10_000 } });
    expect(policy.operations.infrastructure).toEqual({ strategy: 'health-gated', budget: { targetMs: 10_000, hardMs: 15_000 } });

    writeFileSync(file, JSON.stringify({ retry: { baseDelayMs: 50 } }));
    expect((await cli(['policy', 'set', file, '--replace', '--reason', 'back to defaults'])).code).toBe(EXIT.ok);
    expect(JSON.parse(stored('routing/policy')!)).toEqual({ retry: { baseDelayMs: 50 } });
  });

  it('takes environment names from cdk.json: a fourth entry works with --env', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'checkout-'));
    const cdkJson = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8'));
    cdkJson.context.environments.qa = { ...cdkJson.context.environments.dev };
    writeFileSync(path.join(dir, 'cdk.json'), JSON.stringify(cdkJson));
    const cloudformation = await new CloudFormationFake().start();
    const saved = process.env.AWS_ENDPOINT_URL_CLOUDFORMATION;
    process.env.AWS_ENDPOINT_URL_CLOUDFORMATION = cloudformation.url;
    try {
      cloudformation.stacks.set('HybridRouting-qa', { ApiUrl: gateway.url });
      const out: string[] = [];
      const err: string[] = [];
      const io = { stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t), credentials: async () => ALICE, env: {}, cwd: dir };
      capture.start();
      const code = await main(['--env', 'qa', 'status'], io).finally(() => capture.stop());
      expect({ code, err }).toEqual({ code: EXIT.ok, err: [] });
      expect(out.join('\n')).toContain('environment     dev');

      const unknown = await main(['--env', 'uat', 'status'], io);
      expect(unknown).toBe(EXIT.usage);
      expect(err.join('\n')).toContain("Allowed choices are dev, staging, prod, qa");
      // Outside a checkout, the environments the CLI ships with.
      const elsewhere = mkdtempSync(path.join(tmpdir(), 'elsewhere-'));
      expect(await main(['--env', 'qa', 'status'], { ...io, cwd: elsewhere })).toBe(EXIT.usage);
    } finally {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_CLOUDFORMATION;
      else process.env.AWS_ENDPOINT_URL_CLOUDFORMATION = saved;
      await cloudformation.stop();
    }
  });

  it('stops quietly when stdout closes early (a real pipe, as with | head)', async () => {
    freshStore(rw.world, new Date());
    await cli(['ramp', 'start', '--bake', '30', '--reason', 'long bake']);
    const child = spawn(process.execPath, [BIN, '--url', gateway.url, '--region', 'eu-central-1', 'ramp', 'status', '--watch', '--interval', '0.05'], {
      env: { PATH: process.env.PATH, AWS_ACCESS_KEY_ID: ALICE.accessKeyId, AWS_SECRET_ACCESS_KEY: ALICE.secretAccessKey, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += String(chunk)));
    // Read until the watch has refreshed a few times, then close the pipe as `head` does.
    await new Promise<void>((resolve) => {
      let seen = '';
      child.stdout.on('data', (chunk) => {
        seen += String(chunk);
        if ((seen.match(/^ramp RUNNING/gm) ?? []).length >= 2) {
          child.stdout.destroy();
          resolve();
        }
      });
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  }, 30_000);
});
