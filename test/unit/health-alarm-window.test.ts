import { healthAlarmWindows } from '../../lib/constructs/monitoring-alarms';

/**
 * CloudWatch's M-of-N rule over 10-second windows, missing windows not breaching: at time `now`
 * the alarm fires when at least `m` of the last `n` windows hold a failed check.
 */
function alarmFires(checks: readonly { at: number; ok: boolean }[], now: number, m: number, n: number): boolean {
  const lastWindow = Math.floor(now / 10);
  const breaching = new Set(checks.filter((c) => !c.ok && Math.floor(c.at / 10) > lastWindow - n && c.at <= now).map((c) => Math.floor(c.at / 10)));
  return breaching.size >= m;
}

/** Checks one minute apart, each up to `jitter` seconds late (schedule delay plus probe time). */
function checksFrom(outcomes: string, jitter: (i: number) => number) {
  return [...outcomes].map((o, i) => ({ at: i * 60 + jitter(i), ok: o === 's' }));
}

describe('the direct-bedrock health alarm window', () => {
  const n = healthAlarmWindows(3, 1);
  const jitters: [string, (i: number) => number][] = [
    ['no jitter', () => 0],
    ['late checks', (i) => (i % 2) * 9],
    ['early then late', (i) => (i === 0 ? 9 : 0)],
  ];

  it('spans 160 seconds at the defaults', () => expect(n).toBe(16));

  it.each(jitters)('fires on three failures in a row (%s)', (_name, jitter) => {
    const checks = checksFrom('sfff', jitter);
    expect(alarmFires(checks, checks.at(-1)!.at + 1, 3, n)).toBe(true);
  });

  it.each(jitters)('never fires on failures with a success between them (%s)', (_name, jitter) => {
    for (const outcomes of ['ffsff', 'fsffsf', 'ffsffsff', 'fsfsfsfsf']) {
      const checks = checksFrom(outcomes, jitter);
      for (let now = 0; now <= checks.at(-1)!.at + 200; now += 1) {
        const fired = alarmFires(checks, now, 3, n);
        expect({ outcomes, now, fired }).toEqual({ outcomes, now, fired: false });
      }
    }
  });

  it('fires within one window of the third failure', () => {
    const checks = checksFrom('fff', () => 0);
    const third = checks[2]!.at;
    expect(alarmFires(checks, third - 1, 3, n)).toBe(false);
    expect(alarmFires(checks, third, 3, n)).toBe(true);
  });
});
