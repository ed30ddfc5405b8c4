/** The knee estimator on synthetic curves: clean, noisy, with outliers, with a second (smaller) step, and without a knee. */
import { describe, expect, it } from 'vitest';
import { estimateKnee, type KneeInput } from '../../src/tools/probe/knee';
import { rng } from '../helpers';

/** A normal deviate (Box-Muller). */
function gauss(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

/** An LRU curve: hit below or at `capacity`, miss above, each sample with log-normal noise of `sigma`. */
function curve(ps: number[], capacity: number, opts: { hit?: number; miss?: number; sigma?: number; samples?: number; seed?: number } = {}): KneeInput[] {
  const { hit = 400, miss = 2500, sigma = 0, samples = 3, seed = 1 } = opts;
  const r = rng(seed);
  return ps.map((blocks) => ({
    blocks,
    values: Array.from({ length: samples }, () => (blocks <= capacity ? hit : miss) * Math.exp(sigma * gauss(r))),
  }));
}

const geometric = (from: number, to: number) => {
  const out: number[] = [];
  for (let p = from; p <= to; p *= 2) out.push(p);
  return out;
};

describe('estimateKnee', () => {
  it('brackets a clean step between the last fast and the first slow p', () => {
    const k = estimateKnee(curve([100, 200, 400, 800, 1600, 3200], 1000), { minRatio: 2 });
    expect(k.found).toBe(true);
    expect(k.low).toBe(800);
    expect(k.high).toBe(1600);
    expect(k.estimate).toBe(1200);
    expect(k.fastNs).toBeCloseTo(400);
    expect(k.slowNs).toBeCloseTo(2500);
    expect(k.thresholdNs).toBeCloseTo(Math.sqrt(400 * 2500));
    expect(k.points.map((p) => p.side)).toEqual(['fast', 'fast', 'fast', 'fast', 'slow', 'slow']);
  });

  it('ignores the order of its input', () => {
    const pts = curve([100, 200, 400, 800, 1600, 3200], 1000);
    const k = estimateKnee([...pts].reverse(), { minRatio: 2 });
    expect([k.low, k.high]).toEqual([800, 1600]);
  });

  it('keeps the true capacity inside [low, high) under log-normal noise, over many seeds', () => {
    const ps = [...geometric(64, 8192), 1500, 1700, 1800, 1850, 1900, 2000, 2100];
    for (let seed = 1; seed <= 200; seed++) {
      const capacity = 1870;
      const k = estimateKnee(curve(ps, capacity, { sigma: 0.25, seed }), { minRatio: 2 });
      expect(k.found, `seed ${seed}`).toBe(true);
      expect(k.low!, `seed ${seed}`).toBeLessThanOrEqual(capacity);
      expect(k.high!, `seed ${seed}`).toBeGreaterThan(capacity);
    }
  });

  it('sets aside a lone slow point among fast ones, and a lone fast point among slow ones', () => {
    const pts = curve([100, 200, 400, 800, 1600, 3200, 6400, 12800], 1000);
    pts[1].values = [9000, 9500, 8800]; // 200: a burst of interference during all three samples
    pts[6].values = [410, 390, 400]; // 6400: impossible under LRU
    const k = estimateKnee(pts, { minRatio: 2 });
    expect(k.found).toBe(true);
    expect(k.outliers).toEqual([200, 6400]);
    expect([k.low, k.high]).toEqual([800, 1600]);
  });

  it('treats a slow first point (a cold JIT, say) as an outlier, not as "the cache is smaller than min"', () => {
    const pts = curve([100, 200, 400, 800, 1600, 3200], 1000);
    pts[0].values = [3000, 3100, 2900];
    const k = estimateKnee(pts, { minRatio: 2 });
    expect(k.outliers).toEqual([100]);
    expect([k.low, k.high]).toEqual([800, 1600]);
  });

  it('widens the bracket over points whose samples disagree', () => {
    const pts = curve([100, 200, 400, 800, 1000, 1200, 1600], 1100);
    pts[4].values = [400, 2500, 2500, 400]; // 1000: half its samples slow
    const k = estimateKnee(pts, { minRatio: 2 });
    expect(k.found).toBe(true);
    const at1000 = k.points.find((p) => p.blocks === 1000)!;
    expect(at1000.sure).toBe(false);
    expect(at1000.side).toBe('slow');
    expect([k.low, k.high]).toEqual([800, 1200]);
  });

  it('widens the bracket over a stretch out of order (no lone outlier to set aside)', () => {
    const ps = [100, 200, 300, 400, 500, 600, 700, 800];
    const slow = new Set([300, 400, 700, 800]); // 500 and 600 fast again: two of them, so neither is a lone contradiction
    const k = estimateKnee(ps.map((blocks) => ({ blocks, values: [slow.has(blocks) ? 2500 : 400] })), { minRatio: 2 });
    expect(k.found).toBe(true);
    expect(k.outliers).toEqual([]);
    expect([k.low, k.high]).toEqual([200, 700]);
  });

  it('takes the large step when a smaller one (a CPU cache level) lies below it', () => {
    const ps = geometric(16, 16384);
    const pts = ps.map((blocks) => ({ blocks, values: [blocks <= 2048 ? 250 : blocks <= 5000 ? 450 : 2600] }));
    const k = estimateKnee(pts, { minRatio: 2 });
    expect(k.found).toBe(true);
    expect([k.low, k.high]).toEqual([4096, 8192]);
  });

  it('with a calibrated miss, takes the step into misses, not a slower level of hits (recorded on a loaded machine)', () => {
    // A 64 MiB riocache region (capacity 14,598 blocks) probed while other processes thrashed the
    // L3 cache: from 4 MiB on, hits come from DRAM at ~3x the time of hits at small p.
    const recorded: KneeInput[] = [
      { blocks: 128, values: [271, 331, 256] },
      { blocks: 256, values: [296, 270, 261] },
      { blocks: 512, values: [296, 270, 270] },
      { blocks: 1024, values: [330, 741, 651, 937, 661, 491, 561, 641, 807] },
      { blocks: 2048, values: [691, 686, 321, 781, 731, 802] },
      { blocks: 4096, values: [501, 391, 390, 601, 1091, 1062, 971, 861, 921] },
      { blocks: 8192, values: [891, 972, 1011] },
      { blocks: 16384, values: [2704, 2995, 2504] },
      { blocks: 32768, values: [2650, 2810, 2702] },
    ];
    const blind = estimateKnee(recorded, { minRatio: 2 });
    expect(blind.steps.length).toBe(2); // both steps are seen
    const k = estimateKnee(recorded, { minRatio: 2, missNs: 2553 });
    expect(k.found).toBe(true);
    expect([k.low, k.high]).toEqual([8192, 16384]);
    expect(k.points.filter((p) => p.blocks <= 8192).every((p) => p.side === 'fast')).toBe(true);
  });

  it('with a calibrated miss, ignores a wild last point that forms a step of its own', () => {
    const pts = curve([100, 200, 400, 800, 1600, 3200], 1000);
    pts[5].values = [40_000, 38_000, 41_000];
    const k = estimateKnee(pts, { minRatio: 2, missNs: 2400 });
    expect(k.found).toBe(true);
    expect([k.low, k.high]).toEqual([800, 1600]);
    expect(k.slowNs).toBeLessThan(3000);
  });

  it('finds no knee in a flat curve, and says why', () => {
    const k = estimateKnee(curve(geometric(64, 8192), 1e9, { sigma: 0.1 }), { minRatio: 2 });
    expect(k.found).toBe(false);
    expect(k.reason).toMatch(/no step of x2/);
    expect(k.estimate).toBeNull();
  });

  it('finds no knee when every point is slow, or when the step is below minRatio', () => {
    expect(estimateKnee(curve(geometric(64, 8192), 10), { minRatio: 2 }).found).toBe(false);
    const small = estimateKnee(curve(geometric(64, 8192), 1000, { hit: 1000, miss: 1500 }), { minRatio: 2 });
    expect(small.found).toBe(false);
    expect(estimateKnee(curve(geometric(64, 8192), 1000, { hit: 1000, miss: 1500 }), { minRatio: 1.3 }).found).toBe(true);
  });

  it('reports a missing slow side: the cache may be larger than the largest p', () => {
    const pts = curve([100, 200, 400, 800], 10_000);
    pts.push({ blocks: 1600, values: [400, 2500, 2500, 400] });
    const k = estimateKnee(pts, { minRatio: 2 });
    expect(k.found).toBe(false);
    expect(k.reason).toMatch(/larger than the largest p/);
  });

  it('needs two points', () => {
    expect(estimateKnee([], { minRatio: 2 }).reason).toMatch(/fewer than two/);
    expect(estimateKnee(curve([100], 50), { minRatio: 2 }).found).toBe(false);
  });
});
