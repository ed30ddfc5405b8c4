/**
 * Removing a tree beneath the root, as Node's rmSync({ recursive: true })
 * does it (lib/internal/fs/rimraf.js): lstat; a directory is rmdir'ed, and
 * when not empty its children are removed first, in readdir's order; any
 * other entry is unlinked; an entry already gone is no error. Symlinks are
 * removed, never followed (each call acts on one name in a directory opened
 * beneath the root). Shared by rm (directories.ts) and by recovery, which
 * completes an rm -r a SIGKILL interrupted (docs/format.md §3): removing
 * what is left of a tree twice equals removing it once.
 */
import * as fs from 'node:fs';
import { native } from '../native';
import { identityAt, parent, relabel, using } from './beneath';
import type { ConfinedPath } from './paths';

/** Bounds the walk: deeper trees are refused rather than recursed without limit. */
export const TREE_DEPTH_MAX = 4096;

function child(p: ConfinedPath, name: string): ConfinedPath {
  const key = p.key === '.' ? name : `${p.key}/${name}`;
  return { key, os: key, shown: `${p.shown.replace(/\/+$/, '')}/${name}` };
}

function unlinkOne(rootFd: number, p: ConfinedPath, directory: boolean): void {
  try {
    native.unlinkBeneath(rootFd, p.key, directory);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EINVAL' && directory) throw relabel(err, 'rmdir', p.shown);
    throw relabel(err, directory ? 'rmdir' : 'unlink', p.shown);
  }
}

function names(rootFd: number, p: ConfinedPath): string[] {
  return using(parent({ rootFd }, p, 'scandir'), (o) => {
    try {
      return fs.readdirSync(o.proc);
    } catch (err) {
      throw relabel(err, 'scandir', p.shown);
    }
  });
}

/** rimrafSync of Node 20 over the confined calls. */
export function removeTree(rootFd: number, p: ConfinedPath, depth = 0): void {
  if (depth > TREE_DEPTH_MAX) throw relabel(Object.assign(new Error('too deep'), { code: 'ELOOP' }), 'rm', p.shown);
  const st = identityAt(rootFd, p.key);
  try {
    if (st?.isDirectory()) removeDirectory(rootFd, p, null, depth);
    else unlinkOne(rootFd, p, false);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code !== 'EISDIR') throw err;
    removeDirectory(rootFd, p, err as Error, depth);
  }
}

function removeDirectory(rootFd: number, p: ConfinedPath, originalErr: Error | null, depth: number): void {
  try {
    unlinkOne(rootFd, p, true);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'ENOTDIR') throw originalErr ?? err;
    if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'EPERM') {
      for (const name of names(rootFd, p)) removeTree(rootFd, child(p, name), depth + 1);
      try {
        unlinkOne(rootFd, p, true);
      } catch (again) {
        if ((again as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw again;
      }
      return;
    }
    throw originalErr ?? err;
  }
}
