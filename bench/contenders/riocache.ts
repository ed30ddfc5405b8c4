/**
 * riocache through its public API: `cache.fs` (sync) and
 * `cache.fs.promises` FileHandles, in fsync mode 'disk' or 'rio'. The region
 * lives in tmpfs, the cache root (and so every write-back) on the disk.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { openCacheSync, type Cache, type FsyncMode } from '../../src';
import { prefillChunks, type ContenderDef, type Target, type TargetSetup } from './types';
import { FileHandleTarget } from './fileHandle';

const FILE = 'bench.dat';
const BALLAST = 'ballast.dat';

export interface RioOptions {
  api: 'sync' | 'promise';
  fsync?: FsyncMode;
  /** fdatasync after every write (in mode 'rio' the cache satisfies it). */
  datasync?: boolean;
}

function openRio(s: TargetSetup, fsync: FsyncMode): Cache {
  const root = join(s.scratch.disk, 'root');
  fs.mkdirSync(root, { recursive: true });
  if (s.prefill === 'cold') {
    const fd = fs.openSync(join(root, FILE), 'w');
    for (const [chunk, pos] of prefillChunks(s.pattern, s.fileBytes)) fs.writeSync(fd, chunk, 0, chunk.length, pos);
    fs.fdatasyncSync(fd);
    fs.closeSync(fd);
  }
  const cache = openCacheSync({ region: join(s.scratch.shm, 'bench.rio'), root, size: s.cacheBytes, blockSize: 4096, fsync });
  if (s.fullCache) fillWithBallast(cache, root);
  return cache;
}

/** Fills every buffer with blocks of another file, each read twice: the second read takes it in. */
function fillWithBallast(cache: Cache, root: string): void {
  const bytes = cache.stats().capacityBytes;
  fs.writeFileSync(join(root, BALLAST), Buffer.alloc(bytes, 0xba));
  const fd = cache.fs.openSync(BALLAST, 'r');
  const chunk = Buffer.alloc(1024 * 1024);
  for (let pass = 0; pass < 2; pass++) {
    for (let at = 0; at < bytes; at += chunk.length) cache.fs.readSync(fd, chunk, 0, chunk.length, at);
  }
  cache.fs.closeSync(fd);
}

/** Counters (differenced by the worker over the measured window) and one gauge, dirtyBytes. */
function infoOf(cache: Cache): Record<string, number> {
  const st = cache.stats();
  return {
    hits: st.hits, misses: st.misses, directReads: st.directReads, evictions: st.evictions, writeBackBytes: st.writeBackBytes, writeBackBatches: st.writeBackBatches,
    fdatasyncs: st.fdatasyncs, backPressureSync: st.backPressureSync, backPressureAsync: st.backPressureAsync,
    undoWrites: st.undoWrites, writes: st.writes, dirtyBytes: st.dirtyBytes,
  };
}

class RioSync implements Target {
  private readonly fd: number;

  constructor(private readonly cache: Cache, flags: string, private readonly datasync: boolean) {
    this.fd = cache.fs.openSync(FILE, flags);
  }

  write(src: Buffer, pos: number): void {
    this.cache.fs.writeSync(this.fd, src, 0, src.length, pos);
    if (this.datasync) this.cache.fs.fdatasyncSync(this.fd);
  }

  append(src: Buffer): void {
    this.cache.fs.writeSync(this.fd, src);
    if (this.datasync) this.cache.fs.fdatasyncSync(this.fd);
  }

  read(dst: Buffer, pos: number): void {
    this.cache.fs.readSync(this.fd, dst, 0, dst.length, pos);
  }

  reset(): void {
    this.cache.fs.ftruncateSync(this.fd, 0);
  }

  info(): Record<string, number> {
    return infoOf(this.cache);
  }

  async close(): Promise<void> {
    // The region and files are scratch: no final flush, the process just ends.
  }
}

export function riocache(id: string, label: string, o: RioOptions): ContenderDef {
  const fsync = o.fsync ?? 'disk';
  return {
    id, label, family: 'riocache', mode: o.api === 'sync' ? 'sync' : 'async',
    async open(s) {
      const cache = openRio(s, fsync);
      if (s.prefill === 'through') {
        const fd = cache.fs.openSync(FILE, 'w');
        for (const [chunk, pos] of prefillChunks(s.pattern, s.fileBytes)) cache.fs.writeSync(fd, chunk, 0, chunk.length, pos);
        cache.fs.closeSync(fd);
        await cache.flush(); // start clean: every block cached, nothing to write back
      }
      const openFlags = s.append ? 'a+' : s.prefill === 'none' ? 'w+' : 'r+';
      if (o.api === 'sync') return new RioSync(cache, openFlags, o.datasync === true);
      return new FileHandleTarget(await cache.fs.promises.open(FILE, openFlags), o.datasync === true, () => infoOf(cache), async () => {});
    },
  };
}
