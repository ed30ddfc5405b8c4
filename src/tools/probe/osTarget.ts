/**
 * The OS target: ordinary reads of a file on a disk, cold-started with
 * posix_fadvise(DONTNEED) and, by default, with read-ahead turned off by
 * posix_fadvise(RANDOM) so that a miss reads one block, not a window.
 */
import * as fs from 'node:fs';
import { dirname } from 'node:path';
import { invalidValue } from '../../errors';
import { native } from '../../native';
import { formatBytes } from '../../options';
import { cgroupAnonBytes, memoryCgroup } from './cgroup';
import type { Settings } from './options';
import type { ProbeTarget, TargetFacts } from './target';

const FILL_CHUNK_BYTES = 1024 * 1024;
/** statfs f_type of file systems whose page cache is the file itself (nothing to evict, nothing to miss). */
const MEMORY_FS_TYPES = new Map([[0x01021994, 'tmpfs'], [0x858458f6, 'ramfs']]);

/**
 * Creates `path` or extends it to at least `bytes` with non-zero data (holes
 * would be misses without disk reads), synced so that DONTNEED can drop it.
 */
export function ensureProbeFile(path: string, bytes: number, onProgress?: (done: number, total: number) => void): void {
  const fd = fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_CREAT, 0o644);
  try {
    const start = fs.fstatSync(fd).size;
    if (start >= bytes) return;
    const chunk = Buffer.alloc(FILL_CHUNK_BYTES);
    for (let at = start - (start % FILL_CHUNK_BYTES); at < bytes; at += chunk.length) {
      // Each 8-byte word holds its own offset: distinct, checkable, never zero.
      for (let i = 0; i < chunk.length; i += 8) chunk.writeDoubleLE(at + i + 1, i);
      fs.writeSync(fd, chunk, 0, Math.min(chunk.length, bytes - at), at);
      onProgress?.(Math.min(bytes, at + chunk.length) - start, bytes - start);
    }
    fs.fdatasyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export class OsTarget implements ProbeTarget {
  readonly kind = 'os';
  readonly blockBytes: number;
  readonly fillChunkBlocks: number;
  readonly fillPasses = 1;
  private readonly file: string;
  private readonly readahead: boolean;
  private readonly fd: number;
  private readonly buffer: Buffer;
  private closed = false;

  constructor(settings: Settings, fileBlocks: number, onCreate?: (done: number, total: number) => void) {
    const o = settings.os!;
    this.blockBytes = settings.blockBytes;
    this.fillChunkBlocks = Math.max(1, Math.floor(FILL_CHUNK_BYTES / this.blockBytes));
    this.file = o.file;
    this.readahead = o.readahead;
    const fsType = MEMORY_FS_TYPES.get(Number(fs.statfsSync(dirname(o.file)).type));
    if (fsType) {
      throw invalidValue('file', `is on ${fsType}, where the page cache is the file itself: nothing can be evicted, ` +
        'so there is no knee to find. Use a file on a disk', o.file);
    }
    if (o.create) ensureProbeFile(o.file, fileBlocks * this.blockBytes, onCreate);
    this.fd = fs.openSync(o.file, 'r');
    // RANDOM turns read-ahead off for this open file: a missing block costs
    // one read of one block. NORMAL leaves the kernel's window on.
    native.fadvise(this.fd, 0, 0, o.readahead ? 'normal' : 'random');
    this.buffer = Buffer.alloc(this.fillChunkBlocks * this.blockBytes);
  }

  coldStart(): void {
    // Drops the file's clean, unmapped pages, whoever cached them. Pages
    // cached by another process outside our cgroup would otherwise be hits
    // that our cgroup's limit never sees.
    native.fadvise(this.fd, 0, 0, 'dontneed');
  }

  readRange(first: number, count: number): void {
    const want = count * this.blockBytes;
    const got = fs.readSync(this.fd, this.buffer, 0, want, first * this.blockBytes);
    if (got !== want) throw new Error(`short read of ${this.file}: ${got} of ${want} bytes at ${formatBytes(first * this.blockBytes)}`);
  }

  readBlock(block: number): void {
    fs.readSync(this.fd, this.buffer, 0, this.blockBytes, block * this.blockBytes);
  }

  prepareMissCalibration(): void {
    // coldStart() drops the blocks: the calibration reads them from the disk, like any miss.
  }

  warmUpBlocks(): number {
    // A miss costs tens of microseconds of I/O: JIT warm-up is noise next to it.
    return 0;
  }

  facts(): TargetFacts {
    const cg = memoryCgroup();
    return {
      file: this.file, fileBytes: fs.fstatSync(this.fd).size, readahead: this.readahead,
      cgroup: cg?.limitBytes ? { path: cg.path, version: cg.version, limitBytes: cg.limitBytes, anonBytes: cgroupAnonBytes(cg) } : undefined,
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    native.fadvise(this.fd, 0, 0, 'dontneed');
    fs.closeSync(this.fd);
  }
}
