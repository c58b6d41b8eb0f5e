import type { RollbackSource } from '../shared/metric-catalog';
import { PARAMETER, RollbackStateSchema, type RollbackState, type RoutingConfig } from '../shared/routing-config';
import type { CodeMove } from './code-rollback';

/**
 * The rollback rules of DESIGN §6 and §8 as plain decisions: what a rollback writes, how two
 * rollbacks that overwrote each other merge, and what a clear writes. `rollback-latch.ts` carries
 * them out against the store; nothing here does I/O.
 */

export interface RollbackRequest {
  readonly level: 1 | 2 | 3;
  readonly reason: string;
  /** Who or what asked, as the latch records it: `alarm: <name>`, `manual: <caller>` or `ramp`. */
  readonly source: string;
  /** The category `RollbackExecuted` counts it under. */
  readonly origin: RollbackSource;
  readonly at: string;
  /**
   * Who the audit trail names for each write.
   * @default - the source
   */
  readonly requestedBy?: string;
  /** Level 3: the move of the router's `live` alias, which the latch records. */
  readonly code?: CodeMove;
}

export interface ParameterWrite {
  /** Relative to the environment path. */
  readonly name: string;
  readonly value: string;
}

export type RollbackPlan =
  | { readonly kind: 'already-rolled-back'; readonly latch: RollbackState }
  | { readonly kind: 'roll-back'; readonly latch: RollbackState };

/** The level whose values a latch holds; a latch of unknown level holds level 2's, the safer. */
export const heldLevel = (latch: RollbackState): number => latch.level ?? 2;

/** Flag off at every level; traffic 0 from level 2 on. In this order, after the latch. */
export function rollbackValueWrites(latch: RollbackState): ParameterWrite[] {
  return [
    { name: PARAMETER.hybridRoutingFlag, value: 'false' },
    ...(heldLevel(latch) >= 2 ? [{ name: PARAMETER.trafficPercentage, value: '0' }] : []),
  ];
}

/** The writes that bring flag and traffic down to what `latch` holds them to; none when they are there. */
export function writesDownTo(config: RoutingConfig, latch: RollbackState): ParameterWrite[] {
  return rollbackValueWrites(latch).filter(({ name }) =>
    name === PARAMETER.hybridRoutingFlag ? config.hybridEnabled : config.trafficPercentage > 0,
  );
}

const rank = (latch: RollbackState): number => latch.level ?? 0;
const atOrLast = (latch: RollbackState): string => latch.at ?? '\uffff';
const sameCode = (a: RollbackState['code'], b: RollbackState['code']): boolean => a?.from === b?.from && a?.to === b?.to;

/**
 * One latch from two active ones, `first` written before `second`: the higher level wins, so a
 * level-3 record and its code move outlast any level 1 or 2; on a tie the earlier record, except
 * that of two level-3 records with different code moves the later one wins, since it moved the
 * alias last. `previous` stays the state before the first rollback.
 */
export function mergeLatches(first: RollbackState, second: RollbackState): RollbackState {
  const codeMovedAgain = first.code !== undefined && second.code !== undefined && !sameCode(first.code, second.code);
  const secondWinsTie = codeMovedAgain ? atOrLast(second) > atOrLast(first) : atOrLast(second) < atOrLast(first);
  const secondWins = rank(second) > rank(first) || (rank(second) === rank(first) && secondWinsTie);
  const { clearedAt: _clearedAt, ...winner } = secondWins ? second : first;
  return { ...winner, active: true, previous: first.previous ?? second.previous };
}

export function sameLatch(a: RollbackState, b: RollbackState): boolean {
  const canonical = (l: RollbackState) =>
    JSON.stringify([l.active, l.level, l.reason, l.source, l.at, l.previous && [l.previous.hybridEnabled, l.previous.trafficPercentage], l.code && [l.code.from, l.code.to], l.clearedAt]);
  return canonical(a) === canonical(b);
}

/**
 * A stored `rollback/state` value as far as the merge rules need it: a valid record, a minimal
 * `{"active":false}` as a clear, anything else as unreadable (undefined).
 */
export function readLatchValue(raw: string): RollbackState | undefined {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const parsed = RollbackStateSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  if (json && typeof json === 'object' && (json as { active?: unknown }).active === false) {
    return { active: false, level: null, reason: '', source: '', at: null, previous: null };
  }
  return undefined;
}

/**
 * The latch that other writers left in the versions written between one writer's read and its own
 * write (oldest first): the merge of the active records after the last clear among them, or null
 * when they end clear or hold nothing readable. A clear among them ends the latches before it,
 * which that clear read.
 */
export function latchWrittenMeanwhile(values: readonly string[]): RollbackState | null {
  let latch: RollbackState | null = null;
  for (const value of values) {
    const record = readLatchValue(value);
    if (!record) continue;
    if (!record.active) latch = null;
    else latch = latch ? mergeLatches(latch, record) : record;
  }
  return latch;
}

/**
 * What a rollback must write. The latch first, so a crash midway leaves the router on the control
 * path, then the flag off and, from level 2, traffic 0: always, not only what a read said was not
 * yet so, since a widening write may land between that read and these writes. A latch raised again
 * merges with the one it read (`mergeLatches`). Only an exact repeat, a latch that already covers
 * the level (at level 3, with the same code move) with flag and traffic already down, writes nothing.
 */
export function planRollback(config: RoutingConfig, request: RollbackRequest): RollbackPlan {
  const current = config.rollback;
  const own: RollbackState = {
    active: true,
    level: request.level,
    reason: request.reason,
    source: request.source,
    at: request.at,
    previous: { hybridEnabled: config.hybridEnabled, trafficPercentage: config.trafficPercentage },
    ...(request.code ? { code: request.code } : {}),
  };
  const latch = current.active ? mergeLatches(current, own) : own;
  if (current.active && rank(current) >= request.level && sameCode(latch.code, current.code) && writesDownTo(config, latch).length === 0) {
    return { kind: 'already-rolled-back', latch: current };
  }
  return { kind: 'roll-back', latch };
}

export type ClearPlan =
  | { readonly kind: 'not-latched' }
  | { readonly kind: 'clear'; readonly latch: RollbackState; readonly writesDown: readonly ParameterWrite[]; readonly cleared: RollbackState };

/**
 * What a clear writes: flag and traffic down to the latch's values if they are above them, then the
 * latch record itself marked inactive with `clearedAt`. It keeps level, time and source, so a later
 * writer knows which values the cleared latch held and the ramp's hold-down can count from it.
 * A clear restores nothing.
 */
export function planClear(config: RoutingConfig, at: string): ClearPlan {
  const latch = config.rollback;
  if (!latch.active) return { kind: 'not-latched' };
  return { kind: 'clear', latch, writesDown: writesDownTo(config, latch), cleared: { ...latch, active: false, clearedAt: at } };
}
