/**
 * The statistics the ramp's gates judge with (DESIGN §10), in plain code: one-sided 95 % bounds
 * on a proportion (Wilson score) and a one-sided exact test of two proportions (Fisher). Nothing
 * here knows about CloudWatch; every input is a count.
 */

/** The one-sided 95 % quantile of the standard normal distribution. */
export const Z_95_ONE_SIDED = 1.6448536269514722;

/** The significance level of every one-sided test: 5 %. */
export const ALPHA = 0.05;

export interface Bounds {
  /** The observed proportion. */
  readonly estimate: number;
  /** One-sided 95 % lower bound: the true proportion is above it with 95 % confidence. */
  readonly lower: number;
  /** One-sided 95 % upper bound. */
  readonly upper: number;
}

/**
 * Wilson score bounds of `successes` out of `trials`, each one-sided at 95 %. Unlike the normal
 * approximation they stay inside [0, 1] and behave at small counts and at 0 % or 100 %.
 */
export function wilsonBounds(successes: number, trials: number, z = Z_95_ONE_SIDED): Bounds {
  assertCounts(successes, trials);
  if (trials === 0) return { estimate: 0, lower: 0, upper: 1 };
  const p = successes / trials;
  const z2 = z * z;
  const denominator = 1 + z2 / trials;
  const centre = (p + z2 / (2 * trials)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials))) / denominator;
  // At 0 % and 100 % the bound on that side is exact; rounding would put it a hair inside.
  return { estimate: p, lower: successes === 0 ? 0 : Math.max(0, centre - half), upper: successes === trials ? 1 : Math.min(1, centre + half) };
}

/**
 * One-sided p-value of Fisher's exact test that the first proportion (`x1` of `n1`) is greater than
 * the second (`x2` of `n2`): the probability, with the margins fixed, of the first group holding
 * `x1` or more of the `x1 + x2` events if both came from one rate. Exact at any count, so a single
 * error among few requests is never "significant" by an approximation's accident.
 */
export function fisherGreaterPValue(x1: number, n1: number, x2: number, n2: number): number {
  assertCounts(x1, n1);
  assertCounts(x2, n2);
  const total = n1 + n2;
  const events = x1 + x2;
  if (events === 0 || n1 === 0 || n2 === 0) return 1;
  const high = Math.min(events, n1);
  const low = Math.max(0, events - n2);
  if (x1 <= low) return 1;
  const logDenominator = logChoose(total, n1);
  let p = 0;
  for (let k = x1; k <= high; k += 1) {
    const term = Math.exp(logChoose(events, k) + logChoose(total - events, n1 - k) - logDenominator);
    p += term;
    // Past the mode the terms only shrink; stop once they no longer change the sum.
    if (term < p * 1e-17) break;
  }
  return Math.min(1, p);
}

function assertCounts(successes: number, trials: number): void {
  if (!Number.isInteger(successes) || !Number.isInteger(trials) || successes < 0 || trials < 0 || successes > trials) {
    throw new RangeError(`counts must be integers with 0 <= successes <= trials, got ${successes} of ${trials}`);
  }
}

function logChoose(n: number, k: number): number {
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);
}

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 7): relative error near 1e-15, enough for tail sums of counts. */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const shifted = x - 1;
  let sum = LANCZOS[0]!;
  for (let i = 1; i < LANCZOS.length; i += 1) sum += LANCZOS[i]! / (shifted + i);
  const t = shifted + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (shifted + 0.5) * Math.log(t) - t + Math.log(sum);
}
