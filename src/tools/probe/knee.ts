/**
 * Where the curve steps up: the knee of "time per block against p".
 *
 * Input: for each p (in blocks) the per-block times of its samples. Below the
 * cache size a re-read hits, above it misses, so the medians step up. There
 * may be more than one step: hits themselves slow down when p outgrows a CPU
 * cache, and a cache in front or behind adds its own. The estimate:
 *
 *   1. Binary segmentation of log(median): fit one step to a run of points
 *      (sorted by p) by least absolute deviations -- the split minimising the
 *      summed |log t - segment median| -- and keep it when the right median is
 *      at least `minRatio` times the left one; recurse into both halves. L1 in
 *      log space, so one wild point moves no level and makes no step.
 *   2. Each kept split is a candidate knee between the levels (segment
 *      medians) on either side. The knee is the candidate whose upper level is
 *      nearest (in log) to `missNs`, a calibrated miss of the cache under test,
 *      when given; otherwise the candidate with the largest ratio.
 *   3. The threshold is the geometric midpoint of the knee's two levels. A
 *      point is fast or slow by its median; it is *sure* when at least
 *      AGREEMENT_MIN of its samples fall on the same side.
 *   4. A point that contradicts sure neighbours on both sides (fast between two
 *      slow ones or the reverse; at the ends, the two nearest) is an outlier:
 *      under LRU the curve is monotone, so the lone point is the wrong one.
 *   5. low = the largest surely-fast p below every slow point; high = the
 *      smallest surely-slow p above every fast point. Unsure points and any
 *      non-monotone stretch fall inside (low, high), so the interval widens
 *      instead of lying. The estimate is its middle.
 *
 * Pure and synchronous: tested on synthetic data (test/06-probe/knee.test.ts).
 */
import { absoluteDeviation, median } from './stats';

/** A point is sure when this share of its samples agree with its median's side. */
export const AGREEMENT_MIN = 0.75;

export interface KneeInput {
  /** p, the number of blocks read per pass. */
  blocks: number;
  /** Per-block time of each sample at this p (ns). */
  values: number[];
}

export interface KneeOptions {
  /** The smallest slow/fast ratio accepted as a step. */
  minRatio: number;
  /** A calibrated miss time (ns): picks the step into the level of misses when the curve has several. */
  missNs?: number;
}

export type Side = 'fast' | 'slow';

export interface ClassifiedPoint {
  blocks: number;
  medianNs: number;
  /** null when no step was found (no threshold to classify against). */
  side: Side | null;
  /** Share of samples on the median's side of the threshold. */
  agreement: number;
  sure: boolean;
  outlier: boolean;
}

export interface KneeEstimate {
  found: boolean;
  /** Why no knee was found; null when found. */
  reason: string | null;
  fastNs: number | null;
  slowNs: number | null;
  thresholdNs: number | null;
  /** slowNs / fastNs. */
  ratio: number | null;
  /** Last surely-fast p (blocks). */
  low: number | null;
  /** First surely-slow p (blocks). */
  high: number | null;
  /** (low + high) / 2, in blocks. */
  estimate: number | null;
  /** The input points sorted by p, each classified. */
  points: ClassifiedPoint[];
  /** p of the points set aside as outliers. */
  outliers: number[];
  /** Every step found, as [last p below, first p above, ratio]; the knee is one of them. */
  steps: Array<[number, number, number]>;
}

interface Step {
  split: number;
  fastLog: number;
  slowLog: number;
}

/** The L1-optimal split of `logs` into a lower left and a higher right segment; null if none rises. */
function fitStep(logs: number[]): Step | null {
  let best: Step | null = null;
  let bestCost = Infinity;
  for (let k = 1; k < logs.length; k++) {
    const left = absoluteDeviation(logs.slice(0, k));
    const right = absoluteDeviation(logs.slice(k));
    if (right.median <= left.median) continue;
    const cost = left.cost + right.cost;
    // Ties: prefer the larger step, then the earlier split.
    if (cost < bestCost - 1e-12 || (Math.abs(cost - bestCost) <= 1e-12 && best && right.median - left.median > best.slowLog - best.fastLog)) {
      bestCost = cost;
      best = { split: k, fastLog: left.median, slowLog: right.median };
    }
  }
  return best;
}

/** Binary segmentation: the split indices of every step of at least `minLog`, ascending. */
function segment(logs: number[], minLog: number): number[] {
  const splits: number[] = [];
  const runs: Array<[number, number]> = [[0, logs.length]];
  // Each accepted split makes two shorter runs, so at most logs.length runs are ever examined.
  for (let guard = 0; runs.length > 0 && guard < 2 * logs.length; guard++) {
    const [from, to] = runs.pop()!;
    if (to - from < 2) continue;
    const step = fitStep(logs.slice(from, to));
    if (!step || step.slowLog - step.fastLog < minLog) continue;
    splits.push(from + step.split);
    runs.push([from, from + step.split], [from + step.split, to]);
  }
  return splits.sort((a, b) => a - b);
}

/** The steps between adjacent segments, re-measured on the final segments; those still high enough. */
function candidates(logs: number[], splits: number[], minLog: number): Step[] {
  const bounds = [0, ...splits, logs.length];
  const level = (i: number) => absoluteDeviation(logs.slice(bounds[i], bounds[i + 1])).median;
  const out: Step[] = [];
  for (let i = 1; i < bounds.length - 1; i++) {
    const fastLog = level(i - 1);
    const slowLog = level(i);
    if (slowLog - fastLog >= minLog) out.push({ split: bounds[i], fastLog, slowLog });
  }
  return out;
}

