import { CLEAR_LEVEL, METRICS, type MetricPoint, type RollbackSource } from '../shared/metric-catalog';
import { PARAMETER, type ParsedConfig, type RollbackState } from '../shared/routing-config';
import { describeChange, type ParameterVersion } from './audit';
import { rollBackCode, type CodeRollbackResult, type RouterCodePort } from './code-rollback';
import { ConflictError, UnavailableError } from './http-errors';
import { assertLatchAllows, parameterWriteOf, planWideningRepair, widensExposure, type AdminChange } from './latch';
import { clearNotice, rollbackNotice, type Notice } from './rollback-notices';
import {
  latchWrittenMeanwhile,
  mergeLatches,
  planClear,
  planRollback,
  rollbackValueWrites,
  sameLatch,
  writesDownTo,
  type ParameterWrite,
  type RollbackRequest,
} from './rollback';

/**
 * Rollback wins (DESIGN §6), carried out. SSM has no compare-and-swap, and three writers share the
 * latch, the flag and the traffic percentage: the admin API, the rollback function and the ramp
 * controller. They all write them through this module, which keeps these invariants in every
 * interleaving of their reads and writes:
 *
 * 1. A writer that sets or clears the latch knows the version it read, and `PutParameter` answers
 *    the version it wrote. Anything but read + 1 means writes it did not see landed in between; it
 *    reads them from the parameter history and repairs. A rollback that overwrote another rollback
 *    writes their merge (higher level wins, on a tie the earlier record, `previous` from the first);
 *    a rollback that overwrote a clear stands. A clear that overwrote a rollback restores it and
 *    answers 409: a clear never erases a latch it did not read.
 * 2. A rollback writes the latch, then the flag off, then (level 2 and 3) traffic 0, every time; then
 *    it reads flag and traffic again and writes them down again while the latch stands, so a
 *    widening write that landed late is undone. Level 3 moves the router's alias only after that.
 * 3. A widening write refuses while the latch is active, and after writing reads again: if the latch
 *    is active or was written since its read, it writes the rollback's values (from the latest latch
 *    record), never its own earlier read, and answers 409.
 * 4. A clear is refused while a rollback alarm is in ALARM (CloudWatch does not invoke an alarm that
 *    stays in ALARM again), unless forced; it writes flag and traffic down first and restores nothing,
 *    and checks the alarms again after its write, because a rollback that found the old latch
 *    covering it wrote nothing a version check could see.
 *
 * Every repair repeats at most `maxRounds` times and only while the operation's budget lasts; each
 * store call has its own deadline in the adapter.
 */

const LATCH = PARAMETER.rollbackState;

/** Seconds a caller should wait after a 503 from the store. */
export const STORE_RETRY_SECONDS = 5;

/** One fresh read of the environment's parameters, with their raw values and versions. */
export interface StoreSnapshot extends ParsedConfig {
  /** Raw values by name relative to the environment path. */
  readonly values: Readonly<Record<string, string>>;
  /** The version of each parameter read, by the same names. */
  readonly versions: Readonly<Record<string, number>>;
}

/** The configuration store as the latch's writers use it; names are relative to the environment path. */
export interface LatchStore {
  read(): Promise<StoreSnapshot>;
  /** Overwrites one parameter, with `description` as the audit record; answers the new version. */
  put(name: string, value: string, description: string): Promise<number>;
  /** Every stored version of one parameter. */
  history(name: string): Promise<readonly ParameterVersion[]>;
}

/** CloudWatch as a clear needs it. */
export interface AlarmStates {
  /** The names of this environment's rollback alarms now in ALARM; throws when CloudWatch cannot answer. */
  inAlarm(): Promise<readonly string[]>;
}

export interface LatchLogger {
  info(message: string, attributes: Record<string, unknown>): void;
  warn(message: string, attributes: Record<string, unknown>): void;
  error(message: string, attributes: Record<string, unknown>): void;
}

