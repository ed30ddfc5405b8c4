/**
 * Acting on one path beneath the root (G7) with Node's own fs calls.
 *
 * The addon opens paths with openat2(RESOLVE_BENEATH): symlinks are followed
 * only while they stay inside the root. What is opened is then named to
 * Node's fs through /proc/self/fd, so every call keeps Node's semantics and
 * results (real fs.Stats, fs.Dirent) and no symlink can lead it out:
 *
 *   target(p, follow)  an O_PATH descriptor of the file itself (following a
 *                      final symlink or not); `/proc/self/fd/N` names it.
 *   parent(p)          an O_PATH descriptor of the directory holding it;
 *                      `/proc/self/fd/N/<name>` names the entry without
 *                      following it (lstat, readlink, symlink, link, mkdir).
 *
 * Errors are re-labelled as Node labels them: the caller's path, the call's
 * syscall, libuv's message. A path that leads out of the root is EACCES.
 */
import * as fs from 'node:fs';
import { isAbsolute, relative } from 'node:path';
import { getSystemErrorMap } from 'node:util';
import { native } from '../native';
import { RioError } from '../errors';
import type { ConfinedPath } from './paths';

const O_PATH = 0o10000000;
const uvErrors = getSystemErrorMap();
const errnoOf = new Map<string, number>();
for (const [errno, [name]] of uvErrors) errnoOf.set(name, errno);

/** An error shaped exactly as Node's fs shapes it: `ENOENT: no such file or directory, stat 'x'`. */
export function fsError(code: string, syscall: string, path?: string, dest?: string, detail?: string): RioError {
  const errno = errnoOf.get(code);
  const message = detail ?? (errno !== undefined ? uvErrors.get(errno)![1] : 'unknown error');
  let text = `${code}: ${message}, ${syscall}`;
  if (path !== undefined) text += ` '${path}'`;
  if (dest !== undefined) text += ` -> '${dest}'`;
  const e = new RioError(code, text, { errno, syscall, path, dest });
  e.name = 'Error';
  return e;
}

/** Re-labels an error of the kernel or of Node's fs with the caller's view of the call. */
export function relabel(err: unknown, syscall: string, path?: string, dest?: string): Error {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (typeof code !== 'string' || !/^E[A-Z0-9]+$/.test(code)) return err as Error;
  if (code === 'EXDEV' && syscall !== 'rename' && syscall !== 'link') {
    return fsError('EACCES', syscall, path, dest, 'permission denied (the path leads out of the cache root)');
  }
  return fsError(code, syscall, path, dest);
}

/** The root, as a descriptor and (for re-resolving absolute symlinks) as a path. */
export interface Beneath {
  rootFd: number;
  root?: string;
}

/** Symlinks followed in one resolution, as the kernel's limit (ELOOP past it). */
const SYMLINK_HOPS_MAX = 40;

/**
 * openat2 with RESOLVE_BENEATH refuses every absolute symlink, even one that
 * names a place inside the root (as `cp` makes them). This rewrites `os` with
 * each absolute symlink that stays inside the root replaced by the relative
 * path it names; null when one leads out, ELOOP when they loop. The result is opened
 * beneath the root again, so nothing here widens what can be reached.
 */
