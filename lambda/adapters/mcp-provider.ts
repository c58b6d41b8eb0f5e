import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { CfWorkerJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/cfworker-provider.js';
import type { AiProvider, ProviderRequest, ProviderResponse } from '../core/hybrid-router';
import { ProviderFailure, classifyMcpHttpStatus, classifyMcpRpcError } from '../core/provider-failure';
import { MAX_RESPONSE_BODY_BYTES, ResponseTooLargeError, cappedFetch } from './response-cap';

export interface McpProviderOptions {
  readonly serverUrl: URL;
  readonly toolName: string;
  /** Bound on the MCP initialize handshake. */
  readonly connectTimeoutMs?: number;
  readonly clientInfo?: { readonly name: string; readonly version: string };
  /** Cap on one HTTP response body; reading stops there. */
  readonly maxResponseBytes?: number;
}

/**
 * The MCP path: the official MCP client over Streamable HTTP, calling one tool with
 * `{ operation, messages, system, maxTokens, temperature }`. The connection lives as long as the
 * container and is rebuilt on the next call after any transport failure. A tool result with
 * `isError`, a missing tool, and HTTP 401, 403 or 404 are permanent failures. Response bodies stop
 * at `maxResponseBytes`, so an oversized answer is never buffered whole; it fails the call.
 */
export class McpProvider implements AiProvider {
  private connection: Promise<Client> | undefined;
  private transport: StreamableHTTPClientTransport | undefined;
  /** Calls waiting for an answer; an oversized response body ends them at once. */
  private readonly calls = new Set<AbortController>();

  constructor(private readonly options: McpProviderOptions) {}

  async invoke(request: ProviderRequest, signal: AbortSignal): Promise<ProviderResponse> {
    let client: Client;
    try {
      client = await this.connect();
    } catch (error) {
      throw classifyMcpError(error, signal, 'cannot connect to the MCP server', false);
    }

    let result: Awaited<ReturnType<Client['callTool']>>;
    const call = new AbortController();
    this.calls.add(call);
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
        { signal: AbortSignal.any([signal, call.signal]), timeout: 300_000 },
      );
    } catch (error) {
      // The SDK wraps an abort's reason; an oversized body aborts this call with the real cause.
      const cause = call.signal.aborted ? call.signal.reason : error;
      const failure = classifyMcpError(cause, signal, 'MCP call failed', this.transport?.sessionId !== undefined);
      if (failure.kind === 'unavailable' || cause instanceof ResponseTooLargeError) await this.disconnect();
      throw failure;
    } finally {
      this.calls.delete(call);
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
    this.transport = undefined;
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
    const transport = new StreamableHTTPClientTransport(this.options.serverUrl, {
      // A JSON answer fails the call by itself; an SSE stream would only be dropped, so end the calls too.
      fetch: cappedFetch(this.options.maxResponseBytes ?? MAX_RESPONSE_BODY_BYTES, (error) => {
        for (const call of this.calls) call.abort(error);
      }),
    });
    this.transport = transport;
    await client.connect(transport, { timeout: this.options.connectTimeoutMs ?? 3_000 });
    return client;
  }
}

/**
 * Maps an MCP client error to a provider failure: our abort is the budget; an oversized answer,
 * authentication, a wrong address and a missing tool are permanent; HTTP 429 is throttling
 * (retried once); anything else makes the server unavailable for this request.
 */
function classifyMcpError(error: unknown, signal: AbortSignal, context: string, sessionOpen: boolean): ProviderFailure {
  if (signal.aborted) return new ProviderFailure('mcp', 'budget', 'aborted: latency budget exhausted');
  if (error instanceof ResponseTooLargeError) return new ProviderFailure('mcp', 'fatal', `${context}: ${error.message}`);
  if (error instanceof UnauthorizedError) return new ProviderFailure('mcp', 'fatal', `${context}: unauthorized (${error.message})`);
  if (error instanceof StreamableHTTPError && error.code !== undefined && error.code > 0) {
    const { kind, retryable } = classifyMcpHttpStatus(error.code, sessionOpen);
    return new ProviderFailure('mcp', kind, `${context}: the MCP server answered ${error.code}`, retryable);
  }
  if (error instanceof McpError) {
    const { kind, retryable } = classifyMcpRpcError(error.code);
    return new ProviderFailure('mcp', kind, `${context}: ${error.message}`, retryable);
  }
  return new ProviderFailure('mcp', 'unavailable', `${context}: ${messageOf(error)}`, false);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
