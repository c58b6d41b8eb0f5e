import * as z from 'zod/v4';

/** The event CloudWatch sends a Lambda alarm action (only the parts the rollback needs). */
const AlarmEventSchema = z.object({
  source: z.literal('aws.cloudwatch'),
  alarmArn: z.string(),
  time: z.string(),
  alarmData: z.object({
    alarmName: z.string(),
    state: z.object({ value: z.string(), reason: z.string().optional(), timestamp: z.string().optional() }),
    previousState: z.object({ value: z.string() }).optional(),
  }),
});

/** A rollback asked for by hand: `aws lambda invoke --payload '{"manual":{"level":2,"reason":"..."}}'`. */
const ManualEventSchema = z.object({
  manual: z.object({ level: z.union([z.literal(1), z.literal(2)]), reason: z.string().trim().min(1).max(500), requestedBy: z.string().max(256).optional() }),
});

export type RollbackTrigger =
  | { readonly kind: 'roll-back'; readonly level: 1 | 2; readonly reason: string; readonly source: string; readonly origin: 'alarm' | 'manual'; readonly at: string }
  | { readonly kind: 'ignore'; readonly reason: string };

/**
 * Decides what an invocation asks for. Only a transition into ALARM rolls back; OK and
 * INSUFFICIENT_DATA are ignored. `levelOf` maps an alarm name to its level; an alarm it does not
 * know rolls back at level 1, since a rollback is the safe direction and the alarm was wired here.
 */
export function rollbackTrigger(event: unknown, levelOf: (alarmName: string) => 1 | 2 | undefined, now: Date): RollbackTrigger {
  const manual = ManualEventSchema.safeParse(event);
  if (manual.success) {
    const { level, reason, requestedBy } = manual.data.manual;
    return { kind: 'roll-back', level, reason, source: `manual: ${requestedBy ?? 'direct invocation'}`, origin: 'manual', at: now.toISOString() };
  }
  const alarm = AlarmEventSchema.safeParse(event);
  if (!alarm.success) return { kind: 'ignore', reason: 'neither a CloudWatch alarm event nor a manual rollback request' };
  const { alarmName, state, previousState } = alarm.data.alarmData;
  if (state.value !== 'ALARM') return { kind: 'ignore', reason: `${alarmName} went to ${state.value}` };
  if (previousState?.value === 'ALARM') return { kind: 'ignore', reason: `${alarmName} was already in ALARM` };
  const level = levelOf(alarmName) ?? 1;
  return {
    kind: 'roll-back',
    level,
    reason: `alarm ${alarmName}: ${state.reason ?? 'threshold crossed'}`,
    source: `alarm: ${alarmName}`,
    origin: 'alarm',
    at: now.toISOString(),
  };
}
