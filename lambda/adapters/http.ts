import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { HttpError } from '../core/http-errors';

/** JSON response with the headers every answer of the API carries. */
export function jsonResponse(status: number, body: unknown, requestId: string, extraHeaders: Record<string, string> = {}): APIGatewayProxyResult {
  return {
    statusCode: status,
    headers: {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      'x-request-id': requestId,
      ...extraHeaders,
    },
    body: JSON.stringify(body),
  };
}

export function errorResponse(error: HttpError, requestId: string): APIGatewayProxyResult {
  const headers: Record<string, string> =
    error.retryAfterSeconds !== undefined ? { 'retry-after': String(error.retryAfterSeconds) } : {};
  return jsonResponse(error.status, error.toBody(requestId), requestId, headers);
}

/** The id a caller can quote: API Gateway's request id, or the Lambda one outside API Gateway. */
export function requestIdOf(event: APIGatewayProxyEvent, fallback: string): string {
  return event.requestContext?.requestId || fallback;
}

/** The SigV4 caller as API Gateway saw it: the IAM identity that signed the request. */
export function callerIdentityOf(event: APIGatewayProxyEvent): string {
  const identity = event.requestContext?.identity;
  return identity?.userArn || identity?.caller || identity?.accountId || 'anonymous';
}

/** `METHOD /resource` as API Gateway names the matched route, e.g. `POST /v1/invoke`. */
export function routeOf(event: APIGatewayProxyEvent): string {
  return `${event.httpMethod} ${event.resource ?? event.path}`;
}
