/**
 * Copies and truncation by path: copyFile, cp, truncate.
 *
 * The bytes of a file the cache holds are the cache's: a copy from a file
 * with dirty data reads them through the cache, and a copy to a file the
 * cache holds (open, or closed with clean blocks kept) writes through the
 * cache, so neither the disk nor the cache goes stale. truncate of a cached
 * file is the cache's truncate (docs/format.md §10).
 *
 * What a SIGKILL leaves: a copy is the kernel's open/create, then writes;
 * writes through the cache are each atomic and acknowledged (G1, G2), writes
 * to the disk are in the kernel's page cache as each returns. A cut mid-copy
 * leaves a destination with a prefix of the bytes, as a killed `cp` would,
 * and nothing for recovery to complete: no intent is needed, since no step
 * removes or renames anything the region names. truncate through the cache
 * is one size commit (its own protocol).
 */
import * as fs from 'node:fs';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { RioError } from '../errors';
import type { Cache } from './cache';
import type { CpCoreOptions } from './namespaceCore';
import { confine, type ConfinedPath } from './paths';
import { fsError, O_PATH, openBeneath, relabel, target, using } from './beneath';
import { heldFile } from './metadata';
import type { Namespace } from './namespace';

const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, COPYFILE_EXCL } = fs.constants;
/** Bytes moved per read/write step of a copy. */
const COPY_CHUNK_BYTES = 1 << 20;

export class Copies {
  constructor(private readonly cache: Cache, private readonly names: Namespace) {}

  private path(value: unknown, syscall: string, arg: string): ConfinedPath {
    this.cache.assertOpen(syscall);
    return confine(this.cache.root, value, syscall, arg);
  }

  /**
   * truncate(2) by path, as Node 20 does it (open 'r+', ftruncate, close):
   * through the cache when the cache holds the file, on the disk otherwise.
   */
  truncate(path: unknown, length: number): void {
    const p = this.path(path, 'open', 'path');
    const e = this.cache.engine;
    const slot = e.fileTable.slotOf(p.key);
    let fd: number;
    try {
      fd = openBeneath(this.cache, p.os, O_RDWR, 0);
    } catch (err) {
      throw relabel(err, 'open', p.shown);
    }
    let st: fs.Stats;
    try {
      st = fs.fstatSync(fd);
    } catch (err) {
      fs.closeSync(fd);
      throw relabel(err, 'open', p.shown);
    }
    const held = this.cache.handles.byInode.get(`${st.dev}:${st.ino}`);
    if (held || slot >= 0) {
      fs.closeSync(fd);
      const cfd = this.cache.handles.open(path, O_RDWR, 0);
      try {
        this.cache.io.ftruncateSync(cfd, length);
      } finally {
        this.cache.handles.closeDescriptor(cfd);
      }
      return;
    }
    try {
      fs.ftruncateSync(fd, length);
    } catch (err) {
      throw relabel(err, 'ftruncate');
    } finally {
      fs.closeSync(fd);
    }
  }

