/**
 * One sample at p: a fill pass over blocks [0, p), untimed, then a timed
 * re-read of the first min(p, sampleBlocks) blocks, one read at a time.
 *
 * Under LRU the fill leaves blocks [0, p) cached when p <= capacity; when
 * p > capacity, block 0 is the least recently used and was evicted, and every
 * miss in the re-read evicts the block the re-read needs next: all of the
 * first blocks miss. So the first block's fate (the seed program's signal) is
 * the fate of every block re-read, and the median of m single-read times
 * carries it m times over, immune to a preempted read or two.
 */
import { mean, median } from './stats';
import type { ProbeTarget } from './target';

/** Warm-up: samples at the smallest p until this long has passed (at least CALIBRATION_SAMPLES, at most WARMUP_SAMPLES_MAX). */
const WARMUP_MS = 250;
const WARMUP_SAMPLES_MAX = 64;
/** The hit calibration uses the last this-many warm-up samples (the JIT has settled by then). */
const CALIBRATION_SAMPLES = 3;

export interface Sample {
  /** Median time of one block's re-read in this sample (ns). */
  perBlockNs: number;
  /** Mean of the same reads (ns): what the seed program prints. */
  meanNs: number;
  /** The re-read of block 0, the first read after the fill (ns). */
  firstNs: number;
  /** The untimed fill pass (ms). */
  fillMs: number;
}

export interface Calibration {
  /** Per-block time of a re-read that surely hits: p = the smallest p (ns). */
  hitNs: number;
  /** Per-block time of reading blocks never read (riocache) or just dropped (os): surely misses (ns). */
  missNs: number;
}

const nowNs = () => performance.now() * 1e6;

export class Sampler {
  private readonly times: Float64Array;

  constructor(private readonly target: ProbeTarget, readonly sampleBlocks: number) {
    this.times = new Float64Array(sampleBlocks);
  }

  sample(blocks: number): Sample {
    const t = this.target;
    t.coldStart();
    const fillStart = performance.now();
    for (let pass = 0; pass < t.fillPasses; pass++) {
      for (let b = 0; b < blocks; b += t.fillChunkBlocks) t.readRange(b, Math.min(t.fillChunkBlocks, blocks - b));
    }
    const fillMs = performance.now() - fillStart;
    return { ...this.timeReads(0, Math.min(blocks, this.sampleBlocks)), fillMs };
  }

  /** Times reads of `count` blocks from `first`, after a cold start, with no fill: misses, unless something else caches them. */
  missSample(first: number): Sample {
    this.target.coldStart();
    return { ...this.timeReads(first, this.sampleBlocks), fillMs: 0 };
  }

  private timeReads(first: number, count: number): Omit<Sample, 'fillMs'> {
    const times = this.times;
    for (let i = 0; i < count; i++) {
      const start = nowNs();
      this.target.readBlock(first + i);
      times[i] = nowNs() - start;
    }
    return { perBlockNs: median(times, count), meanNs: mean(times, count), firstNs: times[0] };
  }
}

/**
 * Compiles the read paths (a hit path only ever run cold measures V8's
 * interpreter, not the cache) and calibrates: hit time from samples at the
 * smallest p, miss time from blocks past the sweep's range.
 */
export function warmUpAndCalibrate(target: ProbeTarget, sampler: Sampler, minBlocks: number, maxBlocks: number): Calibration {
  const warm = target.warmUpBlocks(maxBlocks);
  for (let b = 0; b < warm; b++) target.readBlock(b);
  const hits: number[] = [];
  const started = performance.now();
  while (hits.length < CALIBRATION_SAMPLES || (hits.length < WARMUP_SAMPLES_MAX && performance.now() - started < WARMUP_MS)) {
    hits.push(sampler.sample(minBlocks).perBlockNs);
  }
  target.prepareMissCalibration(maxBlocks, sampler.sampleBlocks);
  const missNs = sampler.missSample(maxBlocks).perBlockNs;
  return { hitNs: median(hits.slice(-CALIBRATION_SAMPLES)), missNs };
}
