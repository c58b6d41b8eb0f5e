import cdkJson from '../../cdk.json';
import { parseEnvironmentConfig } from '../../lib/config/environment-config';
import { FAST_WINDOWS, SLOW_WINDOWS } from '../../lib/constructs/monitoring-alarms';

/**
 * The two hybrid error-rate alarms, simulated over Poisson arrivals the way CloudWatch evaluates
 * them (see docs/alarms-and-rollback.md): an alarm with a period of one minute or more is
 * evaluated every minute, one with a 10-second period every 10 seconds, each time over the last
 * N complete windows; a window breaches when it holds at least the minimum sample and more than
 * the threshold failed; M breaching windows of the N fire it. A request counts only once
 * CloudWatch has its metric (ingestion allowance), and the rollback takes effect a few seconds
 * after the alarm fires. The random numbers are seeded, so the figures are the same every run.
 */
const config = parseEnvironmentConfig('prod', cdkJson.context.environments.prod);
const { errorRatePercent, minRequests, lowTrafficMinRequests, lowTrafficDatapoints } = config.alarms;

/** Seconds from CloudWatch's evaluation to the routers serving the control path: rollback function 3 s, config cache 5 s. */
const ROLLBACK_TAKES = 3 + config.configCacheTtlSeconds;
/** How long after a request CloudWatch has its metric: AWS states no bound; the README allows 10 s. */
const INGESTION = 10;

interface Rule {
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly minRequests: number;
}

const LOW_TRAFFIC: Rule = { periodSeconds: SLOW_WINDOWS.period.toSeconds(), evaluationPeriods: SLOW_WINDOWS.evaluationPeriods, datapointsToAlarm: lowTrafficDatapoints, minRequests: lowTrafficMinRequests };
const FAST: Rule = { periodSeconds: FAST_WINDOWS.period.toSeconds(), evaluationPeriods: FAST_WINDOWS.evaluationPeriods, datapointsToAlarm: FAST_WINDOWS.datapointsToAlarm, minRequests };

/** mulberry32: a small seeded generator, so a failing figure can be reproduced. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Request {
  readonly at: number;
  readonly failed: boolean;
}

/** Poisson arrivals at `rate` per second over [from, to); each fails with the probability its time gives. */
function arrivals(next: () => number, rate: number, from: number, to: number, failureAt: (t: number) => number): Request[] {
  const requests: Request[] = [];
  for (let t = from - Math.log(1 - next()) / rate; t < to; t -= Math.log(1 - next()) / rate) requests.push({ at: t, failed: next() < failureAt(t) });
  return requests;
}

/** The first evaluation time at which `rule` fires, evaluating every `every` seconds from `phase`, or undefined. */
function firstAlarm(requests: readonly Request[], rule: Rule, from: number, to: number, phase: number): number | undefined {
  const every = rule.periodSeconds >= 60 ? 60 : 10;
  const windows = new Map<number, Request[]>();
  for (const r of requests) {
    const index = Math.floor(r.at / rule.periodSeconds);
    const window = windows.get(index);
    if (window) window.push(r);
    else windows.set(index, [r]);
  }
  for (let evaluation = Math.ceil((from - phase) / every) * every + phase; evaluation < to; evaluation += every) {
    const last = Math.floor(evaluation / rule.periodSeconds) - 1;
    let breaching = 0;
    for (let index = last; index > last - rule.evaluationPeriods; index -= 1) {
      const seen = (windows.get(index) ?? []).filter((r) => r.at <= evaluation - INGESTION);
      const failed = seen.filter((r) => r.failed).length;
      if (seen.length >= rule.minRequests && (100 * failed) / seen.length > errorRatePercent) breaching += 1;
    }
    if (breaching >= rule.datapointsToAlarm) return evaluation;
  }
  return undefined;
}

/** Seconds from the first failing request's window to the rollback taking effect, over `trials` canaries. */
function timesToRollback(rule: Rule, rate: number, failureRate: number, trials: number, seed: number): number[] {
  const next = random(seed);
  return Array.from({ length: trials }, () => {
    const start = 600 + next() * 60;
    // Windows older than the alarm's N before the failures cannot count; ten minutes is "never".
    const requests = arrivals(next, rate, start - rule.periodSeconds * (rule.evaluationPeriods + 1), start + 600, (t) => (t >= start ? failureRate : 0));
    const fired = firstAlarm(requests, rule, start, start + 600, next() * (rule.periodSeconds >= 60 ? 60 : 10));
    return fired === undefined ? Infinity : fired + ROLLBACK_TAKES - start;
  }).sort((a, b) => a - b);
}