  /**
   * copyFile as libuv does it (uv__fs_copyfile): open the source, create or
   * open the destination with the source's mode, stop if both are one file,
   * empty the destination, give it the source's mode, copy the bytes; on any
   * failure after the destination was opened, remove it. Errors name both
   * paths with syscall 'copyfile'.
   */
  copyFile(src: unknown, dest: unknown, mode: number): void {
    const a = this.path(src, 'copyfile', 'src');
    const b = this.path(dest, 'copyfile', 'dest');
    const fail = (err: unknown) => relabel(err, 'copyfile', a.shown, b.shown);
    let srcFd: number;
    try {
      srcFd = openBeneath(this.cache, a.os, O_RDONLY, 0);
    } catch (err) {
      throw fail(err);
    }
    let dstFd = -1;
    let cachedFd = -1;
    let opened = false;
    try {
      const st = fs.fstatSync(srcFd);
      const excl = (mode & COPYFILE_EXCL) !== 0;
      try {
        dstFd = openBeneath(this.cache, b.os, O_WRONLY | O_CREAT | (excl ? O_EXCL : 0), st.mode & 0o7777);
      } catch (err) {
        throw fail(err);
      }
      opened = true;
      const dst = fs.fstatSync(dstFd);
      if (!excl && dst.dev === st.dev && dst.ino === st.ino) return;
      // A directory fails where libuv's sendfile fails: after the destination was emptied and given its mode.
      const eisdir = () => fsError('EISDIR', 'copyfile', a.shown, b.shown);
      const from = st.isDirectory() ? undefined : heldFile(this.cache, st);
      const size = from ? this.cache.engine.sizes.size(from.slot) : st.size;
      // A cached source is read through a descriptor of the cache (its dirty bytes, verified blocks).
      if (from) cachedFd = this.cache.handles.open(src, O_RDONLY, 0);
      const read = (buf: Buffer, pos: number): number => cachedFd >= 0
        ? this.cache.io.readSync(cachedFd, buf, 0, buf.length, pos)
        : fs.readSync(srcFd, buf, 0, buf.length, pos);
      const toCache = this.cache.handles.byInode.has(`${dst.dev}:${dst.ino}`) || this.cache.engine.fileTable.slotOf(b.key) >= 0;
      if (toCache) {
        fs.fchmodSync(dstFd, st.mode & 0o7777);
        fs.closeSync(dstFd);
        dstFd = -1;
        this.copyIntoCache(dest, read, st.isDirectory() ? 0 : size);
        if (st.isDirectory()) throw eisdir();
        return;
      }
      try {
        fs.ftruncateSync(dstFd, 0);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EACCES' || dst.size > 0) throw err;
      }
      fs.fchmodSync(dstFd, st.mode & 0o7777);
      if (st.isDirectory()) throw eisdir();
      if (from) {
        const buf = Buffer.allocUnsafe(Math.min(COPY_CHUNK_BYTES, Math.max(1, size)));
        for (let pos = 0; pos < size;) {
          const n = read(buf.subarray(0, Math.min(buf.length, size - pos)), pos);
          if (n <= 0) break;
          for (let done = 0; done < n;) done += fs.writeSync(dstFd, buf, done, n - done, pos + done);
          pos += n;
        }
      } else {
        // Neither side cached: the kernel copies (copy_file_range), through the two opened descriptors.
        fs.copyFileSync(`/proc/self/fd/${srcFd}`, `/proc/self/fd/${dstFd}`);
      }
      opened = false;
    } catch (err) {
      if (opened) {
        try {
          this.names.unlink(dest); // through the cache: the destination may be a cached file
        } catch { /* as libuv: the first error is the one reported */ }
      }
      throw err instanceof RioError ? err : fail(err);
    } finally {
      fs.closeSync(srcFd);
      if (dstFd >= 0) fs.closeSync(dstFd);
      if (cachedFd >= 0) this.cache.handles.closeDescriptor(cachedFd);
    }
  }

  /** The destination's bytes through the cache: emptied, then written chunk by chunk (each chunk atomic). */
  private copyIntoCache(dest: unknown, read: (buf: Buffer, pos: number) => number, size: number): void {
    const io = this.cache.io;
    const cfd = this.cache.handles.open(dest, O_WRONLY, 0);
    try {
      io.ftruncateSync(cfd, 0);
      const chunk = Math.min(COPY_CHUNK_BYTES, this.cache.atomicWriteBytesMax);
      const buf = Buffer.allocUnsafe(Math.min(chunk, Math.max(1, size)));
      for (let pos = 0; pos < size;) {
        const n = read(buf.subarray(0, Math.min(buf.length, size - pos)), pos);
        if (n <= 0) break;
        io.writeSync(cfd, buf, 0, n, pos);
        pos += n;
      }
    } finally {
      this.cache.handles.closeDescriptor(cfd);
    }
  }

  /** cpSync of Node 20 (lib/internal/fs/cp/cp-sync.js) over the cores: the same checks, errors and order. */
  cp(src: unknown, dest: unknown, options: CpCoreOptions): void {
    this.cache.assertOpen('cp');
    const s = confine(this.cache.root, src, 'cp', 'src').shown;
    const d = confine(this.cache.root, dest, 'cp', 'dest').shown;
    new CpRun(this.cache, this, this.names, options).run(s, d);
  }
}

/** Node's SystemError for cp: `<prefix>: cp returned <code> (<message>) <path>`. */
function cpError(code: string, prefix: string, errno: number, errCode: string, message: string, path: string): RioError {
  const e = new RioError(code, `${prefix}: cp returned ${errCode} (${message}) ${path}`, { errno, syscall: 'cp', path });
  e.name = 'SystemError';
  (e as RioError & { info: unknown }).info = { message, path, syscall: 'cp', errno, code: errCode };
  return e;
}

