/**
 * The sweep: a coarse pass over p (geometric or linear) that stops once the
 * knee is clearly passed, then a refinement that bisects between the last
 * surely-fast and the first surely-slow p until the bracket is narrower than
 * `resolution` (relative). Refinement spends its measurements where the
 * answer is decided instead of on a fine global grid, which is what keeps the
 * estimate within a few per cent on a noisy machine.
 *
 * Every loop is bounded: the grid by its length, refinement by
 * REFINE_STEPS_MAX, samples per point by passesMax.
 */
import { estimateKnee, type KneeEstimate } from './knee';
import { type Calibration, type Sample, Sampler, warmUpAndCalibrate } from './measure';
import type { Settings } from './options';
import { median } from './stats';
import type { ProbeTarget } from './target';

/** Refinement measurements at most (each one point or one re-measure). */
export const REFINE_STEPS_MAX = 64;
/** Coarse points past the knee, clearly slow, before the coarse pass stops. */
const SLOW_POINTS_TO_STOP = 2;

export type Phase = 'sweep' | 'refine';

export interface MeasuredPoint {
  blocks: number;
  samples: Sample[];
  phase: Phase;
}

export interface SweepProgress {
  phase: 'calibrate' | Phase;
  /** Measurements done and (an estimate of) the total. */
  done: number;
  total: number;
  /** The p being measured (blocks), 0 while calibrating. */
  blocks: number;
  blockBytes: number;
  /** The current bracket (blocks), when there is one. */
  low: number | null;
  high: number | null;
}

export interface SweepOutcome {
  points: MeasuredPoint[];
  knee: KneeEstimate;
  calibration: Calibration;
  /** The coarse pass ended before max because the knee was clearly passed (or min was already past it). */
  stoppedEarly: boolean;
  notes: string[];
}

/** The coarse grid of p, in blocks, from min to max inclusive. */
export function coarseGrid(s: Pick<Settings, 'minBlocks' | 'maxBlocks' | 'scale' | 'step'>): number[] {
  const grid: number[] = [];
  for (let p = s.minBlocks; p < s.maxBlocks; ) {
    grid.push(p);
    p = s.scale === 'geometric' ? Math.max(p + 1, Math.round(p * s.step)) : p + s.step;
  }
  grid.push(s.maxBlocks);
  return grid;
}

/** Bisection steps expected to take a bracket of `ratio` (high/low - 1) down to `resolution`. */
function bisections(ratio: number, resolution: number): number {
  return Math.max(1, Math.ceil(Math.log2(Math.max(2, ratio / resolution)))) + 2;
}

const yieldToLoop = () => new Promise<void>((done) => setImmediate(done));