function withoutAbsoluteLinks(at: Beneath, os: string, followLast: boolean): string | null {
  if (at.root === undefined) return null;
  const trailing = os.endsWith('/');
  let parts = os.split('/').filter((x) => x !== '' && x !== '.');
  const done: string[] = [];
  for (let hops = 0; parts.length > 0;) {
    const name = parts.shift()!;
    if (name === '..') {
      if (done.length === 0) return null;
      done.pop();
      continue;
    }
    const here = [...done, name].join('/');
    let st: fs.Stats | null;
    try {
      st = identityAt(at.rootFd, here);
    } catch {
      st = null;
    }
    if (!st || !st.isSymbolicLink() || (parts.length === 0 && !followLast && !trailing)) {
      done.push(name);
      if (!st) break; // the kernel reports what is missing
      // More to walk (`..` included, which is not lexical): the kernel needs a directory here.
      if (parts.length > 0 && !st.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
      continue;
    }
    if (++hops > SYMLINK_HOPS_MAX) throw Object.assign(new Error('too many symbolic links'), { code: 'ELOOP' });
    const dir = done.length === 0 ? '.' : done.join('/');
    let link: string;
    try {
      const fd = native.openBeneath(at.rootFd, dir, O_PATH | fs.constants.O_DIRECTORY, 0);
      try {
        link = fs.readlinkSync(`/proc/self/fd/${fd}/${name}`);
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      return null;
    }
    if (isAbsolute(link)) {
      const rel = relative(at.root, link);
      if (rel === '..' || rel.startsWith('../') || isAbsolute(rel)) return null;
      done.length = 0;
      parts = [...rel.split('/').filter((x) => x !== ''), ...parts];
    } else {
      parts = [...link.split('/').filter((x) => x !== '' && x !== '.'), ...parts];
    }
  }
  const out = [...done, ...parts].join('/') || '.';
  return trailing && out !== '.' ? out + '/' : out;
}

/** openBeneath, re-resolving absolute symlinks that stay inside the root (EXDEV otherwise, as the kernel says). */
export function openBeneath(at: Beneath, os: string, flags: number, mode: number): number {
  try {
    return native.openBeneath(at.rootFd, os, flags, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    const again = withoutAbsoluteLinks(at, os, (flags & fs.constants.O_NOFOLLOW) === 0);
    if (again === null || again === os) throw err;
    return native.openBeneath(at.rootFd, again, flags, mode);
  }
}

/** A descriptor opened beneath the root, and the path Node's fs knows it by. */
export class Opened {
  constructor(readonly fd: number, readonly proc: string) {}

  close(): void {
    fs.closeSync(this.fd);
  }
}

/** Runs fn with the descriptor, always closing it. */
export function using<T>(o: Opened, fn: (o: Opened) => T): T {
  try {
    return fn(o);
  } finally {
    o.close();
  }
}

/**
 * The file `p` names, as an O_PATH descriptor (or with `flags`). With follow
 * false a final symlink is the result itself (unless the path ends in '/',
 * which the kernel always follows).
 */
export function target(at: Beneath, p: ConfinedPath, follow: boolean, syscall: string, flags = O_PATH): Opened {
  const nofollow = follow ? 0 : fs.constants.O_NOFOLLOW;
  let fd: number;
  try {
    fd = openBeneath(at, p.os, flags | nofollow, 0);
  } catch (err) {
    throw relabel(err, syscall, p.shown);
  }
  return new Opened(fd, `/proc/self/fd/${fd}`);
}

/** The directory holding `p`'s last component, and the path naming that entry through it. */
export function parent(at: Beneath, p: ConfinedPath, syscall: string, shown = p.shown, dest?: string): Opened {
  const key = p.key;
  const slash = key.lastIndexOf('/');
  const dir = slash < 0 ? '.' : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  let fd: number;
  try {
    fd = openBeneath(at, dir, O_PATH | fs.constants.O_DIRECTORY, 0);
  } catch (err) {
    throw relabel(err, syscall, shown, dest);
  }
  // A trailing slash stays on the entry's name: the kernel gives it its meaning (ENOTDIR, following).
  const tail = p.os.endsWith('/') ? '/' : '';
  return new Opened(fd, name === '.' ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${name}${tail}`);
}

/** (dev, ino, type) of what `os` names beneath the root, without following a final symlink; null if nothing. */
export function identityAt(rootFd: number, os: string): fs.Stats | null {
  let fd: number;
  try {
    fd = native.openBeneath(rootFd, os, O_PATH | fs.constants.O_NOFOLLOW, 0);
  } catch {
    return null;
  }
  try {
    return fs.fstatSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export { O_PATH };
