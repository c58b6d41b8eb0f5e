import { readRampValue, type RampState, type RampStatus } from '../shared/ramp';
import type { ParameterVersion } from './audit';
import { UnavailableError } from './http-errors';
import type { LatchLogger, LatchStore } from './rollback-latch';
import { STORE_RETRY_SECONDS } from './rollback-latch';

/**
 * `ramp/state` has two writers, the admin API (start, pause, resume, abort) and the ramp
 * controller (promote, pause, roll back, done), and SSM has no compare-and-swap. Each writer knows
 * the version it read; when `PutParameter` answers another version than read + 1, it read the
 * records written in between from the parameter history and writes the merge of theirs and its
 * own, so no transition is lost:
 *
 * - A record of a later ramp (a new `startedAt`) wins whole.
 * - Within one ramp, the step comes from the record furthest on (a promote is not undone), and the
 *   status from the one that ranks highest: finished (`done`, `rolled-back`, `aborted`) over
 *   `paused` over `running`, so a pause or an abort is never overwritten by a promote. Between two
 *   finished or two paused records the earlier stands; between two running ones the later.
 */

const RAMP = 'ramp/state';

const rank = (status: RampStatus): number => (status === 'running' ? 0 : status === 'paused' ? 1 : 2);

/** One record from two of the same or different ramps, `earlier` written before `later`. */
export function mergeRampStates(earlier: RampState, later: RampState): RampState {
  if (earlier.startedAt !== later.startedAt) return earlier.startedAt > later.startedAt ? earlier : later;
  const furtherOn = later.stepIndex > earlier.stepIndex || (later.stepIndex === earlier.stepIndex && later.stepStartedAt >= earlier.stepStartedAt) ? later : earlier;
  const statusFrom = rank(later.status) > rank(earlier.status) || (rank(later.status) === 0 && rank(earlier.status) === 0) ? later : earlier;
  const { status, reason, by, updatedAt, lastEvaluation } = statusFrom;
  return { ...furtherOn, status, reason, by, updatedAt, lastEvaluation };
}

/** The record `mine` leaves when `theirs` (oldest first) were written between its read and its write. */
export function mergeOverwritten(theirs: readonly RampState[], mine: RampState): RampState {
  return [...theirs, mine].reduce((merged, next) => mergeRampStates(merged, next));
}

export interface RampWriteResult {
  /** The record as stored after the write and any merge. */
  readonly state: RampState;
  readonly version: number;
  /** True when another writer's record was merged in, so the stored record differs from the one asked for. */
  readonly merged: boolean;
}

/** Writes `ramp/state` through the version check and merge above. */
export class RampRecord {
  constructor(
    private readonly store: LatchStore,
    private readonly logger: LatchLogger,
    private readonly maxRounds = 3,
  ) {}

  /** Writes `next` over the record read at `readVersion`; `description` goes into the audit trail. */
  async write(next: RampState, readVersion: number, description: string): Promise<RampWriteResult> {
    let record = next;
    let builtOn = readVersion;
    let text = description;
    for (let round = 0; ; round += 1) {
      const version = await this.put(JSON.stringify(record), text);
      if (version === builtOn + 1) return { state: record, version, merged: record !== next };
      const theirs = (await this.between(builtOn, version)).flatMap((value) => {
        const stored = readRampValue(value);
        return stored.kind === 'ramp' ? [stored.state] : [];
      });
      const merged = mergeOverwritten(theirs, record);
      if (JSON.stringify(merged) === JSON.stringify(record)) return { state: record, version, merged: record !== next };
      if (round >= this.maxRounds) {
        this.logger.error('could not merge ramp/state with concurrent writes', { rounds: round });
        return { state: record, version, merged: true };
      }
      this.logger.warn('ramp/state merged with a concurrent write', { status: merged.status, step: merged.stepIndex });
      text = `${description} (merged with a concurrent ramp change: ${merged.status} by ${merged.by})`;
      record = merged;
      builtOn = version;
    }
  }

  /** Writes a raw value (e.g. the empty record over one that does not parse). */
  async writeRaw(value: string, description: string): Promise<number> {
    return this.put(value, description);
  }

  private async put(value: string, description: string): Promise<number> {
    try {
      return await this.store.put(RAMP, value, description);
    } catch (error) {
      this.logger.error('ramp/state write failed', { errorName: nameOf(error) });
      throw new UnavailableError(`could not write ${RAMP} (${nameOf(error)})`, STORE_RETRY_SECONDS);
    }
  }

  private async between(after: number, before: number): Promise<string[]> {
    let history: readonly ParameterVersion[];
    try {
      history = await this.store.history(RAMP);
    } catch (error) {
      this.logger.error('ramp/state history read failed', { errorName: nameOf(error) });
      throw new UnavailableError(`the history of ${RAMP} cannot be read to check for concurrent writes`, STORE_RETRY_SECONDS);
    }
    return [...history]
      .filter((v) => v.version > after && v.version < before)
      .sort((a, b) => a.version - b.version)
      .map((v) => v.value);
  }
}

function nameOf(error: unknown): string {
  if (error && typeof error === 'object' && 'errorName' in error && typeof error.errorName === 'string') return error.errorName;
  return error instanceof Error ? error.name : typeof error;
}
