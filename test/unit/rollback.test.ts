import { planWideningRepair } from '../../lambda/core/latch';
import { latchWrittenMeanwhile, mergeLatches, planClear, planRollback, readLatchValue, rollbackValueWrites, writesDownTo, type RollbackRequest } from '../../lambda/core/rollback';
import { CLEAR_ROLLBACK_STATE, CONTROL_CONFIG, type RollbackState, type RoutingConfig } from '../../lambda/shared/routing-config';

const config = (overrides: Partial<RoutingConfig>): RoutingConfig => ({ ...CONTROL_CONFIG, ...overrides });
const latch = (overrides: Partial<RollbackState>): RollbackState => ({
  active: true,
  level: 1,
  reason: 'p95 high',
  source: 'alarm: HybridRouting-dev-hybrid-latency',
  at: '2026-01-01T00:00:00.000Z',
  previous: { hybridEnabled: true, trafficPercentage: 50 },
  ...overrides,
});
const request = (overrides: Partial<RollbackRequest> = {}): RollbackRequest => ({
  level: 2,
  reason: 'errors',
  source: 'alarm: HybridRouting-dev-hybrid-error-rate',
  origin: 'alarm',
  at: '2026-01-02T00:00:00.000Z',
  ...overrides,
});

describe('planRollback', () => {
  it('latches a clear store with its own record and the state before it as previous', () => {
    expect(planRollback(config({ hybridEnabled: true, trafficPercentage: 75 }), request())).toEqual({
      kind: 'roll-back',
      latch: { active: true, level: 2, reason: 'errors', source: 'alarm: HybridRouting-dev-hybrid-error-rate', at: '2026-01-02T00:00:00.000Z', previous: { hybridEnabled: true, trafficPercentage: 75 } },
    });
  });

  it('does nothing for a latch that covers the level with flag and traffic already down', () => {
    const current = latch({ level: 2 });
    expect(planRollback(config({ rollback: current }), request())).toEqual({ kind: 'already-rolled-back', latch: current });
    expect(planRollback(config({ rollback: current }), request({ level: 1 }))).toEqual({ kind: 'already-rolled-back', latch: current });
  });

  it('rolls back again under a covering latch when a write raised the flag or traffic meanwhile, keeping the earlier record', () => {
    const current = latch({ level: 2 });
    expect(planRollback(config({ rollback: current, hybridEnabled: true }), request())).toEqual({ kind: 'roll-back', latch: current });
    expect(planRollback(config({ rollback: current, trafficPercentage: 25 }), request({ level: 1 }))).toEqual({ kind: 'roll-back', latch: current });
  });

  it('escalates a level-1 latch with its own record and the first previous state', () => {
    expect(planRollback(config({ rollback: latch({}), trafficPercentage: 50 }), request())).toEqual({
      kind: 'roll-back',
      latch: { ...latch({}), level: 2, reason: 'errors', source: 'alarm: HybridRouting-dev-hybrid-error-rate', at: '2026-01-02T00:00:00.000Z' },
    });
  });

  it('at level 3 records the code move, and a repeat of the same move on a level-3 latch writes nothing', () => {
    const code = { from: '7', to: '6' };
    const planned = planRollback(config({ hybridEnabled: true, trafficPercentage: 75 }), request({ level: 3, source: 'manual: alice', origin: 'manual', code }));
    expect(planned).toMatchObject({ kind: 'roll-back', latch: { level: 3, code, previous: { hybridEnabled: true, trafficPercentage: 75 } } });
    const current = latch({ level: 3, code });
    expect(planRollback(config({ rollback: current }), request({ level: 3, code }))).toEqual({ kind: 'already-rolled-back', latch: current });
    // A level 1 or 2 (an alarm) on it changes nothing: level 3 and its move stand.
    expect(planRollback(config({ rollback: current }), request())).toEqual({ kind: 'already-rolled-back', latch: current });
  });

  it('at level 3 with a new code move on a level-3 latch records the new move, though flag and traffic are down', () => {
    const current = latch({ level: 3, code: { from: '7', to: '6' } });
    expect(planRollback(config({ rollback: current }), request({ level: 3, code: { from: '8', to: '6' } }))).toMatchObject({
      kind: 'roll-back',
      latch: { level: 3, reason: 'errors', code: { from: '8', to: '6' }, previous: current.previous },
    });
  });

  it('replaces an active latch of unknown level (an unreadable value) with its own record', () => {
    const unreadable = { ...CLEAR_ROLLBACK_STATE, active: true, reason: 'rollback/state could not be read' };
    expect(planRollback(config({ rollback: unreadable }), request({ level: 1 }))).toMatchObject({ kind: 'roll-back', latch: { level: 1, reason: 'errors', previous: { hybridEnabled: false, trafficPercentage: 0 } } });
  });
});

