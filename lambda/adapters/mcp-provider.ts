import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CfWorkerJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/cfworker-provider.js';
import type { AiProvider, ProviderRequest, ProviderResponse } from '../core/hybrid-router';
import { ProviderFailure } from '../core/provider-failure';

export interface McpProviderOptions {
  readonly serverUrl: URL;
  readonly toolName: string;
  /** Bound on the MCP initialize handshake. */
  readonly connectTimeoutMs?: number;
  readonly clientInfo?: { readonly name: string; readonly version: string };
}

/**
 * The MCP path: the official MCP client over Streamable HTTP, calling one tool with
 * `{ operation, messages, system, maxTokens, temperature }`. The connection lives as long as the
 * container and is rebuilt on the next call after any transport failure. A tool result with
 * `isError` is a provider failure.
 */
export class McpProvider implements AiProvider {
  private connection: Promise<Client> | undefined;

  constructor(private readonly options: McpProviderOptions) {}

  async invoke(request: ProviderRequest, signal: AbortSignal): Promise<ProviderResponse> {
    let client: Client;
    try {
      client = await this.connect();
    } catch (error) {
      throw classifyMcpError(error, signal, 'cannot connect to the MCP server');
    }

    let result: Awaited<ReturnType<Client['callTool']>>;
    try {
      result = await client.callTool(
        {
          name: this.options.toolName,
          arguments: {
            operation: request.operation,
            messages: request.messages,
            system: request.system,
            maxTokens: request.maxTokens,
            temperature: request.temperature,
          },
        },
        undefined,
        // The router's signal is the deadline; the SDK's own request timeout must not cut in first.
        { signal, timeout: 300_000 },
      );
    } catch (error) {
      const failure = classifyMcpError(error, signal, 'MCP call failed');
      if (failure.kind === 'unavailable') await this.disconnect();
      throw failure;
    }

    if (result.isError) throw new ProviderFailure('mcp', 'fatal', `MCP tool ${this.options.toolName} reported an error`);
    const content = Array.isArray(result.content) ? result.content : [];
    const text = content
      .map((item: { type?: unknown; text?: unknown }) => (item.type === 'text' && typeof item.text === 'string' ? item.text : ''))
      .join('');
    const structured = (result.structuredContent ?? {}) as {
      stopReason?: unknown;
      usage?: { inputTokens?: unknown; outputTokens?: unknown };
    };
    return {
      text,
      stopReason: typeof structured.stopReason === 'string' ? structured.stopReason : 'end_turn',
      usage: {
        inputTokens: typeof structured.usage?.inputTokens === 'number' ? structured.usage.inputTokens : 0,
        outputTokens: typeof structured.usage?.outputTokens === 'number' ? structured.usage.outputTokens : 0,
      },
    };
  }

  /** The shared connection; the probe of the health check uses it too. */
  connect(): Promise<Client> {
    if (!this.connection) {
      const pending = this.open();
      this.connection = pending;
      pending.catch(() => {
        if (this.connection === pending) this.connection = undefined;
      });
    }
    return this.connection;
  }

  async disconnect(): Promise<void> {
    const pending = this.connection;
    this.connection = undefined;
    if (!pending) return;
    try {
      await (await pending).close();
    } catch {
      // The connection is already broken; closing it is best effort.
    }
  }

  private async open(): Promise<Client> {
    // The SDK's lighter validator; see bundling/ajv-not-bundled.ts for why not its default.
    const client = new Client(this.options.clientInfo ?? { name: 'hybrid-routing', version: '1.0.0' }, {
      jsonSchemaValidator: new CfWorkerJsonSchemaValidator(),
    });
    await client.connect(new StreamableHTTPClientTransport(this.options.serverUrl), {
      timeout: this.options.connectTimeoutMs ?? 3_000,
    });
    return client;
  }
}

/**
 * Maps an MCP client error to a provider failure: our abort is the budget, HTTP 429 is
 * throttling (retried once), anything else makes the server unavailable for this request.
 */
function classifyMcpError(error: unknown, signal: AbortSignal, context: string): ProviderFailure {
  if (signal.aborted) return new ProviderFailure('mcp', 'budget', 'aborted: latency budget exhausted');
  if (error instanceof StreamableHTTPError && error.code === 429) {
    return new ProviderFailure('mcp', 'throttled', `${context}: the MCP server answered 429`);
  }
  return new ProviderFailure('mcp', 'unavailable', `${context}: ${messageOf(error)}`, false);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
