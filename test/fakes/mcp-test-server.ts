import * as http from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import * as z from 'zod/v4';
import { closeServer, listenOnLoopback } from './loopback';

export type McpBehavior = 'answer' | 'tool-error' | 'hang' | 'huge' | 'http-500' | 'http-429' | 'http-401' | 'http-403' | 'http-404';

export interface McpToolCall {
  readonly operation: string;
  readonly messages: { role: string; content: string }[];
  readonly system?: string;
  readonly maxTokens?: number;
  readonly temperature?: number;
}

/**
 * A real MCP server built with the official SDK, serving Streamable HTTP (stateless) on
 * 127.0.0.1, with one AI tool whose behavior tests can switch.
 */
export class McpTestServer {
  private readonly server = http.createServer((req, res) => void this.handle(req, res));
  behavior: McpBehavior = 'answer';
  /** Set to false to serve no tool by the configured name (a misconfigured server). */
  exposeTool = true;
  readonly toolCalls: McpToolCall[] = [];
  /** The size, in bytes of UTF-8, of the answer text of behavior `huge`. */
  hugeAnswerBytes = 50 * 1024 * 1024;
  /** How each HTTP response ended: sent whole, or cut off because the client stopped reading. */
  readonly responses: ('sent' | 'cut off')[] = [];
  url = '';

  constructor(readonly toolName = 'invoke') {}

  /** Listens on a free port, or again on the port of an earlier start. */
  async start(): Promise<this> {
    const port = await listenOnLoopback(this.server, this.url ? Number(new URL(this.url).port) : 0);
    this.url = `http://127.0.0.1:${port}/mcp`;
    return this;
  }

  stop(): Promise<void> {
    return closeServer(this.server);
  }

  private build(): McpServer {
    const server = new McpServer({ name: 'hybrid-routing-test-server', version: '1.0.0' });
    const name = this.exposeTool ? this.toolName : `${this.toolName}-renamed`;
    server.registerTool(
      name,
      {
        description: 'Answers an AI request',
        inputSchema: {
          operation: z.string(),
          messages: z.array(z.object({ role: z.string(), content: z.string() })),
          system: z.string().optional(),
          maxTokens: z.number().optional(),
          temperature: z.number().optional(),
        },
      },
      async (args, extra) => {
        this.toolCalls.push(args);
        if (this.behavior === 'tool-error') {
          return { isError: true, content: [{ type: 'text' as const, text: 'upstream model failed' }] };
        }
        if (this.behavior === 'hang') {
          await new Promise((resolve) => extra.signal.addEventListener('abort', resolve));
        }
        const text = this.behavior === 'huge' ? 'x'.repeat(this.hugeAnswerBytes) : `mcp answer to ${args.operation}`;
        return {
          content: [{ type: 'text' as const, text }],
          structuredContent: { stopReason: 'end_turn', usage: { inputTokens: 7, outputTokens: 3 } },
        };
      },
    );
    return server;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const httpStatus = /^http-(\d{3})$/.exec(this.behavior)?.[1];
    if (httpStatus) {
      res.writeHead(Number(httpStatus)).end();
      return;
    }
    // A client that stops reading resets the connection; 'finish' alone would not tell.
    let reset = false;
    const onReset = () => (reset = true);
    req.socket.on('error', onReset);
    res.on('close', () => {
      req.socket.off('error', onReset);
      this.responses.push(reset ? 'cut off' : 'sent');
    });
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    const server = this.build();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res);
  }
}
