/**
 * The descriptor table and the files behind it: open(2) through the cache,
 * attaching a backing descriptor to a file slot (with its lock), letting go
 * of a closed file once its data is on disk, and forgetting orphans. The
 * state here is transient (rebuilt at open); the file table it commits to is
 * in the region (docs/format.md §6).
 */
import * as fs from 'node:fs';
import { native } from '../native';
import { asSystemError, RioError, systemError } from '../errors';
import { FILE_ACTIVE, FILE_FREE, FILE_ORPHAN, FILE_UNNAMED } from '../region/format';
import { dirname, relative } from 'node:path';
import { checkRelativePath, confine } from './paths';
import { identityAt, openBeneath, relabel } from './beneath'; // absolute symlinks that stay inside the root
import type { Cache } from './cache';
import type { FileEntry } from './fileTable';
import { releaseBacking, settleParked } from './backing';
import { type Descriptor, FIRST_DESCRIPTOR, FileState, type OpenDescriptor } from './files';
import { ZERO_NONE } from './sizes';

const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_SYNC, O_DSYNC, O_DIRECTORY } = fs.constants;
const ACCESS_MASK = O_RDONLY | O_WRONLY | O_RDWR;
const O_TMPFILE = 0o20200000; // __O_TMPFILE | O_DIRECTORY (Linux)
const O_PATH = 0o10000000;
const { O_NOFOLLOW } = fs.constants;
/** What openat(O_TMPFILE) fails with where the file system (or kernel) cannot make unnamed files. */
const NO_TMPFILE = new Set(['EOPNOTSUPP', 'ENOTSUP', 'EISDIR', 'EINVAL']);

export class OpenFiles {
  readonly descriptors = new Map<number, Descriptor>();
  private nextDescriptor = FIRST_DESCRIPTOR;
  /** Files by identity, so two paths to one inode (hard links) share their blocks. */
  readonly byInode = new Map<string, FileState>();
  private useClock = 0;
  private readonly lastUse: Float64Array;
  private realRoot: string | undefined;
  /** Files let go of while I/O on their descriptor was in flight (backing.ts). */
  readonly parked = new Set<FileState>();

  constructor(private readonly cache: Cache) {
    this.lastUse = new Float64Array(cache.region.geometry.fileSlots);
  }

  /** A file slot loaded from the region at open. */
  adopt(file: FileState): void {
    this.byInode.set(`${file.dev}:${file.ino}`, file);
  }

  /** At close: every file let go of, every descriptor closed (parked ones retired, not freed). */
  releaseAll(): void {
    const e = this.cache.engine;
    for (const f of e.files) if (f?.attached) this.letGo(f, true);
    for (const f of this.parked) if (!f.ioInFlight) settleParked(f);
    for (const f of this.parked) releaseBacking(f, true);
    for (const d of this.descriptors.values()) if (d.kind === 'directory') fs.closeSync(d.fd);
    this.descriptors.clear();
  }

  /** Open descriptors on files (for stats). */
  openFileCount(): number {
    return this.cache.engine.files.filter((f) => f && f.openCount > 0).length;
  }

  allocDescriptor(d: Descriptor): number {
    const fd = this.nextDescriptor++;
    this.descriptors.set(fd, d);
    return fd;
  }

  /** @internal */
  descriptor(fd: unknown, syscall: string): Descriptor {
    const d = typeof fd === 'number' ? this.descriptors.get(fd) : undefined;
    if (!d) {
      if (this.cache.shut) this.cache.assertOpen(syscall);
      throw systemError('EBADF', syscall);
    }
    return d;
  }

  /**
   * @internal A descriptor of a regular file. On a directory descriptor each
   * call fails as the kernel fails it: read EISDIR, write EBADF (opened
   * read-only), ftruncate EINVAL.
   */
  fileDescriptor(fd: unknown, syscall: string): OpenDescriptor {
    const d = this.descriptor(fd, syscall);
    if (d.kind === 'directory') {
      throw systemError(syscall === 'write' ? 'EBADF' : syscall === 'ftruncate' ? 'EINVAL' : 'EISDIR', syscall);
    }
    return d;
  }

