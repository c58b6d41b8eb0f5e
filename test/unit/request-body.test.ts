import { PayloadTooLargeError, ValidationError } from '../../lambda/core/http-errors';
import { parseJsonBody } from '../../lambda/core/request-body';
import { InvokeRequestSchema, MAX_BODY_BYTES } from '../../lambda/shared/invoke-request';

const valid = { operation: 'standard-analysis', messages: [{ role: 'user', content: 'hi' }] };
const parse = (body: unknown, raw = false) =>
  parseJsonBody(raw ? (body as string) : JSON.stringify(body), false, InvokeRequestSchema, MAX_BODY_BYTES);

function rejection(body: unknown, raw = false): ValidationError {
  try {
    parse(body, raw);
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

describe('parseJsonBody with the invoke schema', () => {
  it('accepts a minimal request and a full one', () => {
    expect(parse(valid)).toEqual(valid);
    const full = { ...valid, system: 'be brief', maxTokens: 8192, temperature: 1, routingKey: 'k'.repeat(128) };
    expect(parse(full)).toEqual(full);
  });

  it.each([
    ['malformed JSON', '{"operation":', true, 'request body is not valid JSON'],
    ['an empty body', '', true, 'request body must be a JSON object'],
    ['a missing operation', { messages: valid.messages }, false, 'operation is required'],
    ['an unknown operation', { ...valid, operation: 'chat' }, false, 'operation must be one of'],
    ['no messages', { ...valid, messages: [] }, false, 'messages must be an array of 1 to 100 messages'],
    ['101 messages', { ...valid, messages: Array(101).fill(valid.messages[0]) }, false, 'messages must be an array of 1 to 100'],
    ['a bad role', { ...valid, messages: [{ role: 'system', content: 'x' }] }, false, 'messages[0].role: role must be'],
    ['empty content', { ...valid, messages: [{ role: 'user', content: '' }] }, false, 'content must be a non-empty string'],
    ['maxTokens 0', { ...valid, maxTokens: 0 }, false, 'maxTokens must be an integer from 1 to 8192'],
    ['maxTokens 8193', { ...valid, maxTokens: 8193 }, false, 'maxTokens must be an integer from 1 to 8192'],
    ['maxTokens 1.5', { ...valid, maxTokens: 1.5 }, false, 'maxTokens must be an integer from 1 to 8192'],
    ['maxTokens "5"', { ...valid, maxTokens: '5' }, false, 'maxTokens must be an integer from 1 to 8192'],
    ['temperature 1.1', { ...valid, temperature: 1.1 }, false, 'temperature must be a number from 0 to 1'],
    ['a 129-char routingKey', { ...valid, routingKey: 'k'.repeat(129) }, false, 'routingKey must be a string of 1 to 128'],
    ['an unknown field', { ...valid, stream: true }, false, 'unknown field: stream'],
    ['an array body', [valid], true, ''],
  ])('rejects %s', (_name, body, raw, message) => {
    const error = rejection(raw && typeof body !== 'string' ? JSON.stringify(body) : body, raw);
    expect(error.status).toBe(400);
    expect(error.message).toContain(message);
    expect(error.toBody('r-1')).toMatchObject({ error: { code: 'ValidationError' }, requestId: 'r-1' });
  });

  it('lists every problem in details', () => {
    const error = rejection({ operation: 'chat', messages: [], extra: 1 });
    expect(error.details.map((d) => d.path).sort()).toEqual(['', 'messages', 'operation']);
  });

  it('answers 413 above 256 KiB, before parsing', () => {
    const body = '{' + ' '.repeat(MAX_BODY_BYTES) + '}';
    expect(() => parseJsonBody(body, false, InvokeRequestSchema, MAX_BODY_BYTES)).toThrow(PayloadTooLargeError);
  });

  it('measures base64 bodies by their decoded size', () => {
    const json = JSON.stringify({ ...valid, system: 'x'.repeat(MAX_BODY_BYTES - 200) });
    const encoded = Buffer.from(json).toString('base64');
    expect(encoded.length).toBeGreaterThan(MAX_BODY_BYTES);
    expect(parseJsonBody(encoded, true, InvokeRequestSchema, MAX_BODY_BYTES).operation).toBe('standard-analysis');
  });
});
