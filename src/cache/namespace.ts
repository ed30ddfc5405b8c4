/**
 * cache.names: the cores of every call that is not data I/O (NamespaceCore,
 * namespaceCore.ts). This file holds the two that move or remove a cached
 * file by name, unlink and rename: each is a disk operation bracketed by a
 * namespace intent in the region (docs/format.md §3, §10): arm (the commit),
 * change the disk, commit the file table, disarm. A SIGKILL before arming
 * leaves the disk and the table as they were; anywhere after, recovery redoes
 * the disk step if the path still holds the recorded inode and rewrites the
 * table the same way, so completing twice equals once. The other cores live
 * by job in directories.ts, metadata.ts and copy.ts; this class hands each
 * call to its file.
 */
import * as fs from 'node:fs';
import { native } from '../native';
import { asSystemError, systemError } from '../errors';
import { FILE_ACTIVE, FILE_ORPHAN, INTENT_RENAME, INTENT_UNLINK } from '../region/format';
import { renameEntries } from '../recovery/scanner';
import { confine } from './paths';
import type { Cache } from './cache';
import type { FileEntry } from './fileTable';
import type { FileState } from './files';
import type { CpCoreOptions, NamespaceCore } from './namespaceCore';
import { Directories } from './directories';
import { Metadata } from './metadata';
import { Copies } from './copy';

const O_PATH = 0o10000000;

export class Namespace implements NamespaceCore {
  private readonly dirs: Directories;
  private readonly meta: Metadata;
  private readonly copies: Copies;

  constructor(private readonly cache: Cache) {
    this.dirs = new Directories(cache, (path) => this.unlink(path));
    this.meta = new Metadata(cache);
    this.copies = new Copies(cache, this);
  }

  stat(path: unknown, follow: boolean, bigint: boolean): fs.Stats | fs.BigIntStats { return this.meta.stat(path, follow, bigint); }
  access(path: unknown, mode: number): void { this.meta.access(path, mode); }
  exists(path: unknown): boolean { return this.meta.exists(path); }
  realpath(path: unknown): string { return this.meta.realpath(path); }
  readlink(path: unknown): string { return this.meta.readlink(path); }
  symlink(target: string, path: unknown, type: string | null): void { this.meta.symlink(target, path, type); }
  link(existingPath: unknown, newPath: unknown): void { this.meta.link(existingPath, newPath); }
  chmod(path: unknown, mode: number, follow: boolean): void { this.meta.chmod(path, mode, follow); }
  chown(path: unknown, uid: number, gid: number, follow: boolean): void { this.meta.chown(path, uid, gid, follow); }
  utimes(path: unknown, atime: number, mtime: number, follow: boolean): void { this.meta.utimes(path, atime, mtime, follow); }
  statfs(path: unknown, bigint: boolean): fs.StatsFs | fs.BigIntStatsFs { return this.meta.statfs(path, bigint); }
  mkdir(path: unknown, recursive: boolean, mode: number): string | undefined { return this.dirs.mkdir(path, recursive, mode); }
  mkdtemp(prefix: string): string { return this.dirs.mkdtemp(prefix); }
  readdir(path: unknown, withFileTypes: boolean, recursive: boolean, order: 'queue' | 'stack' = 'queue'): string[] | fs.Dirent[] {
    return this.dirs.readdir(path, withFileTypes, recursive, order);
  }
  rmdir(path: unknown): void { this.dirs.rmdir(path); }
  rm(path: unknown, recursive: boolean, force: boolean, lstatFirst = false): void { this.dirs.rm(path, recursive, force, lstatFirst); }
  truncate(path: unknown, length: number): void { this.copies.truncate(path, length); }
  copyFile(src: unknown, dest: unknown, mode: number): void { this.copies.copyFile(src, dest, mode); }
  cp(src: unknown, dest: unknown, options: CpCoreOptions): void { this.copies.cp(src, dest, options); }

