import type { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { ConverseCommand, type BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { readConfigNow } from '../adapters/config-source';
import type { McpProvider } from '../adapters/mcp-provider';
import type { ProbeResult } from '../core/health';
import type { ParsedConfig } from '../shared/routing-config';

/** Runs `probe` with its own deadline; a probe that throws or runs out of time has failed. */
async function timed(timeoutMs: number, probe: (signal: AbortSignal) => Promise<string>): Promise<ProbeResult> {
  const started = performance.now();
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    const message = await Promise.race([probe(controller.signal), deadline]);
    return { ok: true, latencyMs: performance.now() - started, message };
  } catch (error) {
    const message = error instanceof Error ? (error.name && error.name !== 'Error' ? `${error.name}: ${error.message}` : error.message) : String(error);
    return { ok: false, latencyMs: performance.now() - started, message };
  } finally {
    clearTimeout(timer);
  }
}

/** `direct-bedrock`: the cheapest call that proves the invoke path, a one-token Converse. */
export function probeBedrock(client: BedrockRuntimeClient, modelId: string, timeoutMs: number): Promise<ProbeResult> {
  return timed(timeoutMs, async (signal) => {
    await client.send(
      new ConverseCommand({ modelId, messages: [{ role: 'user', content: [{ text: 'ping' }] }], inferenceConfig: { maxTokens: 1 } }),
      { abortSignal: signal },
    );
    return `Converse on ${modelId} answered`;
  });
}

/** `mcp-router`: the protocol's ping, then the tool list must name the router's tool. */
export async function probeMcp(mcp: McpProvider, toolName: string, timeoutMs: number): Promise<ProbeResult> {
  const result = await timed(timeoutMs, async (signal) => {
    const client = await mcp.connect();
    await client.ping({ signal });
    const { tools } = await client.listTools(undefined, { signal });
    if (!tools.some((tool) => tool.name === toolName)) {
      throw new Error(`the server does not list the tool "${toolName}" (it lists ${tools.length} other tool(s))`);
    }
    return `ping answered and tool "${toolName}" is listed`;
  });
  // A failed probe may have left a broken connection; the next run starts a new one.
  if (!result.ok) await mcp.disconnect();
  return result;
}

export interface ConfigProbe {
  readonly result: ProbeResult;
  /** What was read, when the read worked: also the previous health of every component. */
  readonly parsed?: ParsedConfig;
}

/** `intelligent-router`: the environment's configuration path is readable and every parameter parses. */
export async function probeConfig(provider: SSMProvider, path: string, timeoutMs: number): Promise<ConfigProbe> {
  let parsed: ParsedConfig | undefined;
  const result = await timed(timeoutMs, async () => {
    const read = await readConfigNow(provider, path);
    parsed = read;
    if (read.problems.length > 0) throw new Error(`configuration problems: ${read.problems.join('; ')}`);
    return `${Object.keys(read.values).length} parameters read and parsed`;
  });
  return { result, parsed };
}
