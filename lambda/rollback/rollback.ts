import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { ParameterWriter } from '../adapters/parameter-writer';
import { publishMetrics } from '../adapters/telemetry';
import { describeChange } from '../core/audit';
import { planRollback } from '../core/rollback';
import { rollbackTrigger } from '../core/rollback-trigger';
import { rollbackLevelOf } from '../shared/alarms';
import { METRICS } from '../shared/metric-catalog';
import type { ParsedConfig } from '../shared/routing-config';

export interface RollbackDependencies {
  readonly environment: string;
  /** The environment's parameter path, e.g. `/hybrid-routing/prod`. */
  readonly path: string;
  /** A fresh, uncached read of the whole path. */
  readonly readConfig: () => Promise<ParsedConfig>;
  readonly writer: ParameterWriter;
  readonly notify: (subject: string, message: string) => Promise<void>;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly now?: () => Date;
}

export type RollbackOutcome =
  | { readonly action: 'ignored'; readonly reason: string }
  | { readonly action: 'already-rolled-back'; readonly level: number; readonly since: string | null }
  | { readonly action: 'rolled-back'; readonly level: 1 | 2; readonly written: readonly string[] };

/**
 * The rollback function: on an alarm's transition into ALARM (or a manual request) it sets the
 * latch, turns the flag off and, at level 2, sets traffic to 0, in that order; then it notifies
 * and emits `RollbackExecuted`. A latch already covering the request means nothing to do.
 * Invocations in one container run one at a time, and the function has a concurrency of one.
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

    const { config } = await deps.readConfig();
    const plan = planRollback(config, trigger);
    if (plan.kind === 'already-rolled-back') {
      deps.logger.info('rollback already in effect; nothing changed', { level: plan.latch.level, since: plan.latch.at, source: trigger.source });
      return { action: 'already-rolled-back', level: plan.latch.level ?? trigger.level, since: plan.latch.at };
    }

    const written: string[] = [];
    for (const write of plan.writes) {
      await deps.writer.put(`${deps.path}/${write.name}`, write.value, describeChange(`rollback level ${trigger.level}: ${trigger.reason}`, trigger.source));
      written.push(write.name);
    }
    publishMetrics(deps.metrics, [{ metric: METRICS.rollbackExecuted, value: 1, dimensionValue: String(plan.latch.level ?? trigger.level) }]);
    deps.logger.warn('rollback executed', { level: plan.latch.level, source: trigger.source, written });

    const previous = plan.latch.previous;
    await deps
      .notify(
        `Hybrid Routing ${deps.environment}: rollback level ${plan.latch.level} (${trigger.source})`,
        [
          `Hybrid routing in ${deps.environment} was rolled back at ${trigger.at}.`,
          `Why: ${trigger.reason}`,
          `What changed: ${written.join(', ')}.`,
          `Before: hybrid routing ${previous?.hybridEnabled ? 'on' : 'off'} at ${previous?.trafficPercentage ?? 0}% of callers.`,
          `Now: the rollback latch is set (level ${plan.latch.level}); every request takes the control path (MCP only).`,
          '',
          'When the cause is fixed, clear the latch and ramp up again:',
          `  hybrid-routing --env ${deps.environment} rollback clear --reason "<what was fixed>"`,
          `  hybrid-routing --env ${deps.environment} flag enable --reason "<why>"`,
          `  hybrid-routing --env ${deps.environment} traffic set 5 --reason "<why>"`,
          'Clearing the latch restores nothing by itself.',
        ].join('\n'),
      )
      .catch((error: unknown) => deps.logger.error('rollback notification failed', { errorName: error instanceof Error ? error.name : typeof error }));
    return { action: 'rolled-back', level: plan.latch.level ?? trigger.level, written };
  };

  return (event) => {
    const run = queue.then(() => rollback(event));
    queue = run.catch(() => undefined);
    return run;
  };
}