describe('rollback values', () => {
  it('are the flag off at level 1, and traffic 0 too from level 2 or an unknown level', () => {
    expect(rollbackValueWrites(latch({ level: 1 }))).toEqual([{ name: 'feature-flags/hybrid-routing', value: 'false' }]);
    expect(rollbackValueWrites(latch({ level: 2 })).map((w) => w.name)).toEqual(['feature-flags/hybrid-routing', 'traffic/percentage']);
    expect(rollbackValueWrites(latch({ level: null })).map((w) => w.name)).toEqual(['feature-flags/hybrid-routing', 'traffic/percentage']);
  });

  it('are written down only where flag and traffic are above them', () => {
    expect(writesDownTo(config({ hybridEnabled: false, trafficPercentage: 50 }), latch({ level: 1 }))).toEqual([]);
    expect(writesDownTo(config({ hybridEnabled: false, trafficPercentage: 50 }), latch({ level: 2 }))).toEqual([{ name: 'traffic/percentage', value: '0' }]);
    expect(writesDownTo(config({ hybridEnabled: true, trafficPercentage: 0 }), latch({ level: 2 }))).toEqual([{ name: 'feature-flags/hybrid-routing', value: 'false' }]);
  });
});

describe('mergeLatches', () => {
  const alarm2 = latch({ level: 2, source: 'alarm: error-rate', at: '2026-01-01T00:00:05.000Z', previous: { hybridEnabled: true, trafficPercentage: 75 } });
  const manual1 = latch({ level: 1, source: 'manual: bob', at: '2026-01-01T00:00:01.000Z', previous: { hybridEnabled: false, trafficPercentage: 0 } });

  it('keeps the higher level whichever was written first, and previous from the first written', () => {
    expect(mergeLatches(alarm2, manual1)).toEqual(alarm2);
    expect(mergeLatches(manual1, alarm2)).toEqual({ ...alarm2, previous: manual1.previous });
  });

  it('keeps the earlier record on a tie', () => {
    const later = latch({ level: 2, source: 'manual: bob', at: '2026-01-01T00:00:09.000Z' });
    expect(mergeLatches(later, alarm2)).toEqual({ ...alarm2, previous: later.previous });
    expect(mergeLatches(alarm2, later)).toEqual(alarm2);
  });

  it('keeps a level-3 record and its code move over any level 1 or 2, whichever was written first', () => {
    const level3 = latch({ level: 3, source: 'manual: alice', at: '2026-01-01T00:00:03.000Z', code: { from: '7', to: '6' } });
    expect(mergeLatches(level3, alarm2)).toEqual(level3);
    expect(mergeLatches(alarm2, level3)).toEqual({ ...level3, previous: alarm2.previous });
  });

  it('of two level-3 records with different code moves keeps the later, which moved the alias last', () => {
    const first = latch({ level: 3, source: 'manual: alice', at: '2026-01-01T00:00:03.000Z', code: { from: '7', to: '6' } });
    const again = latch({ level: 3, source: 'manual: bob', at: '2026-01-01T01:00:00.000Z', code: { from: '8', to: '6' }, previous: { hybridEnabled: false, trafficPercentage: 0 } });
    expect(mergeLatches(first, again)).toEqual({ ...again, previous: first.previous });
    // In whichever order they were written: a clear's restore may write the older record last.
    expect(mergeLatches(again, first)).toEqual(again);
    // The same move twice is a repeat: the earlier record stays.
    expect(mergeLatches(first, { ...again, code: first.code })).toEqual(first);
  });

  it('answers an active latch without clearedAt', () => {
    expect(mergeLatches({ ...manual1, clearedAt: 'x' }, { ...manual1, clearedAt: 'y' })).toEqual(manual1);
  });
});

