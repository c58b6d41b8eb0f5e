import type { ParameterVersion } from '../../lambda/core/audit';
import { ConflictError, UnavailableError } from '../../lambda/core/http-errors';
import { RollbackLatch, type LatchStore, type StoreSnapshot } from '../../lambda/core/rollback-latch';
import type { MetricPoint } from '../../lambda/shared/metric-catalog';
import { DEFAULT_PARAMETER_VALUES, parseRoutingConfig } from '../../lambda/shared/routing-config';

/** The configuration store in memory, with versions and history, and a hook after each write. */
class MemoryStore implements LatchStore {
  readonly versions = new Map<string, ParameterVersion[]>();
  afterPut: (name: string, value: string) => void = () => undefined;
  failPut: string | undefined;

  constructor(values: Record<string, string>) {
    for (const [name, value] of Object.entries({ ...DEFAULT_PARAMETER_VALUES, ...values })) this.set(name, value, 'seeded');
  }

  set(name: string, value: string, description: string): number {
    const list = this.versions.get(name) ?? [];
    list.push({ name, version: list.length + 1, value, description, modifiedAt: new Date(), modifiedBy: 'test' });
    this.versions.set(name, list);
    return list.length;
  }

  value(name: string): string | undefined {
    return this.versions.get(name)?.at(-1)?.value;
  }

  async read(): Promise<StoreSnapshot> {
    const values = Object.fromEntries([...this.versions].map(([name, list]) => [name, list.at(-1)!.value]));
    const versions = Object.fromEntries([...this.versions].map(([name, list]) => [name, list.length]));
    return { ...parseRoutingConfig(values), values, versions };
  }

  async put(name: string, value: string, description: string): Promise<number> {
    if (this.failPut === name) throw Object.assign(new Error('injected'), { name: 'InternalServerError' });
    const version = this.set(name, value, description);
    this.afterPut(name, value);
    return version;
  }

  async history(name: string): Promise<readonly ParameterVersion[]> {
    return this.versions.get(name) ?? [];
  }
}

function latchWith(store: MemoryStore, options: { now?: () => Date; inAlarm?: () => Promise<string[]>; notify?: () => Promise<void> } = {}) {
  const logged: { level: string; message: string }[] = [];
  const notices: string[] = [];
  const points: MetricPoint[] = [];
  const log = (level: string) => (message: string) => logged.push({ level, message });
  const latch = new RollbackLatch({
    environment: 'dev',
    store,
    alarms: { inAlarm: options.inAlarm ?? (async () => []) },
    notify:
      options.notify ??
      (async (subject, message) => {
        notices.push(`${subject}\n${message}`);
      }),
    emit: (p) => points.push(...p),
    logger: { info: log('info'), warn: log('warn'), error: log('error') },
    now: options.now,
    maxRounds: 2,
  });
  return { latch, logged, notices, points };
}

const ROLLBACK = { level: 2, reason: 'errors', source: 'alarm: HybridRouting-dev-hybrid-error-rate', origin: 'alarm', at: '2026-01-01T00:00:00.000Z' } as const;

