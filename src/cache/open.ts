/**
 * openCache / openCacheSync: validate the options (each error names its
 * option), open or create the region, run the warm reboot when its owner
 * died, and hand back a Cache.
 */
import * as fs from 'node:fs';
import { resolve } from 'node:path';
import { invalidType, invalidValue } from '../errors';
import { checkBoolean, checkInteger, checkNumber, checkOneOf, checkString, isPowerOfTwo, parseBytes } from '../options';
import { BLOCK_BYTES_DEFAULT, BLOCK_BYTES_MAX, BLOCK_BYTES_MIN } from '../region/format';
import { defaultFileSlots, defaultUndoBytes } from '../region/geometry';
import { Region, type AllocateMode } from '../region/region';
import type { PersistMode } from '../region/primitives';
import { recoverRegion } from '../recovery/scanner';
import { emptyReport } from '../recovery/report';
import { Cache, type FsyncMode } from './cache';

export interface CacheOptions {
  /** Path of the region file (created when missing). Default: none, required. */
  region: string;
  /** Directory every cached path is relative to; it must exist. */
  root: string;
  /** Region size when creating: bytes or a string like '256MiB'. Default '64MiB'. */
  size?: number | string;
  /** Block size when creating: a power of two from 512 to 1 MiB. Default 4096. */
  blockSize?: number;
  /** File slots when creating (files cached at once). Default: region size / 64 KiB, from 16 to 1024. */
  maxFiles?: number;
  /**
   * Undo area when creating; bounds the largest atomic overwrite. Default: 1/16 of the region, 64 KiB to 64 MiB,
   * and at least room for an atomic write of two blocks. Smaller than room for one block is refused.
   */
  undoSize?: number | string;
  /** Bytes for named recoverable segments (transactions) when creating. Default 0. */
  segmentAreaSize?: number | string;
  /** 'disk' (default): fsync writes back and syncs (G4). 'rio': the crash-safe cache satisfies fsync. */
  fsync?: FsyncMode;
  /** Background write-back policy. */
  writeBack?: { maxAgeMs?: number; dirtyRatio?: number; intervalMs?: number };
  /** After a crash, keep clean buffers (verified on first use) so the cache is warm. Default true. */
  keepCleanBuffers?: boolean;
  /** 'reserve' (default) allocates the region's memory at creation so later stores cannot fail; 'sparse' does not. */
  allocate?: AllocateMode;
  /** Fault the whole region in at open. Default false. */
  prefault?: boolean;
  /** Persistence domain of the region's memory; 'auto' decides from the filesystem (docs/format.md). */
  persist?: PersistMode | 'auto';
  /** Progress of a warm reboot's write-back (bytes done, bytes total). */
  onRecoveryProgress?: (done: number, total: number) => void;
}

/** Every option openCache accepts; any other key is refused. Each is documented in docs/api.md. */
export const CACHE_OPTION_NAMES = [
  'region', 'root', 'size', 'blockSize', 'maxFiles', 'undoSize', 'segmentAreaSize', 'fsync', 'writeBack',
  'keepCleanBuffers', 'allocate', 'prefault', 'persist', 'onRecoveryProgress',
] as const satisfies ReadonlyArray<keyof CacheOptions>;

const known = new Set<string>(CACHE_OPTION_NAMES);

interface Validated {
  region: string;
  root: string;
  request: { regionBytes: number; blockBytes: number; fileSlots: number; undoBytes: number; segmentAreaBytes: number };
  expect: Record<string, number>;
  fsync: FsyncMode;
  policy: { maxAgeMs: number; dirtyRatio: number; intervalMs: number };
  keepClean: boolean;
  allocate: AllocateMode;
  prefault: boolean;
  persist: PersistMode | 'auto';
  onProgress?: (done: number, total: number) => void;
}

