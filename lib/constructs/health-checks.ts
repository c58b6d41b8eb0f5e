import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import { Construct } from 'constructs';
import { DeadLetterQueue } from './dead-letter-queue';
import type { EnvironmentConfig } from '../config/environment-config';
import type { ConfigStore } from './config-store';
import { HybridFunction } from './hybrid-function';
import { bedrockModelArns } from './router-api';

export interface HealthChecksProps {
  readonly environmentName: string;
  readonly config: EnvironmentConfig;
  readonly configStore: ConfigStore;
}

/** Each probe's own deadline: well under the shortest schedule period (one minute). */
const PROBE_TIMEOUT = Duration.seconds(10);

/**
 * The HybridHealthMonitor: an EventBridge schedule runs a function that probes the Bedrock path,
 * the MCP path and the configuration store in parallel and writes the `health/*` parameters the
 * router routes by and reports from. Failed runs and undeliverable events land in a queue.
 */
export class HealthChecks extends Construct {
  readonly healthCheckFunction: HybridFunction;
  readonly schedule: events.Rule;
  readonly failures: DeadLetterQueue;

  constructor(scope: Construct, id: string, props: HealthChecksProps) {
    super(scope, id);
    const { config, environmentName, configStore } = props;
    const probeModelId = config.bedrock.probeModelId ?? config.bedrock.modelId;

    this.failures = new DeadLetterQueue(this, 'Failures', { holds: 'failed health-check runs and undeliverable schedule events' });

    this.healthCheckFunction = new HybridFunction(this, 'HealthCheckFunction', {
      entry: 'health-check/handler.ts',
      description: `Hybrid Routing ${environmentName}: probes both paths and writes health/* parameters`,
      memorySize: 512,
      timeout: PROBE_TIMEOUT.plus(Duration.seconds(20)),
      logRetention: config.logRetentionDays,
      invocation: 'asynchronous',
      // Its own slot: a burst of router traffic cannot take the concurrency the health checks need.
      reservedConcurrentExecutions: 1,
      environment: {
        ENVIRONMENT: environmentName,
        CONFIG_PATH: configStore.path,
        BEDROCK_PROBE_MODEL_ID: probeModelId,
        MCP_SERVER_URL: config.mcp.serverUrl,
        MCP_TOOL_NAME: config.mcp.toolName,
        PROBE_TIMEOUT_MS: String(PROBE_TIMEOUT.toMilliseconds()),
        UNHEALTHY_AFTER: String(config.healthCheck.unhealthyAfter),
      },
    });
    // The next scheduled run is the retry; a failed run is recorded, not repeated.
    this.healthCheckFunction.configureAsyncInvoke({
      retryAttempts: 0,
      maxEventAge: Duration.minutes(config.healthCheck.rateMinutes),
      onFailure: new destinations.SqsDestination(this.failures),
    });
    configStore.grantReadPath(this.healthCheckFunction);
    configStore.grantHealthWrite(this.healthCheckFunction);
    this.healthCheckFunction.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['bedrock:InvokeModel'], resources: bedrockModelArns(this, probeModelId, config.bedrock.inferenceProfileRegions) }),
    );

    this.schedule = new events.Rule(this, 'Schedule', {
      description: `Hybrid Routing ${environmentName}: run the health checks every ${config.healthCheck.rateMinutes} minute(s)`,
      schedule: events.Schedule.rate(Duration.minutes(config.healthCheck.rateMinutes)),
    });
    this.schedule.addTarget(
      new targets.LambdaFunction(this.healthCheckFunction, {
        deadLetterQueue: this.failures,
        retryAttempts: 2,
        maxEventAge: Duration.minutes(config.healthCheck.rateMinutes),
      }),
    );
  }
}