export async function runSweep(target: ProbeTarget, s: Settings, onProgress?: (p: SweepProgress) => void): Promise<SweepOutcome> {
  const sampler = new Sampler(target, s.sampleBlocks);
  const points = new Map<number, MeasuredPoint>();
  const notes: string[] = [];
  const grid = coarseGrid(s);
  const firstRatio = s.scale === 'geometric' ? s.step - 1 : s.step / s.minBlocks;
  let total = grid.length + bisections(firstRatio, s.resolution);
  let done = 0;
  let bracket: { low: number | null; high: number | null } = { low: null, high: null };
  const report = (phase: SweepProgress['phase'], blocks: number) =>
    onProgress?.({ phase, done, total: Math.max(total, done + 1), blocks, blockBytes: s.blockBytes, ...bracket });

  report('calibrate', 0);
  const calibration = warmUpAndCalibrate(target, sampler, s.minBlocks, s.maxBlocks);
  // A point is miss-like when its median is within sqrt(minRatio) of a calibrated miss.
  // Only miss-like points stop the coarse pass: a slower level of *hits* (p outgrowing
  // a CPU cache) is a step too, and stopping there would never reach the knee.
  const anchored = calibration.missNs / calibration.hitNs >= s.minRatio;
  const missLikeNs = calibration.missNs / Math.sqrt(s.minRatio);
  if (!anchored) {
    notes.push(`calibration found no hit/miss gap (hit ${calibration.hitNs.toFixed(0)} ns, miss ${calibration.missNs.toFixed(0)} ns): ` +
      'the cache is smaller than min, or these reads are not cached at all; the coarse pass ran to max without stopping early');
  }

  const measure = async (blocks: number, phase: Phase) => {
    report(phase, blocks);
    let point = points.get(blocks);
    if (!point) points.set(blocks, (point = { blocks, samples: [], phase }));
    for (let i = 0; i < s.passes && point.samples.length < s.passesMax; i++) {
      point.samples.push(sampler.sample(blocks));
      await yieldToLoop();
    }
    done++;
  };
  const estimate = () =>
    estimateKnee([...points.values()].map((p) => ({ blocks: p.blocks, values: p.samples.map((x) => x.perBlockNs) })),
      { minRatio: s.minRatio, missNs: anchored ? calibration.missNs : undefined });
  const missLike = (blocks: number) => anchored && median(points.get(blocks)!.samples.map((x) => x.perBlockNs)) >= missLikeNs;

  // Coarse pass.
  let stoppedEarly = false;
  for (let i = 0; i < grid.length; i++) {
    await measure(grid[i], 'sweep');
    const est = estimate();
    if (!est.found) continue;
    bracket = { low: est.low, high: est.high };
    const past = est.points.filter((p) => p.blocks >= est.high! && p.side === 'slow' && p.sure && !p.outlier && missLike(p.blocks));
    if (past.length >= SLOW_POINTS_TO_STOP) {
      stoppedEarly = i < grid.length - 1;
      break;
    }
  }

  // Refinement.
  let knee = estimate();
  for (let steps = 0; steps < REFINE_STEPS_MAX; steps++) {
    const canGrow = (blocks: number) => points.get(blocks)!.samples.length < s.passesMax;
    if (!knee.found) {
      // A step without a sure point on one side: more samples of the unsure points may settle it.
      const unsure = knee.points.find((p) => p.side !== null && !p.sure && canGrow(p.blocks));
      if (unsure === undefined) break;
      await measure(unsure.blocks, 'refine');
      knee = estimate();
      continue;
    }
    const low = knee.low!;
    const high = knee.high!;
    bracket = { low, high };
    total = done + bisections(high / low - 1, s.resolution);
    // 1. A lone contradiction is re-measured before it is believed or dismissed.
    const outlier = knee.outliers.find(canGrow);
    // 2. Points inside the bracket are unsure or out of order: more samples decide them.
    const inside = knee.points.filter((p) => !p.outlier && p.blocks > low && p.blocks < high).map((p) => p.blocks);
    const middle = (low + high) / 2;
    const undecided = inside.filter(canGrow).sort((a, b) => Math.abs(a - middle) - Math.abs(b - middle))[0];
    if (outlier !== undefined || undecided !== undefined) {
      await measure(outlier ?? undecided!, 'refine');
    } else if (inside.length > 0) {
      notes.push(`points inside the bracket stay ambiguous after ${s.passesMax} samples: the bracket cannot narrow further`);
      break;
    } else if (high - low > Math.max(1, Math.floor(s.resolution * low))) {
      await measure(Math.floor((low + high) / 2), 'refine');
    } else {
      // Narrow enough. Both ends get a second helping of samples before the answer stands.
      const verify = [low, high].find((b) => points.get(b)!.samples.length < Math.min(s.passesMax, 2 * s.passes));
      if (verify === undefined) break;
      await measure(verify, 'refine');
    }
    knee = estimate();
  }
  if (knee.found && knee.high! - knee.low! > Math.max(1, Math.floor(s.resolution * knee.low!)) && !notes.some((n) => n.startsWith('points inside'))) {
    notes.push(`refinement stopped after ${REFINE_STEPS_MAX} steps with the bracket wider than the resolution`);
  }
  return { points: [...points.values()].sort((a, b) => a.blocks - b.blocks), knee, calibration, stoppedEarly, notes };
}
