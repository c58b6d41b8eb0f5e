import { ConflictError, UnavailableError } from './http-errors';

/**
 * The code half of a level-3 rollback (DESIGN §11): put the router's `live` alias back on the
 * highest published version below the one it serves, record both in the latch, and refuse while
 * that cannot be done safely. The decision is plain code; reading and moving the alias is a port.
 */

/** The versions a level-3 rollback moved `live` between, as the latch records them: `{ "from": "7", "to": "6" }`. */
export interface CodeMove {
  readonly from: string;
  readonly to: string;
}

export interface RouterCodeState {
  readonly aliasName: string;
  /** The version the alias serves. */
  readonly aliasVersion: string;
  /** Versions the alias also sends a share of traffic to (a traffic shift in progress), by weight. */
  readonly additionalWeights: Readonly<Record<string, number>>;
  /** The alias's revision, so a move applies only to the alias as it was read. */
  readonly revisionId: string | undefined;
  /** Every published version of the router; `$LATEST` may be among them. */
  readonly publishedVersions: readonly string[];
  /** CodeDeploy deployments of the alias that have not finished. */
  readonly deploymentsInProgress: readonly string[];
}

/** What a level-3 rollback needs of the latch: whether it is set, and the move it recorded. */
export interface CodeLatch {
  readonly active: boolean;
  readonly code?: CodeMove | null;
}

export type CodeRollbackDecision =
  | { readonly kind: 'move'; readonly move: CodeMove; readonly revisionId: string | undefined }
  /** The active latch recorded this move and the alias is where it put it: a repeat changes nothing. */
  | { readonly kind: 'already-there'; readonly move: CodeMove }
  | { readonly kind: 'refuse'; readonly message: string };

const PUBLISHED = /^[1-9]\d*$/;

/**
 * Decides a level-3 rollback. Refused while a CodeDeploy deployment of the alias is unfinished
 * (it would move the alias again; stopping it with auto-rollback is the way back), while the
 * alias splits traffic outside any deployment, and when no published version is older than the
 * one serving. "Already rolled back" is recognised from the latch: it is active, recorded a move,
 * and the alias still serves that move's `to`. The target is the highest published version below
 * the serving one, except when the active latch recorded a move to an older version: a deploy has
 * replaced that version since, so it is the one that served before, and versions published in
 * between (a canary CodeDeploy rolled back, the version the latch rolled back from) are skipped.
 */
export function decideCodeRollback(state: RouterCodeState, latch: CodeLatch): CodeRollbackDecision {
  const alias = state.aliasName;
  if (state.deploymentsInProgress.length > 0) {
    const [id] = state.deploymentsInProgress;
    return {
      kind: 'refuse',
      message:
        `a CodeDeploy deployment of the ${alias} alias is in progress (${state.deploymentsInProgress.join(', ')}); ` +
        `stop it and let CodeDeploy put the alias back: aws deploy stop-deployment --deployment-id ${id} --auto-rollback-enabled, then retry if still needed`,
    };
  }
  const shares = Object.keys(state.additionalWeights);
  if (shares.length > 0) {
    return {
      kind: 'refuse',
      message:
        `the ${alias} alias sends traffic to version ${state.aliasVersion} and to version ${shares.join(', ')} outside any CodeDeploy deployment; ` +
        `settle it on one version first (aws lambda update-alias --name ${alias} --function-version <version> --routing-config AdditionalVersionWeights={}), then retry`,
    };
  }
  const current = state.aliasVersion;
  if (!PUBLISHED.test(current)) {
    return { kind: 'refuse', message: `the ${alias} alias serves ${current}, not a published version; there is no earlier version to go back to` };
  }
  const recorded = latch.active ? (latch.code ?? undefined) : undefined;
  if (recorded && recorded.to === current) return { kind: 'already-there', move: recorded };

  const earlier = state.publishedVersions.filter((v) => PUBLISHED.test(v) && Number(v) < Number(current));
  if (earlier.length === 0) {
    return { kind: 'refuse', message: `no published version of the router is older than version ${current}, which the ${alias} alias serves; there is nothing to roll back to` };
  }
  // A deploy since the recorded rollback moved the alias up from the recorded version: that one served before.
  const to = recorded && earlier.includes(recorded.to) ? recorded.to : String(Math.max(...earlier.map(Number)));
  return { kind: 'move', move: { from: current, to }, revisionId: state.revisionId };
}

/** Reads and moves the router's alias: Lambda and CodeDeploy behind an interface. */
export interface RouterCodePort {
  readState(): Promise<RouterCodeState>;
  /** Points the alias at `version` alone, only if its revision is still `revisionId`; false when it changed meanwhile. */
  moveAlias(version: string, revisionId: string | undefined): Promise<boolean>;
}

export interface CodeRollbackResult extends CodeMove {
  /** False when the alias was already where the latch said: nothing moved. */
  readonly moved: boolean;
}

const RETRY_SECONDS = 5;
const errorName = (error: unknown) => (error instanceof Error ? error.name : typeof error);

/**
 * A level-3 rollback's code half. Reads the alias, then the latch through `readLatch`: in that
 * order, a concurrent level 3 that recorded and moved between the two reads is seen as a recorded
 * move, never as a fresh one to take one version further back. Decides, then calls `record` with
 * the move, which must write the latch (with `code`) and the level-2 values, and only then moves
 * the alias: a rollback that stops after the latch is written is finished by a repeat, which
 * recognises the recorded move instead of going back one version further. `record` is called for
 * a repeat too, so the level-2 half is re-established if it was undone. The alias moves only from
 * the revision that was read; when it changed meanwhile, a rollback that finds it already on the
 * target (two identical requests at once) succeeds, any other change is refused. Throws
 * `ConflictError` (409) when the rollback is refused, and `UnavailableError` (503) when Lambda or
 * CodeDeploy fail; a refusal and a failed read change nothing.
 */
export async function rollBackCode(port: RouterCodePort, readLatch: () => Promise<CodeLatch>, record: (move: CodeMove) => Promise<void>): Promise<CodeRollbackResult> {
  let state: RouterCodeState;
  try {
    state = await port.readState();
  } catch (error) {
    throw new UnavailableError(`cannot read the router's alias, versions and deployments (${errorName(error)}); nothing was changed`, RETRY_SECONDS);
  }
  const decision = decideCodeRollback(state, await readLatch());
  if (decision.kind === 'refuse') throw new ConflictError(`level 3 refused: ${decision.message}`);

  await record(decision.move);
  if (decision.kind === 'already-there') return { ...decision.move, moved: false };

  let moved: boolean;
  try {
    moved = await port.moveAlias(decision.move.to, decision.revisionId);
  } catch (error) {
    throw new UnavailableError(
      `the latch is set, but moving the ${state.aliasName} alias to version ${decision.move.to} failed (${errorName(error)}); repeat the level-3 rollback to finish it`,
      RETRY_SECONDS,
    );
  }
  if (!moved && (await aliasServesOnly(port, decision.move.to))) return { ...decision.move, moved: false };
  if (!moved) {
    throw new ConflictError(
      `the ${state.aliasName} alias changed while the rollback was being recorded (a deployment may have started); the latch is set but the alias was not moved: check the deployment, then repeat the level-3 rollback`,
    );
  }
  return { ...decision.move, moved: true };
}

/** Whether the alias now serves `version` alone: a concurrent identical rollback got there first. */
async function aliasServesOnly(port: RouterCodePort, version: string): Promise<boolean> {
  try {
    const state = await port.readState();
    return state.aliasVersion === version && Object.keys(state.additionalWeights).length === 0;
  } catch {
    return false;
  }
}
