/**
 * The server-sent events of `POST /v1/stream` (DESIGN §12): `routing`, then `delta`s, then
 * `usage` and `done`, or `error` as the last event. One definition for the stream function, the
 * CLI and the tests. Framing is standard SSE: `event: <name>`, `data: <json>`, a blank line.
 */

export const STREAM_CONTENT_TYPE = 'text/event-stream';

export interface StreamEventData {
  readonly routing: {
    readonly provider: 'bedrock' | 'mcp';
    readonly intended: 'bedrock' | 'mcp' | null;
    readonly cohort: 'hybrid' | 'control' | null;
    readonly fallback: boolean;
    readonly reason: string;
  };
  readonly delta: { readonly text: string };
  readonly usage: { readonly inputTokens: number; readonly outputTokens: number };
  readonly done: { readonly stopReason: string; readonly latencyMs: number };
  readonly error: { readonly code: string; readonly message: string };
}

export type StreamEventName = keyof StreamEventData;

export type StreamEvent = { [K in StreamEventName]: { readonly event: K; readonly data: StreamEventData[K] } }[StreamEventName];

/** One event as SSE text. `JSON.stringify` escapes newlines, so the data is always one line. */
export function formatStreamEvent(event: StreamEvent): string {
  return `event: ${event.event}\ndata: ${JSON.stringify(event.data)}\n\n`;
}

/**
 * Reads SSE text as it arrives, in chunks cut anywhere, and hands back each complete event.
 * Comments and fields other than `event` and `data` are ignored, as the SSE standard says.
 */
export class StreamEventParser {
  private buffer = '';

  push(chunk: string): StreamEvent[] {
    this.buffer += chunk.replace(/\r\n?/g, '\n');
    const events: StreamEvent[] = [];
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      let name = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') name = value;
        else if (field === 'data') data.push(value);
      }
      if (data.length > 0) events.push({ event: name, data: JSON.parse(data.join('\n')) } as StreamEvent);
    }
    return events;
  }

  /** Text received after the last complete event: non-empty when a stream was cut mid-event. */
  get pending(): string {
    return this.buffer;
  }
}
