import { StreamEventParser, formatStreamEvent, type StreamEvent } from '../../lambda/shared/stream-events';

const events: StreamEvent[] = [
  { event: 'routing', data: { provider: 'bedrock', intended: 'bedrock', cohort: 'hybrid', fallback: false, reason: 'emergency prefers bedrock' } },
  { event: 'delta', data: { text: 'line one\nline two: "quoted" ✓' } },
  { event: 'usage', data: { inputTokens: 3, outputTokens: 9 } },
  { event: 'done', data: { stopReason: 'end_turn', latencyMs: 812 } },
];

describe('server-sent events', () => {
  it('frames each event as `event:` and one `data:` line, then a blank line', () => {
    expect(formatStreamEvent(events[1]!)).toBe('event: delta\ndata: {"text":"line one\\nline two: \\"quoted\\" ✓"}\n\n');
  });

  it('reads back every event from chunks cut anywhere, even inside a character', () => {
    const bytes = Buffer.from(events.map(formatStreamEvent).join(''), 'utf8');
    for (const size of [1, 2, 7, 64]) {
      const parser = new StreamEventParser();
      const decoder = new TextDecoder();
      const read: StreamEvent[] = [];
      for (let i = 0; i < bytes.length; i += size) read.push(...parser.push(decoder.decode(bytes.subarray(i, i + size), { stream: true })));
      expect(read).toEqual(events);
      expect(parser.pending).toBe('');
    }
  });

  it('ignores comments and keeps a cut-off event pending', () => {
    const parser = new StreamEventParser();
    expect(parser.push(': keep-alive\n\nevent: error\r\ndata: {"code":"Timeout","message":"m"}\r\n\r\nevent: delta\ndata: {"te')).toEqual([
      { event: 'error', data: { code: 'Timeout', message: 'm' } },
    ]);
    expect(parser.pending).toBe('event: delta\ndata: {"te');
  });
});
