import type { Server } from 'node:http';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { JOB_TABLE_KEY } from '../../lambda/shared/jobs';
import { listenOnLoopback } from './loopback';

// dynalite ships no types: a DynamoDB implementation in Node, on an in-memory LevelDB store.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (options: Record<string, number>) => Server;

/** dynalite on 127.0.0.1: a real DynamoDB API and database, not a mock. Tables are ACTIVE at once. */
export class DynamoDbLocal {
  private readonly server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  url = '';

  async start(): Promise<this> {
    this.url = `http://127.0.0.1:${await listenOnLoopback(this.server)}`;
    return this;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  client(): DynamoDBClient {
    return new DynamoDBClient({ endpoint: this.url, region: 'eu-central-1', credentials: { accessKeyId: 'AKIAFAKEFORTESTS', secretAccessKey: 'fake' } });
  }

  /** Creates a table with the jobs table's key schema (as `lib/constructs/jobs.ts` defines it). */
  async createJobsTable(name: string): Promise<void> {
    await this.client().send(
      new CreateTableCommand({
        TableName: name,
        KeySchema: [{ AttributeName: JOB_TABLE_KEY, KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: JOB_TABLE_KEY, AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  }
}
