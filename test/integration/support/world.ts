import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import invokeEventFixture from '../../fixtures/apigw-invoke-event.json';
import { DEFAULT_PARAMETER_VALUES, parameterPath } from '../../../lambda/shared/routing-config';
import { BedrockFake } from '../../fakes/bedrock-fake';
import { CloudWatchFake } from '../../fakes/cloudwatch-fake';
import { McpTestServer } from '../../fakes/mcp-test-server';
import { SnsFake } from '../../fakes/sns-fake';
import { SsmFake } from '../../fakes/ssm-fake';
import { ROUTER_CODE_VARIABLES } from './router-code';

export const ENVIRONMENT = 'dev';
export const CONFIG_PATH = parameterPath(ENVIRONMENT);
export const MODEL_ID = 'anthropic.claude-3-haiku-20240307-v1:0';

/** The local stand-ins for AWS and the MCP server that one test file runs against. */
export interface World {
  readonly ssm: SsmFake;
  readonly bedrock: BedrockFake;
  readonly mcp: McpTestServer;
  readonly sns: SnsFake;
  readonly cloudwatch: CloudWatchFake;
  stop(): Promise<void>;
}

export async function startWorld(): Promise<World> {
  const [ssm, bedrock, mcp, sns, cloudwatch] = await Promise.all([
    new SsmFake().start(),
    new BedrockFake().start(),
    new McpTestServer('invoke').start(),
    new SnsFake().start(),
    new CloudWatchFake().start(),
  ]);
  return {
    ssm,
    bedrock,
    mcp,
    sns,
    cloudwatch,
    stop: async () => {
      await Promise.all([ssm.stop(), bedrock.stop(), mcp.stop(), sns.stop(), cloudwatch.stop()]);
    },
  };
}

/** Writes the config store defaults, then `overrides`, under the test environment's path. */
export function seedConfig(ssm: SsmFake, overrides: Record<string, string> = {}): void {
  for (const [name, value] of Object.entries({ ...DEFAULT_PARAMETER_VALUES, ...overrides })) {
    ssm.put(`${CONFIG_PATH}/${name}`, value, 'seeded by test');
  }
}

export const HYBRID_FOR_EVERYONE = { 'feature-flags/hybrid-routing': 'true', 'traffic/percentage': '100' };

/**
 * The Lambda environment the router gets in AWS, pointed at the world: endpoints only through
 * the standard `AWS_ENDPOINT_URL_*` variables, plus the function's own variables.
 */
export function lambdaEnvironment(world: World, extra: Record<string, string> = {}): Record<string, string> {
  return {
    AWS_REGION: 'eu-central-1',
    AWS_ACCESS_KEY_ID: 'AKIAFAKEFORTESTS',
    AWS_SECRET_ACCESS_KEY: 'fake-secret-for-tests',
    AWS_ENDPOINT_URL_SSM: world.ssm.url,
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: world.bedrock.url,
    AWS_ENDPOINT_URL_SNS: world.sns.url,
    AWS_ENDPOINT_URL_CLOUDWATCH: world.cloudwatch.url,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ENVIRONMENT,
    CONFIG_PATH,
    CONFIG_TTL_SECONDS: '1',
    // Generous, so a first read on a loaded machine still lands; tests of the deadline shrink it.
    CONFIG_READ_TIMEOUT_MS: '5000',
    BEDROCK_MODEL_ID: MODEL_ID,
    MCP_SERVER_URL: world.mcp.url,
    MCP_TOOL_NAME: world.mcp.toolName,
    BUDGET_CEILING_MS: '28000',
    HEALTH_CHECK_PERIOD_SECONDS: '60',
    TOPIC_ARN,
    // The admin function's level 3 acts on the router's alias; AWS_ENDPOINT_URL_LAMBDA/CODEDEPLOY in `extra` point it at fakes.
    ...ROUTER_CODE_VARIABLES,
    RAMP_FUNCTION_NAME,
    ...extra,
  };
}

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** Loads a fresh copy of a handler module: a new Lambda container with `env` as its environment. */
export function loadHandler(modulePath: string, env: Record<string, string>): Handler {
  Object.assign(process.env, env);
  let handler: Handler | undefined;
  jest.isolateModules(() => {
    handler = (require(modulePath) as { handler: Handler }).handler;
  });
  return handler!;
}