describe('latchWrittenMeanwhile', () => {
  const a = latch({ level: 1, source: 'a' });
  const b = latch({ level: 2, source: 'b', at: '2026-01-03T00:00:00.000Z' });
  const cleared = JSON.stringify({ ...a, active: false, clearedAt: 'now' });

  it('is nothing when only clears, nothing readable, or nothing at all was written', () => {
    expect(latchWrittenMeanwhile([])).toBeNull();
    expect(latchWrittenMeanwhile([cleared, '{"active":false}'])).toBeNull();
    expect(latchWrittenMeanwhile(['not json', '{"active":"maybe"}'])).toBeNull();
  });

  it('is the merge of the rollbacks after the last clear', () => {
    expect(latchWrittenMeanwhile([JSON.stringify(a)])).toEqual(a);
    expect(latchWrittenMeanwhile([JSON.stringify(a), cleared])).toBeNull();
    expect(latchWrittenMeanwhile([JSON.stringify(b), cleared, JSON.stringify(a)])).toEqual(a);
    expect(latchWrittenMeanwhile([JSON.stringify(a), JSON.stringify(b)])).toEqual({ ...b, previous: a.previous });
  });

  it('reads a minimal {"active":false} as a clear', () => {
    expect(readLatchValue('{"active":false}')).toEqual(CLEAR_ROLLBACK_STATE);
    expect(readLatchValue('{"active":true}')).toBeUndefined();
  });
});

describe('planClear', () => {
  it('is nothing to do for a clear latch', () => {
    expect(planClear(config({}), 'now')).toEqual({ kind: 'not-latched' });
  });

  it('writes flag and traffic down to the latch values first, then keeps the record inactive with clearedAt', () => {
    const current = latch({ level: 2 });
    expect(planClear(config({ rollback: current, hybridEnabled: true, trafficPercentage: 40 }), '2026-01-05T00:00:00.000Z')).toEqual({
      kind: 'clear',
      latch: current,
      writesDown: [
        { name: 'feature-flags/hybrid-routing', value: 'false' },
        { name: 'traffic/percentage', value: '0' },
      ],
      cleared: { ...current, active: false, clearedAt: '2026-01-05T00:00:00.000Z' },
    });
  });

  it('restores nothing: traffic a level-1 latch left stays, and nothing is raised', () => {
    expect(planClear(config({ rollback: latch({ level: 1 }), trafficPercentage: 50 }), 'now')).toMatchObject({ writesDown: [] });
  });
});

describe('planWideningRepair', () => {
  const before = config({ hybridEnabled: true, trafficPercentage: 5, mode: 'auto' });

  it('writes the rollback values of the latest record, never its own earlier read', () => {
    const after = config({ hybridEnabled: false, trafficPercentage: 25, rollback: latch({ level: 2 }) });
    expect(planWideningRepair([{ kind: 'traffic', percentage: 25 }], before, after)).toEqual([{ name: 'traffic/percentage', value: '0' }]);
  });

  it('holds to a cleared record too, since the clear keeps its level', () => {
    const after = config({ hybridEnabled: true, trafficPercentage: 25, rollback: { ...latch({ level: 2 }), active: false, clearedAt: 'now' } });
    expect(planWideningRepair([{ kind: 'flag', enabled: true }], before, after).map((w) => `${w.name}=${w.value}`)).toEqual(['feature-flags/hybrid-routing=false', 'traffic/percentage=0']);
  });

  it('under a level-1 latch takes its own traffic and mode back while they are still there', () => {
    const after = config({ hybridEnabled: false, trafficPercentage: 25, mode: 'force-bedrock', rollback: latch({ level: 1 }) });
    expect(planWideningRepair([{ kind: 'traffic', percentage: 25 }], before, after)).toEqual([{ name: 'traffic/percentage', value: '5' }]);
    expect(planWideningRepair([{ kind: 'mode', mode: 'force-bedrock' }], before, after)).toEqual([{ name: 'routing/mode', value: 'auto' }]);
    expect(planWideningRepair([{ kind: 'traffic', percentage: 25 }], before, { ...after, trafficPercentage: 10 })).toEqual([]);
  });
});
