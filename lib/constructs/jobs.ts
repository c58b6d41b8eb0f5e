import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { InvokeRequestSchema } from '../../lambda/shared/invoke-request';
import { JOB_MAX_RECEIVE_COUNT, JOB_TABLE_KEY, JOB_TTL_ATTRIBUTE } from '../../lambda/shared/jobs';
import type { EnvironmentConfig } from '../config/environment-config';
import { apiGatewaySchema } from './api-model';
import type { ConfigStore } from './config-store';
import { DeadLetterQueue } from './dead-letter-queue';
import { HybridFunction } from './hybrid-function';
import { bedrockModelArns } from './router-api';

export interface JobsProps {
  readonly environmentName: string;
  readonly config: EnvironmentConfig;
  readonly configStore: ConfigStore;
  /** The API `/v1/jobs` is added to; IAM auth is its default. */
  readonly api: apigw.RestApi;
  /**
   * Point-in-time recovery for the jobs table, and keeping it when the stack is deleted.
   * @default false
   */
  readonly pointInTimeRecovery?: boolean;
}

/** Time the worker keeps after a job's budget to record its outcome. */
const RECORD_MARGIN = Duration.minutes(1);
/** Jobs one worker invocation takes at once (in parallel, each with the whole job budget). */
const BATCH_SIZE = 5;
/** Worker invocations the queue may run at once: room for bursts, a bound on Bedrock and MCP load. */
const MAX_WORKERS = 20;

/**
 * Asynchronous jobs (DESIGN §12): `POST /v1/jobs` writes the job to an encrypted, on-demand
 * DynamoDB table (items expire 24 hours after their last update) and then queues its id in SQS; a
 * worker routes it with the router core and a job budget and records the outcome; a message that
 * fails every receive moves to a dead-letter queue, whose consumer marks its job failed.
 * `GET /v1/jobs/{jobId}` answers the job to the identity that submitted it.
 */
export class Jobs extends Construct {
  readonly table: dynamodb.Table;
  readonly queue: sqs.Queue;
  /** Where a job's message goes after `JOB_MAX_RECEIVE_COUNT` receives; alarm on `metricDeadLettered()`. */
  readonly deadLetterQueue: DeadLetterQueue;
  readonly apiFunction: HybridFunction;
  readonly workerFunction: HybridFunction;
  readonly deadLetterFunction: HybridFunction;

  constructor(scope: Construct, id: string, props: JobsProps) {
    super(scope, id);
    const { api, config, configStore, environmentName } = props;
    const pointInTimeRecovery = props.pointInTimeRecovery ?? false;
    const budget = Duration.minutes(config.jobs.budgetMinutes);
    const workerTimeout = budget.plus(RECORD_MARGIN);

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: JOB_TABLE_KEY, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: JOB_TTL_ATTRIBUTE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: pointInTimeRecovery },
      removalPolicy: pointInTimeRecovery ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    if (!pointInTimeRecovery) {
      for (const rule of ['AwsSolutions-DDB3', 'Serverless-DynamoDBPITREnabled']) {
        Validations.of(this.table).acknowledge({
          id: rule,
          reason: 'Jobs live 24 hours and can be submitted again; point-in-time recovery is on in prod only (pointInTimeRecovery).',
        });
      }
    }

