import { createHash } from 'node:crypto';

/** Number of buckets callers are spread over; 10 000 gives the percentage two decimal places. */
export const COHORT_BUCKETS = 10_000;

const SALT = 'hybrid-routing/cohort/v1:';

/**
 * Maps routing keys to stable buckets. A caller is in the hybrid cohort when its bucket is below
 * `percentage × 100`, so raising the percentage only ever adds callers. The hash is SHA-256 of a
 * salted key; changing it reshuffles every caller, which is why test vectors pin it.
 */
export class CohortAssigner {
  bucketOf(routingKey: string): number {
    const digest = createHash('sha256').update(SALT + routingKey, 'utf8').digest();
    return Math.floor((digest.readUInt32BE(0) / 0x1_0000_0000) * COHORT_BUCKETS);
  }

  isHybrid(routingKey: string, percentage: number): boolean {
    if (percentage <= 0) return false;
    if (percentage >= 100) return true;
    return this.bucketOf(routingKey) < Math.round(percentage * (COHORT_BUCKETS / 100));
  }
}
