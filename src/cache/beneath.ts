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
export function target(rootFd: number, p: ConfinedPath, follow: boolean, syscall: string, flags = O_PATH): Opened {
  const nofollow = follow ? 0 : fs.constants.O_NOFOLLOW;
  let fd: number;
  try {
    fd = native.openBeneath(rootFd, p.os, flags | nofollow, 0);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // O_NOFOLLOW on a symlink outside O_PATH is ELOOP; with O_PATH it opens the link.
    throw relabel(code === 'EXDEV' ? err : err, syscall, p.shown);
  }
  return new Opened(fd, `/proc/self/fd/${fd}`);
}

/** The directory holding `p`'s last component, and the path naming that entry through it. */
export function parent(rootFd: number, p: ConfinedPath, syscall: string, shown = p.shown, dest?: string): Opened {
  const key = p.key;
  const slash = key.lastIndexOf('/');
  const dir = slash < 0 ? '.' : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  let fd: number;
  try {
    fd = native.openBeneath(rootFd, dir, O_PATH | fs.constants.O_DIRECTORY, 0);
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
