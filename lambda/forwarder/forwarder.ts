import type { Logger } from '@aws-lambda-powertools/logger';
import type { SNSEvent } from 'aws-lambda';

/** One notification as the environment's topic delivered it. */
export interface Notice {
  readonly messageId: string;
  readonly subject?: string;
  readonly message: string;
}

export interface ForwarderDependencies {
  /** The existing topics every notice goes to (`notifications.forwardTo`). */
  readonly targets: readonly string[];
  /** Publishes one notice to one topic, within its own deadline. */
  readonly publish: (topicArn: string, notice: Notice) => Promise<void>;
  readonly logger: Logger;
}

/**
 * Forwards every notice of an SNS event to every target topic. Each target is tried even when
 * another fails; then any failure is thrown, so Lambda retries the event and at last keeps it in
 * the forwarder's dead-letter queue. Delivery is at least once: a retry republishes to the targets
 * that had already taken the notice. Logs name topics and message ids, never message text.
 */
export function createForwarder(deps: ForwarderDependencies): (event: SNSEvent) => Promise<{ forwarded: number }> {
  return async (event) => {
    const notices: Notice[] = event.Records.map(({ Sns }) => ({ messageId: Sns.MessageId, subject: Sns.Subject ?? undefined, message: Sns.Message }));
    const attempts = notices.flatMap((notice) => deps.targets.map((target) => ({ notice, target })));
    const results = await Promise.allSettled(attempts.map(({ notice, target }) => deps.publish(target, notice)));
    const failed = attempts.filter((_, i) => results[i]!.status === 'rejected');
    if (failed.length > 0) {
      const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason instanceof Error ? r.reason.name : String(r.reason)] : []));
      deps.logger.error('forwarding failed; Lambda retries the event, then keeps it in the dead-letter queue', {
        failed: failed.map(({ notice, target }) => ({ messageId: notice.messageId, target })),
        errors,
      });
      throw new Error(`could not forward ${failed.length} of ${attempts.length} notices: ${failed.map(({ target }) => target).join(', ')}`);
    }
    deps.logger.info('notifications forwarded', { messageIds: notices.map((n) => n.messageId), targets: deps.targets });
    return { forwarded: attempts.length };
  };
}
