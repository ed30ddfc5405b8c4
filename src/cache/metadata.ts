/**
 * The metadata calls by path: stat, lstat, access, exists, realpath,
 * readlink, symlink, link, chmod, chown, utimes (and their l- forms),
 * statfs. Each is one system call on the disk beneath the root (beneath.ts);
 * none changes the region except utimes of a cached file, whose stamp (the
 * mtime its users see, docs/format.md §5) takes the new time: a plain store
 * after the disk call, so a SIGKILL between the two leaves the disk with the
 * new time and the stamp with the old one, which the next write (or the
 * write-back, which applies the stamp) overrides as a write on disk would.
 *
 * Stats of a file the cache holds tell what node:fs would say had every
 * write reached the disk: the cache's size, the blocks for it, and the
 * stamp as mtime (ctime no earlier). They are node:fs's own Stats objects,
 * adjusted.
 */
import * as fs from 'node:fs';
import { relative, resolve } from 'node:path';
import type { Cache } from './cache';
import { confine, type ConfinedPath } from './paths';
import { fsError, identityAt, O_PATH, parent, relabel, target, using } from './beneath';
import type { FileState } from './files';

type AnyStats = fs.Stats | fs.BigIntStats;

/** The cached file behind a disk identity, if the cache holds it open (attached). */
export function heldFile(cache: Cache, st: { dev: number | bigint; ino: number | bigint }): FileState | undefined {
  const f = cache.handles.byInode.get(`${Number(st.dev)}:${Number(st.ino)}`);
  return f?.attached ? f : undefined;
}

/** Adjusts the disk's Stats of a cached file to what the disk would say had every write reached it. */
export function truthfulStats(cache: Cache, st: AnyStats, file: FileState | undefined = undefined): AnyStats {
  if (!st.isFile()) return st;
  const f = file ?? heldFile(cache, st);
  if (!f) return st;
  const sizes = cache.engine.sizes;
  const size = sizes.size(f.slot);
  const mtime = sizes.stamp(f.slot);
  const diskSize = Number(st.size);
  const blksize = Number(st.blksize) || 4096;
  // Blocks as a dense file of this size would hold (a write past the disk's end allocates them).
  const blocks = size > diskSize ? Math.max(Number(st.blocks), Math.ceil(size / blksize) * (blksize / 512)) : Number(st.blocks);
  if (typeof st.size === 'bigint') {
    const b = st as fs.BigIntStats;
    b.size = BigInt(size);
    b.blocks = BigInt(blocks);
    if (mtime > 0) {
      const ns = BigInt(Math.round(mtime * 1000)) * 1000n;
      b.mtimeNs = ns;
      b.mtimeMs = ns / 1_000_000n;
      b.mtime = new Date(mtime);
      if (b.ctimeNs < ns) {
        b.ctimeNs = ns;
        b.ctimeMs = b.mtimeMs;
        b.ctime = new Date(mtime);
      }
    }
    return b;
  }
  const s = st as fs.Stats;
  s.size = size;
  s.blocks = blocks;
  if (mtime > 0) {
    s.mtimeMs = mtime;
    s.mtime = new Date(mtime);
    if (s.ctimeMs < mtime) {
      s.ctimeMs = mtime;
      s.ctime = new Date(mtime);
    }
  }
  return s;
}

export class Metadata {
  constructor(private readonly cache: Cache) {}

  private path(value: unknown, syscall: string, arg = 'path'): ConfinedPath {
    this.cache.assertOpen(syscall);
    return confine(this.cache.root, value, syscall, arg);
  }

  stat(path: unknown, follow: boolean, bigint: boolean): AnyStats {
    const syscall = follow ? 'stat' : 'lstat';
    const p = this.path(path, syscall);
    return using(target(this.cache, p, follow, syscall), (o) => {
      let st: AnyStats;
      try {
        st = fs.fstatSync(o.fd, { bigint });
      } catch (err) {
        throw relabel(err, syscall, p.shown);
      }
      return truthfulStats(this.cache, st);
    });
  }

  access(path: unknown, mode: number): void {
    const p = this.path(path, 'access');
    using(target(this.cache, p, true, 'access'), (o) => {
      try {
        fs.accessSync(o.proc, mode);
      } catch (err) {
        throw relabel(err, 'access', p.shown);
      }
    });
  }

