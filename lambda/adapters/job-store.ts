import { gunzipSync, gzipSync } from 'node:zlib';
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { expiresAtOf, type JobError, type JobRecord } from '../core/job';
import type { InvokeAnswer } from '../core/invoke-answer';
import { JOB_TABLE_KEY, JOB_TTL_ATTRIBUTE } from '../shared/jobs';

/** Room left in a 400 KB DynamoDB item for the compressed result, after the other attributes. */
const MAX_STORED_RESULT_BYTES = 380_000;

/** A result that does not fit in its job's item even compressed. */
export class ResultTooLargeError extends Error {}

/**
 * Jobs in DynamoDB, one item per job keyed by `jobId`. Every write sets the TTL attribute to 24
 * hours after itself, and every state change is conditional on the job not having finished, so a
 * late or repeated writer (a redelivered message, the dead-letter consumer) never overwrites an
 * end state. Results are stored gzipped, so an answer near 1 MiB of text still fits an item.
 */
export class JobStore {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    private readonly clock: () => number = Date.now,
  ) {
    this.documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  /** Writes a new job; throws if the id is taken. */
  async create(record: JobRecord): Promise<void> {
    await this.documents.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...record, [JOB_TTL_ATTRIBUTE]: expiresAtOf(this.clock()) },
        ConditionExpression: 'attribute_not_exists(#key)',
        ExpressionAttributeNames: { '#key': JOB_TABLE_KEY },
      }),
    );
  }

  async get(jobId: string): Promise<JobRecord | undefined> {
    const { Item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: { [JOB_TABLE_KEY]: jobId }, ConsistentRead: true }));
    if (!Item) return undefined;
    const { resultGzip, [JOB_TTL_ATTRIBUTE]: _expiresAt, ...rest } = Item as JobRecord & { resultGzip?: Uint8Array; expiresAt?: number };
    return { ...rest, ...(resultGzip ? { result: JSON.parse(gunzipSync(resultGzip).toString('utf8')) as InvokeAnswer } : {}) };
  }

  /** A try begins: `running`, with its receive count. False when the job has already finished. */
  markRunning(jobId: string, attempts: number): Promise<boolean> {
    return this.update(jobId, { status: 'running', attempts }, []);
  }

  /** A try failed and another will come: back to `queued`, with the error kept for the record. */
  requeue(jobId: string, lastError: JobError): Promise<boolean> {
    return this.update(jobId, { status: 'queued', lastError }, []);
  }

  /** The job ends `succeeded`; its request is dropped. False when it had already finished. */
  succeed(jobId: string, result: InvokeAnswer): Promise<boolean> {
    const resultGzip = gzipSync(JSON.stringify(result));
    if (resultGzip.byteLength > MAX_STORED_RESULT_BYTES) {
      throw new ResultTooLargeError(`the result is ${resultGzip.byteLength} bytes compressed; a job can store ${MAX_STORED_RESULT_BYTES}`);
    }
    return this.update(jobId, { status: 'succeeded', completedAt: this.now(), resultGzip }, ['request', 'lastError']);
  }

  /** The job ends `failed` with `error`; its request is dropped. False when it had already finished. */
  fail(jobId: string, error: JobError): Promise<boolean> {
    return this.update(jobId, { status: 'failed', completedAt: this.now(), error }, ['request', 'lastError']);
  }

  private now(): string {
    return new Date(this.clock()).toISOString();
  }

  private async update(jobId: string, set: Record<string, unknown>, remove: readonly string[]): Promise<boolean> {
    const values: Record<string, unknown> = { ...set, updatedAt: this.now(), [JOB_TTL_ATTRIBUTE]: expiresAtOf(this.clock()) };
    const names: Record<string, string> = { '#status': 'status' };
    const assignments = Object.keys(values).map((name, i) => {
      names[`#s${i}`] = name;
      return `#s${i} = :s${i}`;
    });
    const removals = remove.map((name, i) => {
      names[`#r${i}`] = name;
      return `#r${i}`;
    });
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [JOB_TABLE_KEY]: jobId },
          UpdateExpression: `SET ${assignments.join(', ')}${removals.length > 0 ? ` REMOVE ${removals.join(', ')}` : ''}`,
          ConditionExpression: '#status IN (:queued, :running)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: {
            ...Object.fromEntries(Object.values(values).map((value, i) => [`:s${i}`, value])),
            ':queued': 'queued',
            ':running': 'running',
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