const EINVAL = 22;
const EISDIR = 21;
const ENOTDIR = 20;
const EEXIST = 17;

type Big = fs.BigIntStats;

class CpRun {
  constructor(
    private readonly cache: Cache,
    private readonly copies: Copies,
    private readonly names: Namespace,
    private readonly opts: CpCoreOptions,
  ) {}

  private abs(p: string): string {
    return resolve(this.cache.root, p);
  }

  private isSubdir(src: string, dest: string): boolean {
    const a = this.abs(src).split(sep).filter(Boolean);
    const b = this.abs(dest).split(sep).filter(Boolean);
    return a.every((cur, i) => b[i] === cur);
  }

  private statOf(p: string, follow: boolean, throwIfNoEntry: boolean): Big | undefined {
    try {
      return this.names.stat(p, follow, true) as Big;
    } catch (err) {
      if (!throwIfNoEntry && (err as RioError).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  run(src: string, dest: string): void {
    const r = this.checkPaths(src, dest);
    if (r.skipped) return;
    this.checkParentPaths(src, r.srcStat!, dest);
    const destParent = dirname(dest);
    if (!this.names.exists(destParent)) this.names.mkdir(destParent, true, 0o777);
    this.getStats(r.destStat, src, dest);
  }

  private checkPaths(src: string, dest: string): { skipped: boolean; srcStat?: Big; destStat?: Big } {
    if (this.opts.filter && !this.opts.filter(src, dest)) return { skipped: true };
    const follow = this.opts.dereference;
    const srcStat = this.statOf(src, follow, true)!;
    const destStat = this.statOf(dest, follow, false);
    if (destStat) {
      if (srcStat.ino === destStat.ino && srcStat.dev === destStat.dev) {
        throw cpError('ERR_FS_CP_EINVAL', 'Invalid src or dest', EINVAL, 'EINVAL', 'src and dest cannot be the same', dest);
      }
      if (srcStat.isDirectory() && !destStat.isDirectory()) {
        throw cpError('ERR_FS_CP_DIR_TO_NON_DIR', 'Cannot overwrite non-directory with directory', EISDIR, 'EISDIR',
          `cannot overwrite non-directory ${dest} with directory ${src}`, dest);
      }
      if (!srcStat.isDirectory() && destStat.isDirectory()) {
        throw cpError('ERR_FS_CP_NON_DIR_TO_DIR', 'Cannot overwrite directory with non-directory', ENOTDIR, 'ENOTDIR',
          `cannot overwrite directory ${dest} with non-directory ${src}`, dest);
      }
    }
    if (srcStat.isDirectory() && this.isSubdir(src, dest)) {
      throw cpError('ERR_FS_CP_EINVAL', 'Invalid src or dest', EINVAL, 'EINVAL', `cannot copy ${src} to a subdirectory of self ${dest}`, dest);
    }
    return { skipped: false, srcStat, destStat };
  }

  private checkParentPaths(src: string, srcStat: Big, dest: string): void {
    for (let steps = 0; steps < 4096; steps++) {
      const srcParent = this.abs(dirname(src));
      const destParent = this.abs(dirname(dest));
      if (destParent === srcParent || destParent === '/' || !destParent.startsWith(this.cache.root)) return;
      const destStat = this.statOf(destParent, true, false);
      if (destStat === undefined) return;
      if (srcStat.ino === destStat.ino && srcStat.dev === destStat.dev) {
        throw cpError('ERR_FS_CP_EINVAL', 'Invalid src or dest', EINVAL, 'EINVAL', `cannot copy ${src} to a subdirectory of self ${dest}`, dest);
      }
      dest = destParent;
    }
  }

  private getStats(destStat: Big | undefined, src: string, dest: string): void {
    const srcStat = this.names.stat(src, this.opts.dereference, false) as fs.Stats;
    if (srcStat.isDirectory() && this.opts.recursive) {
      if (!destStat) {
        this.names.mkdir(dest, false, 0o777);
        this.copyDir(src, dest);
        this.names.chmod(dest, srcStat.mode, true);
      } else {
        this.copyDir(src, dest);
      }
      return;
    }
    if (srcStat.isDirectory()) {
      throw cpError('ERR_FS_EISDIR', 'Path is a directory', this.opts.asynchronous ? EISDIR : EINVAL, 'EISDIR', `${src} is a directory (not copied)`, src);
    }
    if (srcStat.isFile() || srcStat.isCharacterDevice() || srcStat.isBlockDevice()) {
      if (destStat) {
        if (this.opts.force) {
          this.names.unlink(dest);
        } else {
          if (this.opts.errorOnExist) throw cpError('ERR_FS_CP_EEXIST', 'Target already exists', EEXIST, 'EEXIST', `${dest} already exists`, dest);
          return;
        }
      }
      this.copies.copyFile(src, dest, this.opts.mode);
      if (this.opts.preserveTimestamps) {
        if ((srcStat.mode & 0o200) === 0) this.names.chmod(dest, srcStat.mode | 0o200, true);
        const now = this.names.stat(src, true, false) as fs.Stats;
        this.names.utimes(dest, now.atimeMs / 1000, now.mtimeMs / 1000, true);
      }
      this.names.chmod(dest, srcStat.mode, true);
      return;
    }
    if (srcStat.isSymbolicLink()) return this.onLink(destStat, src, dest);
    if (srcStat.isSocket()) throw cpError('ERR_FS_CP_SOCKET', 'Cannot copy a socket file', EINVAL, 'EINVAL', `cannot copy a socket file: ${dest}`, dest);
    if (srcStat.isFIFO()) throw cpError('ERR_FS_CP_FIFO_PIPE', 'Cannot copy a FIFO pipe', EINVAL, 'EINVAL', `cannot copy a FIFO pipe: ${dest}`, dest);
    throw cpError('ERR_FS_CP_UNKNOWN', 'Cannot copy an unknown file type', EINVAL, 'EINVAL', `cannot copy an unknown file type: ${dest}`, dest);
  }

  /** The names in a directory in the order opendir gives them (the file system's, unsorted), as Node's cp walks them. */
  private entries(src: string): string[] {
    const p = confine(this.cache.root, src, 'opendir');
    return using(target(this.cache, p, true, 'opendir', O_PATH | fs.constants.O_DIRECTORY), (o) => {
      const dir = fs.opendirSync(o.proc);
      const out: string[] = [];
      try {
        for (let d = dir.readSync(); d !== null; d = dir.readSync()) out.push(d.name);
      } finally {
        dir.closeSync();
      }
      return out;
    });
  }

  private copyDir(src: string, dest: string): void {
    for (const name of this.entries(src)) {
      const srcItem = join(src, name);
      const destItem = join(dest, name);
      const r = this.checkPaths(srcItem, destItem);
      if (!r.skipped) this.getStats(r.destStat, srcItem, destItem);
    }
  }

  private onLink(destStat: Big | undefined, src: string, dest: string): void {
    let resolvedSrc = this.names.readlink(src);
    if (!this.opts.verbatimSymlinks && !isAbsolute(resolvedSrc)) resolvedSrc = resolve(this.abs(dirname(src)), resolvedSrc);
    if (!destStat) return this.names.symlink(resolvedSrc, dest, null);
    let resolvedDest: string;
    try {
      resolvedDest = this.names.readlink(dest);
    } catch (err) {
      if ((err as RioError).code === 'EINVAL' || (err as RioError).code === 'UNKNOWN') return this.names.symlink(resolvedSrc, dest, null);
      throw err;
    }
    if (!isAbsolute(resolvedDest)) resolvedDest = resolve(this.abs(dirname(dest)), resolvedDest);
    if (this.isSubdir(resolvedSrc, resolvedDest)) {
      throw cpError('ERR_FS_CP_EINVAL', 'Invalid src or dest', EINVAL, 'EINVAL',
        `cannot copy ${resolvedSrc} to a subdirectory of self ${resolvedDest}`, dest);
    }
    if ((this.names.stat(dest, true, false) as fs.Stats).isDirectory() && this.isSubdir(resolvedDest, resolvedSrc)) {
      throw cpError('ERR_FS_CP_SYMLINK_TO_SUBDIRECTORY', 'Cannot overwrite symlink in subdirectory of self', EINVAL, 'EINVAL',
        `cannot overwrite ${resolvedDest} with ${resolvedSrc}`, dest);
    }
    this.names.unlink(dest);
    this.names.symlink(resolvedSrc, dest, null);
  }
}
