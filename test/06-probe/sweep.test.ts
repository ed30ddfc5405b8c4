/**
 * The sweep and its refinement against a simulated exact-LRU cache whose
 * misses busy-wait: the capacity is known to the block, so the bracket must
 * contain it, whatever riocache or the OS do.
 */
import { describe, expect, it } from 'vitest';
import type { Settings } from '../../src/tools/probe/options';
import { coarseGrid, runSweep } from '../../src/tools/probe/sweep';
import type { ProbeTarget } from '../../src/tools/probe/target';

class SimulatedLru implements ProbeTarget {
  readonly kind = 'riocache';
  readonly blockBytes = 4096;
  readonly fillChunkBlocks = 64;
  readonly fillPasses = 1;
  private readonly cached = new Map<number, true>();
  reads = 0;
  constructor(private readonly capacity: number, private readonly missNs = 3000) {}
  coldStart(): void {}
  readRange(first: number, count: number): void {
    for (let b = first; b < first + count; b++) this.readBlock(b);
  }
  readBlock(block: number): void {
    this.reads++;
    if (this.cached.delete(block)) {
      this.cached.set(block, true); // most recently used at the end
      return;
    }
    const until = performance.now() + this.missNs / 1e6;
    while (performance.now() < until) {
      // the miss: spin
    }
    this.cached.set(block, true);
    if (this.cached.size > this.capacity) this.cached.delete(this.cached.keys().next().value!);
  }
  prepareMissCalibration(): void {}
  warmUpBlocks(): number {
    return 0;
  }
  facts() {
    return {};
  }
  close(): void {}
}

const base: Settings = {
  target: 'riocache', blockBytes: 4096, minBlocks: 16, maxBlocks: 16384, scale: 'geometric', step: 2, passes: 3, passesMax: 9,
  sampleBlocks: 256, resolution: 0.01, minRatio: 2,
};

describe('coarseGrid', () => {
  it('steps geometrically or linearly and always ends at max', () => {
    expect(coarseGrid({ minBlocks: 16, maxBlocks: 200, scale: 'geometric', step: 2 })).toEqual([16, 32, 64, 128, 200]);
    expect(coarseGrid({ minBlocks: 1, maxBlocks: 4, scale: 'geometric', step: 1.1 })).toEqual([1, 2, 3, 4]);
    expect(coarseGrid({ minBlocks: 100, maxBlocks: 500, scale: 'linear', step: 150 })).toEqual([100, 250, 400, 500]);
  });
});

describe('runSweep on a simulated LRU cache', () => {
  for (const capacity of [700, 1337, 3001]) {
    it(`brackets a capacity of ${capacity} blocks within the resolution, and stops early`, async () => {
      const target = new SimulatedLru(capacity);
      const out = await runSweep(target, base);
      const k = out.knee;
      expect(k.found, k.reason ?? '').toBe(true);
      expect(k.low!).toBeLessThanOrEqual(capacity);
      expect(k.high!).toBeGreaterThan(capacity);
      expect(k.high! - k.low!).toBeLessThanOrEqual(Math.max(1, Math.floor(base.resolution * k.low!)));
      expect(out.stoppedEarly).toBe(true);
      expect(out.points.every((p) => p.blocks <= 4 * capacity)).toBe(true);
      expect(out.points.some((p) => p.phase === 'refine')).toBe(true);
    });
  }

  it('sweeps linearly too', async () => {
    const out = await runSweep(new SimulatedLru(1500), { ...base, minBlocks: 100, maxBlocks: 3000, scale: 'linear', step: 200 });
    expect(out.knee.found).toBe(true);
    expect(out.knee.low!).toBeLessThanOrEqual(1500);
    expect(out.knee.high!).toBeGreaterThan(1500);
  });

  it('says the cache is smaller than min when the first points already miss', async () => {
    const out = await runSweep(new SimulatedLru(8), { ...base, maxBlocks: 1024 });
    expect(out.knee.found).toBe(false);
    expect(out.notes.join(' ')).toMatch(/smaller than min/);
  });

  it('finds no knee when the cache is larger than max', async () => {
    const out = await runSweep(new SimulatedLru(100_000), { ...base, maxBlocks: 1024 });
    expect(out.knee.found).toBe(false);
    expect(out.points.map((p) => p.blocks)).toEqual(coarseGrid({ ...base, maxBlocks: 1024 }));
  });

  it('reports progress with a growing count', async () => {
    const seen: number[] = [];
    await runSweep(new SimulatedLru(500), { ...base, maxBlocks: 2048 }, (p) => seen.push(p.done));
    expect(seen.length).toBeGreaterThan(5);
    expect(seen.every((d, i) => i === 0 || d >= seen[i - 1])).toBe(true);
  });
});