export interface RollbackLatchOptions {
  readonly environment: string;
  readonly store: LatchStore;
  /** Needed by `clear` only. */
  readonly alarms?: AlarmStates;
  /** Publishes to the notifications topic. A failure is logged and changes nothing. */
  readonly notify: (subject: string, message: string) => Promise<void>;
  /** Emits metric points (EMF in Lambda). */
  readonly emit: (points: readonly MetricPoint[]) => void;
  readonly logger: LatchLogger;
  readonly now?: () => Date;
  /** @default 3 */
  readonly maxRounds?: number;
  /** Repairs start only within this many ms of the operation's start. @default 20000 */
  readonly budgetMs?: number;
}

export interface Changed {
  /** Relative to the environment path. */
  readonly parameter: string;
  readonly version: number;
}

export type RollbackResult =
  | { readonly action: 'already-rolled-back'; readonly latch: RollbackState; readonly state: StoreSnapshot }
  | {
      readonly action: 'rolled-back';
      /** The latch as this rollback left it (merged with a concurrent one, if any). */
      readonly latch: RollbackState;
      readonly changed: readonly Changed[];
      /** False when flag and traffic could not be confirmed within the rounds and budget. */
      readonly verified: boolean;
      /** The store as read after the last write. */
      readonly state: StoreSnapshot;
    };

/** A level-3 rollback as a caller asks for it: the level and the code move are the latch's to fill in. */
export type CodeRollbackRequest = Omit<RollbackRequest, 'level' | 'code'>;

/** A level-3 rollback's result: the latch half as `rollBack` answers it, and the alias move. */
export type CodeRollbackOutcome = RollbackResult & { readonly code: CodeRollbackResult };

export interface ClearRequest {
  readonly reason: string;
  /** The caller's identity, recorded in each write's description. */
  readonly requestedBy: string;
  /** Clear even while a rollback alarm is in ALARM, or when CloudWatch cannot say. */
  readonly force: boolean;
  readonly origin: RollbackSource;
}

export type ClearResult =
  | { readonly action: 'not-latched' }
  | { readonly action: 'cleared'; readonly latch: RollbackState; readonly changed: readonly Changed[]; readonly forced: boolean };

export interface GuardedWriteRequest {
  readonly changes: readonly AdminChange[];
  readonly reason: string;
  readonly requestedBy: string;
  /**
   * The read the caller decided from, as the ramp controller does, used instead of a fresh read: a
   * write of another writer to a changed parameter that landed after it is put back, and the write
   * answers 409. So the caller never overwrites a change it did not see.
   * @default - a fresh read, and last writer wins, as between two operators
   */
  readonly basis?: StoreSnapshot;
}

export interface WriteResult {
  readonly changed: readonly Changed[];
  /** The store as read after the writes, when a widening write read it to check for a rollback. */
  readonly state?: StoreSnapshot;
}

/** One operation's store calls: tracks what it wrote and turns store failures into 503s that say so. */
class StoreSession {
  readonly changed: Changed[] = [];
  private readonly startedAt: number;

  constructor(
    private readonly store: LatchStore,
    private readonly logger: LatchLogger,
    private readonly clock: () => number,
    private readonly budgetMs: number,
  ) {
    this.startedAt = clock();
  }

  get withinBudget(): boolean {
    return this.clock() - this.startedAt < this.budgetMs;
  }

  async read(): Promise<StoreSnapshot> {
    try {
      return await this.store.read();
    } catch (error) {
      this.logger.error('configuration store read failed', { errorName: nameOf(error), written: this.written });
      throw new UnavailableError(
        this.changed.length === 0
          ? 'the configuration store cannot be read; nothing was changed'
          : `the configuration store cannot be read to confirm the change; already written: ${this.written.join(', ')}`,
        STORE_RETRY_SECONDS,
      );
    }
  }

  async put(write: ParameterWrite, description: string): Promise<number> {
    try {
      const version = await this.store.put(write.name, write.value, description);
      this.changed.push({ parameter: write.name, version });
      return version;
    } catch (error) {
      this.logger.error('configuration write failed', { parameter: write.name, errorName: nameOf(error), written: this.written });
      const written = this.changed.length > 0 ? `; already written: ${this.written.join(', ')}` : '';
      throw new UnavailableError(`could not write ${write.name} (${nameOf(error)}); nothing after it was changed${written}`, STORE_RETRY_SECONDS);
    }
  }

