import { createHash } from 'node:crypto';
import { COHORT_BUCKETS, CohortAssigner } from '../../lambda/core/cohort';

const cohorts = new CohortAssigner();
const keys = Array.from({ length: 100_000 }, (_, i) => `caller-${i}`);

describe('CohortAssigner', () => {
  it.each([
    ['tenant-42', 7516],
    ['arn:aws:iam::123456789012:user/alice', 1589],
    ['a', 88],
    ['', 3579],
    ['tenant-1', 3163],
    ['tenant-2', 1326],
    ['ünïcødé', 7684],
    ['x'.repeat(128), 6134],
  ])('pins the bucket of %j to %i', (key, bucket) => {
    expect(cohorts.bucketOf(key)).toBe(bucket);
  });

  it('derives the bucket from the first 32 bits of SHA-256 over the salted key', () => {
    const digest = createHash('sha256').update('hybrid-routing/cohort/v1:tenant-42').digest();
    expect(Math.floor((digest.readUInt32BE(0) / 2 ** 32) * COHORT_BUCKETS)).toBe(cohorts.bucketOf('tenant-42'));
  });

  it.each([5, 25, 75])('puts %i%% of 100 000 callers in the hybrid cohort, within 0.5 points', (percentage) => {
    const share = (keys.filter((k) => cohorts.isHybrid(k, percentage)).length / keys.length) * 100;
    expect(Math.abs(share - percentage)).toBeLessThanOrEqual(0.5);
  });

  it('only adds callers as the percentage rises: 5% ⊂ 25% ⊂ 75% ⊂ 100%', () => {
    const steps = [5, 25, 75, 100];
    for (let i = 1; i < steps.length; i += 1) {
      const lower = steps[i - 1]!;
      const higher = steps[i]!;
      const dropped = keys.filter((k) => cohorts.isHybrid(k, lower) && !cohorts.isHybrid(k, higher));
      expect(dropped).toEqual([]);
    }
  });

  it('puts nobody in at 0% and everybody in at 100%', () => {
    expect(keys.some((k) => cohorts.isHybrid(k, 0))).toBe(false);
    expect(keys.every((k) => cohorts.isHybrid(k, 100))).toBe(true);
  });
});
