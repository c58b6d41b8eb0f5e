/**
 * Facts about asynchronous jobs (DESIGN §12) shared by the functions and the constructs: the
 * table's key and TTL attribute, how long a job is kept, and how often its message is tried.
 */

export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const JOB_TABLE_KEY = 'jobId';
/** Epoch seconds after which DynamoDB's TTL deletes the item: 24 hours after its last update. */
export const JOB_TTL_ATTRIBUTE = 'expiresAt';
export const JOB_TTL_SECONDS = 24 * 60 * 60;

/** Receives of one job message before SQS moves it to the dead-letter queue. */
export const JOB_MAX_RECEIVE_COUNT = 3;

/** The body of a job's queue message. The request itself stays in the (encrypted) table. */
export interface JobMessage {
  readonly jobId: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Job ids are random UUIDs; anything else cannot name a job. */
export const isJobId = (value: string): boolean => UUID.test(value);
