/**
 * A truncating writeFile of a path that names nothing creates its file in
 * one step under process death. Opening with O_CREAT would put an empty file
 * on the disk before its bytes are committed, and a SIGKILL between the two
 * leaves it empty: neither the old state (no file) nor the new one. Programs
 * that test a file's existence before writing it (isomorphic-git's objects)
 * then keep the empty file for good.
 *
 * So the bytes go to an unnamed file in the target's directory (O_TMPFILE),
 * which is then linked under the name (linkat, which never replaces). The
 * region is not involved: a cut before the link leaves no file (the kernel
 * frees the unnamed inode with the dead process), a cut after it the whole
 * file. The write costs what plain fs's costs (the page cache). The name's
 * directory lists nothing new at any moment.
 *
 * Used by riocache/register's writeFile (src/register/newFile.ts). Returns
 * false, leaving the call to the ordinary path, when the path names
 * something (a dangling symlink included: the write goes to its target), ends
 * in a slash, or the file system has no O_TMPFILE (then a kill may leave the
 * file empty, as on plain fs). Errors are open's, as plain fs reports them.
 */
import * as fs from 'node:fs';
import { dirname } from 'node:path';
import { native } from '../native';
import type { Cache } from './cache';
import { fsError, identityAt, relabel } from './beneath';
import { confine } from './paths';
import { writeAllAsync, writeAllSync } from './writeAll';

const O_TMPFILE = 0o20200000; // __O_TMPFILE | O_DIRECTORY (Linux)
/** What openat(O_TMPFILE) fails with where the file system (or kernel) cannot make unnamed files. */
const NO_TMPFILE = new Set(['EOPNOTSUPP', 'ENOTSUP', 'EISDIR', 'EINVAL']);

interface Unnamed {
  fd: number;
  key: string;
  shown: string;
}

/** The unnamed file for `path`, or null where the ordinary path must run. */
function openUnnamed(cache: Cache, path: unknown, mode: number): Unnamed | null {
  cache.assertOpen('open');
  const p = confine(cache.root, path, 'open');
  if (p.key === '.' || p.os.endsWith('/') || identityAt(cache.rootFd, p.os) !== null) return null;
  const dir = dirname(p.key);
  try {
    return { fd: native.openBeneath(cache.rootFd, dir, O_TMPFILE | fs.constants.O_RDWR, mode), key: p.key, shown: p.shown };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (NO_TMPFILE.has(code)) return null;
    throw relabel(err, 'open', p.shown);
  }
}

/** Names the written file; false when the name was taken meanwhile (the ordinary path then runs, or EEXIST for 'wx'). */
function link(cache: Cache, u: Unnamed, exclusive: boolean): boolean {
  try {
    native.linkBeneath(cache.rootFd, u.fd, u.key);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' && exclusive) throw fsError('EEXIST', 'open', u.shown);
    if (code === 'EEXIST') return false;
    throw relabel(err, 'open', u.shown);
  }
}

/**
 * `bytes` is asked for only once the path is known to name nothing: a
 * writeFile of an existing file (the common case) goes on to the ordinary
 * path without having encoded its data here first.
 */
export function createWholeSync(cache: Cache, path: unknown, bytes: () => Uint8Array, mode: number, exclusive: boolean, flush: boolean): boolean {
  cache.txs.refuseDuringTransaction('writeFile');
  const u = openUnnamed(cache, path, mode);
  if (u === null) return false;
  try {
    writeAllSync(u.fd, [bytes()], 0);
    if (flush) fs.fsyncSync(u.fd);
    return link(cache, u, exclusive);
  } finally {
    fs.closeSync(u.fd);
  }
}

export async function createWhole(cache: Cache, path: unknown, bytes: () => Uint8Array, mode: number, exclusive: boolean, flush: boolean): Promise<boolean> {
  await cache.txs.transactionEnded();
  const u = openUnnamed(cache, path, mode);
  if (u === null) return false;
  try {
    await writeAllAsync(u.fd, [bytes()], 0);
    if (flush) await new Promise<void>((res, rej) => fs.fsync(u.fd, (err) => (err ? rej(err) : res())));
    return link(cache, u, exclusive);
  } finally {
    fs.closeSync(u.fd);
  }
}
