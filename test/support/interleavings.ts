import { appendFileSync } from 'node:fs';
import type { Gate, SeenRequest, SsmFake } from '../fakes/ssm-fake';

/** One of two writers whose SSM requests are interleaved. */
export interface Writer<T = unknown> {
  readonly name: string;
  /** Starts the writer; resolves with its answer once it has finished. */
  readonly run: () => Promise<T>;
  /** Called just before the writer's first SSM request is served (e.g. an alarm goes into ALARM). */
  readonly beforeFirstServe?: () => void;
}

/** What one run did: the SSM requests in the order they were served, and each writer's answer. */
export interface Interleaving<T = unknown> {
  readonly steps: readonly { readonly writer: string; readonly request: SeenRequest }[];
  /** By writer name. */
  readonly results: Readonly<Record<string, T>>;
  /** Which writer went at each point where both had a request waiting (indices into the writers). */
  readonly choices: readonly number[];
}

type WriterState = { kind: 'held'; gate: Gate; request: SeenRequest } | { kind: 'done' };

/** A request one writer has waiting at a gate, when the scheduler picks whose goes next. */
interface Pending {
  readonly request: SeenRequest;
  /** Serving it first runs the writer's `beforeFirstServe`, which may change what others see. */
  readonly startsWriter: boolean;
}

/** Picks which waiting writer's request is served next. */
type Decide = (waiting: readonly number[], pending: readonly (Pending | undefined)[]) => number;

/**
 * Runs two writers against the SSM fake with every one of their requests held at a gate, and lets
 * exactly one through at a time, the one `decide` picks. Each writer makes one SSM request at a
 * time, so the request that arrives after one was let through is that writer's next, and no timing
 * decides anything.
 */
