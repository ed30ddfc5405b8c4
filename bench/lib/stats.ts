/** Order statistics over samples (medians and spreads, never means of noisy runs). */

export function quantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const at = (n - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo);
}

export function sortedCopy(values: ArrayLike<number>): number[] {
  return Array.from(values).filter(Number.isFinite).sort((a, b) => a - b);
}

export function median(values: ArrayLike<number>): number {
  return quantile(sortedCopy(values), 0.5);
}

/** Median absolute deviation (unscaled). */
export function mad(values: ArrayLike<number>): number {
  const m = median(values);
  return median(Array.from(values, (v) => Math.abs(v - m)));
}

export interface Summary {
  n: number;
  median: number;
  p25: number;
  p75: number;
  min: number;
  max: number;
  mean: number;
  mad: number;
}

export function summarize(values: ArrayLike<number>): Summary {
  const s = sortedCopy(values);
  const mean = s.reduce((a, b) => a + b, 0) / Math.max(1, s.length);
  return {
    n: s.length, median: quantile(s, 0.5), p25: quantile(s, 0.25), p75: quantile(s, 0.75),
    min: s[0] ?? NaN, max: s[s.length - 1] ?? NaN, mean, mad: mad(s),
  };
}
