import type * as z from 'zod/v4';
import { PayloadTooLargeError, ValidationError, type ErrorDetail } from './http-errors';

/**
 * Decodes, size-checks, parses and validates a JSON request body against `schema`.
 * Throws `PayloadTooLargeError` before parsing when the body exceeds `maxBytes`, and
 * `ValidationError` for malformed JSON or a body the schema rejects.
 */
export function parseJsonBody<S extends z.ZodType>(
  body: string | null | undefined,
  isBase64Encoded: boolean,
  schema: S,
  maxBytes: number,
): z.infer<S> {
  if (body === null || body === undefined || body === '') {
    throw new ValidationError('request body must be a JSON object');
  }
  const size = Buffer.byteLength(body, isBase64Encoded ? 'base64' : 'utf8');
  if (size > maxBytes) {
    throw new PayloadTooLargeError(`request body is ${size} bytes; the limit is ${maxBytes} bytes`);
  }
  const text = isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ValidationError('request body is not valid JSON');
  }
  const result = schema.safeParse(json, { reportInput: true });
  if (!result.success) {
    const details = result.error.issues.map(toDetail);
    const first = details[0];
    throw new ValidationError(first ? describe(first) : 'request body is invalid', details);
  }
  return result.data;
}

function toDetail(issue: z.core.$ZodIssue): ErrorDetail {
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.join(', ');
    return { path: formatPath(issue.path), message: `unknown field${issue.keys.length > 1 ? 's' : ''}: ${keys}` };
  }
  if ((issue.code === 'invalid_type' || issue.code === 'invalid_value') && 'input' in issue && issue.input === undefined) {
    return { path: formatPath(issue.path), message: `${formatPath(issue.path)} is required` };
  }
  return { path: formatPath(issue.path), message: issue.message };
}

function describe(detail: ErrorDetail): string {
  if (detail.path === '' || detail.message.startsWith(detail.path)) return detail.message;
  return `${detail.path}: ${detail.message}`;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((part, index) => (typeof part === 'number' ? `[${part}]` : `${index === 0 ? '' : '.'}${String(part)}`))
    .join('');
}
