import type { APIGatewayProxyEvent } from 'aws-lambda';
import { JOB_MAX_RECEIVE_COUNT } from '../../../lambda/shared/jobs';
import { DynamoDbLocal } from '../../fakes/dynamodb-local';
import { SqsFake } from '../../fakes/sqs-fake';
import { apiEvent, lambdaEnvironment, type World } from './world';

export const JOBS_TABLE = 'hybrid-routing-dev-jobs';
export const JOBS_QUEUE = 'hybrid-routing-dev-jobs';
export const JOBS_DEAD_LETTERS = 'hybrid-routing-dev-jobs-dlq';
/** The queue's visibility timeout in the fake; `sqs.advance` past it to see a message again. */
export const VISIBILITY_MS = 60_000;

/** DynamoDB (dynalite) and SQS (fake) for the jobs functions, with the stack's table and queues. */
export interface JobsWorld {
  readonly dynamodb: DynamoDbLocal;
  readonly sqs: SqsFake;
  stop(): Promise<void>;
}

export async function startJobsWorld(): Promise<JobsWorld> {
  const [dynamodb, sqs] = await Promise.all([new DynamoDbLocal().start(), new SqsFake().start()]);
  await dynamodb.createJobsTable(JOBS_TABLE);
  sqs.createQueue(JOBS_DEAD_LETTERS);
  sqs.createQueue(JOBS_QUEUE, { visibilityTimeoutSeconds: VISIBILITY_MS / 1000, redrive: { deadLetterQueue: JOBS_DEAD_LETTERS, maxReceiveCount: JOB_MAX_RECEIVE_COUNT } });
  return { dynamodb, sqs, stop: async () => void (await Promise.all([dynamodb.stop(), sqs.stop()])) };
}

/** The jobs functions' environment in AWS, pointed at the worlds through AWS_ENDPOINT_URL_*. */
export function jobsEnvironment(world: World, jobs: JobsWorld, extra: Record<string, string> = {}): Record<string, string> {
  return lambdaEnvironment(world, {
    AWS_ENDPOINT_URL_DYNAMODB: jobs.dynamodb.url,
    AWS_ENDPOINT_URL_SQS: jobs.sqs.url,
    JOBS_TABLE_NAME: JOBS_TABLE,
    JOBS_QUEUE_URL: jobs.sqs.queueUrl(JOBS_QUEUE),
    JOB_BUDGET_MS: '5000',
    JOBS_MAX_RECEIVE_COUNT: String(JOB_MAX_RECEIVE_COUNT),
    ...extra,
  });
}

/** `POST /v1/jobs` or `GET /v1/jobs/{jobId}` as API Gateway passes it, signed by `caller`. */
export function jobsEvent(caller: string, request: { submit: unknown } | { jobId: string }): APIGatewayProxyEvent {
  const event =
    'submit' in request
      ? apiEvent('POST', '/v1/jobs', '/v1/jobs')
      : apiEvent('GET', '/v1/jobs/{jobId}', `/v1/jobs/${request.jobId}`, { jobId: request.jobId });
  if ('submit' in request) event.body = JSON.stringify(request.submit);
  event.requestContext.identity.userArn = caller;
  event.requestContext.domainName = 'abc123defg.execute-api.eu-central-1.amazonaws.com';
  return event;
}