async function schedule<T>(ssm: SsmFake, writers: readonly [Writer<T>, Writer<T>], decide: Decide): Promise<Omit<Interleaving<T>, 'choices'>> {
  const states: WriterState[] = [];
  const finished: Promise<void>[] = [];
  const results: Record<string, T> = {};
  const steps: { writer: string; request: SeenRequest }[] = [];
  const failures: string[] = [];
  const started = new Set<number>();

  const next = async (index: number, gate: Gate): Promise<void> => {
    const arrival = await Promise.race([gate.arrived, finished[index]!.then(() => undefined)]);
    if (arrival === undefined) {
      gate.cancel();
      states[index] = { kind: 'done' };
    } else {
      states[index] = { kind: 'held', gate, request: arrival };
    }
  };

  for (const [index, writer] of writers.entries()) {
    const gate = ssm.gate();
    // A writer that throws must not leave the other held at a gate: record it and go on.
    finished[index] = writer.run().then(
      (result) => {
        results[writer.name] = result;
      },
      (error: unknown) => {
        failures.push(`${writer.name} threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
      },
    );
    await next(index, gate);
  }

  for (;;) {
    const waiting = states.flatMap((state, index) => (state.kind === 'held' ? [index] : []));
    if (waiting.length === 0) break;
    const pending = states.map((state, index) =>
      state.kind === 'held' ? { request: state.request, startsWriter: !started.has(index) && writers[index]!.beforeFirstServe !== undefined } : undefined,
    );
    const pick = decide(waiting, pending);
    const state = states[pick] as Extract<WriterState, { kind: 'held' }>;
    if (!started.has(pick)) {
      started.add(pick);
      writers[pick]!.beforeFirstServe?.();
    }
    steps.push({ writer: writers[pick]!.name, request: state.request });
    const gate = ssm.gate();
    void state.gate.release();
    await next(pick, gate);
  }
  await Promise.all(finished);
  if (failures.length > 0) throw new Error(failures.join('; '));
  return { steps, results };
}

/**
 * Runs two writers in one order of their SSM requests: at each point where both have a request
 * waiting, `choices` says whose goes first (the first writer's when the list runs out).
 */
export async function runInterleaving<T>(ssm: SsmFake, writers: readonly [Writer<T>, Writer<T>], choices: readonly number[] = []): Promise<Interleaving<T>> {
  const made: number[] = [];
  const run = await schedule(ssm, writers, (waiting) => {
    if (waiting.length === 1) return waiting[0]!;
    const pick = choices[made.length] ?? 0;
    made.push(pick);
    return pick;
  });
  return { ...run, choices: made };
}

/**
 * Whether two writers' requests commute: served in either order, they leave the store and both
 * writers' answers the same. Two reads do; so do two writes of different parameters (versions are
 * per parameter), and a write with a history read of another parameter. A whole-path read and a
 * write do not. A writer's first request also runs its `beforeFirstServe`, so it commutes with
 * nothing.
 */
function independent(a: Pending, b: Pending): boolean {
  if (a.startsWriter || b.startsWriter) return false;
  const writes = (p: Pending) => p.request.operation === 'PutParameter';
  if (!writes(a) && !writes(b)) return true;
  const reads = (p: Pending) => (p.request.operation === 'GetParametersByPath' ? '*' : p.request.name);
  return reads(a) !== '*' && reads(b) !== '*' && a.request.name !== b.request.name;
}

export interface ExploreOptions<T> {
  /** Puts the store (and any other fake) into the starting state; runs before each interleaving. */
  readonly setup: () => void | Promise<void>;
  /** The two writers, made afresh for each interleaving. */
  readonly writers: () => readonly [Writer<T>, Writer<T>];
  /** Asserts the invariants on the state the interleaving left. */
  readonly check: (run: Interleaving<T>) => void | Promise<void>;
  /** A guard against a writer that never settles. @default 2000 */
  readonly maxRuns?: number;
}

/** A branch point on the way to an order still to run: whose request went, and which writers slept there. */
interface Branch {
  readonly choice: number;
  readonly sleep: readonly number[];
}

/**
 * Runs the two writers in every order of their SSM requests and checks each end state. The search
 * is depth first over the points where both have a request waiting, with sleep sets (Godefroid):
 * once the orders that serve writer A's request first have been run, the ones that serve B's first
 * skip serving A's right after it when the two commute (`independent`), since that order leads to
 * a state already checked. Every order of requests that do not commute is still run. Answers how
 * many orders were checked.
 */
export async function forEveryInterleaving<T>(ssm: SsmFake, options: ExploreOptions<T>): Promise<number> {
  const todo: Branch[][] = [[]];
  let runs = 0;
  let checked = 0;
  while (todo.length > 0) {
    const plan = todo.pop()!;
    const taken: Branch[] = [];
    let sleep = new Set<number>();
    let redundant = false;
    await options.setup();
    const run = await schedule(ssm, options.writers(), (waiting, pending) => {
      let pick = waiting[0]!;
      if (waiting.length === 2) {
        const planned = plan[taken.length];
        if (planned) {
          sleep = new Set(planned.sleep);
          pick = planned.choice;
        } else {
          const awake = waiting.filter((index) => !sleep.has(index));
          if (awake.length === 0) redundant = true;
          else pick = awake[0]!;
          if (!redundant && awake.length === 2) todo.push([...taken, { choice: awake[1]!, sleep: [...sleep, pick] }]);
        }
        taken.push({ choice: pick, sleep: [...sleep] });
      } else if (sleep.has(pick)) {
        redundant = true;
      }
      const served = pending[pick]!;
      sleep = new Set([...sleep].filter((index) => index !== pick && independent(pending[index]!, served)));
      return pick;
    });
    runs += 1;
    if (runs > (options.maxRuns ?? 2000)) throw new Error(`more than ${options.maxRuns ?? 2000} orders; a writer does not settle`);
    // An order whose every continuation was asleep is one already run with two reads swapped.
    if (redundant) continue;
    checked += 1;
    try {
      await options.check({ ...run, choices: taken.map((b) => b.choice) });
    } catch (error) {
      const order = run.steps.map((s, i) => `  ${i + 1}. ${s.writer}: ${describe(s.request)}`).join('\n');
      (error as Error).message += `\n\nin the order:\n${order}`;
      throw error;
    }
  }
  // INTERLEAVINGS_LOG=<file> records how many orders each exploration ran, to see what it costs.
  if (process.env.INTERLEAVINGS_LOG) appendFileSync(process.env.INTERLEAVINGS_LOG, `${expect.getState().currentTestName}: ${checked} orders checked of ${runs} run\n`);
  return checked;
}

/** `PutParameter traffic/percentage = 25`, `GetParametersByPath /hybrid-routing/dev`. */
export function describe(request: SeenRequest): string {
  const name = request.name.replace(/^\/hybrid-routing\/[a-z]+\//, '');
  return request.value === undefined ? `${request.operation} ${name}` : `${request.operation} ${name} = ${request.value}`;
}
