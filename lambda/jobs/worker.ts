import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { ConfigSource } from '../adapters/config-source';
import type { JobQueue } from '../adapters/job-queue';
import { ResultTooLargeError, type JobStore } from '../adapters/job-store';
import { publishMetrics } from '../adapters/telemetry';
import type { CircuitBreakers } from '../core/circuit-breaker';
import { ProviderError } from '../core/http-errors';
import type { HybridRouter } from '../core/hybrid-router';
import { invokeAnswer } from '../core/invoke-answer';
import { judgeTry, type JobVerdict } from '../core/job';
import { longOperationConfig } from '../core/long-operation';
import { routeMetrics } from '../core/router-metrics';
import type { JobMessage } from '../shared/jobs';
import { METRICS } from '../shared/metric-catalog';

export interface WorkerDependencies {
  readonly store: Pick<JobStore, 'get' | 'markRunning' | 'requeue' | 'succeed' | 'fail'>;
  readonly queue: Pick<JobQueue, 'retryAfter'>;
  /** A router for one batch, whose budget ceiling is the time that batch may use. */
  readonly routerFor: (budgetCeilingMs: number) => HybridRouter;
  readonly breakers: CircuitBreakers;
  readonly configSource: ConfigSource;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** A job's budget (DESIGN §12: 10 minutes by default). */
  readonly budgetMs: number;
  /** The longest a try waits for a configuration read before it uses the copy it has. */
  readonly configReadTimeoutMs: number;
  /** The queue's `maxReceiveCount`: the try on that receive is the last. */
  readonly maxReceiveCount: number;
}

/** Kept back from the function's remaining time to record the outcome. */
const RECORD_MARGIN_MS = 10_000;

/** A try that failed and will be retried: the message goes back to the queue (a partial batch failure). */
class RetryLater extends Error {}

/**
 * The job worker: for each SQS message, runs its job through the router core with the job budget
 * and records the outcome. Transient failures go back to the queue until the last receive, where
 * the job ends `failed` with its error; a worker that dies mid-try leaves the message to come back
 * by itself. Records are processed in parallel and fail one by one (`ReportBatchItemFailures`).
 */
export function createWorker(deps: WorkerDependencies) {
  const { logger, metrics } = deps;
  const processor = new BatchProcessor(EventType.SQS);

  const runJob = async (record: SQSRecord, router: HybridRouter, budgetMs: number): Promise<void> => {
    const { jobId } = JSON.parse(record.body) as JobMessage;
    const receiveCount = Number(record.attributes.ApproximateReceiveCount);
    const job = await deps.store.get(jobId);
    if (!job?.request || !(await deps.store.markRunning(jobId, receiveCount))) {
      // Expired, unknown, or already finished by an earlier delivery: nothing left to do.
      logger.info('job message skipped', { jobId, receiveCount, status: job?.status ?? 'unknown' });
      return;
    }

    const snapshot = await deps.configSource.current(deps.configReadTimeoutMs);
    if (deps.breakers.syncEpoch(snapshot.config.breakerEpoch)) {
      logger.info('circuit breakers reset by epoch change', { epoch: snapshot.config.breakerEpoch });
    }
    const { routingKey, ...request } = job.request;
    const result = await router.route(request, longOperationConfig(snapshot.config, request.operation, budgetMs), routingKey ?? job.owner);
    const status = result.error?.status ?? 200;
    // No `Latency`: a job may rightly take minutes, and the hybrid latency alarm would roll back a
    // healthy ramp for it. Requests and errors count like any other request's.
    publishMetrics(
      metrics,
      routeMetrics(result, status, result.routing.cohort ?? 'control').filter((point) => point.metric !== METRICS.latency),
    );

    let verdict: JobVerdict = judgeTry(
      result.error ? { error: result.error.toBody(jobId).error, status } : { result: invokeAnswer(jobId, result) },
      receiveCount,
      deps.maxReceiveCount,
    );
    if (verdict.kind === 'succeeded') {
      try {
        await deps.store.succeed(jobId, verdict.result);
      } catch (error) {
        if (!(error instanceof ResultTooLargeError)) throw error;
        verdict = { kind: 'failed', error: new ProviderError(`${error.message}; ask for a shorter answer or use /v1/stream`).toBody(jobId).error };
      }
    }
    if (verdict.kind === 'failed') {
      await deps.store.fail(jobId, verdict.error);
      publishMetrics(metrics, [{ metric: METRICS.jobsFailed, value: 1 }]);
    }
    logger.info('job tried', {
      jobId,
      receiveCount,
      operation: request.operation,
      cohort: result.routing.cohort,
      provider: result.routing.provider,
      fallback: result.routing.fallback,
      attempts: result.attempts.map((a) => `${a.provider}:${a.outcome}${a.retried ? '+retry' : ''}`),
      latencyMs: result.latencyMs,
      status,
      verdict: verdict.kind,
      configOrigin: snapshot.origin,
    });
    if (verdict.kind === 'retry') {
      await deps.store.requeue(jobId, verdict.error);
      await deps.queue.retryAfter(record.receiptHandle, verdict.delaySeconds).catch((error: unknown) =>
        logger.warn('could not shorten the retry wait', { jobId, errorName: error instanceof Error ? error.name : typeof error }),
      );
      throw new RetryLater(`job ${jobId}: ${verdict.error.code}`);
    }
  };

  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const budgetMs = Math.max(0, Math.min(deps.budgetMs, context.getRemainingTimeInMillis() - RECORD_MARGIN_MS));
    const router = deps.routerFor(budgetMs);
    try {
      return await processPartialResponse(event, (record: SQSRecord) => runJob(record, router, budgetMs), processor, {
        context,
        // A batch whose every job must be retried is not a function error: the queue retries it.
        throwOnFullBatchFailure: false,
      });
    } finally {
      deps.configSource.idle();
    }
  };
}
