import { ArnFormat, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { alarmNamePrefix } from '../../lambda/shared/alarms';
import { DeadLetterQueue } from './dead-letter-queue';
import { HybridFunction } from './hybrid-function';
import type { WatchedQueue } from './monitoring-alarms';

export interface NotificationsProps {
  readonly environmentName: string;
  /**
   * Addresses every notification is e-mailed to. Each must confirm the subscription SNS mails it.
   * @default - none
   */
  readonly emails?: readonly string[];
  /**
   * ARNs of existing standard SNS topics every notification is forwarded to (a chat integration,
   * a paging service, another team's topic). Each must let the forwarder's role publish.
   * @default - none: no forwarder is deployed
   */
  readonly forwardTo?: readonly string[];
  /** Retention of the forwarder's log group. */
  readonly logRetention: logs.RetentionDays;
}

/**
 * The topic alarms and the functions notify, and its subscribers. The topic only accepts TLS and
 * is encrypted with a customer-managed key, because CloudWatch alarms cannot publish to a topic
 * under the AWS-managed SNS key; CloudWatch may use the key and publish only for this account's
 * alarms of this environment.
 *
 * Forwarding: SNS cannot subscribe one topic to another, so a forwarder function subscribed to
 * this topic republishes every message (alarm or function notice alike) to each `forwardTo`
 * topic, with `sns:Publish` on exactly those topics. Nothing is lost silently: SNS keeps what it
 * cannot deliver to a subscriber in the `Undelivered` queue, and the forwarder keeps what it could
 * not publish after Lambda's two retries in the `ForwardFailures` queue; both are watched.
 */
export class Notifications extends Construct {
  readonly topic: sns.Topic;
  readonly key: kms.Key;
  /** Where SNS keeps what it could not deliver to a subscriber; absent with no subscriber. */
  readonly undelivered?: DeadLetterQueue;
  /** The function that republishes to `forwardTo`; absent when nothing is forwarded. */
  readonly forwarder?: HybridFunction;
  /** Where the forwarder keeps what it could not publish; absent when nothing is forwarded. */
  readonly forwardFailures?: DeadLetterQueue;
  /** This construct's dead-letter queues, for the monitoring to watch. */
  readonly deadLetterQueues: WatchedQueue[] = [];

  constructor(scope: Construct, id: string, props: NotificationsProps) {
    super(scope, id);
    const emails = props.emails ?? [];
    const forwardTo = props.forwardTo ?? [];
    const stack = Stack.of(this);
    const fromTheseAlarms = {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: {
        'aws:SourceArn': stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: `${alarmNamePrefix(props.environmentName)}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
      },
    };

    this.key = new kms.Key(this, 'TopicKey', {
      description: `Hybrid Routing ${props.environmentName}: encrypts the notifications topic`,
      enableKeyRotation: true,
      pendingWindow: Duration.days(7),
    });
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: fromTheseAlarms,
      }),
    );
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: `Hybrid Routing ${props.environmentName}`,
      masterKey: this.key,
      enforceSSL: true,
    });
    // The topic's own policy replaces SNS's default one, so CloudWatch's right to publish is stated.
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: fromTheseAlarms,
      }),
    );

    if (emails.length > 0 || forwardTo.length > 0) {
      this.undelivered = new DeadLetterQueue(this, 'Undelivered', { holds: 'notifications SNS could not deliver to a subscriber (e-mail or forwarder)' });
      this.deadLetterQueues.push({ label: 'notifications-undelivered', queue: this.undelivered, holds: this.undelivered.holds });
    }
    for (const email of emails) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(email, { deadLetterQueue: this.undelivered }));
    }
    if (forwardTo.length > 0) {
      this.forwardFailures = new DeadLetterQueue(this, 'ForwardFailures', { holds: 'notifications the forwarder could not publish to a forwardTo topic after its retries' });
      this.deadLetterQueues.push({ label: 'notifications-forward-failures', queue: this.forwardFailures, holds: this.forwardFailures.holds });
      this.forwarder = new HybridFunction(this, 'ForwarderFunction', {
        entry: 'forwarder/handler.ts',
        description: `Hybrid Routing ${props.environmentName}: forwards every notification to the configured SNS topics`,
        memorySize: 256,
        timeout: Duration.seconds(30),
        logRetention: props.logRetention,
        invocation: 'asynchronous',
        environment: { ENVIRONMENT: props.environmentName, FORWARD_TOPIC_ARNS: forwardTo.join(',') },
      });
      this.forwarder.configureAsyncInvoke({
        retryAttempts: 2,
        maxEventAge: Duration.hours(6),
        onFailure: new destinations.SqsDestination(this.forwardFailures),
      });
      this.forwarder.addToRolePolicy(new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [...forwardTo] }));
      this.topic.addSubscription(new subscriptions.LambdaSubscription(this.forwarder, { deadLetterQueue: this.undelivered }));
    }

    Validations.of(this.key).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'In a key policy "*" means this key itself; the statements let this account administer it and CloudWatch use it, only for this environment\'s alarms, to publish to the encrypted topic.',
    });
  }
}
