import { ConfigSource } from '../../lambda/adapters/config-source';
import { CONTROL_CONFIG, DEFAULT_PARAMETER_VALUES } from '../../lambda/shared/routing-config';

const TTL_MS = 10_000;
const LONG_WAIT_MS = 60_000;

/** A parameter store whose reads each wait for the test to answer or fail them. */
class GatedStore {
  values: Record<string, string> = { ...DEFAULT_PARAMETER_VALUES };
  readonly pending: { answer: () => void; fail: (error: Error) => void }[] = [];
  reads = 0;

  getMultiple = (): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      this.reads += 1;
      const snapshot = { ...this.values };
      this.pending.push({ answer: () => resolve(snapshot), fail: reject });
    });

  /** Answers the oldest read in flight with the values it was asked at. */
  async answer(): Promise<void> {
    this.pending.shift()!.answer();
    await settle();
  }

  async fail(error = Object.assign(new Error('injected'), { name: 'ThrottlingException' })): Promise<void> {
    this.pending.shift()!.fail(error);
    await settle();
  }
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

function setup() {
  const store = new GatedStore();
  let now = 1_000_000;
  const errors: string[] = [];
  const problems: (readonly string[])[] = [];
  const source = new ConfigSource({
    provider: store,
    path: '/hybrid-routing/test',
    ttlSeconds: TTL_MS / 1000,
    clock: () => now,
    onReadError: (error, origin) => errors.push(`${(error as Error).name} ${origin}`),
    onProblems: (found) => problems.push(found),
  });
  /** A first read that worked, at the current time. */
  const prime = async () => {
    const first = source.current(LONG_WAIT_MS);
    await store.answer();
    return first;
  };
  return { store, source, errors, problems, prime, advance: (ms: number) => (now += ms), now: () => now };
}