export function validateOptions(options: unknown): Validated {
  if (typeof options !== 'object' || options === null) throw invalidType('options', 'an object', options);
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!known.has(key)) throw invalidValue(`options.${key}`, 'is not a riocache option', o[key]);
  const region = resolve(checkString('region', o.region));
  const root = resolve(checkString('root', o.root));
  const expect: Record<string, number> = {};
  const regionBytes = o.size === undefined ? 64 * 1024 * 1024 : parseBytes('size', o.size);
  if (o.size !== undefined) expect.regionBytes = regionBytes;
  let blockBytes = BLOCK_BYTES_DEFAULT;
  if (o.blockSize !== undefined) {
    blockBytes = checkInteger('blockSize', o.blockSize, BLOCK_BYTES_MIN, BLOCK_BYTES_MAX);
    if (!isPowerOfTwo(blockBytes)) throw invalidValue('blockSize', 'must be a power of two', o.blockSize);
    expect.blockBytes = blockBytes;
  }
  const fileSlots = o.maxFiles === undefined ? defaultFileSlots(regionBytes) : checkInteger('maxFiles', o.maxFiles, 1, 65536);
  if (o.maxFiles !== undefined) expect.fileSlots = fileSlots;
  const undoBytes = o.undoSize === undefined ? defaultUndoBytes(regionBytes, blockBytes) : parseBytes('undoSize', o.undoSize);
  if (o.undoSize !== undefined) expect.undoBytes = undoBytes;
  const segmentAreaBytes = o.segmentAreaSize === undefined ? 0 : parseBytes('segmentAreaSize', o.segmentAreaSize);
  if (o.segmentAreaSize !== undefined) expect.segmentAreaBytes = segmentAreaBytes;
  const fsync = o.fsync === undefined ? 'disk' : checkOneOf('fsync', o.fsync, ['disk', 'rio'] as const);
  const wb = (o.writeBack ?? {}) as Record<string, unknown>;
  if (typeof wb !== 'object' || wb === null) throw invalidType('writeBack', 'an object', o.writeBack);
  for (const key of Object.keys(wb)) {
    if (!['maxAgeMs', 'dirtyRatio', 'intervalMs'].includes(key)) throw invalidValue(`writeBack.${key}`, 'is not a write-back option', wb[key]);
  }
  const policy = {
    maxAgeMs: wb.maxAgeMs === undefined ? 5000 : checkNumber('writeBack.maxAgeMs', wb.maxAgeMs, 0, 86_400_000),
    dirtyRatio: wb.dirtyRatio === undefined ? 0.5 : checkNumber('writeBack.dirtyRatio', wb.dirtyRatio, 0, 1),
    intervalMs: wb.intervalMs === undefined ? 250 : checkNumber('writeBack.intervalMs', wb.intervalMs, 1, 3_600_000),
  };
  const keepClean = o.keepCleanBuffers === undefined ? true : checkBoolean('keepCleanBuffers', o.keepCleanBuffers);
  const allocate = o.allocate === undefined ? 'reserve' : checkOneOf('allocate', o.allocate, ['sparse', 'reserve'] as const);
  const prefault = o.prefault === undefined ? false : checkBoolean('prefault', o.prefault);
  const persist = o.persist === undefined ? 'auto' : checkOneOf('persist', o.persist, ['auto', 'none', 'cpu', 'msync'] as const);
  if (o.onRecoveryProgress !== undefined && typeof o.onRecoveryProgress !== 'function') {
    throw invalidType('onRecoveryProgress', 'a function', o.onRecoveryProgress);
  }
  return {
    region, root, request: { regionBytes, blockBytes, fileSlots, undoBytes, segmentAreaBytes }, expect, fsync, policy,
    keepClean, allocate, prefault, persist, onProgress: o.onRecoveryProgress as Validated['onProgress'],
  };
}

function openRoot(root: string): number {
  let fd: number;
  try {
    fd = fs.openSync(root, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw invalidValue('root', code === 'ENOENT' ? 'must be an existing directory (it does not exist)' :
      code === 'ENOTDIR' ? 'must be a directory' : `must be an openable directory (${code})`, root);
  }
  return fd;
}

/**
 * Opens (or creates, with `create`) the region, taking its lock (G8), and
 * returns the cache over it without its fs facade (src/open.ts adds it). A region whose header
 * says "open" while its lock was free lost its owner: recover it before
 * anything else.
 */
export function openCacheCore(options: CacheOptions, create: boolean): Cache {
  const v = validateOptions(options);
  const rootFd = openRoot(v.root);
  let region: Region | undefined;
  try {
    region = Region.open(v.region, {
      create, request: v.request, expect: v.expect, allocate: v.allocate, populate: v.prefault, persist: v.persist,
    });
    let recovery = emptyReport();
    if (region.foundShutdown === 'open') {
      recovery = recoverRegion(region, rootFd, { keepClean: v.keepClean, onProgress: v.onProgress });
    }
    region.writeHeader({ shutdown: 'open', generation: region.header.generation + 1, lastPid: process.pid });
    const cache = new Cache(region, { root: v.root, rootFd, fsync: v.fsync, policy: v.policy, recovery });
    recovery.journal = cache.txs.settleJournal(region.created);
    // After the caller's next await or tick, so a listener attached right after opening hears it.
    if (recovery.ran) setImmediate(() => cache.emit('recovery', recovery));
    return cache;
  } catch (err) {
    region?.close();
    fs.closeSync(rootFd);
    throw err;
  }
}
