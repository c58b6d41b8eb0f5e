/**
 * DESIGN §8: the alarms of one environment and what each does. The monitoring construct names
 * its alarms from here and the rollback function reads each alarm's level from here.
 */
export const ALARMS = {
  hybridErrorRate: { key: 'hybrid-error-rate', rollbackLevel: 2 },
  hybridLatency: { key: 'hybrid-latency', rollbackLevel: 1 },
  directBedrockHealth: { key: 'direct-bedrock-health', rollbackLevel: 1 },
  routingEfficiency: { key: 'routing-efficiency', rollbackLevel: null },
  hybridErrorRateLowTraffic: { key: 'hybrid-error-rate-low-traffic', rollbackLevel: 2 },
  controlErrorRate: { key: 'control-error-rate', rollbackLevel: null },
  rollbackErrors: { key: 'rollback-function-errors', rollbackLevel: null },
  healthChecksStale: { key: 'health-checks-stale', rollbackLevel: null },
  configProblems: { key: 'config-problems', rollbackLevel: null },
  routerErrors: { key: 'router-function-errors', rollbackLevel: null },
  routerThrottles: { key: 'router-throttles', rollbackLevel: null },
  rampControllerErrors: { key: 'ramp-controller-errors', rollbackLevel: null },
} as const satisfies Record<string, { key: string; rollbackLevel: 1 | 2 | null }>;

export type AlarmId = keyof typeof ALARMS;

/** Every alarm of an environment is named `HybridRouting-<env>-…`, which the KMS key policy relies on. */
export const alarmNamePrefix = (environment: string): string => `HybridRouting-${environment}-`;

export const alarmNameOf = (environment: string, id: AlarmId): string => `${alarmNamePrefix(environment)}${ALARMS[id].key}`;

/** The alarm on one dead-letter queue, by the queue's label (e.g. `rollback-failures`). */
export const deadLetterAlarmNameOf = (environment: string, label: string): string => `${alarmNamePrefix(environment)}dead-letters-${label}`;

/** The names of this environment's alarms that roll back: a latch clear is refused while one is in ALARM. */
export function rollbackAlarmNames(environment: string): string[] {
  return (Object.keys(ALARMS) as AlarmId[]).filter((id) => ALARMS[id].rollbackLevel !== null).map((id) => alarmNameOf(environment, id));
}

/** The rollback level an alarm of this environment triggers, or undefined for any other alarm. */
export function rollbackLevelOf(environment: string, alarmName: string): 1 | 2 | undefined {
  for (const id of Object.keys(ALARMS) as AlarmId[]) {
    const level = ALARMS[id].rollbackLevel;
    if (level !== null && alarmNameOf(environment, id) === alarmName) return level;
  }
  return undefined;
}
