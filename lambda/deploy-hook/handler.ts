import { CodeDeployClient, PutLifecycleEventHookExecutionStatusCommand } from '@aws-sdk/client-codedeploy';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { numberEnv, requireEnv } from '../adapters/environment';
import { createTelemetry } from '../adapters/telemetry';
import { SERVICE } from '../shared/metric-catalog';
import { createDeployHook, type VersionAnswer } from './deploy-hook';

// Module scope: built once per container. The hook owns its deadlines, so the SDK does not retry.
const environment = requireEnv('ENVIRONMENT');
const versionArn = requireEnv('ROUTER_VERSION_ARN');
const topicArn = requireEnv('TOPIC_ARN');
const reportDeadlineMs = numberEnv('REPORT_TIMEOUT_MS', 5_000);
const { logger } = createTelemetry(SERVICE.deployHook, environment);
const lambda = new LambdaClient({ maxAttempts: 1 });
const codedeploy = new CodeDeployClient({ maxAttempts: 1 });
const sns = new SNSClient({ maxAttempts: 1 });

async function invokeVersion(event: unknown, deadlineMs: number): Promise<VersionAnswer> {
  const output = await lambda.send(new InvokeCommand({ FunctionName: versionArn, Payload: new TextEncoder().encode(JSON.stringify(event)) }), {
    abortSignal: AbortSignal.timeout(deadlineMs),
  });
  const text = new TextDecoder().decode(output.Payload ?? new Uint8Array());
  if (output.FunctionError) {
    let message = output.FunctionError;
    try {
      const failure = JSON.parse(text) as { errorType?: string; errorMessage?: string };
      message = `${failure.errorType ?? output.FunctionError}: ${failure.errorMessage ?? ''}`;
    } catch {
      // The payload of a crashed runtime need not be JSON; the error kind is enough.
    }
    return { kind: 'function-error', message };
  }
  const result = JSON.parse(text) as { statusCode?: unknown; body?: unknown };
  if (typeof result.statusCode !== 'number' || typeof result.body !== 'string') {
    return { kind: 'function-error', message: 'the answer is not an API Gateway proxy result' };
  }
  return { kind: 'answer', statusCode: result.statusCode, body: result.body };
}

export const handler = createDeployHook({
  environment,
  versionArn,
  invokeVersion,
  report: async (deploymentId, executionId, status) => {
    try {
      await codedeploy.send(new PutLifecycleEventHookExecutionStatusCommand({ deploymentId, lifecycleEventHookExecutionId: executionId, status }), {
        abortSignal: AbortSignal.timeout(reportDeadlineMs),
      });
      return true;
    } catch (error) {
      if (error instanceof Error && error.name === 'LifecycleEventAlreadyCompletedException') return false;
      throw error;
    }
  },
  notify: async (subject, message) => {
    await sns.send(new PublishCommand({ TopicArn: topicArn, Subject: subject.slice(0, 100), Message: message }), { abortSignal: AbortSignal.timeout(reportDeadlineMs) });
  },
  logger,
  checkDeadlineMs: numberEnv('CHECK_TIMEOUT_MS', 20_000),
});
