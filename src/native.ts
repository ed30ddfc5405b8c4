/**
 * The one place that loads the native addon. Search order:
 *   1. $RIOCACHE_ADDON, when set (an explicit path: the sanitizer build uses it);
 *   2. <package>/build/Release/riocache.node (what `npm install` builds);
 *   3. <package>/build/Debug/riocache.node.
 * When none loads, the error lists every path tried, why each failed, and
 * what to do.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { regionError } from './errors';

/** The addon's functions. Internal: the public API never exposes these. */
export interface NativeAddon {
  crc32c(view: ArrayBufferView, offset: number, length: number, seed?: number): number;
  crc32cPortable(view: ArrayBufferView, offset: number, length: number, seed?: number): number;
  crc32cCombine(crcA: number, crcB: number, lengthB: number): number;
  crc32cPatch(crc: number, old: ArrayBufferView, now: ArrayBufferView, offset: number, length: number, tail: number): number;
  copyCrc32c(src: ArrayBufferView, srcOffset: number, dst: ArrayBufferView, dstOffset: number, length: number, seed: number): number;
  flush(view: ArrayBufferView, offset: number, length: number): void;
  fence(): void;
  persist(view: ArrayBufferView, offset: number, length: number): void;
  info(): { crc32c: string; crc32cAvailable: string; flush: string; flushForced: boolean; pageSize: number };
  map(fd: number, length: number, ranges: Array<[number, number]>, populate: boolean): NativeMapping;
  /** On the thread pool: maps a range's pages writable ahead of their first write (MADV_POPULATE_WRITE); done false where it could not. */
  populate(handle: object, offset: number, length: number, callback: (done: boolean) => void): void;
  unmap(handle: object): boolean;
  msync(handle: object, offset: number, length: number): void;
  lockTry(fd: number, shared?: boolean): number;
  lockOwner(fd: number): number;
  unlock(fd: number): void;
  openBeneath(rootFd: number, path: string, flags: number, mode: number): number;
  unlinkBeneath(rootFd: number, path: string, directory: boolean): void;
  renameBeneath(rootFd: number, from: string, to: string): void;
  mkdirBeneath(rootFd: number, path: string, mode: number): void;
  /** Names the unnamed file `fd` (O_TMPFILE) `path` beneath the root; EEXIST when taken. */
  linkBeneath(rootFd: number, fd: number, path: string): void;
  fadvise(fd: number, offset: number, length: number, advice: 'dontneed' | 'willneed' | 'sequential' | 'random' | 'normal'): void;
  allocate(fd: number, offset: number, length: number): void;
  retireDescriptor(fd: number): void;
  /** Hot-path calls: arguments go through `scratch` (see native/fastcalls.cc). */
  crcAt(): void;
  patchAt(): void;
  moveAt(): void;
  fillAt(): void;
  flushAt(): void;
  persistAt(): void;
  /** Copies `src` into a region view and checksums the copy (one pass over the bytes in L1). */
  copyInCrcAt(src: Uint8Array): void;
  /** copyInCrcAt for `count` jobs of COPY_JOB_SLOTS slots [view id, offset, length, seed (the crc out), src offset]. */
  copyInCrcMany(src: Uint8Array, jobs: Float64Array, count: number): void;
  /**
   * Checksums `count` region ranges in one call: each job is VERIFY_JOB_WORDS
   * words [view id, offset, length, seed, expected crc, actual crc (out)].
   * Returns how many differ from their expected crc.
   */
  verifyAt(jobs: Uint32Array, count: number): number;
  /**
   * pread of file bytes into `dst` (scratch: [0] fd, [1] dst offset, [2]
   * length, [3] position, [4] 1 for RWF_NOWAIT): [6] the errno that stopped
   * it (0: read to the end or to EOF), [7] the bytes read (native/reads.cc).
   */
  preadAt(dst: Uint8Array): void;
  /** preadAt into region ranges, jobs of READ_JOB_SLOTS slots [view id, offset, length, seed (the crc out)]. */
  preadRegion(jobs: Float64Array, count: number): void;
  /**
   * Checksums region ranges read through the region FILE (scratch [0] its
   * descriptor): jobs of 5 slots [file offset, length, seed, expected,
   * actual (out)]; [6] errno or 0, [7] the mismatches.
   */
  verifyRegionFile(jobs: Float64Array, count: number): void;
  /**
   * Copies region ranges (jobs [file offset, length], consecutive in the data
   * file) from the region file (scratch [0]) to a data file ([1]) at [3] with
   * pwrite; [6] errno or 0, [7] bytes written.
   */
  copyRegionFile(jobs: Float64Array, count: number): void;
  scratch: ArrayBuffer;
}

export interface NativeMapping {
  handle: object;
  views: ArrayBuffer[];
  viewIds: number[];
}

function packageRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'binding.gyp'))) return dir;
    dir = dirname(dir);
  }
  return join(__dirname, '..');
}

function load(): NativeAddon {
  const root = packageRoot();
  const candidates: string[] = [];
  if (process.env.RIOCACHE_ADDON) candidates.push(process.env.RIOCACHE_ADDON);
  candidates.push(join(root, 'build', 'Release', 'riocache.node'), join(root, 'build', 'Debug', 'riocache.node'));
  const failures: string[] = [];
  for (const path of candidates) {
    if (!existsSync(path)) {
      failures.push(`  ${path}: not found`);
      continue;
    }
    try {
      return require(path) as NativeAddon;
    } catch (err) {
      failures.push(`  ${path}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  throw regionError(
    'NATIVE_LOAD_FAILED',
    `could not load the riocache addon. Tried, in order:\n${failures.join('\n')}\n` +
      'Build it with `npm install` (or `npm run build:native`) in the riocache package; ' +
      'it needs g++, make and python3. Set RIOCACHE_ADDON to load a build from elsewhere.',
  );
}

export const native: NativeAddon = load();
