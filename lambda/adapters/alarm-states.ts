import { DescribeAlarmsCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { AlarmStates } from '../core/rollback-latch';
import { rollbackAlarmNames } from '../shared/alarms';

/**
 * The states of this environment's rollback alarms, from one `DescribeAlarms` call by name (the
 * list comes from `lambda/shared/alarms.ts`, so a new rollback alarm is covered), answered within
 * `deadlineMs` or failed. They are metric alarms: composite alarms would need the permission on
 * every alarm of the account.
 */
export function rollbackAlarmStates(client: CloudWatchClient, environment: string, deadlineMs: number): AlarmStates {
  const names = rollbackAlarmNames(environment);
  return {
    inAlarm: async () => {
      const output = await client.send(new DescribeAlarmsCommand({ AlarmNames: names, AlarmTypes: ['MetricAlarm'], MaxRecords: 100 }), {
        abortSignal: AbortSignal.timeout(deadlineMs),
      });
      return (output.MetricAlarms ?? [])
        .filter((alarm) => alarm.StateValue === 'ALARM' && alarm.AlarmName !== undefined)
        .map((alarm) => alarm.AlarmName!);
    },
  };
}
