import { deadLetteredError, expiresAtOf, jobView, judgeTry, newJob, retryDelaySeconds } from '../../lambda/core/job';
import type { InvokeAnswer } from '../../lambda/core/invoke-answer';

const answer = { requestId: 'j', output: { text: 'ok', stopReason: 'end_turn' } } as InvokeAnswer;
const error = (code: string) => ({ code, message: `${code} happened`, details: [] });

describe('job records', () => {
  it('start queued, and show their caller neither owner nor request', () => {
    const job = newJob('id-1', 'arn:aws:iam::123456789012:user/alice', { operation: 'background', messages: [{ role: 'user', content: 'secret prompt' }] }, Date.parse('2026-11-23T10:00:00Z'));
    expect(job).toMatchObject({ status: 'queued', attempts: 0, createdAt: '2026-11-23T10:00:00.000Z' });
    expect(JSON.stringify(jobView(job))).not.toMatch(/alice|secret prompt/);
  });

  it('expire 24 hours after their last update, in epoch seconds', () => {
    expect(expiresAtOf(Date.parse('2026-11-23T10:00:00.900Z'))).toBe(Date.parse('2026-11-24T10:00:00Z') / 1000);
  });
});

describe('judgeTry', () => {
  it('records a success', () => {
    expect(judgeTry({ result: answer }, 1, 3)).toEqual({ kind: 'succeeded', result: answer });
  });

  it.each([429, 500, 503, 504])('retries a %i with backoff while receives are left, and fails on the last', (status) => {
    expect(judgeTry({ error: error('X'), status }, 1, 3)).toEqual({ kind: 'retry', error: error('X'), delaySeconds: 30 });
    expect(judgeTry({ error: error('X'), status }, 2, 3)).toEqual({ kind: 'retry', error: error('X'), delaySeconds: 60 });
    expect(judgeTry({ error: error('X'), status }, 3, 3)).toEqual({ kind: 'failed', error: error('X') });
  });

  it.each([400, 502])('fails a %i at once: another try would fail the same way', (status) => {
    expect(judgeTry({ error: error('X'), status }, 1, 3)).toEqual({ kind: 'failed', error: error('X') });
  });

  it('caps the backoff at 15 minutes', () => {
    expect([1, 2, 3, 4, 5, 6, 10].map(retryDelaySeconds)).toEqual([30, 60, 120, 240, 480, 900, 900]);
  });
});

describe('deadLetteredError', () => {
  it('says every try stopped, with the last try error when one was recorded', () => {
    const job = newJob('id', 'owner', { operation: 'background', messages: [{ role: 'user', content: 'x' }] }, 0);
    expect(deadLetteredError(job, 3)).toEqual({ code: 'InternalError', message: expect.stringContaining('on every one of 3 tries'), details: [] });
    expect(deadLetteredError({ ...job, lastError: error('Throttled') }, 3)).toEqual({ code: 'Throttled', message: 'failed on every one of 3 tries; the last error: Throttled happened', details: [] });
  });
});
