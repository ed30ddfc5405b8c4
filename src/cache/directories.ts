/**
 * Directories: mkdir (and -p), mkdtemp, readdir (names, Dirents, recursive),
 * rmdir, rm (and -r). Each is a disk call beneath the root; only rm changes
 * the region, when it removes cached files.
 *
 * rm of a tree holding cached files is bracketed by a remove-tree intent
 * (docs/format.md §3, operation 3): arm it (the commit), remove the tree,
 * drop or orphan the cached files whose paths are gone (one file-table
 * commit), disarm. A SIGKILL before arming leaves everything as it was; after
 * arming, recovery removes what is left of the tree (if the path still holds
 * the recorded directory) and frees the entries of the files it held, so a
 * removed file's dirty data is never written back to a path that no longer
 * exists, and never resurrected. rmdir, mkdir and mkdtemp touch no cached
 * file (an empty directory holds none), so a cut leaves the disk as the
 * kernel left it and nothing for recovery to do.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { native } from '../native';
import { RioError } from '../errors';
import { FILE_ACTIVE, INTENT_REMOVE_TREE } from '../region/format';
import type { Cache } from './cache';
import { confine, type ConfinedPath } from './paths';
import { fsError, identityAt, relabel, target, using } from './beneath';
import { removeTree } from './tree';
import type { FileState } from './files';

const O_PATH = 0o10000000;
const TEMP_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
/** mkdtemp tries this many names before giving up with EEXIST. */
const TEMP_TRIES_MAX = 100;

export class Directories {
  constructor(private readonly cache: Cache, private readonly unlinkFile: (path: unknown) => void) {}

  private path(value: unknown, syscall: string): ConfinedPath {
    this.cache.assertOpen(syscall);
    return confine(this.cache.root, value, syscall);
  }

  /** One mkdirat beneath the root; returns the errno code instead of throwing. */
  private mkdirOne(shown: string, mode: number): string | null {
    let p: ConfinedPath;
    try {
      p = confine(this.cache.root, shown, 'mkdir');
    } catch (err) {
      return (err as RioError).code;
    }
    if (p.key === '.') return 'EEXIST';
    try {
      native.mkdirBeneath(this.cache.rootFd, p.key, mode);
      return null;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
      return code === 'EXDEV' ? 'EACCES' : code;
    }
  }

  private isDirectoryFollowing(shown: string): boolean | string {
    try {
      const p = confine(this.cache.root, shown, 'mkdir');
      return using(target(this.cache, p, true, 'mkdir'), (o) => fs.fstatSync(o.fd).isDirectory());
    } catch (err) {
      return (err as RioError).code;
    }
  }

  mkdir(path: unknown, recursive: boolean, mode: number): string | undefined {
    const p = this.path(path, 'mkdir');
    if (!recursive) {
      const code = this.mkdirOne(p.shown, mode);
      if (code) throw fsError(code, 'mkdir', p.shown);
      return undefined;
    }
    // Node's MKDirpSync (src/node_file.cc), step for step, on the path as given.
    const stack = [p.shown];
    let first: string | undefined;
    for (let steps = 0; stack.length > 0 && steps < 4096; steps++) {
      const next = stack.pop()!;
      let code = this.mkdirOne(next, mode);
      for (;;) {
        if (code === null) {
          first ??= next;
          break;
        }
        if (code === 'EACCES' || code === 'ENOSPC' || code === 'ENOTDIR' || code === 'EPERM') throw fsError(code, 'mkdir', p.shown);
        if (code === 'ENOENT') {
          const cut = next.lastIndexOf('/');
          const dirname = cut < 0 ? next : next.slice(0, cut);
          if (dirname !== next) {
            stack.push(next, dirname);
          } else if (stack.length === 0) {
            code = 'EEXIST';
            continue;
          }
          break;
        }
        const isDir = this.isDirectoryFollowing(next);
        if (isDir === false) {
          throw fsError(code === 'EEXIST' && stack.length > 0 ? 'ENOTDIR' : 'EEXIST', 'mkdir', p.shown);
        }
        if (typeof isDir === 'string') throw fsError(isDir, 'mkdir', p.shown);
        break;
      }
    }
    return first;
  }

  mkdtemp(prefix: string): string {
    const p = this.path(prefix + 'XXXXXX', 'mkdtemp');
    for (let i = 0; i < TEMP_TRIES_MAX; i++) {
      const bytes = randomBytes(6);
      let suffix = '';
      for (const b of bytes) suffix += TEMP_CHARS[b % TEMP_CHARS.length];
      const key = p.key.slice(0, -6) + suffix;
      try {
        native.mkdirBeneath(this.cache.rootFd, key, 0o700);
        return prefix + suffix;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw relabel(err, 'mkdtemp', p.shown);
      }
    }
    throw fsError('EEXIST', 'mkdtemp', p.shown);
  }

  /** The names in one directory, in Node's order (libuv sorts them). */
  private scan(p: ConfinedPath, withFileTypes: boolean): string[] | fs.Dirent[] {
    return using(target(this.cache, p, true, 'scandir', O_PATH | fs.constants.O_DIRECTORY), (o) => {
      try {
        return withFileTypes ? fs.readdirSync(o.proc, { withFileTypes: true }) : fs.readdirSync(o.proc);
      } catch (err) {
        throw relabel(err, 'scandir', p.shown);
      }
    });
  }