  /** The values of `name` written after version `after` and before version `before`, oldest first. */
  async valuesBetween(name: string, after: number, before: number): Promise<string[]> {
    let history: readonly ParameterVersion[];
    try {
      history = await this.store.history(name);
    } catch (error) {
      this.logger.error('parameter history read failed', { parameter: name, errorName: nameOf(error), written: this.written });
      throw new UnavailableError(`the history of ${name} cannot be read to check for concurrent writes; already written: ${this.written.join(', ')}`, STORE_RETRY_SECONDS);
    }
    return [...history]
      .filter((v) => v.version > after && v.version < before)
      .sort((a, b) => a.version - b.version)
      .map((v) => v.value);
  }

  private get written(): string[] {
    return this.changed.map((c) => c.parameter);
  }
}

/**
 * The one implementation of rollback, clear and guarded widening write, shared by the rollback
 * function, the admin API and the ramp controller, each with its own store, alarms and notifier.
 */
export class RollbackLatch {
  private readonly now: () => Date;
  private readonly maxRounds: number;
  private readonly budgetMs: number;

  constructor(private readonly options: RollbackLatchOptions) {
    this.now = options.now ?? (() => new Date());
    this.maxRounds = options.maxRounds ?? 3;
    this.budgetMs = options.budgetMs ?? 20_000;
  }

  /** Sets the latch and holds flag and traffic to its values; notifies and emits `RollbackExecuted`. */
  async rollBack(request: RollbackRequest): Promise<RollbackResult> {
    const session = this.session();
    const result = await this.record(session, await session.read(), request);
    if (result.action === 'rolled-back') await this.announce(request, result, rollbackNotice(this.options.environment, request, result.latch, result.changed, result.verified));
    return result;
  }

  /**
   * Level 3 (DESIGN §11): level 2, and the router's `live` alias back on the version that served
   * before the current one. Reads the alias, then the store; writes the latch with both versions
   * (`code`) and the level-2 values as `rollBack` does, and only then moves the alias. So a
   * rollback that stops anywhere (a crash, SSM or Lambda failing) leaves the latch set and is
   * finished by a repeat, which finds the move recorded instead of going one version further
   * back. Notifies and emits `RollbackExecuted` once the alias is where the latch says, when this
   * call changed anything; a repeat that finds everything done changes nothing. 409 when refused
   * (no earlier version, a CodeDeploy deployment unfinished), 503 when Lambda, CodeDeploy or SSM fail.
   */
  async rollBackCode(request: CodeRollbackRequest, router: RouterCodePort): Promise<CodeRollbackOutcome> {
    const session = this.session();
    let before: StoreSnapshot | undefined;
    let recorded: RollbackResult | undefined;
    const code = await rollBackCode(
      router,
      async () => (before = await session.read()).config.rollback,
      async (move) => {
        recorded = await this.record(session, before!, { ...request, level: 3, code: move });
      },
    );
    const result = recorded!;
    if (result.action === 'already-rolled-back' && !code.moved) return { ...result, code };

    const done: RollbackResult = result.action === 'rolled-back' ? result : { action: 'rolled-back', latch: result.latch, changed: [], verified: true, state: result.state };
    const full: RollbackRequest = { ...request, level: 3, code };
    await this.announce(full, done, rollbackNotice(this.options.environment, full, done.latch, done.changed, done.verified, code));
    return { ...done, code };
  }

