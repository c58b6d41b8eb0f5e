import type { APIGatewayProxyEvent } from 'aws-lambda';
import { EXIT, main } from '../../cli/main';
import { COMPONENTS } from '../../lambda/shared/vocabulary';
import { SignedGateway, type Principal } from '../support/signed-gateway';
import { CONFIG_PATH, HYBRID_FOR_EVERYONE, StdoutCapture, lambdaEnvironment, loadHandler, seedConfig, startWorld, type World } from './support/world';

const ALICE: Principal = { accessKeyId: 'AKIAALICE', secretAccessKey: 'alice-secret', arn: 'arn:aws:iam::123456789012:user/alice' };
const MALLORY = { accessKeyId: 'AKIAALICE', secretAccessKey: 'guessed-secret' };

let world: World;
let gateway: SignedGateway;
/** A fresh router container per test, so each reads the configuration its test seeded. */
let router: ReturnType<typeof loadHandler>;
const freshRouter = () => (router = loadHandler(require.resolve('../../lambda/router/handler'), lambdaEnvironment(world)));
const capture = new StdoutCapture();
/** What the stand-in for `POST /admin/rollback` received, and what it answers next. */
const adminRollback: { bodies: unknown[]; answer: { statusCode: number; body: unknown } } = { bodies: [], answer: { statusCode: 200, body: {} } };

beforeAll(async () => {
  world = await startWorld();
  const viaRouter: typeof router = (event, context) => router(event, context);
  const rollback = async (event: APIGatewayProxyEvent) => {
    adminRollback.bodies.push(JSON.parse(event.body ?? 'null'));
    return { statusCode: adminRollback.answer.statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(adminRollback.answer.body) };
  };
  gateway = await new SignedGateway(
    [
      { method: 'POST', resource: '/v1/invoke', handler: viaRouter, iam: true },
      { method: 'GET', resource: '/health/detailed', handler: viaRouter, iam: true },
      { method: 'POST', resource: '/admin/rollback', handler: rollback, iam: true },
    ],
    [ALICE],
  ).start();
});
afterAll(async () => {
  await gateway.stop();
  await world.stop();
});

/** Health as the checks last wrote it: every component `status`, just now. */
function writeHealth(status: (component: string) => string): void {
  const now = new Date().toISOString();
  for (const c of COMPONENTS) {
    world.ssm.put(`${CONFIG_PATH}/health/${c}`, JSON.stringify({ status: status(c), lastCheckedAt: now, latencyMs: 9, consecutiveFailures: status(c) === 'unhealthy' ? 3 : 0, message: 'seeded' }));
  }
}

beforeEach(() => {
  world.ssm.clear();
  seedConfig(world.ssm, HYBRID_FOR_EVERYONE);
  writeHealth(() => 'healthy');
  world.bedrock.reset();
  world.mcp.behavior = 'answer';
  gateway.seen.length = 0;
  adminRollback.bodies.length = 0;
  freshRouter();
});

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

/** The table's rows as `check provider fallback result`, latency left out (it is measured). */
const rows = (stdout: string) =>
  stdout
    .split('\n')
    .slice(2, 6)
    .map((line) => line.split(/\s{2,}/))
    .map(([check, provider, fallback, , target, result]) => `${check} | ${provider} | ${fallback} | ${target} | ${result}`);

