import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import type { Context } from 'aws-lambda';
import { createBedrockRuntimeClient, createSsmClient } from '../adapters/aws-clients';
import { numberEnv, requireEnv } from '../adapters/environment';
import { McpProvider } from '../adapters/mcp-provider';
import { ParameterWriter } from '../adapters/parameter-writer';
import { createTelemetry } from '../adapters/telemetry';
import { SERVICE } from '../shared/metric-catalog';
import { createHealthCheck } from './health-check';
import { probeBedrock, probeConfig, probeMcp } from './probes';

/** Time kept back from the function's timeout to log the run and return. */
const FINISH_MARGIN_MS = 1_000;

// Module scope: built once per container.
const path = requireEnv('CONFIG_PATH');
const probeTimeoutMs = numberEnv('PROBE_TIMEOUT_MS', 10_000);
const { logger, metrics } = createTelemetry(SERVICE.healthCheck, requireEnv('ENVIRONMENT'));
const ssm = createSsmClient();
const bedrock = createBedrockRuntimeClient();
const mcp = new McpProvider({ serverUrl: new URL(requireEnv('MCP_SERVER_URL')), toolName: requireEnv('MCP_TOOL_NAME'), clientInfo: { name: 'hybrid-routing-health-check', version: '1.0.0' } });
const modelId = requireEnv('BEDROCK_PROBE_MODEL_ID');
const toolName = requireEnv('MCP_TOOL_NAME');
const config = new SSMProvider({ awsSdkV3Client: ssm });

const run = createHealthCheck({
  probes: {
    'direct-bedrock': () => probeBedrock(bedrock, modelId, probeTimeoutMs),
    'mcp-router': () => probeMcp(mcp, toolName, probeTimeoutMs),
    'intelligent-router': () => probeConfig(config, path, probeTimeoutMs),
  },
  writer: new ParameterWriter(ssm),
  path,
  unhealthyAfter: numberEnv('UNHEALTHY_AFTER', 3),
  logger,
  metrics,
});

/** Invoked by the EventBridge schedule (the event carries nothing the run needs); done before the function's timeout. */
export const handler = async (_event: unknown, context: Pick<Context, 'getRemainingTimeInMillis'>): Promise<Awaited<ReturnType<typeof run>>> =>
  run({ deadlineAt: Date.now() + context.getRemainingTimeInMillis() - FINISH_MARGIN_MS });