    this.deadLetterQueue = new DeadLetterQueue(this, 'DeadLetters', { holds: 'job messages whose every try stopped before finishing' });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // Above the worker's timeout, so a message is never received twice while a worker still runs it.
      visibilityTimeout: workerTimeout.plus(Duration.minutes(1)),
      retentionPeriod: Duration.days(1),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: JOB_MAX_RECEIVE_COUNT },
    });

    const data = { JOBS_TABLE_NAME: this.table.tableName, JOBS_QUEUE_URL: this.queue.queueUrl };
    this.apiFunction = new HybridFunction(this, 'ApiFunction', {
      entry: 'jobs/api-handler.ts',
      description: `Hybrid Routing ${environmentName}: submits jobs and answers their status`,
      memorySize: 512,
      timeout: Duration.seconds(29),
      logRetention: config.logRetentionDays,
      invocation: 'synchronous',
      environment: { ENVIRONMENT: environmentName, ...data },
    });
    this.table.grant(this.apiFunction, 'dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem');
    this.apiFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.queue.queueArn] }));

    this.workerFunction = new HybridFunction(this, 'WorkerFunction', {
      entry: 'jobs/worker-handler.ts',
      description: `Hybrid Routing ${environmentName}: runs queued jobs through the router`,
      memorySize: 1024,
      timeout: workerTimeout,
      logRetention: config.logRetentionDays,
      invocation: 'queue',
      environment: {
        ENVIRONMENT: environmentName,
        CONFIG_PATH: configStore.path,
        CONFIG_TTL_SECONDS: String(config.configCacheTtlSeconds),
        BEDROCK_MODEL_ID: config.bedrock.modelId,
        MCP_SERVER_URL: config.mcp.serverUrl,
        MCP_TOOL_NAME: config.mcp.toolName,
        HEALTH_CHECK_PERIOD_SECONDS: String(config.healthCheck.rateMinutes * 60),
        JOB_BUDGET_MS: String(budget.toMilliseconds()),
        JOBS_MAX_RECEIVE_COUNT: String(JOB_MAX_RECEIVE_COUNT),
        ...data,
      },
    });
    this.table.grant(this.workerFunction, 'dynamodb:GetItem', 'dynamodb:UpdateItem');
    configStore.grantReadPath(this.workerFunction);
    this.workerFunction.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['bedrock:InvokeModel'], resources: bedrockModelArns(this, config.bedrock.modelId, config.bedrock.inferenceProfileRegions) }),
    );
    this.workerFunction.addEventSource(
      new SqsEventSource(this.queue, { batchSize: BATCH_SIZE, reportBatchItemFailures: true, maxConcurrency: MAX_WORKERS }),
    );

    this.deadLetterFunction = new HybridFunction(this, 'DeadLetterFunction', {
      entry: 'jobs/dead-letter-handler.ts',
      description: `Hybrid Routing ${environmentName}: marks dead-lettered jobs failed`,
      memorySize: 256,
      // Below the dead-letter queue's 30 s visibility timeout, as an event source needs.
      timeout: Duration.seconds(20),
      logRetention: config.logRetentionDays,
      invocation: 'queue',
      environment: { ENVIRONMENT: environmentName, JOBS_TABLE_NAME: this.table.tableName },
    });
    this.table.grant(this.deadLetterFunction, 'dynamodb:GetItem', 'dynamodb:UpdateItem');
    this.deadLetterFunction.addEventSource(new SqsEventSource(this.deadLetterQueue, { batchSize: 10, reportBatchItemFailures: true }));

    this.addRoutes(api);
  }

  /**
   * Messages that reached the dead-letter queue. Its consumer deletes them once it has marked their
   * jobs, so `ApproximateNumberOfMessagesVisible` stays near 0; what arrived is what was received.
   */
  metricDeadLettered(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.deadLetterQueue.metricNumberOfMessagesReceived({ statistic: 'Sum', ...props });
  }

  private addRoutes(api: apigw.RestApi): void {
    const integration = new apigw.LambdaIntegration(this.apiFunction, { proxy: true });
    const model = api.addModel('JobRequestModel', {
      contentType: 'application/json',
      modelName: 'JobRequest',
      description: 'Body of POST /v1/jobs, generated from the router\'s request schema (the /v1/invoke body)',
      schema: apiGatewaySchema(InvokeRequestSchema, 'JobRequest'),
    });
    const validator = api.addRequestValidator('JobBodyValidator', {
      requestValidatorName: 'job-body',
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    const jobs = (api.root.getResource('v1') ?? api.root.addResource('v1')).addResource('jobs');
    jobs.addMethod('POST', integration, { requestModels: { 'application/json': model }, requestValidator: validator });
    jobs.addResource('{jobId}').addMethod('GET', integration, { requestParameters: { 'method.request.path.jobId': true } });
  }
}
