/**
 * What the sweep needs from a cache under test: reads of the probe file by
 * block number, and a way to start cold where the cache allows it. The two
 * implementations are riocacheTarget.ts and osTarget.ts.
 */

export type TargetKind = 'riocache' | 'os';

/** Facts about the target that go into the result as they are. */
export interface TargetFacts {
  /** riocache: the region's data capacity (the ground truth). */
  capacityBytes?: number;
  /** riocache: the region's size as asked for. */
  regionBytes?: number;
  region?: string;
  /** os: the file read. */
  file?: string;
  fileBytes?: number;
  /** os: whether the kernel's read-ahead was left on. */
  readahead?: boolean;
  /** os: the memory cgroup the probe ran in, when it has a limit. */
  cgroup?: { path: string; version: 1 | 2; limitBytes: number; anonBytes: number | null };
}

export interface ProbeTarget {
  readonly kind: TargetKind;
  readonly blockBytes: number;
  /** Blocks read per call by readRange (the untimed fill reads in chunks). */
  readonly fillChunkBlocks: number;
  /**
   * Passes of the untimed fill: 1 for an LRU cache; 2 for riocache, which
   * takes a block in on its second read once it is full (docs/probe.md).
   */
  readonly fillPasses: number;
  /**
   * Forgets what the cache holds of the probe file, where that is possible
   * (the OS: posix_fadvise DONTNEED). A no-op for riocache: under exact LRU
   * the fill pass alone decides what is cached (docs/probe.md).
   */
  coldStart(): void;
  /** Reads `count` blocks from block `first` in one call. */
  readRange(first: number, count: number): void;
  /** Reads one block; the caller times it. */
  readBlock(block: number): void;
  /**
   * Makes blocks [first, first + count), never read through the cache, cost
   * what a miss costs in the sweep (riocache: puts them in the OS page cache,
   * where every other block of the backing file already is).
   */
  prepareMissCalibration(first: number, count: number): void;
  /** Blocks worth reading once before measuring, to compile the miss path (0: none). */
  warmUpBlocks(maxBlocks: number): number;
  facts(): TargetFacts;
  /** Releases everything the target created (scratch region, scratch files). */
  close(): void;
}
