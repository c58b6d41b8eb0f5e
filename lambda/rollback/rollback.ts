import type { Logger } from '@aws-lambda-powertools/logger';
import type { RollbackLatch } from '../core/rollback-latch';
import { rollbackTrigger } from '../core/rollback-trigger';
import { rollbackLevelOf } from '../shared/alarms';

export interface RollbackDependencies {
  readonly environment: string;
  /** Rollback as the admin API and the ramp controller do it: latch, writes, repair, notify, metric. */
  readonly latch: Pick<RollbackLatch, 'rollBack'>;
  readonly logger: Logger;
  readonly now?: () => Date;
}

export type RollbackOutcome =
  | { readonly action: 'ignored'; readonly reason: string }
  | { readonly action: 'already-rolled-back'; readonly level: number; readonly since: string | null }
  | { readonly action: 'rolled-back'; readonly level: number; readonly written: readonly string[] };

/**
 * The rollback function: on an alarm's transition into ALARM (or a manual request) it rolls back
 * through `RollbackLatch`: sets the latch, turns the flag off and, at level 2, sets traffic to 0,
 * in that order; then notifies and emits `RollbackExecuted`. A latch already covering the request
 * means nothing to do. Invocations in one container run one at a time, and the function has a
 * concurrency of one; rollbacks from the admin API or the ramp may still run at the same time,
 * which the latch's version checks settle.
 */
export function createRollback(deps: RollbackDependencies): (event: unknown) => Promise<RollbackOutcome> {
  const now = deps.now ?? (() => new Date());
  let queue: Promise<unknown> = Promise.resolve();

  const rollback = async (event: unknown): Promise<RollbackOutcome> => {
    const trigger = rollbackTrigger(event, (alarmName) => rollbackLevelOf(deps.environment, alarmName), now());
    if (trigger.kind === 'ignore') {
      deps.logger.info('rollback not needed', { reason: trigger.reason });
      return { action: 'ignored', reason: trigger.reason };
    }
    const result = await deps.latch.rollBack(trigger);
    if (result.action === 'already-rolled-back') {
      return { action: 'already-rolled-back', level: result.latch.level ?? trigger.level, since: result.latch.at };
    }
    return { action: 'rolled-back', level: result.latch.level ?? trigger.level, written: result.changed.map((c) => c.parameter) };
  };

  return (event) => {
    const run = queue.then(() => rollback(event));
    queue = run.catch(() => undefined);
    return run;
  };
}
