import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { JobStore } from '../adapters/job-store';
import { publishMetrics } from '../adapters/telemetry';
import { deadLetteredError } from '../core/job';
import type { JobMessage } from '../shared/jobs';
import { METRICS } from '../shared/metric-catalog';

export interface DeadLetterDependencies {
  readonly store: Pick<JobStore, 'get' | 'fail'>;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/**
 * The consumer of the jobs' dead-letter queue: a message lands there when every worker that
 * received it stopped before finishing (timed out or crashed), so nobody marked its job. It marks
 * the job `failed` with the last known error, unless it had finished after all.
 */
export function createDeadLetterConsumer(deps: DeadLetterDependencies) {
  const processor = new BatchProcessor(EventType.SQS);
  const consume = async (record: SQSRecord): Promise<void> => {
    const { jobId } = JSON.parse(record.body) as JobMessage;
    const job = await deps.store.get(jobId);
    const marked = job ? await deps.store.fail(jobId, deadLetteredError(job, job.attempts)) : false;
    if (marked) publishMetrics(deps.metrics, [{ metric: METRICS.jobsFailed, value: 1 }]);
    deps.logger.warn('job dead-lettered', { jobId, status: job?.status ?? 'unknown', marked });
  };
  return (event: SQSEvent): Promise<SQSBatchResponse> => processPartialResponse(event, consume, processor, { throwOnFullBatchFailure: false });
}
