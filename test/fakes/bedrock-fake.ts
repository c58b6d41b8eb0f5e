import * as http2 from 'node:http2';
import { listenOnLoopback } from './loopback';

/** What the fake does with one Converse call. */
export type BedrockBehavior =
  | { readonly kind: 'answer'; readonly text?: string; readonly delayMs?: number }
  | { readonly kind: 'error'; readonly type: string; readonly status: number }
  | { readonly kind: 'hang' };

export interface ConverseCall {
  readonly modelId: string;
  readonly body: {
    messages: { role: string; content: { text: string }[] }[];
    system?: { text: string }[];
    inferenceConfig?: { maxTokens?: number; temperature?: number };
  };
}

/**
 * Bedrock Runtime's Converse API over cleartext HTTP/2 (h2c) on 127.0.0.1, which is what the real
 * client speaks by default; point it here with `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`. Plays scripted
 * behaviors in order, then the default behavior.
 */
export class BedrockFake {
  private readonly server = http2.createServer();
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  private script: BedrockBehavior[] = [];
  defaultBehavior: BedrockBehavior = { kind: 'answer' };
  readonly calls: ConverseCall[] = [];
  url = '';

  constructor() {
    this.server.on('session', (session) => {
      this.sessions.add(session);
      session.on('close', () => this.sessions.delete(session));
    });
    this.server.on('stream', (stream, headers) => void this.handle(stream, headers));
  }

  async start(): Promise<this> {
    this.url = `http://127.0.0.1:${await listenOnLoopback(this.server)}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const session of this.sessions) session.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Queues behaviors for the next calls, in order. */
  queue(...behaviors: BedrockBehavior[]): this {
    this.script.push(...behaviors);
    return this;
  }

  reset(): void {
    this.script = [];
    this.calls.length = 0;
    this.defaultBehavior = { kind: 'answer' };
  }

  private async handle(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    const match = /^\/model\/([^/]+)\/converse$/.exec(String(headers[':path']));
    if (!match || headers[':method'] !== 'POST') {
      return this.reply(stream, 404, { message: `no route ${headers[':method']} ${headers[':path']}` }, 'UnknownOperationException');
    }
    const call: ConverseCall = { modelId: decodeURIComponent(match[1]!), body: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
    this.calls.push(call);
    const behavior = this.script.shift() ?? this.defaultBehavior;

    if (behavior.kind === 'hang') return;
    if (behavior.kind === 'error') {
      return this.reply(stream, behavior.status, { message: `injected ${behavior.type}` }, behavior.type);
    }
    if (behavior.delayMs) await new Promise((resolve) => setTimeout(resolve, behavior.delayMs));
    if (stream.destroyed) return;
    const inputTokens = call.body.messages.reduce((n, m) => n + m.content.reduce((k, c) => k + c.text.length, 0), 0);
    const text = behavior.text ?? `bedrock answer to ${call.body.messages.length} message(s)`;
    this.reply(stream, 200, {
      output: { message: { role: 'assistant', content: [{ text }] } },
      stopReason: 'end_turn',
      usage: { inputTokens, outputTokens: text.length, totalTokens: inputTokens + text.length },
      metrics: { latencyMs: behavior.delayMs ?? 1 },
    });
  }

  private reply(stream: http2.ServerHttp2Stream, status: number, body: unknown, errorType?: string): void {
    if (stream.destroyed) return;
    stream.respond({
      ':status': status,
      'content-type': 'application/json',
      'x-amzn-requestid': `fake-${this.calls.length}`,
      ...(errorType ? { 'x-amzn-errortype': `${errorType}:http://internal.amazon.com/coral/com.amazon.bedrock/` } : {}),
    });
    stream.end(JSON.stringify(body));
  }
}
