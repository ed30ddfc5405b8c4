/**
 * Synchronous cores for calls beneath the root that cache.fs does not have
 * yet, each built from the calls it does have (or the cache's own state), so
 * that no call reaches a cached file behind the cache's back. The hook uses
 * one only where `cache.fs[name]` is missing: as cache.fs grows, these stop
 * being used without a change here.
 *
 * Calls beneath the root not listed here and not in cache.fs go to the real
 * fs: they touch directories, names or metadata, never a file's bytes, so
 * the cache stays coherent (docs/register.md lists each). Two are refused
 * instead: `cp` (it copies trees of bytes the cache may hold dirty) and the
 * descriptor-metadata calls have a core here.
 */
import * as fs from 'node:fs';
import { RioError } from '../errors';
import type { Cache } from '../cache/cache';
import { confine } from '../cache/paths';

type Core = (...args: any[]) => unknown;

/** The real (unpatched) sync functions the gaps use. */
export interface RealFs {
  statSync: typeof fs.statSync;
  lstatSync: typeof fs.lstatSync;
  rmSync: typeof fs.rmSync;
  fchmodSync: typeof fs.fchmodSync;
  fchownSync: typeof fs.fchownSync;
  futimesSync: typeof fs.futimesSync;
}

const { COPYFILE_EXCL } = fs.constants;

export function gapCores(cache: Cache, real: RealFs): Record<string, Core> {
  const cfs = cache.fs as unknown as Record<string, Core>;

  /** The size the cache holds for a path (null when it does not hold it): stat must tell the truth (G11). */
  const cachedSize = (path: unknown): number | null => {
    let key: string;
    try {
      key = confine(cache.root, path, 'stat').key;
    } catch {
      return null;
    }
    const e = cache.engine;
    const slot = e.fileTable.slotOf(key);
    return slot >= 0 && e.files[slot] ? e.sizes.size(slot) : null;
  };
  const withCachedSize = <T extends fs.Stats | fs.BigIntStats | undefined>(st: T, path: unknown): T => {
    if (!st || !st.isFile()) return st;
    const size = cachedSize(path);
    if (size === null) return st;
    if (typeof st.size === 'bigint') (st as fs.BigIntStats).size = BigInt(size);
    else (st as fs.Stats).size = size;
    return st;
  };
  /** The backing descriptor of a riocache descriptor, for the metadata calls (mode, owner, times live on disk). */
  const backing = (fd: number, syscall: string): number => {
    const d = cache.handles.descriptor(fd, syscall);
    return d.kind === 'directory' ? d.fd : d.file.fd;
  };

  return {
    statSync: (path: unknown, options?: fs.StatSyncOptions) => withCachedSize(real.statSync(path as fs.PathLike, options), path),
    lstatSync: (path: unknown, options?: fs.StatSyncOptions) => withCachedSize(real.lstatSync(path as fs.PathLike, options), path),

    truncateSync: (path: unknown, len?: number) => {
      if (typeof path === 'number') return cfs.ftruncateSync(path, len);
      const fd = cfs.openSync(path, 'r+') as number;
      try {
        cfs.ftruncateSync(fd, len);
      } finally {
        cfs.closeSync(fd);
      }
    },

    copyFileSync: (src: unknown, dest: unknown, mode = 0) => {
      const data = cfs.readFileSync(src);
      cfs.writeFileSync(dest, data, { flag: (mode & COPYFILE_EXCL) !== 0 ? 'wx' : 'w' });
    },

    /** A file the cache holds is unlinked through it (its buffers dropped); a tree loses its cached files first. */
    rmSync: (path: unknown, options?: fs.RmOptions) => {
      let st: fs.Stats | undefined;
      try {
        st = real.lstatSync(path as fs.PathLike);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' && options?.force) return;
        throw err;
      }
      if (st.isFile() && cachedSize(path) !== null) return cfs.unlinkSync(path);
      if (st.isDirectory() && options?.recursive) dropCachedBeneath(cache, cfs, path as string);
      return real.rmSync(path as fs.PathLike, options);
    },

    writevSync: (fd: number, buffers: readonly NodeJS.ArrayBufferView[], position?: number | null) => {
      // One write of the concatenation: atomic as a whole (G2), as a single writev is on most file systems.
      const bytes = Buffer.concat(buffers.map((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)));
      return cfs.writeSync(fd, bytes, 0, bytes.length, position ?? null);
    },

    readvSync: (fd: number, buffers: readonly NodeJS.ArrayBufferView[], position?: number | null) => {
      let total = 0;
      for (const b of buffers) {
        const n = cfs.readSync(fd, b, 0, b.byteLength, position === null || position === undefined ? null : position + total) as number;
        total += n;
        if (n < b.byteLength) break;
      }
      return total;
    },

    fchmodSync: (fd: number, mode: fs.Mode) => real.fchmodSync(backing(fd, 'fchmod'), mode),
    fchownSync: (fd: number, uid: number, gid: number) => real.fchownSync(backing(fd, 'fchown'), uid, gid),
    futimesSync: (fd: number, atime: fs.TimeLike, mtime: fs.TimeLike) => real.futimesSync(backing(fd, 'futimes'), atime, mtime),

    cpSync: (src: unknown) => {
      throw new RioError('REGISTER_UNSUPPORTED', `REGISTER_UNSUPPORTED: fs.cp of '${String(src)}' beneath the cache root ` +
        'is not routed through the cache yet (it would copy bytes the cache may hold dirty). Copy file by file ' +
        '(fs.copyFile, which is routed).', { syscall: 'cp', path: String(src) });
    },
  };
}

/** Unlinks through the cache every file it holds beneath `dir` (before a recursive rm of the directory). */
function dropCachedBeneath(cache: Cache, cfs: Record<string, Core>, dir: string): void {
  const key = confine(cache.root, dir, 'rm').key;
  const prefix = key === '.' ? '' : `${key}/`;
  for (const f of cache.engine.files) {
    if (!f || !f.path.startsWith(prefix)) continue;
    try {
      cfs.unlinkSync(f.path);
    } catch {
      // Already gone from the disk: the recursive rm that follows decides.
    }
  }
}
