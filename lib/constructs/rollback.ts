import { Duration, Validations } from 'aws-cdk-lib';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { PARAMETER } from '../../lambda/shared/routing-config';
import { DeadLetterQueue } from './dead-letter-queue';
import type { EnvironmentConfig } from '../config/environment-config';
import type { ConfigStore } from './config-store';
import { HybridFunction } from './hybrid-function';

export interface RollbackProps {
  readonly environmentName: string;
  readonly config: EnvironmentConfig;
  readonly configStore: ConfigStore;
  readonly topic: sns.ITopic;
}

/**
 * The function that undoes a bad ramp with no human: alarms invoke it, and it sets the rollback
 * latch, turns hybrid routing off and notifies. One at a time (reserved concurrency 1), so two
 * alarms firing together record one rollback; a failed invocation lands in a queue.
 */
export class Rollback extends Construct {
  readonly rollbackFunction: HybridFunction;
  readonly failures: DeadLetterQueue;

  constructor(scope: Construct, id: string, props: RollbackProps) {
    super(scope, id);
    const { config, configStore, environmentName, topic } = props;

    this.failures = new DeadLetterQueue(this, 'Failures', { holds: 'rollback invocations that failed after their retries' });
    this.rollbackFunction = new HybridFunction(this, 'RollbackFunction', {
      entry: 'rollback/handler.ts',
      description: `Hybrid Routing ${environmentName}: rolls hybrid routing back when an alarm fires`,
      memorySize: 512,
      timeout: Duration.seconds(30),
      logRetention: config.logRetentionDays,
      invocation: 'asynchronous',
      reservedConcurrentExecutions: 1,
      environment: {
        ENVIRONMENT: environmentName,
        CONFIG_PATH: configStore.path,
        TOPIC_ARN: topic.topicArn,
      },
    });
    this.rollbackFunction.configureAsyncInvoke({
      // Alarm actions are asynchronous invocations: retry twice, then keep the event.
      retryAttempts: 2,
      maxEventAge: Duration.minutes(10),
      onFailure: new destinations.SqsDestination(this.failures),
    });
    configStore.grantReadPath(this.rollbackFunction);
    configStore.grantRollbackWrite(this.rollbackFunction);
    // A rollback that finds its latch overwritten reads what landed in between from the history.
    configStore.grantWriteHistoryRead(this.rollbackFunction, [PARAMETER.rollbackState, PARAMETER.hybridRoutingFlag, PARAMETER.trafficPercentage]);
    topic.grantPublish(this.rollbackFunction);
    Validations.of(this.rollbackFunction).acknowledge({
      id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason: 'Publishing to the encrypted notifications topic needs the GenerateDataKey* family; the grant names only that topic\'s key.',
    });
  }
}
