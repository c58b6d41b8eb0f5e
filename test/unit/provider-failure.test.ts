import {
  MAX_ANSWER_BYTES,
  classifyBedrockError,
  classifyMcpHttpStatus,
  classifyMcpRpcError,
  oversizeAnswer,
} from '../../lambda/core/provider-failure';

describe('classifyBedrockError', () => {
  it.each([
    ['ThrottlingException', 429, 'throttled', true],
    ['ServiceQuotaExceededException', 400, 'throttled', true],
    ['ServiceUnavailableException', 503, 'unavailable', true],
    ['InternalServerException', 500, 'unavailable', true],
    ['ModelNotReadyException', 429, 'unavailable', true],
    ['ModelTimeoutException', 408, 'timeout', false],
    ['ValidationException', 400, 'client', false],
    ['AccessDeniedException', 403, 'fatal', false],
    ['ResourceNotFoundException', 404, 'fatal', false],
    ['ModelErrorException', 424, 'fatal', false],
    ['SomethingNew', 502, 'unavailable', true],
    ['SomethingNew', 429, 'throttled', true],
    ['SomethingNew', 409, 'fatal', false],
  ])('maps %s (HTTP %i) to %s, retryable %s', (name, status, kind, retryable) => {
    expect(classifyBedrockError(name, status)).toEqual({ kind, retryable });
  });
});

describe('classifyMcpHttpStatus', () => {
  it.each([
    [401, false, 'fatal', false],
    [403, false, 'fatal', false],
    [404, false, 'fatal', false],
    [401, true, 'fatal', false],
    [403, true, 'fatal', false],
    [404, true, 'unavailable', true],
    [429, false, 'throttled', true],
    [500, false, 'unavailable', false],
    [503, true, 'unavailable', false],
  ])('maps HTTP %i (session open: %s) to %s, retryable %s', (status, sessionOpen, kind, retryable) => {
    expect(classifyMcpHttpStatus(status, sessionOpen)).toEqual({ kind, retryable });
  });
});

describe('classifyMcpRpcError', () => {
  it.each([
    [-32601, 'fatal'],
    [-32602, 'fatal'],
    [-32603, 'unavailable'],
    [-32001, 'unavailable'],
  ])('maps JSON-RPC error %i to %s, not retryable', (code, kind) => {
    expect(classifyMcpRpcError(code)).toEqual({ kind, retryable: false });
  });
});

describe('oversizeAnswer', () => {
  it('accepts an answer of exactly 1 MiB of UTF-8', () => {
    expect(oversizeAnswer('mcp', 'x'.repeat(MAX_ANSWER_BYTES))).toBeUndefined();
    expect(oversizeAnswer('mcp', '\u00e9'.repeat(MAX_ANSWER_BYTES / 2))).toBeUndefined();
  });

  it('fails an answer one byte over, counting UTF-8 bytes rather than characters', () => {
    expect(oversizeAnswer('bedrock', 'x'.repeat(MAX_ANSWER_BYTES + 1))).toMatchObject({ provider: 'bedrock', kind: 'fatal', retryable: false });
    // 2 bytes each in UTF-8: fewer characters than the limit, more bytes.
    expect(oversizeAnswer('mcp', '\u00e9'.repeat(MAX_ANSWER_BYTES / 2 + 1))).toMatchObject({
      kind: 'fatal',
      message: `the answer is ${MAX_ANSWER_BYTES + 2} bytes, over the ${MAX_ANSWER_BYTES}-byte limit`,
    });
  });
});