function choose(steps: Step[], missNs: number | undefined): Step {
  if (missNs !== undefined && missNs > 0) {
    const target = Math.log(missNs);
    return steps.reduce((a, b) => (Math.abs(b.slowLog - target) < Math.abs(a.slowLog - target) ? b : a));
  }
  return steps.reduce((a, b) => (b.slowLog - b.fastLog > a.slowLog - a.fastLog ? b : a));
}

function classify(p: KneeInput, medianNs: number, threshold: number): ClassifiedPoint {
  const side: Side = medianNs < threshold ? 'fast' : 'slow';
  const agreeing = p.values.filter((v) => (v < threshold ? 'fast' : 'slow') === side).length;
  const agreement = p.values.length === 0 ? 0 : agreeing / p.values.length;
  return { blocks: p.blocks, medianNs, side, agreement, sure: agreement >= AGREEMENT_MIN, outlier: false };
}

/** Marks lone contradictions (see step 4 above). */
function markOutliers(points: ClassifiedPoint[]): void {
  const n = points.length;
  if (n < 3) return;
  const sureSide = (i: number) => (points[i].sure ? points[i].side : null);
  for (let i = 0; i < n; i++) {
    const side = points[i].side;
    let neighbours: number[];
    if (i === 0) neighbours = side === 'slow' ? [1, 2] : [];
    else if (i === n - 1) neighbours = side === 'fast' ? [n - 2, n - 3] : [];
    else neighbours = [i - 1, i + 1];
    if (neighbours.length === 0) continue;
    const other = sureSide(neighbours[0]);
    if (other !== null && other !== side && neighbours.every((j) => sureSide(j) === other)) points[i].outlier = true;
  }
}

function notFound(reason: string, points: ClassifiedPoint[], steps: KneeEstimate['steps'] = [],
  step?: { fast: number; slow: number; threshold: number }): KneeEstimate {
  return {
    found: false, reason, fastNs: step?.fast ?? null, slowNs: step?.slow ?? null, thresholdNs: step?.threshold ?? null,
    ratio: step ? step.slow / step.fast : null, low: null, high: null, estimate: null, points,
    outliers: points.filter((p) => p.outlier).map((p) => p.blocks), steps,
  };
}

export function estimateKnee(input: readonly KneeInput[], options: KneeOptions): KneeEstimate {
  const sorted = input.filter((p) => p.values.length > 0).sort((a, b) => a.blocks - b.blocks);
  const medians = sorted.map((p) => median(p.values));
  const unclassified = sorted.map((p, i): ClassifiedPoint => ({
    blocks: p.blocks, medianNs: medians[i], side: null, agreement: 0, sure: false, outlier: false,
  }));
  if (sorted.length < 2) return notFound('fewer than two points measured', unclassified);
  if (medians.some((m) => !(m > 0))) return notFound('a point has a non-positive time', unclassified);
  const logs = medians.map(Math.log);
  const minLog = Math.log(options.minRatio);
  const found = candidates(logs, segment(logs, minLog), minLog);
  if (found.length === 0) {
    const largest = fitStep(logs);
    const ratio = largest ? Math.exp(largest.slowLog - largest.fastLog) : 1;
    return notFound(
      `no step of x${options.minRatio} or more in the time per block (the largest is x${ratio.toFixed(2)}): ` +
        'every p hits, every p misses, or noise hides the knee',
      unclassified,
    );
  }
  const steps: KneeEstimate['steps'] = found.map((c) => [sorted[c.split - 1].blocks, sorted[c.split].blocks, Math.exp(c.slowLog - c.fastLog)]);
  const step = choose(found, options.missNs);
  const fast = Math.exp(step.fastLog);
  const slow = Math.exp(step.slowLog);
  const threshold = Math.exp((step.fastLog + step.slowLog) / 2);
  const levels = { fast, slow, threshold };
  const points = sorted.map((p, i) => classify(p, medians[i], threshold));
  markOutliers(points);
  const kept = points.filter((p) => !p.outlier);
  const firstSlow = Math.min(...kept.filter((p) => p.side === 'slow').map((p) => p.blocks));
  const lastFast = Math.max(...kept.filter((p) => p.side === 'fast').map((p) => p.blocks));
  const lows = kept.filter((p) => p.side === 'fast' && p.sure && p.blocks < firstSlow).map((p) => p.blocks);
  const highs = kept.filter((p) => p.side === 'slow' && p.sure && p.blocks > lastFast).map((p) => p.blocks);
  if (lows.length === 0) {
    return notFound('no surely fast point below the step: the cache may be smaller than the smallest p', points, steps, levels);
  }
  if (highs.length === 0) {
    return notFound('no surely slow point above the step: the cache may be larger than the largest p', points, steps, levels);
  }
  const low = Math.max(...lows);
  const high = Math.min(...highs);
  return {
    found: true, reason: null, fastNs: fast, slowNs: slow, thresholdNs: threshold, ratio: slow / fast,
    low, high, estimate: (low + high) / 2, points, outliers: points.filter((p) => p.outlier).map((p) => p.blocks), steps,
  };
}
