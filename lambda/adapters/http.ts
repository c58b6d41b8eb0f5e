import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { HttpError, InternalError, NotFoundError } from '../core/http-errors';

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

export type RouteHandler = (event: APIGatewayProxyEvent, requestId: string) => Promise<APIGatewayProxyResult>;

/**
 * Dispatches API Gateway proxy events to `routes` by `METHOD /resource`. Every failure is answered
 * in the error shape: an `HttpError` as itself, anything else as a 500 that reveals nothing.
 */
export function routeRequests(routes: Readonly<Record<string, RouteHandler>>, logger: Pick<Logger, 'info' | 'error'>) {
  return async (event: APIGatewayProxyEvent, context: { readonly awsRequestId: string }): Promise<APIGatewayProxyResult> => {
    const requestId = requestIdOf(event, context.awsRequestId);
    try {
      const route = routes[routeOf(event)];
      if (!route) throw new NotFoundError(`no route ${event.httpMethod} ${event.path}`);
      return await route(event, requestId);
    } catch (error) {
      if (error instanceof HttpError) {
        logger.info('request refused', { requestId, route: routeOf(event), status: error.status, code: error.code });
        return errorResponse(error, requestId);
      }
      logger.error('unhandled error', { requestId, route: routeOf(event), errorName: error instanceof Error ? error.name : typeof error });
      return errorResponse(new InternalError(), requestId);
    }
  };
}
