import * as http2 from 'node:http2';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { listenOnLoopback } from './loopback';

/**
 * What the fake does with one Converse or ConverseStream call. `stream` answers ConverseStream with
 * real event-stream frames: `deltas` in order (each after `delayMs`, and after `gates[i]` when one
 * is given), then either the end (`messageStop`, `metadata`), an exception event after
 * `failAfter` deltas, or nothing more after `holdAfter` deltas until the client resets the stream.
 */
export type BedrockBehavior =
  | { readonly kind: 'answer'; readonly text?: string; readonly delayMs?: number }
  | { readonly kind: 'error'; readonly type: string; readonly status: number }
  | { readonly kind: 'hang' }
  | {
      readonly kind: 'stream';
      readonly deltas: readonly string[];
      readonly delayMs?: number;
      readonly gates?: readonly (Promise<void> | undefined)[];
      readonly failAfter?: { readonly deltas: number; readonly type: string };
      readonly holdAfter?: number;
    };

/** One ConverseStream call as the fake saw it. */
export interface ConverseStreamCall extends ConverseCall {
  /** Deltas written to the wire. */
  sent: number;
  /** Resolves when the HTTP/2 stream closes: `reset` when the client closed it before the fake ended it. */
  readonly closed: Promise<{ readonly reset: boolean }>;
}

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
  readonly streamCalls: ConverseStreamCall[] = [];
  private readonly codec = new EventStreamCodec(toUtf8, fromUtf8);
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
    this.streamCalls.length = 0;
    this.defaultBehavior = { kind: 'answer' };
  }

  private async handle(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    const match = /^\/model\/([^/]+)\/(converse|converse-stream)$/.exec(String(headers[':path']));
    if (!match || headers[':method'] !== 'POST') {
      return this.reply(stream, 404, { message: `no route ${headers[':method']} ${headers[':path']}` }, 'UnknownOperationException');
    }
    const call: ConverseCall = { modelId: decodeURIComponent(match[1]!), body: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
    const behavior = this.script.shift() ?? this.defaultBehavior;
    if (match[2] === 'converse-stream') return this.handleStream(stream, call, behavior);
    this.calls.push(call);

    if (behavior.kind === 'hang') return;
    if (behavior.kind === 'error') {
      return this.reply(stream, behavior.status, { message: `injected ${behavior.type}` }, behavior.type);
    }
    if (behavior.delayMs) await new Promise((resolve) => setTimeout(resolve, behavior.delayMs));
    if (stream.destroyed) return;
    const inputTokens = call.body.messages.reduce((n, m) => n + m.content.reduce((k, c) => k + c.text.length, 0), 0);
    const text = (behavior.kind === 'stream' ? behavior.deltas.join('') : behavior.text) ?? `bedrock answer to ${call.body.messages.length} message(s)`;
    this.reply(stream, 200, {
      output: { message: { role: 'assistant', content: [{ text }] } },
      stopReason: 'end_turn',
      usage: { inputTokens, outputTokens: text.length, totalTokens: inputTokens + text.length },
      metrics: { latencyMs: behavior.delayMs ?? 1 },
    });
  }

  private async handleStream(stream: http2.ServerHttp2Stream, base: ConverseCall, behavior: BedrockBehavior): Promise<void> {
    let ended = false;
    const call: ConverseStreamCall = {
      ...base,
      sent: 0,
      closed: new Promise((resolve) => stream.once('close', () => resolve({ reset: !ended }))),
    };
    this.streamCalls.push(call);
    if (behavior.kind === 'hang') return;
    if (behavior.kind === 'error') return this.reply(stream, behavior.status, { message: `injected ${behavior.type}` }, behavior.type);
    const script =
      behavior.kind === 'answer' ? { deltas: [behavior.text ?? `bedrock answer to ${base.body.messages.length} message(s)`], delayMs: behavior.delayMs } : behavior;
    const frame = (type: string, body: unknown, messageType: 'event' | 'exception' = 'event') =>
      this.codec.encode({
        headers: {
          [messageType === 'event' ? ':event-type' : ':exception-type']: { type: 'string', value: type },
          ':content-type': { type: 'string', value: 'application/json' },
          ':message-type': { type: 'string', value: messageType },
        },
        body: fromUtf8(JSON.stringify(body)),
      });
    // Honours flow control, as a server does: a client that stops reading stops the writes.
    const write = async (bytes: Uint8Array) => {
      if (stream.destroyed || stream.closed || stream.write(bytes)) return;
      await new Promise((resolve) => {
        stream.once('drain', resolve);
        stream.once('close', resolve);
      });
    };

    stream.respond({ ':status': 200, 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': `fake-stream-${this.streamCalls.length}` });
    await write(frame('messageStart', { role: 'assistant' }));
    for (const [index, text] of script.deltas.entries()) {
      if (behavior.kind === 'stream' && behavior.holdAfter === index) return;
      if (behavior.kind === 'stream' && behavior.failAfter?.deltas === index) {
        await write(frame(behavior.failAfter.type, { message: `injected ${behavior.failAfter.type}` }, 'exception'));
        ended = true;
        stream.end();
        return;
      }
      await (behavior.kind === 'stream' ? behavior.gates?.[index] : undefined);
      if (script.delayMs) await new Promise((resolve) => setTimeout(resolve, script.delayMs));
      if (stream.destroyed || stream.closed) return;
      await write(frame('contentBlockDelta', { contentBlockIndex: 0, delta: { text }, p: 'abcdefghijklmnopqrstuvwxyz' }));
      call.sent += 1;
    }
    if (behavior.kind === 'stream' && behavior.holdAfter === script.deltas.length) return;
    const inputTokens = base.body.messages.reduce((n, m) => n + m.content.reduce((k, c) => k + c.text.length, 0), 0);
    const outputTokens = script.deltas.join('').length;
    await write(frame('contentBlockStop', { contentBlockIndex: 0 }));
    await write(frame('messageStop', { stopReason: 'end_turn' }));
    await write(frame('metadata', { usage: { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens }, metrics: { latencyMs: 5 } }));
    ended = true;
    stream.end();
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
