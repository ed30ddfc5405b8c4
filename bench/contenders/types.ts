/**
 * What every contender offers a trial: a file-like target with positional
 * writes and reads and appends, opened over identical setup. Each contender
 * runs in its own process, so the JIT sees one Target class and the call
 * through this interface stays monomorphic.
 */
import type { Scratch } from '../lib/scratch';

export type Family = 'riocache' | 'fs' | 'lmdb' | 'map' | 'floor';
export type Mode = 'sync' | 'async';

export interface TargetSetup {
  scratch: Scratch;
  /** Bytes the trial's file spans (positions fall in [0, fileBytes)). */
  fileBytes: number;
  /**
   * The file's initial content (fileBytes of `pattern`, repeated):
   *  'through' — written through the contender itself (riocache: cached, then flushed clean);
   *  'cold'    — written with plain fs before the contender opens it (riocache starts empty);
   *  'none'    — the file starts empty.
   */
  prefill: 'through' | 'cold' | 'none';
  /** Bytes of one record for key-value contenders: a write at byte position p is the key p. */
  recordBytes: number;
  /** Size of riocache's region (the cache). */
  cacheBytes: number;
  /** Opened for appending (O_APPEND). */
  append: boolean;
  /** Source of the prefill bytes. */
  pattern: Buffer;
  /** riocache: fill the cache with another file's blocks first (Workload.fullCache). */
  fullCache?: boolean;
}

export interface Target {
  /** Writes all of `src` at byte `pos`. */
  write(src: Buffer, pos: number): void | Promise<void>;
  /** Appends all of `src`. */
  append(src: Buffer): void | Promise<void>;
  /** Reads dst.length bytes at `pos` into dst. */
  read(dst: Buffer, pos: number): void | Promise<void>;
  /** Untimed: empties an append target so its working set stays bounded. */
  reset(): void | Promise<void>;
  /** Counters worth reporting (riocache: hits, misses, write-back, back-pressure); dirtyBytes is a gauge, the rest count up. */
  info(): Record<string, number>;
  close(): Promise<void>;
}

export interface ContenderDef {
  /** Stable id used in results, ratios and targets, e.g. 'rio.sync'. */
  id: string;
  /** What the table shows, e.g. 'riocache cache.fs.writeSync'. */
  label: string;
  family: Family;
  mode: Mode;
  open(setup: TargetSetup): Promise<Target>;
}

/** The prefill content: `bytes` of the pattern repeated, in chunks of at most 1 MiB. */
export function* prefillChunks(pattern: Buffer, bytes: number): Generator<[Buffer, number]> {
  const chunk = 1 << 20;
  const big = Buffer.allocUnsafe(Math.min(chunk, bytes));
  for (let i = 0; i < big.length; i += pattern.length) pattern.copy(big, i, 0, Math.min(pattern.length, big.length - i));
  for (let pos = 0; pos < bytes; pos += chunk) {
    const n = Math.min(chunk, bytes - pos);
    yield [big.subarray(0, n), pos];
  }
}

/** The content of the record at `pos` (recordBytes of the pattern, as the prefill lays it out). */
export function recordAt(pattern: Buffer, pos: number, recordBytes: number): Buffer {
  const out = Buffer.allocUnsafe(recordBytes);
  for (let i = 0; i < recordBytes; i++) out[i] = pattern[(pos + i) % pattern.length];
  return out;
}