  /**
   * Clears the latch (DESIGN §6 invariants 3 and 4): flag and traffic stay at most where the
   * rollback put them, and a latch written after this clear's read survives it. 409 while a
   * rollback alarm is in ALARM and 503 when CloudWatch cannot say, unless `force`.
   */
  async clear(request: ClearRequest): Promise<ClearResult> {
    const session = this.session();
    const before = await session.read();
    const plan = planClear(before.config, this.now().toISOString());
    if (plan.kind === 'not-latched') return { action: 'not-latched' };

    const forcedNote = request.force ? await this.forcedNote() : undefined;
    if (!request.force) await this.assertNoAlarm('nothing was changed');
    const description = describeChange(`latch cleared${forcedNote ? ` by force (${forcedNote})` : ''}: ${request.reason}`, request.requestedBy);
    for (const write of plan.writesDown) await session.put(write, description);
    const version = await session.put({ name: LATCH, value: JSON.stringify(plan.cleared) }, description);

    const readVersion = before.versions[LATCH] ?? 0;
    if (version !== readVersion + 1) {
      const missed = latchWrittenMeanwhile(await session.valuesBetween(LATCH, readVersion, version));
      if (missed) {
        await this.restore(session, missed, version, request);
        throw new ConflictError(
          `a rollback latched while this clear was running (level ${missed.level}, by ${missed.source || 'unknown'}: ${missed.reason}); its latch is restored and stays active`,
        );
      }
    }
    if (!request.force) {
      try {
        await this.assertNoAlarm('the latch is restored');
      } catch (error) {
        await this.restore(session, plan.latch, version, request);
        throw error;
      }
    }

    this.options.emit([{ metric: METRICS.rollbackExecuted, value: 1, dimensionValue: CLEAR_LEVEL, secondDimensionValue: request.origin }]);
    this.options.logger.warn('rollback latch cleared', { level: plan.latch.level, requestedBy: request.requestedBy, forced: request.force, written: session.changed.map((c) => c.parameter) });
    await this.publish('clear notification failed', clearNotice(this.options.environment, request, plan.latch, before.config, forcedNote, this.now()));
    return { action: 'cleared', latch: plan.cleared, changed: session.changed, forced: request.force };
  }

  /**
   * Writes `changes` unless the latch forbids them (409), and when one widens exposure checks
   * afterwards that no rollback latched meanwhile; if one did, writes the rollback's values and
   * answers 409.
   */
  async write(request: GuardedWriteRequest): Promise<WriteResult> {
    const session = this.session();
    const before = request.basis ?? (await session.read());
    for (const change of request.changes) assertLatchAllows(change, before.config);
    const description = describeChange(request.reason, request.requestedBy);
    for (const change of request.changes) await session.put(parameterWriteOf(change), description);
    const restored = request.basis ? await this.restoreOverwritten(session, before, request) : [];
    if (restored.length === 0 && !request.changes.some((change) => widensExposure(change, before.config))) return { changed: session.changed };

    let after = await session.read();
    if (!latchMoved(before, after)) {
      if (restored.length === 0) return { changed: session.changed, state: after };
      throw new ConflictError(`${restored.join(', ')} changed while this write was landing; the other change is put back`);
    }
    const revert = describeChange(`reverted: a rollback latched while "${request.reason}" was being written`, request.requestedBy);
    for (let round = 1; ; round += 1) {
      const repairs = planWideningRepair(request.changes, before.config, after.config);
      if (repairs.length === 0) break;
      if (round > this.maxRounds || !session.withinBudget) {
        this.options.logger.error('could not hold the rollback values after a racing write', { rounds: round - 1, pending: repairs.map((r) => r.name) });
        break;
      }
      for (const write of repairs) await session.put(write, revert);
      after = await session.read();
    }
    const latch = after.config.rollback;
    this.options.logger.warn('a widening write raced a rollback and was undone', { requestedBy: request.requestedBy, latchSource: latch.source, written: session.changed.map((c) => c.parameter) });
    throw new ConflictError(
      `a rollback latched while this change was written (level ${latch.level ?? 'unknown'}, by ${latch.source || 'unknown'}: ${latch.reason}); the rollback's values were written back`,
    );
  }