export const lambdaContext = (): Context =>
  ({
    awsRequestId: `lambda-${Math.random().toString(16).slice(2)}`,
    functionName: 'router',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-central-1:123456789012:function:router',
    memoryLimitInMB: '1024',
    logGroupName: '/aws/lambda/router',
    logStreamName: 'stream',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 29_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  }) as Context;

/** An API Gateway proxy event for `POST /v1/invoke` (from the JSON fixture) with `body`. */
export function invokeEvent(body: unknown, options: { raw?: boolean; caller?: string } = {}): APIGatewayProxyEvent {
  const event = structuredClone(invokeEventFixture) as unknown as APIGatewayProxyEvent;
  event.body = options.raw ? (body as string) : JSON.stringify(body);
  event.requestContext.requestId = `req-${Math.random().toString(16).slice(2)}`;
  if (options.caller) event.requestContext.identity.userArn = options.caller;
  return event;
}

/** Collects what the functions write to stdout and stderr (logs and EMF) instead of printing it. */
export class StdoutCapture {
  readonly lines: string[] = [];
  private originals: [typeof process.stdout.write, typeof process.stderr.write] | undefined;

  start(): void {
    this.originals = [process.stdout.write, process.stderr.write];
    const capture = ((chunk: string | Uint8Array) => {
      this.lines.push(...String(chunk).split('\n').filter((l) => l.trim() !== ''));
      return true;
    }) as typeof process.stdout.write;
    process.stdout.write = capture;
    process.stderr.write = capture;
  }

  stop(): void {
    if (!this.originals) return;
    [process.stdout.write, process.stderr.write] = this.originals;
    this.originals = undefined;
  }

  clear(): void {
    this.lines.length = 0;
  }

  json(): Record<string, unknown>[] {
    return this.lines.flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }

  /** The EMF documents emitted, each with its metric names and dimension values. */
  emf(): { metrics: string[]; dimensions: Record<string, string>; values: Record<string, unknown> }[] {
    return this.json()
      .filter((doc) => typeof doc._aws === 'object')
      .map((doc) => {
        const directive = (doc._aws as { CloudWatchMetrics: { Dimensions: string[][]; Metrics: { Name: string }[] }[] }).CloudWatchMetrics[0]!;
        const dimensionNames = directive.Dimensions.flat();
        return {
          metrics: directive.Metrics.map((m) => m.Name),
          dimensions: Object.fromEntries(dimensionNames.map((d) => [d, String(doc[d])])),
          values: doc,
        };
      });
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An API Gateway proxy event for any route, built from the same fixture. */
export function apiEvent(method: string, resource: string, path: string, pathParameters: Record<string, string> | null = null): APIGatewayProxyEvent {
  const event = structuredClone(invokeEventFixture) as unknown as APIGatewayProxyEvent;
  Object.assign(event, { httpMethod: method, resource, path, pathParameters, body: null });
  Object.assign(event.requestContext, { httpMethod: method, resourcePath: resource, path: `/dev${path}`, requestId: `req-${Math.random().toString(16).slice(2)}` });
  return event;
}

/** The health-check function's environment in AWS, pointed at the world. */
export function healthCheckEnvironment(world: World): Record<string, string> {
  const { BEDROCK_MODEL_ID: _model, CONFIG_TTL_SECONDS: _ttl, BUDGET_CEILING_MS: _ceiling, HEALTH_CHECK_PERIOD_SECONDS: _period, ...shared } = lambdaEnvironment(world);
  return { ...shared, BEDROCK_PROBE_MODEL_ID: MODEL_ID, PROBE_TIMEOUT_MS: '2000', UNHEALTHY_AFTER: '3' };
}

export const TOPIC_ARN = 'arn:aws:sns:eu-central-1:123456789012:HybridRouting-dev-notifications';

/** The ramp controller the admin function invokes after each `/admin/ramp` call. */
export const RAMP_FUNCTION_NAME = 'HybridRouting-dev-ramp-controller';

/** The rollback function's environment in AWS, pointed at the world. */
export function rollbackEnvironment(world: World): Record<string, string> {
  return { ...lambdaEnvironment(world), TOPIC_ARN };
}