describe('RollbackLatch', () => {
  it('gives up holding the values down after its rounds, says so, and still notifies and counts', async () => {
    const store = new MemoryStore({ 'feature-flags/hybrid-routing': 'true', 'traffic/percentage': '50' });
    // A writer that ignores the latch raises traffic after every write.
    store.afterPut = (name) => {
      if (name !== 'traffic/percentage' || store.value(name) !== '0') return;
      store.set('traffic/percentage', '50', 'rogue');
    };
    const { latch, logged, notices, points } = latchWith(store);
    const result = await latch.rollBack(ROLLBACK);
    expect(result).toMatchObject({ action: 'rolled-back', verified: false });
    expect(logged).toContainEqual({ level: 'error', message: 'could not confirm the rollback values' });
    expect(notices[0]).toContain('WARNING: flag and traffic could not be confirmed');
    expect(points).toEqual([expect.objectContaining({ dimensionValue: '2', secondDimensionValue: 'alarm' })]);
    // One write, then two repair rounds, each one write of traffic.
    expect(store.versions.get('traffic/percentage')!.filter((v) => v.value === '0')).toHaveLength(3);
  });

  it('starts no repair once its budget is spent', async () => {
    const store = new MemoryStore({ 'feature-flags/hybrid-routing': 'true', 'traffic/percentage': '50' });
    store.afterPut = (name) => {
      if (name === 'traffic/percentage' && store.value(name) === '0') store.set(name, '50', 'rogue');
    };
    let clock = 0;
    const { latch } = latchWith(store, { now: () => new Date((clock += 30_000)) });
    expect(await latch.rollBack(ROLLBACK)).toMatchObject({ action: 'rolled-back', verified: false });
    expect(store.versions.get('traffic/percentage')!.filter((v) => v.value === '0')).toHaveLength(1);
  });

  it('answers 503 naming what it wrote when a write fails midway', async () => {
    const store = new MemoryStore({ 'feature-flags/hybrid-routing': 'true', 'traffic/percentage': '50' });
    store.failPut = 'traffic/percentage';
    const { latch, notices } = latchWith(store);
    const error = await latch.rollBack(ROLLBACK).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as Error).message).toBe('could not write traffic/percentage (InternalServerError); nothing after it was changed; already written: rollback/state, feature-flags/hybrid-routing');
    expect(notices).toEqual([]);
  });

  it('refuses a clear with 503 when the alarm states cannot be read, and records a forced one as unknown', async () => {
    const store = new MemoryStore({ 'rollback/state': JSON.stringify({ active: true, level: 1, reason: 'r', source: 's', at: null, previous: null }) });
    const { latch, notices, points } = latchWith(store, { inAlarm: () => Promise.reject(new Error('timeout')) });
    await expect(latch.clear({ reason: 'fixed', requestedBy: 'bob', force: false, origin: 'manual' })).rejects.toBeInstanceOf(UnavailableError);
    expect(store.versions.get('rollback/state')).toHaveLength(1);
    expect(await latch.clear({ reason: 'fixed', requestedBy: 'bob', force: true, origin: 'manual' })).toMatchObject({ action: 'cleared', forced: true });
    expect(store.versions.get('rollback/state')!.at(-1)!.description).toBe('latch cleared by force (alarm states unknown): fixed [by bob]');
    expect(notices[0]).toContain('FORCED');
    expect(points).toEqual([expect.objectContaining({ dimensionValue: 'clear', secondDimensionValue: 'manual' })]);
  });

  it('keeps a rollback done when its notification fails', async () => {
    const store = new MemoryStore({ 'feature-flags/hybrid-routing': 'true' });
    const { latch, logged } = latchWith(store, { notify: () => Promise.reject(new Error('sns down')) });
    expect(await latch.rollBack(ROLLBACK)).toMatchObject({ action: 'rolled-back', verified: true });
    expect(logged).toContainEqual({ level: 'error', message: 'rollback notification failed' });
  });

  it('refuses a widening write under the latch without writing, and lets a narrowing one through', async () => {
    const store = new MemoryStore({ 'rollback/state': JSON.stringify({ active: true, level: 2, reason: 'r', source: 's', at: null, previous: null }) });
    const { latch } = latchWith(store);
    await expect(latch.write({ changes: [{ kind: 'traffic', percentage: 5 }], reason: 'canary', requestedBy: 'bob' })).rejects.toBeInstanceOf(ConflictError);
    expect(store.versions.get('traffic/percentage')).toHaveLength(1);
    expect(await latch.write({ changes: [{ kind: 'mode', mode: 'force-mcp' }], reason: 'safe', requestedBy: 'bob' })).toMatchObject({ changed: [{ parameter: 'routing/mode', version: 2 }] });
  });
});