describe('hybrid-routing smoke', () => {
  it('checks health and one short request per operation class, signed, against the runbook targets', async () => {
    const result = await cli(['smoke']);
    expect(result.code).toBe(EXIT.ok);
    expect(result.stdout.split('\n')[0]).toMatch(/^CHECK +PROVIDER +FALLBACK +LATENCY +TARGET +RESULT$/);
    expect(rows(result.stdout)).toEqual([
      'health | - | - | - | pass',
      'emergency (emergency) | bedrock | no | 5000 ms | pass',
      'critical (infrastructure) | bedrock | no | 10000 ms | pass',
      'standard (standard-analysis) | mcp | no | 30000 ms | pass',
    ]);
    expect(result.stdout).toMatch(/^health +- +- +\d+ ms/m);
    expect(result.stdout).toContain('all 4 checks passed');
    expect(gateway.seen.map((r) => `${r.method} ${r.path} ${r.verified}`)).toEqual([
      'GET /health/detailed true',
      'POST /v1/invoke true',
      'POST /v1/invoke true',
      'POST /v1/invoke true',
    ]);
    expect(world.bedrock.calls.map((c) => c.body.inferenceConfig?.maxTokens)).toEqual([16, 16]);
  });

  it('passes a request its fallback answered, and says so', async () => {
    world.bedrock.defaultBehavior = { kind: 'error', type: 'AccessDeniedException', status: 403 };
    const result = await cli(['smoke']);
    expect(result.code).toBe(EXIT.ok);
    expect(rows(result.stdout).slice(1, 3)).toEqual(['emergency (emergency) | mcp | yes | 5000 ms | pass', 'critical (infrastructure) | mcp | yes | 10000 ms | pass']);
  });

  it('fails with exit code 8 when neither path answers, saying why for each check', async () => {
    world.bedrock.defaultBehavior = { kind: 'error', type: 'AccessDeniedException', status: 403 };
    world.mcp.behavior = 'tool-error';
    const result = await cli(['smoke']);
    expect(result.code).toBe(EXIT.smokeFailed);
    expect(rows(result.stdout).map((r) => r.split(' | ').at(-1))).toEqual(['pass', 'FAIL', 'FAIL', 'FAIL']);
    expect(result.stdout).toContain('3 of 4 checks failed:');
    expect(result.stdout).toMatch(/^ {2}emergency \(emergency\): answered 502: ProviderError: /m);
  });

  it('fails the health check of an environment whose paths are both down', async () => {
    writeHealth((c) => (c === 'direct-bedrock' || c === 'mcp-router' || c === 'bedrock-support' ? 'unhealthy' : 'healthy'));
    const result = await cli(['smoke']);
    expect(result.code).toBe(EXIT.smokeFailed);
    expect(result.stdout).toContain('health: the environment is unhealthy (direct-bedrock, mcp-router, bedrock-support)');
  });

  it('prints the checks as JSON with --json', async () => {
    const result = await cli(['--json', 'smoke']);
    expect(result.code).toBe(EXIT.ok);
    const body = JSON.parse(result.stdout);
    expect(body.passed).toBe(true);
    expect(body.checks.map((c: { check: string; pass: boolean }) => c.check)).toEqual(['health', 'emergency (emergency)', 'critical (infrastructure)', 'standard (standard-analysis)']);
    expect(body.checks[1]).toMatchObject({ provider: 'bedrock', fallback: false, targetMs: 5000, latencyMs: expect.any(Number) });
  });

  it('exits 3 and checks nothing further when the request is not allowed', async () => {
    const result = await cli(['smoke'], MALLORY);
    expect(result.code).toBe(EXIT.forbidden);
    expect(gateway.seen).toHaveLength(1);
    expect(world.bedrock.calls).toEqual([]);
  });
});

describe('hybrid-routing rollback --level 3', () => {
  it('asks the API for a level-3 rollback and shows the code move the latch recorded', async () => {
    adminRollback.answer = {
      statusCode: 200,
      body: {
        requestId: 'r1',
        changed: [{ parameter: 'rollback/state', version: 2 }],
        state: {
          environment: 'dev',
          hybridEnabled: false,
          trafficPercentage: 0,
          effectiveTrafficPercentage: 0,
          mode: 'auto',
          rollback: { active: true, level: 3, reason: 'bad deploy', source: 'manual: alice', at: '2030-01-01T00:00:00.000Z', previous: null, code: { from: '7', to: '6' } },
          breakerEpoch: 0,
          health: { status: 'healthy', components: {} },
          problems: [],
        },
      },
    };
    const result = await cli(['rollback', '--level', '3', '--reason', 'bad deploy']);
    expect(result.code).toBe(EXIT.ok);
    expect(adminRollback.bodies).toEqual([{ level: 3, reason: 'bad deploy' }]);
    expect(result.stdout).toMatch(/rollback latch +ACTIVE level 3 .*: bad deploy \(router code: version 7 -> 6\)/);
  });

  it('exits 5 with the API\'s reason when level 3 is refused', async () => {
    const message = 'level 3 refused: a CodeDeploy deployment of the live alias is in progress (d-1); stop it and let CodeDeploy put the alias back: aws deploy stop-deployment --deployment-id d-1 --auto-rollback-enabled, then retry if still needed';
    adminRollback.answer = { statusCode: 409, body: { error: { code: 'Conflict', message, details: [] }, requestId: 'r2' } };
    const result = await cli(['rollback', '--level', '3', '--reason', 'bad deploy']);
    expect(result.code).toBe(EXIT.conflict);
    expect(result.stderr).toContain(`Conflict (409): ${message}`);
  });

  it('refuses a level outside 1-3 before calling the API', async () => {
    const result = await cli(['rollback', '--level', '4', '--reason', 'x']);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(/Allowed choices are 1, 2, 3/);
    expect(adminRollback.bodies).toEqual([]);
  });
});
