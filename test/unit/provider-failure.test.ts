import { classifyBedrockError } from '../../lambda/core/provider-failure';

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