  exists(path: unknown): boolean {
    try {
      this.stat(path, true, false);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The canonical absolute path (the kernel's, from the opened descriptor).
   * Errors as Node's realpathSync gives them: lstat of the first component
   * that fails, named by its absolute path.
   */
  realpath(path: unknown): string {
    const p = this.path(path, 'lstat');
    let o;
    try {
      o = target(this.cache, p, true, 'lstat');
    } catch (err) {
      throw this.realpathError(p, err);
    }
    return using(o, () => fs.readlinkSync(o.proc));
  }

  /**
   * Node's JavaScript realpathSync on the failure path: walk the components
   * below the root; lstat each (its error is lstat's); a symlink is stat'ed
   * (following: its error is stat's, named by the link) and its target
   * spliced in, and the walk starts again.
   */
  private realpathError(p: ConfinedPath, first: unknown): Error {
    const root = this.cache.root;
    let parts = p.key === '.' ? [] : p.key.split('/');
    for (let restarts = 0; restarts < 64; restarts++) {
      let spliced = false;
      for (let i = 1; i <= parts.length && !spliced; i++) {
        const prefix = parts.slice(0, i).join('/');
        const cp: ConfinedPath = { key: prefix, os: prefix, shown: resolve(root, prefix) };
        let st: fs.Stats;
        try {
          st = using(target(this.cache, cp, false, 'lstat'), (o) => fs.fstatSync(o.fd));
        } catch (err) {
          return err as Error;
        }
        if (!st.isSymbolicLink()) continue;
        try {
          using(target(this.cache, cp, true, 'stat'), () => undefined);
        } catch (err) {
          return err as Error;
        }
        const link = using(parent(this.cache, cp, 'readlink'), (o) => fs.readlinkSync(o.proc));
        const resolved = relative(root, resolve(root, prefix, '..', link));
        if (resolved === '..' || resolved.startsWith('../')) break; // `..x` is a name inside
        parts = [...(resolved ? resolved.split('/') : []), ...parts.slice(i)];
        spliced = true;
      }
      if (!spliced) break;
    }
    return relabel(first, 'lstat', resolve(root, p.key));
  }

  readlink(path: unknown): string {
    const p = this.path(path, 'readlink');
    return using(parent(this.cache, p, 'readlink'), (o) => {
      try {
        return fs.readlinkSync(o.proc);
      } catch (err) {
        throw relabel(err, 'readlink', p.shown);
      }
    });
  }

  /** Errors name the target as path and the new link as dest, as Node's do. */
  symlink(targetPath: string, path: unknown, type: string | null): void {
    const p = this.path(path, 'symlink');
    using(parent(this.cache, p, 'symlink', targetPath, p.shown), (o) => {
      try {
        fs.symlinkSync(targetPath, o.proc, type as fs.symlink.Type | null);
      } catch (err) {
        throw relabel(err, 'symlink', targetPath, p.shown);
      }
    });
  }

  /**
   * link(2): the new name shares the inode, and so the cached file (the
   * descriptor table finds files by inode). Nothing in the region changes.
   */
  link(existingPath: unknown, newPath: unknown): void {
    const a = this.path(existingPath, 'link', 'existingPath');
    const b = this.path(newPath, 'link', 'newPath');
    using(parent(this.cache, a, 'link', a.shown, b.shown), (oa) => {
      // The kernel resolves the existing name first: its error comes before the new name's.
      try {
        fs.lstatSync(oa.proc);
      } catch (err) {
        throw relabel(err, 'link', a.shown, b.shown);
      }
      using(parent(this.cache, b, 'link', a.shown, b.shown), (ob) => {
        try {
          fs.linkSync(oa.proc, ob.proc);
        } catch (err) {
          throw relabel(err, 'link', a.shown, b.shown);
        }
      });
    });
  }

  chmod(path: unknown, mode: number, follow: boolean): void {
    const syscall = follow ? 'chmod' : 'lchmod';
    const p = this.path(path, syscall);
    using(target(this.cache, p, follow, syscall), (o) => {
      try {
        // Linux cannot change a symlink's mode (fchmodat AT_SYMLINK_NOFOLLOW).
        if (!follow && fs.fstatSync(o.fd).isSymbolicLink()) throw fsError('EOPNOTSUPP', syscall, p.shown);
        fs.chmodSync(o.proc, mode);
      } catch (err) {
        throw relabel(err, syscall, p.shown);
      }
    });
  }

  chown(path: unknown, uid: number, gid: number, follow: boolean): void {
    const syscall = follow ? 'chown' : 'lchown';
    const p = this.path(path, syscall);
    const run = (o: { proc: string }) => {
      try {
        if (follow) fs.chownSync(o.proc, uid, gid);
        else fs.lchownSync(o.proc, uid, gid);
      } catch (err) {
        throw relabel(err, syscall, p.shown);
      }
    };
    if (follow) using(target(this.cache, p, true, syscall), run);
    else using(parent(this.cache, p, syscall), run);
  }

  utimes(path: unknown, atime: number, mtime: number, follow: boolean): void {
    const syscall = follow ? 'utime' : 'lutime';
    const p = this.path(path, syscall);
    const run = (o: { proc: string }) => {
      try {
        if (follow) fs.utimesSync(o.proc, atime, mtime);
        else fs.lutimesSync(o.proc, atime, mtime);
      } catch (err) {
        throw relabel(err, syscall, p.shown);
      }
    };
    if (follow) using(target(this.cache, p, true, syscall), run);
    else using(parent(this.cache, p, syscall), run);
    const st = follow ? this.statQuiet(p, true) : identityAt(this.cache.rootFd, p.os);
    const f = st ? heldFile(this.cache, st) : undefined;
    if (f && st) this.cache.engine.sizes.setStamp(f.slot, st.mtimeMs);
  }

  private statQuiet(p: ConfinedPath, follow: boolean): fs.Stats | null {
    try {
      return using(target(this.cache, p, follow, 'stat'), (o) => fs.fstatSync(o.fd));
    } catch {
      return null;
    }
  }

  statfs(path: unknown, bigint: boolean): fs.StatsFs | fs.BigIntStatsFs {
    const p = this.path(path, 'statfs');
    return using(target(this.cache, p, true, 'statfs'), (o) => {
      try {
        return fs.statfsSync(o.proc, { bigint });
      } catch (err) {
        throw relabel(err, 'statfs', p.shown);
      }
    });
  }
}

export { O_PATH };