  /**
   * For a write on a `basis`: puts back the latest value another writer wrote to a parameter
   * between that read and this write, and answers which parameters it put back. A rollback among
   * them is held by the latch check that follows, since it reads after these writes.
   */
  private async restoreOverwritten(session: StoreSession, before: StoreSnapshot, request: GuardedWriteRequest): Promise<string[]> {
    const restored: string[] = [];
    for (const { parameter, version } of [...session.changed]) {
      const read = before.versions[parameter] ?? 0;
      if (version === read + 1) continue;
      const theirs = (await session.valuesBetween(parameter, read, version)).at(-1);
      if (theirs === undefined) continue;
      this.options.logger.warn('a guarded write overwrote a change it had not read; putting it back', { parameter, requestedBy: request.requestedBy });
      await session.put({ name: parameter, value: theirs }, describeChange(`restored: "${request.reason}" overwrote a change it had not read`, request.requestedBy));
      restored.push(parameter);
    }
    return restored;
  }

  private session(): StoreSession {
    return new StoreSession(this.options.store, this.options.logger, () => this.now().getTime(), this.budgetMs);
  }

  /** A rollback's writes, planned on `before`: the latch, then flag and traffic, then holding them down. */
  private async record(session: StoreSession, before: StoreSnapshot, request: RollbackRequest): Promise<RollbackResult> {
    const plan = planRollback(before.config, request);
    if (plan.kind === 'already-rolled-back') {
      this.options.logger.info('rollback already in effect; nothing changed', { level: plan.latch.level, since: plan.latch.at, source: request.source });
      return { action: 'already-rolled-back', latch: plan.latch, state: before };
    }

    const description = describeChange(`rollback level ${request.level}: ${request.reason}`, request.requestedBy ?? request.source);
    const { latch } = await this.putLatch(session, plan.latch, before.versions[LATCH] ?? 0, description, (other) =>
      describeChange(`rollback level ${request.level}: ${request.reason} (merged with a concurrent rollback by ${other})`, request.requestedBy ?? request.source),
    );
    for (const write of rollbackValueWrites(latch)) await session.put(write, description);
    const { verified, state } = await this.holdDown(session, request);
    return { action: 'rolled-back', latch, changed: session.changed, verified, state };
  }

  /** Counts and announces a rollback that changed something; a failed notification is logged and undoes nothing. */
  private async announce(request: RollbackRequest, result: Extract<RollbackResult, { action: 'rolled-back' }>, notice: Notice): Promise<void> {
    const { latch } = result;
    this.options.emit([{ metric: METRICS.rollbackExecuted, value: 1, dimensionValue: String(latch.level), secondDimensionValue: request.origin }]);
    this.options.logger.warn('rollback executed', {
      level: latch.level,
      source: request.source,
      origin: request.origin,
      written: result.changed.map((c) => c.parameter),
      verified: result.verified,
      ...(request.code ? { code: request.code } : {}),
    });
    await this.publish('rollback notification failed', notice);
  }

  /**
   * Writes a latch record and repairs what it overwrote without reading (invariant 1): while the
   * version it gets back is not the one after the version it built on, it merges in the rollbacks
   * written in between and writes again.
   */
  private async putLatch(session: StoreSession, record: RollbackState, readVersion: number, description: string, mergedWith: (other: string) => string) {
    let latch = record;
    let builtOn = readVersion;
    let text = description;
    for (let round = 0; ; round += 1) {
      const version = await session.put({ name: LATCH, value: JSON.stringify(latch) }, text);
      if (version === builtOn + 1) return { latch, version };
      const meanwhile = latchWrittenMeanwhile(await session.valuesBetween(LATCH, builtOn, version));
      const merged = meanwhile ? mergeLatches(meanwhile, latch) : latch;
      if (sameLatch(merged, latch)) return { latch, version };
      if (round >= this.maxRounds || !session.withinBudget) {
        this.options.logger.error('could not merge the latch with concurrent rollbacks', { rounds: round });
        return { latch, version };
      }
      this.options.logger.warn('latch merged with a concurrent rollback', { level: merged.level, other: meanwhile?.source });
      text = mergedWith(meanwhile?.source || 'unknown');
      latch = merged;
      builtOn = version;
    }
  }