  /** @internal open(2) through the cache. `flags` are numeric. */
  open(path: unknown, flags: number, mode: number): number {
    this.cache.assertOpen('open');
    const p = confine(this.cache.root, path, 'open');
    const access = flags & ACCESS_MASK;
    const wantWrite = access === O_WRONLY || access === O_RDWR;
    const e = this.cache.engine;
    if (p.key === '.' && wantWrite) throw systemError('EISDIR', 'open', p.shown);
    let slot = p.key === '.' ? -1 : e.fileTable.slotOf(p.key);
    let file = slot >= 0 ? e.files[slot] : undefined;
    if (file && file.attached && (flags & O_DIRECTORY) === 0) {
      if ((flags & O_CREAT) !== 0 && (flags & O_EXCL) !== 0) throw systemError('EEXIST', 'open', p.shown);
      if (wantWrite && !file.writable) this.upgradeBacking(file, p.os, p.shown);
    } else {
      // Ask the kernel (beneath the root): it creates, checks EEXIST/EISDIR/ENOTDIR, and confines symlinks.
      const osFlags = (wantWrite ? O_RDWR : O_RDONLY) | (flags & (O_CREAT | O_EXCL | O_DIRECTORY));
      let fd: number;
      try {
        fd = openBeneath(this.cache, p.os, osFlags, mode);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EXDEV') {
          throw systemError('EACCES', 'open', p.shown, undefined, 'permission denied (a symlink leads out of the cache root)');
        }
        if (code === 'EACCES' && wantWrite && access === O_WRONLY) {
          // A write-only open of a file we may not read: the cache must read partial blocks.
          throw systemError('EACCES', 'open', p.shown, undefined, 'permission denied (riocache needs read access to cache a file)');
        }
        throw asSystemError(err, 'open', p.shown);
      }
      const st = fs.fstatSync(fd);
      if (st.isDirectory()) {
        if (wantWrite) {
          fs.closeSync(fd);
          throw systemError('EISDIR', 'open', p.shown);
        }
        return this.allocDescriptor({ kind: 'directory', fd, path: p.shown });
      }
      if ((flags & O_DIRECTORY) !== 0) {
        fs.closeSync(fd);
        throw systemError('ENOTDIR', 'open', p.shown);
      }
      file = this.attach(p.key, fd, st, wantWrite, p.shown);
      slot = file.slot;
    }
    if (!file) throw new Error('internal: no file after open');
    if ((flags & O_TRUNC) !== 0 && wantWrite) {
      this.cache.txs.refuseDuringTransaction('open with O_TRUNC');
      this.cache.io.truncateFile(file, 0, true); // O_TRUNC dates the file, as the kernel's does
    }
    file.openCount++;
    this.lastUse[file.slot] = ++this.useClock;
    return this.allocDescriptor({
      kind: 'file', file, path: p.shown, position: 0,
      readable: access === O_RDONLY || access === O_RDWR,
      writable: wantWrite,
      append: (flags & O_APPEND) !== 0,
      sync: (flags & (O_SYNC | O_DSYNC)) !== 0,
    });
  }

  /**
   * @internal The first step of a creating writeFile (docs/format.md §6,
   * UNNAMED): a descriptor on a new file with no name yet, made in the
   * directory of `path` (O_TMPFILE) and cached like any other under an entry
   * that is not the path's until name(). Null, leaving the call to open(),
   * when the path names something (a dangling symlink included: the write
   * goes to its target), ends in a slash, or the file system cannot make
   * unnamed files (then a kill may leave the file empty, as on plain fs).
   * Errors are open's, as plain fs reports them.
   */
  openUnnamed(path: unknown, mode: number): number | null {
    this.cache.assertOpen('open');
    const p = confine(this.cache.root, path, 'open');
    if (p.key === '.' || p.os.endsWith('/') || identityAt(this.cache.rootFd, p.os) !== null) return null;
    let fd: number;
    try {
      fd = native.openBeneath(this.cache.rootFd, dirname(p.key), O_TMPFILE | O_RDWR, mode);
    } catch (err) {
      if (NO_TMPFILE.has((err as NodeJS.ErrnoException).code ?? '')) return null;
      throw relabel(err, 'open', p.shown);
    }
    let file: FileState;
    try {
      this.lockData(fd, false, p.shown);
      file = this.createEntry(p.key, fs.fstatSync(fd), FILE_UNNAMED);
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
    file.fd = fd;
    file.writable = true;
    file.unnamed = true;
    file.openCount++;
    this.lastUse[file.slot] = ++this.useClock;
    return this.allocDescriptor({ kind: 'file', file, path: p.shown, position: 0, readable: true, writable: true, append: false, sync: false });
  }

  /**
   * @internal The last step of a creating writeFile: links the unnamed file
   * under its path (linkat never replaces), then its entry becomes ACTIVE
   * (one file-table commit). A kill before the link leaves no file: the
   * unnamed inode dies with the process and recovery frees the entry; after
   * it, the path names the inode, which recovery checks, and the entry is the
   * file's. False when the name was taken meanwhile: the unnamed file is
   * dropped (an orphan, gone at close) and the caller writes the file that is
   * there the ordinary way; for an exclusive create, EEXIST.
   */
  name(fd: number, exclusive: boolean): boolean {
    const d = this.fileDescriptor(fd, 'open');
    const file = d.file;
    const e = this.cache.engine;
    const entry = e.fileTable.entries[file.slot];
    if (!file.unnamed || entry.state !== FILE_UNNAMED) throw new Error('internal: name() of a file that has a name');
    try {
      native.linkBeneath(this.cache.rootFd, file.fd, entry.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw relabel(err, 'open', d.path);
      file.unnamed = false;
      file.orphan = true;
      e.fileTable.commit(new Map([[file.slot, { ...entry, state: FILE_ORPHAN }]]));
      if (exclusive) throw systemError('EEXIST', 'open', d.path);
      return false;
    }
    // The kernel still names the descriptor by its unnamed dentry: the canonical key comes from the new name.
    const named = native.openBeneath(this.cache.rootFd, entry.path, O_PATH | O_NOFOLLOW, 0);
    let key: string;
    try {
      key = this.canonicalKey(named, entry.path);
    } finally {
      fs.closeSync(named);
    }
    const other = e.fileTable.slotOf(key);
    const stale = other >= 0 ? e.files[other] : undefined;
    // An entry of a file deleted behind the cache's back under the same name: not this file.
    if (stale && stale !== file) this.orphanOrFree([stale]);
    file.unnamed = false;
    file.path = key;
    e.fileTable.commit(new Map([[file.slot, { ...entry, state: FILE_ACTIVE, path: key }]]));
    return true;
  }

  /**
   * Binds an opened backing descriptor to a file slot: the existing entry for
   * the path (revalidated), an entry of the same inode (a hard link), or a new one.
   */
  private attach(given: string, fd: number, st: fs.Stats, writable: boolean, shown: string): FileState {
    const e = this.cache.engine;
    const key = this.canonicalKey(fd, given);
    const identity = `${st.dev}:${st.ino}`;
    let linked = this.byInode.get(identity);
    if (linked && !linked.attached && linked.path !== key && !this.stillNamed(linked)) {
      // Not a hard link: the file of that entry was deleted while we held no
      // descriptor on it and the file system gave its inode number to this
      // new file. Taking the entry would file this file's data under the dead
      // name, and a warm reboot would find no such inode there (G1).
      this.retire(linked);
      linked = undefined;
    }
    if (linked?.attached) {
      // Another path to a file this cache already holds (a hard link): share it.
      fs.closeSync(fd);
      if (linked.orphan) this.reclaim(linked, key);
      if (writable && !linked.writable) this.upgradeBacking(linked, linked.path, shown);
      return linked;
    }
    try {
      this.lockData(fd, !writable, shown);
      let file = linked;
      const bySlot = e.fileTable.slotOf(key);
      const pathFile = bySlot >= 0 ? e.files[bySlot] : undefined;
      if (pathFile && pathFile !== file && !pathFile.attached) {
        // The path held another inode before (replaced outside the cache): forget it.
        this.retire(pathFile);
      }
      if (file && !file.attached) {
        // Reattach: trust the clean buffers only if the file is as we left it. A
        // detached file is clean, its stamp the disk's mtime read back when it
        // was let go of (write-back had applied the last write's time first).
        const same = e.sizes.size(file.slot) === st.size && e.sizes.stamp(file.slot) === st.mtimeMs;
        if (!same) {
          e.dropAll(file);
          e.sizes.commit(file.slot, st.size, ZERO_NONE, 0);
          e.sizes.setStamp(file.slot, st.mtimeMs);
        }
      }
      if (!file) file = this.createEntry(key, st);
      file.fd = fd;
      file.writable = writable;
      return file;
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
  }

  /** True while the entry's own path still names its inode (a detached entry holds no descriptor that would keep the inode). */
  private stillNamed(file: FileState): boolean {
    const st = identityAt(this.cache.rootFd, file.path);
    return st !== null && st.dev === file.dev && st.ino === file.ino;
  }

  /** An orphan whose inode is opened again under another name: ACTIVE again, under that name. */
  private reclaim(file: FileState, key: string): void {
    const e = this.cache.engine;
    const other = e.fileTable.slotOf(key);
    if (other >= 0 && other !== file.slot) {
      const stale = e.files[other];
      if (stale?.attached) return; // the name is another open file's: stay an orphan
      if (stale) this.retire(stale);
    }
    file.orphan = false;
    file.path = key;
    e.fileTable.commit(new Map([[file.slot, { ...e.fileTable.entries[file.slot], state: FILE_ACTIVE, path: key }]]));
  }

  /**
   * The file-table key of an opened file: its path with every symlink
   * resolved (the kernel's name for the descriptor), relative to the root. A
   * file opened through a symlink is then found, renamed, removed and
   * recovered by its real name, which is what namespace calls act on.
   */
  private canonicalKey(fd: number, given: string): string {
    try {
      this.realRoot ??= fs.realpathSync(this.cache.root);
      const rel = relative(this.realRoot, fs.readlinkSync(`/proc/self/fd/${fd}`));
      return rel !== '' && rel !== '..' && !rel.startsWith('../') && checkRelativePath(rel) ? rel : given;
    } catch {
      return given;
    }
  }

  private lockData(fd: number, shared: boolean, shown: string): void {
    const owner = native.lockTry(fd, shared);
    if (owner === 0) return;
    const who = owner > 0 ? `process ${owner}` : 'another riocache cache (pid unknown)';
    throw new RioError('FILE_LOCKED',
      `FILE_LOCKED: ${shown} is held by ${who} through its own cache. A file is cached by one region at a time; ` +
        'close it there first.', { path: shown, ...(owner > 0 ? { pid: owner } : {}) });
  }

  /** A read-only backing descriptor becomes read-write for a writing open. */
  private upgradeBacking(file: FileState, os: string, shown: string): void {
    let fd: number;
    try {
      fd = openBeneath(this.cache, os, O_RDWR, 0);
    } catch (err) {
      throw asSystemError(err, 'open', shown);
    }
    const st = fs.fstatSync(fd);
    if (st.ino !== file.ino || st.dev !== file.dev) {
      fs.closeSync(fd);
      throw systemError('EBUSY', 'open', shown, undefined, 'resource busy (the file was replaced while open)');
    }
    native.unlock(file.fd);
    try {
      this.lockData(fd, false, shown);
    } catch (err) {
      this.lockData(file.fd, true, shown);
      fs.closeSync(fd);
      throw err;
    }
    fs.closeSync(file.fd);
    file.fd = fd;
    file.writable = true;
  }

  private createEntry(key: string, st: fs.Stats, state = FILE_ACTIVE): FileState {
    const e = this.cache.engine;
    const slot = this.freeSlot(key);
    const old = e.fileTable.entries[slot];
    const generation = (old.generation + 1) | 0;
    // The size first: the slot is FREE until the table commit, so a cut here is harmless.
    e.sizes.commit(slot, st.size, ZERO_NONE, 0);
    e.sizes.setStamp(slot, st.mtimeMs);
    const entry: FileEntry = { state, generation, dev: st.dev, ino: st.ino, path: key };
    e.fileTable.commit(new Map([[slot, entry]]));
    const file = new FileState(slot, generation, key, st.dev, st.ino);
    e.files[slot] = file;
    this.byInode.set(`${st.dev}:${st.ino}`, file);
    return file;
  }

  /** A FREE slot, or the least recently used closed file's slot (written back first if dirty). */
  private freeSlot(shown: string): number {
    const e = this.cache.engine;
    const entries = e.fileTable.entries;
    for (let s = 0; s < entries.length; s++) if (entries[s].state === FILE_FREE && !e.files[s]) return s;
    let best: FileState | undefined;
    for (const f of e.files) {
      if (!f || f.openCount > 0 || f.inFlight > 0 || f.orphan) continue;
      if (!best || (f.dirty === 0 ? 0 : 1) < (best.dirty === 0 ? 0 : 1) ||
        ((f.dirty === 0) === (best.dirty === 0) && this.lastUse[f.slot] < this.lastUse[best.slot])) best = f;
    }
    if (!best) {
      throw systemError('EMFILE', 'open', shown, undefined,
        `too many open files (all ${entries.length} file slots of the region are open; create the region with a larger maxFiles)`);
    }
    if (best.dirty > 0 || this.cache.needsFlush(best)) {
      if (!best.attached) throw new Error('internal: a detached file holds dirty data');
      e.flushFileSync(best);
    }
    const slot = best.slot;
    this.retire(best);
    return slot;
  }

  /** Drops a closed, clean file from the cache and frees its slot. */
  retire(file: FileState): void {
    const e = this.cache.engine;
    e.dropAll(file);
    this.letGo(file);
    const entry = e.fileTable.entries[file.slot];
    e.fileTable.commit(new Map([[file.slot, { ...entry, state: FILE_FREE }]]));
    e.files[file.slot] = undefined;
    if (this.byInode.get(`${file.dev}:${file.ino}`) === file) this.byInode.delete(`${file.dev}:${file.ino}`);
  }

  /** Lets go of the file's descriptor (parked while I/O on it is in flight: backing.ts). */
  letGo(file: FileState, closing = false): void {
    releaseBacking(file, closing);
    if (file.parked) this.parked.add(file);
  }

  /** After a write-back batch or a fill of the file completed. */
  afterIo(file: FileState): void {
    if (file.parked) {
      settleParked(file);
      if (!file.parked) this.parked.delete(file);
      return;
    }
    this.maybeDetach(file);
  }

  /** A closed file whose data is all on disk lets go of its descriptor and lock; its clean blocks stay. */
  private maybeDetach(file: FileState): void {
    if (this.cache.shut || file.openCount > 0 || file.ioInFlight || !file.attached) return;
    if (file.orphan) {
      if (this.cache.engine.files[file.slot] === file) this.forget(file);
      return;
    }
    if (this.cache.needsFlush(file)) return;
    this.cache.engine.sizes.setStamp(file.slot, safeMtime(file.fd));
    this.letGo(file);
  }

  /** An orphan (unlinked while open) is gone with its last descriptor. */
  forget(file: FileState): void {
    const e = this.cache.engine;
    if (this.cache.txs.deferForget(file)) return; // its buffers may be pinned by the transaction: its end comes back
    if (linksLeft(file) > 0 && this.cache.needsFlush(file)) e.flushFileSync(file); // another name still reads the inode
    e.dropAll(file);
    if (this.byInode.get(`${file.dev}:${file.ino}`) === file) this.byInode.delete(`${file.dev}:${file.ino}`);
    // A write-back batch in flight still needs the slot and the descriptor:
    // its end comes back here (afterIo -> maybeDetach).
    if (file.inFlight > 0) return;
    this.letGo(file);
    e.fileTable.commit(new Map([[file.slot, { ...e.fileTable.entries[file.slot], state: FILE_FREE }]]));
    e.files[file.slot] = undefined;
  }

  /** @internal close(2). */
  closeDescriptor(fd: unknown): void {
    const d = this.descriptor(fd, 'close');
    this.descriptors.delete(fd as number);
    if (d.kind === 'directory') {
      fs.closeSync(d.fd);
      return;
    }
    const file = d.file;
    file.openCount--;
    if (file.openCount === 0) {
      // A file never named (its writeFile failed half-way) is as gone as an orphan.
      if (file.orphan || file.unnamed) this.forget(file);
      else this.maybeDetach(file);
    }
  }

  /**
   * Files whose path no longer leads to them: open ones become orphans, closed
   * ones are dropped. A file whose inode lives on under another name (a hard
   * link) keeps its data: a closed one is written back before it is dropped,
   * an open one stays findable by inode, so opening the other name takes it
   * back (attach) instead of caching the inode twice.
   */
  orphanOrFree(files: FileState[], changes = new Map<number, FileEntry>()): void {
    const e = this.cache.engine;
    for (const f of files) {
      const entry = e.fileTable.entries[f.slot];
      const alive = linksLeft(f) > 0;
      if (f.openCount > 0) {
        f.orphan = true;
        changes.set(f.slot, { ...entry, state: FILE_ORPHAN });
        if (alive) continue;
      } else {
        if (alive && this.cache.needsFlush(f)) e.flushFileSync(f);
        e.dropAll(f);
        this.letGo(f);
        changes.set(f.slot, { ...entry, state: FILE_FREE });
        e.files[f.slot] = undefined;
      }
      if (this.byInode.get(`${f.dev}:${f.ino}`) === f) this.byInode.delete(`${f.dev}:${f.ino}`);
    }
    if (changes.size > 0) e.fileTable.commit(changes);
  }
}

/** Names the file's inode still has on the disk (0 once the last is gone, or when detached). */
function linksLeft(f: FileState): number {
  if (!f.attached) return 0;
  try {
    return fs.fstatSync(f.fd).nlink;
  } catch {
    return 0;
  }
}

export function safeMtime(fd: number): number {
  try {
    return fs.fstatSync(fd).mtimeMs;
  } catch {
    return 0;
  }
}
