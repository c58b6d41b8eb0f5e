import { Duration, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { DeadLetterQueue } from './dead-letter-queue';

export interface NotificationsProps {
  readonly environmentName: string;
  /**
   * Where alarm and rollback notifications are e-mailed.
   * @default - no subscription; subscribe to the topic yourself
   */
  readonly email?: string;
}

/**
 * The topic alarms and the rollback function notify. It only accepts TLS, and is encrypted with
 * a customer-managed key, because CloudWatch alarms cannot publish to a topic under the
 * AWS-managed SNS key.
 */
export class Notifications extends Construct {
  readonly topic: sns.Topic;
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: NotificationsProps) {
    super(scope, id);
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
      }),
    );
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: `Hybrid Routing ${props.environmentName}`,
      masterKey: this.key,
      enforceSSL: true,
    });
    if (props.email) {
      // Notifications SNS could not deliver are kept here rather than lost.
      const undelivered = new DeadLetterQueue(this, 'Undelivered', { holds: 'notifications the e-mail subscription could not deliver' });
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.email, { deadLetterQueue: undelivered }));
    }

    Validations.of(this.key).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'In a key policy "*" means this key itself; the statement lets CloudWatch alarms use it to publish to the encrypted topic.',
    });
  }
}
