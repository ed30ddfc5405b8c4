/** Order statistics the probe relies on: medians, not means, because one preempted read must not move a point. */

/** The median of `values[0, length)`; sorts a copy. NaN for an empty input. */
export function median(values: ArrayLike<number>, length = values.length): number {
  if (length === 0) return NaN;
  const sorted = Float64Array.from({ length }, (_, i) => values[i]).sort();
  const mid = length >> 1;
  return length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The mean of `values[0, length)`. */
export function mean(values: ArrayLike<number>, length = values.length): number {
  let sum = 0;
  for (let i = 0; i < length; i++) sum += values[i];
  return length === 0 ? NaN : sum / length;
}

/** Sum of absolute deviations from the median: the cost of one segment in an L1 step fit. */
export function absoluteDeviation(values: number[]): { median: number; cost: number } {
  const m = median(values);
  let cost = 0;
  for (const v of values) cost += Math.abs(v - m);
  return { median: m, cost };
}