  readdir(path: unknown, withFileTypes: boolean, recursive: boolean, order: 'queue' | 'stack'): string[] | fs.Dirent[] {
    const p = this.path(path, 'scandir');
    if (!recursive) return withFileTypes ? this.dirents(p, p.shown) : this.scan(p, false);
    // Node's readdirSyncRecursive (and the callback form) take the directories
    // from a queue, breadth first; fs.promises.readdir pops them from a stack.
    const queue: Array<{ p: ConfinedPath; rel: string; shown: string }> = [{ p, rel: '', shown: p.shown }];
    const out: Array<string | fs.Dirent> = [];
    let head = 0;
    const next = () => (order === 'stack' ? queue.pop() : queue[head++]);
    for (let dir = next(); dir !== undefined; dir = next()) {
      const entries = withFileTypes ? this.dirents(dir.p, dir.shown) : (this.scan(dir.p, false) as string[]);
      for (const entry of entries) {
        const name = typeof entry === 'string' ? entry : entry.name;
        const key = dir.p.key === '.' ? name : `${dir.p.key}/${name}`;
        const sub: ConfinedPath = { key, os: key, shown: join(dir.shown, name) };
        const rel = dir.rel ? `${dir.rel}/${name}` : name;
        out.push(typeof entry === 'string' ? rel : entry);
        // Names: Node descends into what stat (following) calls a directory; Dirents: what the entry is.
        const descend = typeof entry === 'string' ? this.isDirectory(sub) : entry.isDirectory();
        if (descend) queue.push({ p: sub, rel, shown: sub.shown });
      }
    }
    return out as string[] | fs.Dirent[];
  }

  private isDirectory(p: ConfinedPath): boolean {
    try {
      return using(target(this.cache, p, true, 'stat'), (o) => fs.fstatSync(o.fd).isDirectory());
    } catch {
      return false;
    }
  }

  /** Node's Dirents, their path (and parentPath) the directory as the caller named it. */
  private dirents(p: ConfinedPath, shown: string): fs.Dirent[] {
    const list = this.scan(p, true) as fs.Dirent[];
    for (const d of list) {
      const x = d as fs.Dirent & { path: string; parentPath?: string };
      x.path = shown;
      if ('parentPath' in x) x.parentPath = shown;
    }
    return list;
  }

  rmdir(path: unknown): void {
    const p = this.path(path, 'rmdir');
    try {
      native.unlinkBeneath(this.cache.rootFd, p.key, true);
    } catch (err) {
      throw relabel(err, 'rmdir', p.shown);
    }
  }

  /**
   * Node 20's rm: an lstat first (ENOENT unless force; EISDIR for a
   * directory without recursive), then rimraf. rmSync skips the lstat when
   * both recursive and force are given; the callback and promise forms
   * (`lstatFirst`) never do, so their errors can be lstat's where rmSync's
   * are unlink's.
   */
  rm(path: unknown, recursive: boolean, force: boolean, lstatFirst = false): void {
    const p = this.path(path, 'rm');
    let st: fs.Stats | null = null;
    if (!force || !recursive || lstatFirst) {
      try {
        st = using(target(this.cache, p, false, 'lstat'), (o) => fs.fstatSync(o.fd));
      } catch (err) {
        if (!(force && (err as RioError).code === 'ENOENT')) throw err;
      }
      if (st?.isDirectory() && !recursive) {
        throw Object.assign(new RioError('ERR_FS_EISDIR', `Path is a directory: rm returned EISDIR (is a directory) ${p.shown}`, {
          errno: 21, syscall: 'rm', path: p.shown,
        }), { name: 'SystemError', info: { code: 'EISDIR', message: 'is a directory', path: p.shown, syscall: 'rm', errno: 21 } });
      }
    }
    const top = identityAt(this.cache.rootFd, p.os);
    if (!top || !top.isDirectory()) {
      // rimraf unlinks what is not a directory; nothing there (ENOENT) is no error, ENOTDIR is.
      try {
        this.unlinkFile(path);
      } catch (err) {
        if ((err as RioError).code !== 'ENOENT') throw err;
      }
      return;
    }
    const held = this.cachedUnder(p.key);
    if (held.length === 0) {
      removeTree(this.cache.rootFd, p);
      return;
    }
    this.removeCachedTree(p, top, held);
  }

  /** Files the cache holds whose paths are `key` or beneath it. */
  private cachedUnder(key: string): FileState[] {
    const e = this.cache.engine;
    const out: FileState[] = [];
    e.fileTable.entries.forEach((x, s) => {
      const f = e.files[s];
      if (f && x.state === FILE_ACTIVE && (key === '.' || x.path === key || x.path.startsWith(key + '/'))) out.push(f);
    });
    return out;
  }

  private removeCachedTree(p: ConfinedPath, top: fs.Stats, held: FileState[]): void {
    this.cache.txs.refuseDuringTransaction('rm');
    const e = this.cache.engine;
    // A file with another name outside the tree lives on: its data goes to the disk first.
    for (const f of held) if (f.attached && this.cache.needsFlush(f) && fs.fstatSync(f.fd).nlink > 1) e.flushFileSync(f);
    e.intent.arm(INTENT_REMOVE_TREE, top.dev, top.ino, p.key, '');
    let failure: unknown = null;
    try {
      removeTree(this.cache.rootFd, p);
    } catch (err) {
      failure = err;
    }
    // Whatever is gone from the disk is gone from the cache, even after a failure half-way.
    const gone = held.filter((f) => {
      const id = identityAt(this.cache.rootFd, f.path);
      return !id || id.ino !== f.ino || id.dev !== f.dev;
    });
    this.cache.handles.orphanOrFree(gone);
    e.intent.disarm();
    if (failure) throw failure;
  }
}