/** Draws from Poisson(mean) by inverting its cumulative distribution. */
function poissonSampler(mean: number, next: () => number): () => number {
  const cumulative: number[] = [];
  for (let k = 0, p = Math.exp(-mean), sum = 0; sum < 1 - 1e-12 && k < 1_000; k += 1, p *= mean / k) cumulative.push((sum += p));
  return () => {
    const u = next();
    let k = 0;
    while (k < cumulative.length - 1 && u > cumulative[k]!) k += 1;
    return k;
  };
}

/**
 * OK → ALARM transitions per 30 days of steady traffic at `rate` with `failureRate`, over `days`.
 * Whole windows suffice here: a window's successes and failures are two independent Poisson
 * counts (Poisson splitting), each drawn by inverting its distribution.
 */
function falseRollbacksPerMonth(rule: Rule, rate: number, failureRate: number, days: number, seed: number): number {
  const next = random(seed);
  const windowsPerDay = 86_400 / rule.periodSeconds;
  const successes = poissonSampler(rate * rule.periodSeconds * (1 - failureRate), next);
  const failures = poissonSampler(rate * rule.periodSeconds * failureRate, next);
  const recent: boolean[] = [];
  let inAlarm = false;
  let transitions = 0;
  for (let window = 0; window < days * windowsPerDay; window += 1) {
    const failed = failures();
    const n = successes() + failed;
    recent.push(n >= rule.minRequests && (100 * failed) / n > errorRatePercent);
    if (recent.length > rule.evaluationPeriods) recent.shift();
    const fires = recent.filter(Boolean).length >= rule.datapointsToAlarm;
    if (fires && !inAlarm) transitions += 1;
    inAlarm = fires;
  }
  return (transitions / days) * 30;
}

const share = (values: readonly number[], predicate: (v: number) => boolean) => values.filter(predicate).length / values.length;
const poissonAtLeast = (k: number, mean: number) => 1 - Array.from({ length: k }, (_, i) => i).reduce((sum, i) => sum + Math.exp(-mean) * mean ** i / [...Array(i).keys()].reduce((f, j) => f * (j + 1), 1), 0);

describe('the low-traffic hybrid error-rate alarm (1-minute windows)', () => {
  it('judges nearly every 1-minute window of a 0.1 req/s canary, as the Poisson arithmetic says', () => {
    const next = random(7);
    const minutes = 20_000;
    const requests = arrivals(next, 0.1, 0, minutes * 60, () => 0);
    const perWindow = new Array<number>(minutes).fill(0);
    for (const r of requests) perWindow[Math.floor(r.at / 60)]! += 1;
    const judged = share(perWindow, (n) => n >= lowTrafficMinRequests);
    expect(poissonAtLeast(lowTrafficMinRequests, 6)).toBeGreaterThan(0.98);
    expect(Math.abs(judged - poissonAtLeast(lowTrafficMinRequests, 6))).toBeLessThan(0.005);
  });

  it('rolls a 0.1 req/s canary failing half its requests back within 5 minutes in 97 % of runs', () => {
    const times = timesToRollback(LOW_TRAFFIC, 0.1, 0.5, 2_000, 42);
    expect(share(times, (t) => t <= 300)).toBeGreaterThanOrEqual(0.97);
    expect(times[Math.floor(times.length / 2)]).toBeLessThan(240);
    expect(times[Math.floor(times.length * 0.99)]).toBeLessThan(360);
  });

  it('rolls a healthy canary (0.1 % errors) back less than once a month at 0.1 to 0.5 req/s', () => {
    for (const [rate, seed] of [[0.1, 1], [0.2, 2], [0.3, 3], [0.5, 4]] as const) {
      expect({ rate, underOncePerMonth: falseRollbacksPerMonth(LOW_TRAFFIC, rate, 0.001, 365, seed) < 1 }).toEqual({ rate, underOncePerMonth: true });
    }
  });
});

describe('the 10-second hybrid error-rate alarm', () => {
  it('almost never judges a 10-second window of a canary at 5 % of 10 req/s, which is why the low-traffic alarm exists', () => {
    expect(poissonAtLeast(minRequests, 0.5 * 10)).toBeLessThan(0.04);
    const times = timesToRollback(FAST, 0.5, 0.5, 300, 5);
    expect(share(times, (t) => t <= 300)).toBeLessThan(0.05);
    expect(share(timesToRollback(LOW_TRAFFIC, 0.5, 0.5, 300, 6), (t) => t <= 300)).toBe(1);
  });

  it('rolls back 10 hybrid req/s failing half their requests within the README\'s bound of 58 s', () => {
    const times = timesToRollback(FAST, 10, 0.5, 200, 8);
    expect(times.at(-1)!).toBeLessThanOrEqual(58);
  });
});

