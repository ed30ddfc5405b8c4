/**
 * The riocache target: a scratch region of the requested size, a sparse
 * backing file in a scratch directory, and reads through cache.fs. The
 * region's capacity in data bytes is the ground truth the estimate is checked
 * against. Everything is created here and removed by close().
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { openCacheSync } from '../../open';
import type { Cache } from '../../cache/cache';
import type { Settings } from './options';
import type { ProbeTarget, TargetFacts } from './target';

/** The untimed fill reads up to this many bytes per call. */
const FILL_CHUNK_BYTES = 1024 * 1024;
const PROBE_FILE = 'probe.dat';

function scratchRegionPath(dir: string): string {
  const base = fs.existsSync('/dev/shm') ? '/dev/shm' : dir;
  return join(base, `riocache-probe-${process.pid}-${Date.now().toString(36)}.rio`);
}

export class RiocacheTarget implements ProbeTarget {
  readonly kind = 'riocache';
  readonly blockBytes: number;
  readonly fillChunkBlocks: number;
  /** Once the cache is full, a block read once goes around it; read twice, it is taken in (src/cache/missHistory.ts). */
  readonly fillPasses = 2;
  private readonly dir: string;
  private readonly region: string;
  private readonly regionBytes: number;
  private readonly cache: Cache;
  private readonly fd: number;
  private readonly buffer: Buffer;
  private closed = false;

  /** `fileBlocks`: the backing file's length, the sweep's max plus its calibration blocks. */
  constructor(settings: Settings, fileBlocks: number) {
    const o = settings.riocache!;
    this.blockBytes = settings.blockBytes;
    this.fillChunkBlocks = Math.max(1, Math.floor(FILL_CHUNK_BYTES / this.blockBytes));
    this.regionBytes = o.regionBytes;
    this.dir = fs.mkdtempSync(join(o.dir, 'riocache-probe-'));
    this.region = o.region ?? scratchRegionPath(this.dir);
    try {
      // Sparse: reading a hole costs the kernel a zeroed page, never a disk read,
      // so every riocache miss costs the same (a read from the OS page cache).
      fs.writeFileSync(join(this.dir, PROBE_FILE), '');
      fs.truncateSync(join(this.dir, PROBE_FILE), fileBlocks * this.blockBytes);
      this.cache = openCacheSync({ region: this.region, root: this.dir, size: o.regionBytes, blockSize: this.blockBytes });
      this.fd = this.cache.fs.openSync(PROBE_FILE, 'r');
    } catch (err) {
      this.removeScratch();
      throw err;
    }
    this.buffer = Buffer.alloc(this.fillChunkBlocks * this.blockBytes);
  }

  coldStart(): void {
    // Nothing to do: after a fill pass over blocks [0, p) an exact LRU cache
    // holds the last min(p, capacity) of them, whatever it held before.
  }

  readRange(first: number, count: number): void {
    const want = count * this.blockBytes;
    const got = this.cache.fs.readSync(this.fd, this.buffer, 0, want, first * this.blockBytes);
    if (got !== want) throw new Error(`short read of the probe file: ${got} of ${want} bytes at block ${first}`);
  }

  readBlock(block: number): void {
    this.cache.fs.readSync(this.fd, this.buffer, 0, this.blockBytes, block * this.blockBytes);
  }

  prepareMissCalibration(first: number, count: number): void {
    // Through the OS, not riocache: the first read of a page of the backing file costs the
    // kernel a page allocation that later misses of the sweep do not pay.
    const fd = fs.openSync(join(this.dir, PROBE_FILE), 'r');
    try {
      for (let b = first; b < first + count; b += this.fillChunkBlocks) {
        fs.readSync(fd, this.buffer, 0, Math.min(this.fillChunkBlocks, first + count - b) * this.blockBytes, b * this.blockBytes);
      }
    } finally {
      fs.closeSync(fd);
    }
  }

  warmUpBlocks(maxBlocks: number): number {
    return maxBlocks;
  }

  facts(): TargetFacts {
    return { capacityBytes: this.cache.stats().capacityBytes, regionBytes: this.regionBytes, region: this.region };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.cache.fs.closeSync(this.fd);
      this.cache.closeSync();
    } finally {
      this.removeScratch();
    }
  }

  private removeScratch(): void {
    fs.rmSync(this.region, { force: true });
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
