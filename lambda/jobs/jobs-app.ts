import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { callerIdentityOf, jsonResponse, routeRequests, type RouteHandler } from '../adapters/http';
import type { JobQueue } from '../adapters/job-queue';
import type { JobStore } from '../adapters/job-store';
import { publishMetrics } from '../adapters/telemetry';
import { HttpError, NotFoundError, UnavailableError } from '../core/http-errors';
import { jobView, newJob } from '../core/job';
import { parseJsonBody } from '../core/request-body';
import { rejectedRequestMetrics } from '../core/router-metrics';
import { InvokeRequestSchema, MAX_BODY_BYTES } from '../shared/invoke-request';
import { isJobId } from '../shared/jobs';
import { METRICS } from '../shared/metric-catalog';

export interface JobsAppDependencies {
  readonly store: Pick<JobStore, 'create' | 'get' | 'fail'>;
  readonly queue: Pick<JobQueue, 'send'>;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly newJobId?: () => string;
  readonly now?: () => number;
}

/** Seconds a caller should wait before trying again when the store or the queue fails. */
const QUEUE_RETRY_AFTER_SECONDS = 5;

/**
 * `POST /v1/jobs` and `GET /v1/jobs/{jobId}` (DESIGN §4, §12). A submit writes the job before it
 * queues it, so a queued message always has its record; a job is visible only to the IAM identity
 * that submitted it, and to anyone else it does not exist (404, like an unknown id).
 */
export function createJobsApp(deps: JobsAppDependencies) {
  const { logger, metrics } = deps;
  const newJobId = deps.newJobId ?? (() => crypto.randomUUID());
  const now = deps.now ?? Date.now;

  /** A store call; its failure is the store being unavailable, which the caller may retry. */
  const storeCall = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      logger.error('job store call failed', { errorName: error instanceof Error ? error.name : typeof error });
      throw new UnavailableError('the job store is unavailable; retry shortly', QUEUE_RETRY_AFTER_SECONDS);
    }
  };

  const submit: RouteHandler = async (event, requestId) => {
    let request;
    try {
      request = parseJsonBody(event.body, event.isBase64Encoded, InvokeRequestSchema, MAX_BODY_BYTES);
    } catch (error) {
      if (error instanceof HttpError) publishMetrics(metrics, rejectedRequestMetrics(error.status, 'control'));
      throw error;
    }
    const record = newJob(newJobId(), callerIdentityOf(event), request, now());
    await storeCall(() => deps.store.create(record));
    try {
      await deps.queue.send(record.jobId);
    } catch (error) {
      const refused = new UnavailableError('the job could not be queued; submit it again', QUEUE_RETRY_AFTER_SECONDS);
      // The record must not promise a run that will never come.
      await deps.store.fail(record.jobId, refused.toBody(requestId).error).catch(() => undefined);
      logger.error('job not queued', { requestId, jobId: record.jobId, errorName: error instanceof Error ? error.name : typeof error });
      throw refused;
    }
    publishMetrics(metrics, [{ metric: METRICS.jobsSubmitted, value: 1 }]);
    logger.info('job submitted', { requestId, jobId: record.jobId, operation: request.operation });
    return jsonResponse(202, { jobId: record.jobId, status: record.status, statusUrl: statusUrlOf(event, record.jobId) }, requestId);
  };

  const status: RouteHandler = async (event, requestId) => {
    const jobId = event.pathParameters?.jobId ?? '';
    const record = isJobId(jobId) ? await storeCall(() => deps.store.get(jobId)) : undefined;
    if (!record || record.owner !== callerIdentityOf(event)) throw new NotFoundError(`no job ${jobId}`);
    return jsonResponse(200, jobView(record), requestId);
  };

  return routeRequests({ 'POST /v1/jobs': submit, 'GET /v1/jobs/{jobId}': status }, logger);
}

/** The job's URL as the caller reached the API: its host and stage (or custom domain base path). */
function statusUrlOf(event: APIGatewayProxyEvent, jobId: string): string {
  const { domainName, path } = event.requestContext;
  const base = (path ?? event.path).replace(/\/$/, '');
  return domainName ? `https://${domainName}${base}/${jobId}` : `${base}/${jobId}`;
}
