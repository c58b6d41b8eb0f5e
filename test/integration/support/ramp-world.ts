import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { RampTickResult } from '../../../lambda/ramp/ramp-function';
import { COMPONENTS } from '../../../lambda/shared/vocabulary';
import { LambdaFake } from '../../fakes/lambda-fake';
import { CONFIG_PATH, RAMP_FUNCTION_NAME, apiEvent, lambdaContext, lambdaEnvironment, loadHandler, seedConfig, startWorld, type World } from './world';

/**
 * The world of the automated ramp: the usual fakes, a Lambda fake that takes the admin function's
 * asynchronous invocations of the ramp controller, and the real admin and controller handlers
 * loaded against them. Time is the test's: `clock.set` moves `Date` (only `Date`), so a ramp's
 * bake times and windows pass without waiting.
 */
export interface RampWorld {
  readonly world: World;
  readonly lambda: LambdaFake;
  /** The admin function's handler itself, for a gateway in front of it. */
  readonly adminHandler: ReturnType<typeof loadHandler>;
  /** Calls an admin route as `caller` (an assumed-role ARN by default). */
  admin(method: string, path: string, body?: unknown, caller?: string): Promise<{ status: number; json: Record<string, any> }>;
  /** One tick of the ramp controller, as the schedule would invoke it. */
  tick(): Promise<RampTickResult>;
  stop(): Promise<void>;
}

export const OPERATOR = 'arn:aws:sts::123456789012:assumed-role/operators/alice';
export const SCHEDULED_EVENT = { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} };

export async function startRampWorld(): Promise<RampWorld> {
  const world = await startWorld();
  const lambda = await new LambdaFake().start();
  // The controller the admin function triggers only counts here: the tests tick it themselves.
  lambda.publish(RAMP_FUNCTION_NAME, async () => ({ queued: true }));
  const env = lambdaEnvironment(world, { AWS_ENDPOINT_URL_LAMBDA: lambda.url });
  const adminHandler = loadHandler(require.resolve('../../../lambda/admin/handler'), env);
  const rampHandler = loadHandler(require.resolve('../../../lambda/ramp/handler'), env) as unknown as (event: unknown, context: unknown) => Promise<RampTickResult>;
  return {
    world,
    lambda,
    adminHandler,
    admin: async (method, path, body, caller = OPERATOR) => {
      const action = /^\/admin\/ramp\/([^/]+)$/.exec(path);
      const flag = /^\/admin\/feature-flags\/([^/]+)$/.exec(path);
      const resource = action ? '/admin/ramp/{action}' : flag ? '/admin/feature-flags/{flag}' : path.split('?')[0]!;
      const event: APIGatewayProxyEvent = apiEvent(method, resource, path, action ? { action: action[1]! } : flag ? { flag: flag[1]! } : null);
      event.body = body === undefined ? null : JSON.stringify(body);
      event.requestContext.identity.userArn = caller;
      const result = await adminHandler(event, lambdaContext());
      return { status: result.statusCode, json: JSON.parse(result.body) as Record<string, any> };
    },
    tick: () => rampHandler(SCHEDULED_EVENT, lambdaContext()),
    stop: async () => {
      await lambda.stop();
      await world.stop();
    },
  };
}

/**
 * The store at its defaults plus `values`, every component healthy as of `now` (unless `health` is
 * false: the ramp judges health from CloudWatch, and without them the path reads in one page),
 * nothing in ALARM, no datapoints.
 */
export function freshStore(world: World, now: Date, values: Record<string, string> = {}, health = true): void {
  world.ssm.heal();
  world.ssm.clear();
  seedConfig(world.ssm, values);
  if (health) for (const c of COMPONENTS) world.ssm.put(`${CONFIG_PATH}/health/${c}`, JSON.stringify({ status: 'healthy', lastCheckedAt: now.toISOString(), latencyMs: 9, consecutiveFailures: 0, message: 'ok' }));
  world.cloudwatch.reset();
  world.sns.published.length = 0;
}

/** What the router would have emitted for `requests` requests of a cohort at `at`: Requests, Errors, and their latencies. */
export function recordTraffic(world: World, at: Date, cohort: 'hybrid' | 'control', requests: number, errors: number, latencyMs = 800, options: { readonly errorsMetric?: boolean } = {}): void {
  const dimensions = { Service: 'router', Environment: 'dev', Cohort: cohort };
  world.cloudwatch.record(
    { metricName: 'Requests', dimensions, timestamp: at, value: requests },
    ...(options.errorsMetric === false ? [] : [{ metricName: 'Errors', dimensions, timestamp: at, value: errors }]),
    ...Array.from({ length: requests }, (_, i) => ({ metricName: 'Latency', dimensions, timestamp: at, value: latencyMs + (i % 50) })),
  );
}

/** A health-check run at `at`: 1 for a passed probe, 0 for a failed one. */
export function recordHealth(world: World, at: Date, value: { 'direct-bedrock'?: number; 'mcp-router'?: number } = {}): void {
  for (const component of ['direct-bedrock', 'mcp-router'] as const) {
    world.cloudwatch.record({ metricName: 'HealthCheckSuccess', dimensions: { Service: 'health-check', Environment: 'dev', Component: component }, timestamp: at, value: value[component] ?? 1 });
  }
}

/** A healthy minute of a step at `trafficPercentage`: enough hybrid requests, none failing, control alongside unless at 100 %. */
export function recordHealthyMinute(world: World, at: Date, trafficPercentage: number): void {
  recordTraffic(world, at, 'hybrid', 60, 0);
  if (trafficPercentage < 100) recordTraffic(world, at, 'control', 200, 1);
  recordHealth(world, at);
}

/** Moves `Date` (only `Date`: timers, sockets and deadlines run on real time). */
export const clock = {
  use(start: Date): void {
    jest.useFakeTimers({
      doNotFake: ['hrtime', 'nextTick', 'performance', 'queueMicrotask', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'],
      now: start,
    });
  },
  set(time: Date): void {
    jest.setSystemTime(time);
  },
  now(): Date {
    return new Date();
  },
  restore(): void {
    jest.useRealTimers();
  },
};

export const minutesAfter = (start: Date, minutes: number): Date => new Date(start.getTime() + minutes * 60_000);
