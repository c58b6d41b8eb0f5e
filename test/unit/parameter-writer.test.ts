import type { SSMClient } from '@aws-sdk/client-ssm';
import { DEADLINE_EXCEEDED, ParameterWriter } from '../../lambda/adapters/parameter-writer';

const throttled = () => Object.assign(new Error('slow down'), { name: 'ThrottlingException' });

/** An SSM client whose every PutParameter plays `answer`, recording the signal it was given. */
function clientThat(answer: (signal: AbortSignal | undefined) => Promise<unknown>) {
  const signals: (AbortSignal | undefined)[] = [];
  const client = {
    send: (_command: unknown, options?: { abortSignal?: AbortSignal }) => {
      signals.push(options?.abortSignal);
      return answer(options?.abortSignal);
    },
  } as unknown as SSMClient;
  return { client, signals };
}

describe('ParameterWriter', () => {
  it('retries throttling with backoff, up to its attempts', async () => {
    const { client, signals } = clientThat(() => Promise.reject(throttled()));
    const sleeps: number[] = [];
    const writer = new ParameterWriter(client, { attempts: 3, baseDelayMs: 100, random: () => 1, sleep: async (ms) => void sleeps.push(ms) });
    await expect(writer.put('/p', 'v', 'why')).rejects.toMatchObject({ errorName: 'ThrottlingException', message: 'writing /p failed after 3 attempt(s): ThrottlingException' });
    expect(sleeps).toEqual([100, 200]);
    expect(signals).toEqual([undefined, undefined, undefined]);
  });

  it('starts no retry that could not begin before the deadline', async () => {
    let now = 1_000;
    const { client } = clientThat(() => Promise.reject(throttled()));
    const sleeps: number[] = [];
    const writer = new ParameterWriter(client, {
      attempts: 5,
      baseDelayMs: 100,
      random: () => 1,
      now: () => now,
      sleep: async (ms) => {
        sleeps.push(ms);
        now += ms;
      },
    });
    // 100 + 200 ms of backoff fit before the deadline; the next 400 ms would pass it.
    await expect(writer.put('/p', 'v', 'why', { deadlineAt: 1_500 })).rejects.toMatchObject({ errorName: 'ThrottlingException' });
    expect(sleeps).toEqual([100, 200]);
  });

  it('aborts an attempt still running at the deadline', async () => {
    const { client } = clientThat(
      (signal) => new Promise((_, reject) => signal?.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' })))),
    );
    const writer = new ParameterWriter(client);
    await expect(writer.put('/p', 'v', 'why', { deadlineAt: Date.now() + 20 })).rejects.toMatchObject({ errorName: DEADLINE_EXCEEDED });
  });

  it('does not start after the deadline', async () => {
    const { client, signals } = clientThat(() => Promise.resolve({ Version: 1 }));
    const writer = new ParameterWriter(client, { now: () => 2_000 });
    await expect(writer.put('/p', 'v', 'why', { deadlineAt: 2_000 })).rejects.toMatchObject({ errorName: DEADLINE_EXCEEDED });
    expect(signals).toHaveLength(0);
  });
});