  /** Writes back a latch a clear must not erase. */
  private async restore(session: StoreSession, latch: RollbackState, afterVersion: number, request: ClearRequest): Promise<void> {
    this.options.logger.warn('latch restored after a refused clear', { level: latch.level, source: latch.source, requestedBy: request.requestedBy });
    const restored = `latch restored: a rollback must stay latched while "${request.reason}" was clearing it`;
    await this.putLatch(session, { ...latch, active: true }, afterVersion, describeChange(restored, request.requestedBy), (other) =>
      describeChange(`${restored} (merged with a concurrent rollback by ${other})`, request.requestedBy),
    );
  }

  /**
   * After a rollback's writes: reads flag and traffic again and writes them down while the latch is
   * still active. Once the latch is cleared it stops, since a write after a clear is legitimate.
   */
  private async holdDown(session: StoreSession, request: RollbackRequest): Promise<{ verified: boolean; state: StoreSnapshot }> {
    const description = describeChange(`rollback level ${request.level}: ${request.reason} (written again: a change landed after the rollback)`, request.requestedBy ?? request.source);
    for (let round = 0; ; round += 1) {
      const state = await session.read();
      if (!state.config.rollback.active) return { verified: true, state };
      const repairs = writesDownTo(state.config, state.config.rollback);
      if (repairs.length === 0) return { verified: true, state };
      if (round >= this.maxRounds || !session.withinBudget) {
        this.options.logger.error('could not confirm the rollback values', { rounds: round, pending: repairs.map((r) => r.name), source: request.source });
        return { verified: false, state };
      }
      this.options.logger.warn('a write landed after the rollback; writing its values again', { pending: repairs.map((r) => r.name) });
      for (const write of repairs) await session.put(write, description);
    }
  }

  /** Refuses (409) while a rollback alarm is in ALARM and (503) when CloudWatch cannot answer. */
  private async assertNoAlarm(consequence: string): Promise<void> {
    let firing: readonly string[];
    try {
      firing = await this.alarms().inAlarm();
    } catch (error) {
      this.options.logger.error('alarm states could not be read', { errorName: nameOf(error) });
      throw new UnavailableError(
        `CloudWatch cannot say whether a rollback alarm is in ALARM, so the latch cannot be cleared safely; ${consequence}. Retry, or pass "force": true to clear anyway`,
        STORE_RETRY_SECONDS,
      );
    }
    if (firing.length > 0) {
      throw new ConflictError(
        `rollback alarm${firing.length > 1 ? 's' : ''} ${firing.join(', ')} ${firing.length > 1 ? 'are' : 'is'} in ALARM; ${consequence}. ` +
          'CloudWatch does not invoke an alarm that stays in ALARM again, so a clear now would leave it unanswered: fix the cause and wait for OK, or pass "force": true',
      );
    }
  }

  /** For the audit record of a forced clear: which rollback alarms were in ALARM, as far as CloudWatch says. */
  private async forcedNote(): Promise<string> {
    try {
      const firing = await this.alarms().inAlarm();
      return firing.length > 0 ? `while ${firing.join(', ')} in ALARM` : 'no rollback alarm in ALARM';
    } catch {
      return 'alarm states unknown';
    }
  }

  private alarms(): AlarmStates {
    if (!this.options.alarms) throw new Error('clearing the latch needs the alarm states; construct RollbackLatch with alarms');
    return this.options.alarms;
  }

  private async publish(failure: string, { subject, message }: Notice): Promise<void> {
    try {
      await this.options.notify(subject, message);
    } catch (error) {
      this.options.logger.error(failure, { errorName: nameOf(error) });
    }
  }

}

/** Whether the latch was written, or is active, since `before` was read. */
function latchMoved(before: StoreSnapshot, after: StoreSnapshot): boolean {
  return after.config.rollback.active || after.versions[LATCH] !== before.versions[LATCH] || after.values[LATCH] !== before.values[LATCH];
}

function nameOf(error: unknown): string {
  if (error && typeof error === 'object' && 'errorName' in error && typeof error.errorName === 'string') return error.errorName;
  return error instanceof Error ? error.name : typeof error;
}