describe('ConfigSource', () => {
  it('waits for the first read, then serves the copy without reading until half the TTL', async () => {
    const { store, source, prime, advance } = setup();
    store.values['traffic/percentage'] = '25';
    const first = await prime();
    expect(first).toMatchObject({ origin: 'store', config: { trafficPercentage: 25 }, problems: [] });
    advance(TTL_MS / 2 - 1);
    expect(await source.current(LONG_WAIT_MS)).toMatchObject({ origin: 'store', config: { trafficPercentage: 25 } });
    expect(store.reads).toBe(1);
  });

  it('from half the TTL, starts one background read and answers from the copy at once', async () => {
    const { store, source, prime, advance } = setup();
    await prime();
    store.values['traffic/percentage'] = '75';
    advance(TTL_MS / 2);
    // The read stays unanswered: the request must not wait for it.
    expect(await source.current(LONG_WAIT_MS)).toMatchObject({ origin: 'store', config: { trafficPercentage: 0 } });
    advance(1_000);
    expect(await source.current(LONG_WAIT_MS)).toMatchObject({ origin: 'store', config: { trafficPercentage: 0 } });
    expect(store.reads).toBe(2);

    await store.answer();
    expect(await source.current(LONG_WAIT_MS)).toMatchObject({ origin: 'store', config: { trafficPercentage: 75 } });
    expect(store.reads).toBe(2);
  });

  it('serves the copy until the TTL ends, and no longer once SSM is slow', async () => {
    const { store, source, prime, advance } = setup();
    const first = await prime();
    advance(TTL_MS - 1);
    expect(await source.current(5)).toMatchObject({ origin: 'store', readAt: first.readAt });
    advance(1);
    // The background read is still unanswered: the request waits its 5 ms, then serves the old copy as such.
    expect(await source.current(5)).toMatchObject({ origin: 'last-good', readAt: first.readAt });
    expect(store.reads).toBe(2);
  });

  it('after the TTL, waits for the read when it comes within the wait', async () => {
    const { store, source, prime, advance } = setup();
    await prime();
    store.values['feature-flags/hybrid-routing'] = 'true';
    advance(TTL_MS + 1);
    const pending = source.current(LONG_WAIT_MS);
    await store.answer();
    expect(await pending).toMatchObject({ origin: 'store', config: { hybridEnabled: true } });
  });

  it('counts the age of a copy from the start of its read', async () => {
    const { store, source, prime, advance } = setup();
    await prime();
    advance(TTL_MS / 2);
    await source.current(0);
    advance(3_000);
    await store.answer();
    // Started 3 s ago: at TTL/2 - 3 s from now it is half a TTL old, so the next read is due then.
    advance(TTL_MS / 2 - 3_000 - 1);
    await source.current(0);
    expect(store.reads).toBe(2);
    advance(1);
    await source.current(0);
    expect(store.reads).toBe(3);
  });

  it('serves the control path in time when SSM never answers the first read', async () => {
    const { store, source } = setup();
    expect(await source.current(5)).toEqual({ config: CONTROL_CONFIG, origin: 'control-default', readAt: undefined, problems: [] });
    expect(await source.current(5)).toMatchObject({ origin: 'control-default' });
    // Single flight: the second request waited for the same read.
    expect(store.reads).toBe(1);
  });

  it('keeps the copy after a failed read and retries after half the TTL, not before', async () => {
    const { store, source, errors, prime, advance } = setup();
    await prime();
    advance(TTL_MS);
    const during = source.current(LONG_WAIT_MS);
    await store.fail();
    expect(await during).toMatchObject({ origin: 'last-good' });
    expect(errors).toEqual(['ThrottlingException last-good']);

    advance(TTL_MS / 2 - 1);
    expect(await source.current(LONG_WAIT_MS)).toMatchObject({ origin: 'last-good' });
    expect(store.reads).toBe(2);
    advance(1);
    const retried = source.current(LONG_WAIT_MS);
    await store.answer();
    expect(await retried).toMatchObject({ origin: 'store' });
    expect(store.reads).toBe(3);
  });

  it('serves the control path after a failed first read, and retries after the back-off', async () => {
    const { store, source, errors, advance } = setup();
    const first = source.current(LONG_WAIT_MS);
    await store.fail();
    expect(await first).toMatchObject({ origin: 'control-default', config: CONTROL_CONFIG });
    expect(errors).toEqual(['ThrottlingException control-default']);
    advance(TTL_MS / 2);
    const second = source.current(LONG_WAIT_MS);
    await store.answer();
    expect(await second).toMatchObject({ origin: 'store' });
  });

  it('does not back off for a read that failed between invocations, as after a Lambda freeze', async () => {
    const { store, source, prime, advance } = setup();
    await prime();
    advance(TTL_MS / 2);
    await source.current(0);
    source.idle();
    // The thaw: the read's timeout fires before the next invocation starts.
    advance(TTL_MS);
    await store.fail(Object.assign(new Error('timed out'), { name: 'TimeoutError' }));
    const next = source.current(LONG_WAIT_MS);
    await store.answer();
    expect(await next).toMatchObject({ origin: 'store' });
    expect(store.reads).toBe(3);
  });

  it('reports problems once per read that finds them', async () => {
    const { store, source, problems, prime, advance } = setup();
    delete store.values['rollback/state'];
    const first = await prime();
    expect(first.config.rollback.active).toBe(true);
    expect(first.problems).toEqual(['rollback/state is missing; reading it as an active latch (control path)']);
    await source.current(0);
    expect(problems).toHaveLength(1);
    advance(TTL_MS);
    const second = source.current(LONG_WAIT_MS);
    await store.answer();
    await second;
    expect(problems).toEqual([first.problems, first.problems]);
  });

  it('answers the configuration in use without reading, for decisions made before the read', async () => {
    const { store, source, prime } = setup();
    expect(source.latest()).toBe(CONTROL_CONFIG);
    store.values['routing/mode'] = 'force-mcp';
    await prime();
    expect(source.latest().mode).toBe('force-mcp');
    expect(store.reads).toBe(1);
  });

  it('refuses a TTL that is not a whole number of seconds', () => {
    expect(() => new ConfigSource({ provider: new GatedStore(), path: '/p', ttlSeconds: 0.5 })).toThrow('ttlSeconds must be a whole number');
  });
});