  /** (dev, ino) of what `path` names beneath the root, without following a final symlink. */
  private identityAt(os: string): { dev: number; ino: number; isDirectory: boolean } | null {
    let fd: number;
    try {
      fd = native.openBeneath(this.cache.rootFd, os, O_PATH | fs.constants.O_NOFOLLOW, 0);
    } catch {
      return null;
    }
    try {
      const st = fs.fstatSync(fd);
      return { dev: st.dev, ino: st.ino, isDirectory: st.isDirectory() };
    } finally {
      fs.closeSync(fd);
    }
  }

  /**
   * @internal unlink(2). For a cached file: arm the intent (the commit),
   * unlink on disk, update the file table, disarm. A cut anywhere after
   * arming is completed by recovery.
   */
  unlink(path: unknown): void {
    this.cache.assertOpen('unlink');
    this.cache.txs.refuseDuringTransaction('unlink');
    const p = confine(this.cache.root, path, 'unlink');
    const e = this.cache.engine;
    const slot = e.fileTable.slotOf(p.key);
    const file = slot >= 0 ? e.files[slot] : undefined;
    if (!file) {
      this.diskUnlink(p.os, p.shown);
      return;
    }
    // A file with another name lives on after this one goes: its data reaches the disk first.
    if (file.attached && this.cache.needsFlush(file) && fs.fstatSync(file.fd).nlink > 1) e.flushFileSync(file);
    e.intent.arm(INTENT_UNLINK, file.dev, file.ino, p.key, '');
    try {
      this.diskUnlink(p.os, p.shown);
    } catch (err) {
      e.intent.disarm();
      throw err;
    }
    this.cache.handles.orphanOrFree([file]);
    e.intent.disarm();
  }

  private diskUnlink(os: string, shown: string): void {
    try {
      native.unlinkBeneath(this.cache.rootFd, os.replace(/\/+$/, ''), false);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EXDEV') throw systemError('EACCES', 'unlink', shown, undefined, 'permission denied (the path leads out of the cache root)');
      if (code === 'EINVAL') throw systemError('EISDIR', 'unlink', shown); // "." or ".."
      throw asSystemError(err, 'unlink', shown);
    }
  }

  /**
   * @internal rename(2), files or directories. With cached files involved:
   * arm the intent, rename on disk, rewrite the file table, disarm.
   */
  rename(from: unknown, to: unknown): void {
    this.cache.assertOpen('rename');
    this.cache.txs.refuseDuringTransaction('rename');
    const a = confine(this.cache.root, from, 'rename', 'oldPath');
    const b = confine(this.cache.root, to, 'rename', 'newPath');
    const e = this.cache.engine;
    const entries = e.fileTable.entries;
    const under = `${a.key}/`;
    const involved = entries.some((x) => x.state === FILE_ACTIVE && (x.path === a.key || x.path === b.key || x.path.startsWith(under)));
    const disk = () => {
      try {
        native.renameBeneath(this.cache.rootFd, a.os.replace(/\/+$/, ''), b.os.replace(/\/+$/, ''));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EXDEV') throw systemError('EACCES', 'rename', a.shown, b.shown, 'permission denied (a path leads out of the cache root)');
        throw asSystemError(err, 'rename', a.shown, b.shown);
      }
    };
    if (!involved || a.key === '.' || b.key === '.') {
      disk();
      return;
    }
    const moved = this.identityAt(a.os.replace(/\/+$/, ''));
    if (!moved) {
      disk(); // fails with the kernel's error (ENOENT, …)
      return;
    }
    e.intent.arm(INTENT_RENAME, moved.dev, moved.ino, a.key, b.key);
    try {
      disk();
    } catch (err) {
      e.intent.disarm();
      throw err;
    }
    // renameEntries replaces the entries it changes with new objects: a copy of the array keeps the table's own.
    const next = entries.slice();
    const changed = renameEntries(next, a.key, b.key, moved.ino);
    const replaced: FileState[] = [];
    const changes = new Map<number, FileEntry>();
    for (const s of changed) {
      const f = e.files[s];
      if (next[s].state === FILE_ORPHAN) {
        if (f) replaced.push(f);
      } else {
        changes.set(s, next[s]);
        if (f) f.path = next[s].path;
      }
    }
    this.cache.handles.orphanOrFree(replaced, changes); // one table commit for the moves and the replaced file
    e.intent.disarm();
  }
}
