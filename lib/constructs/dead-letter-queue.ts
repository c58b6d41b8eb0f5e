import { Duration, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface DeadLetterQueueProps {
  /** What ends up here, for the acknowledgements' reasons, e.g. "failed health-check runs". */
  readonly holds: string;
}

/**
 * Where failed events end up for an operator to read: encrypted, TLS only, kept 14 days. It is
 * the end of the line, so it has no dead-letter queue or redrive of its own.
 */
export class DeadLetterQueue extends sqs.Queue {
  /** What ends up here, as given in the props. */
  readonly holds: string;

  constructor(scope: Construct, id: string, props: DeadLetterQueueProps) {
    super(scope, id, {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.holds = props.holds;
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: `This queue is itself the dead-letter queue for ${props.holds}.`,
    });
    Validations.of(this).acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason: `This queue is the end of the line for ${props.holds}; operators read it, nothing redrives it automatically.`,
    });
  }
}
