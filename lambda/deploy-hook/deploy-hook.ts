import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import * as z from 'zod/v4';
import { judgeHealthReport, judgeInvokeAnswer, smokeRequest, type SmokeCheck } from '../core/smoke-test';

/** What invoking the new version gave: its API Gateway answer, or the function's own failure. */
export type VersionAnswer =
  | { readonly kind: 'answer'; readonly statusCode: number; readonly body: string }
  | { readonly kind: 'function-error'; readonly message: string };

export type HookStatus = 'Succeeded' | 'Failed';

export interface DeployHookDependencies {
  readonly environment: string;
  /** The version CodeDeploy is about to shift traffic to. */
  readonly versionArn: string;
  /** Invokes the new version synchronously with an API Gateway proxy event, within `deadlineMs`. */
  readonly invokeVersion: (event: APIGatewayProxyEvent, deadlineMs: number) => Promise<VersionAnswer>;
  /** `PutLifecycleEventHookExecutionStatus`; answers false when CodeDeploy already has a status for this execution. */
  readonly report: (deploymentId: string, executionId: string, status: HookStatus) => Promise<boolean>;
  readonly notify: (subject: string, message: string) => Promise<void>;
  readonly logger: Logger;
  /** Deadline of each check's invocation: the router's hard budget plus a cold start. */
  readonly checkDeadlineMs: number;
  readonly clock?: () => number;
}

export interface HookOutcome {
  readonly deploymentId: string;
  readonly status: HookStatus;
  readonly checks: readonly SmokeCheck[];
}

const HookEventSchema = z.object({ DeploymentId: z.string().min(1), LifecycleEventHookExecutionId: z.string().min(1) });

/** The identity the smoke requests carry: their cohort is this key's, like any caller's. */
const HOOK_IDENTITY = 'codedeploy-pre-traffic-hook';

/**
 * CodeDeploy's BeforeAllowTraffic hook for the router (DESIGN §11). Before any traffic shifts it
 * invokes the new version with a `GET /health/detailed` and one small `emergency` request, and
 * reports Succeeded only when both pass; Failed stops the deployment and the old version keeps
 * serving. A failed smoke test is also notified. When the report itself fails the invocation
 * fails, so Lambda runs the hook again; a repeat whose execution already has a status is a no-op.
 */
export function createDeployHook(deps: DeployHookDependencies): (event: unknown) => Promise<HookOutcome> {
  const clock = deps.clock ?? Date.now;
  const { logger } = deps;

  const invoke = async (event: APIGatewayProxyEvent): Promise<{ statusCode: number; body: unknown; latencyMs: number } | { failure: string; latencyMs: number }> => {
    const started = clock();
    try {
      const answer = await deps.invokeVersion(event, deps.checkDeadlineMs);
      const latencyMs = Math.round(clock() - started);
      if (answer.kind === 'function-error') return { failure: `the function failed: ${answer.message}`, latencyMs };
      let body: unknown;
      try {
        body = JSON.parse(answer.body);
      } catch {
        body = undefined;
      }
      return { statusCode: answer.statusCode, body, latencyMs };
    } catch (error) {
      const latencyMs = Math.round(clock() - started);
      const name = error instanceof Error ? error.name : typeof error;
      return { failure: name === 'AbortError' || name === 'TimeoutError' ? `no answer within ${deps.checkDeadlineMs} ms` : `the invocation failed (${name})`, latencyMs };
    }
  };

  return async (raw) => {
    const parsed = HookEventSchema.safeParse(raw);
    if (!parsed.success) {
      logger.error('not a CodeDeploy lifecycle hook event; nothing to report to', { keys: raw && typeof raw === 'object' ? Object.keys(raw) : typeof raw });
      throw new Error('the event has no DeploymentId and LifecycleEventHookExecutionId');
    }
    const { DeploymentId: deploymentId, LifecycleEventHookExecutionId: executionId } = parsed.data;

    const health = await invoke(apiEvent('GET', '/health/detailed', null));
    const emergency = await invoke(apiEvent('POST', '/v1/invoke', JSON.stringify(smokeRequest('emergency'))));
    const checks: SmokeCheck[] = [
      'failure' in health
        ? { check: 'health', pass: false, detail: health.failure, latencyMs: health.latencyMs }
        : judgeHealthReport(health.statusCode, health.body, health.latencyMs, { requireHealthy: false }),
      'failure' in emergency
        ? { check: 'emergency', pass: false, detail: emergency.failure, latencyMs: emergency.latencyMs }
        : judgeInvokeAnswer('emergency', emergency.statusCode, emergency.body, emergency.latencyMs),
    ];
    const status: HookStatus = checks.every((c) => c.pass) ? 'Succeeded' : 'Failed';
    for (const check of checks) logger.info('smoke check', { deploymentId, version: deps.versionArn, ...check });

    const recorded = await deps.report(deploymentId, executionId, status);
    if (!recorded) logger.info('CodeDeploy already has a status for this hook execution; nothing reported', { deploymentId });
    if (status === 'Failed') {
      logger.warn('smoke test failed: the deployment stops and the old version keeps serving', { deploymentId, version: deps.versionArn });
      if (recorded) {
        await deps
          .notify(
            `Hybrid Routing ${deps.environment}: router deploy stopped by its smoke test`,
            [
              `CodeDeploy deployment ${deploymentId} of the router in ${deps.environment} was stopped before any traffic shifted.`,
              `New version: ${deps.versionArn}`,
              'The version that served before keeps serving. Failed checks:',
              ...checks.filter((c) => !c.pass).map((c) => `  - ${c.check}: ${c.detail}`),
              '',
              `See: aws deploy get-deployment --deployment-id ${deploymentId}`,
            ].join('\n'),
          )
          .catch((error: unknown) => logger.error('smoke-test notification failed', { errorName: error instanceof Error ? error.name : typeof error }));
      }
    }
    return { deploymentId, status, checks };
  };
}

/** An API Gateway proxy event as the stage would send the router for `method path`. */
function apiEvent(method: string, path: string, body: string | null): APIGatewayProxyEvent {
  const requestId = `pre-traffic-${Math.random().toString(16).slice(2)}`;
  return {
    resource: path,
    path,
    httpMethod: method,
    headers: { 'content-type': 'application/json' },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: '',
      apiId: 'pre-traffic-hook',
      authorizer: null,
      protocol: 'HTTP/1.1',
      httpMethod: method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: HOOK_IDENTITY,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: '127.0.0.1',
        user: HOOK_IDENTITY,
        userAgent: 'hybrid-routing-pre-traffic-hook',
        userArn: HOOK_IDENTITY,
      },
      path,
      stage: 'pre-traffic',
      requestId,
      requestTimeEpoch: Date.now(),
      resourceId: 'pre-traffic',
      resourcePath: path,
    },
  };
}
