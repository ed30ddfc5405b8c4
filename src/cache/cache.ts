/**
 * The cache: one region, one root directory, the files opened through it.
 * This class owns the lifecycle (open, warm reboot, close), the descriptor
 * table and the namespace operations; the data path is in Engine. The fs
 * facade (src/fs) validates arguments like Node's fs and calls the methods
 * marked "internal" here.
 */
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import { native } from '../native';
import { asSystemError, regionError, RioError, systemError } from '../errors';
import { FILE_ACTIVE, FILE_FREE, FILE_ORPHAN, INTENT_RENAME, INTENT_UNLINK } from '../region/format';
import type { Region } from '../region/region';
import { quarantine, type QuarantineRecord } from '../recovery/quarantine';
import { renameEntries } from '../recovery/scanner';
import type { RecoveryReport } from '../recovery/report';
import { confine } from '../fs/paths';
import { CacheFs } from '../fs/sync';
import { Engine, type EngineStats, type Need } from './engine';
import { Journal } from './journal';
import { type Segment, Segments } from './segments';
import { type EndOptions, Transaction, type TransactionHost, type TransactionOptions } from './transaction';
import { UNDO_KIND_TRANSACTION } from '../region/format';
import { UndoLog } from './undo';

const UndoLogBytes = (n: number) => UndoLog.recordBytes(n);
import type { FileEntry } from './fileTable';
import { releaseBacking, settleParked } from './backing';
import { type Descriptor, FIRST_DESCRIPTOR, FileState, type OpenDescriptor } from './files';
import { SIZE_DIRTY, ZERO_NONE } from './sizes';
import type { WriteBackPolicy } from './writeback';

export type FsyncMode = 'disk' | 'rio';

/** The engine's counters, and what is derived from the region at the call. */
export interface CacheStats extends EngineStats {
  hitRatio: number;
  dirtyBlocks: number;
  dirtyBytes: number;
  cachedBlocks: number;
  freeBlocks: number;
  capacityBlocks: number;
  capacityBytes: number;
  blockSize: number;
  openFiles: number;
  cachedFiles: number;
}

export interface CacheConfig {
  root: string;
  rootFd: number;
  fsync: FsyncMode;
  policy: WriteBackPolicy;
  recovery: RecoveryReport;
}

const O_PATH = 0o10000000;
/**
 * Rounds an asynchronous read or write may wait for a fill or for room before
 * it completes synchronously: every loop has a bound, whatever races it meets.
 */
const ASYNC_ROUNDS_MAX = 16;
const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_SYNC, O_DSYNC, O_DIRECTORY } = fs.constants;
const ACCESS_MASK = O_RDONLY | O_WRONLY | O_RDWR;

export class Cache extends EventEmitter {
  /** What the warm reboot did when this cache was opened (ran: false after a clean close). */
  readonly recovery: RecoveryReport;
  /** The drop-in subset of Node's fs (sync calls, and `promises`). */
  readonly fs: CacheFs;
  /** The root directory every path is relative to. */
  readonly root: string;
  readonly fsyncMode: FsyncMode;
  /** @internal The open region (file, header, geometry, memory); `riocache inspect` reports the same read-only. */
  readonly region: Region;
  /** @internal */ readonly engine: Engine;
  /** @internal */ readonly rootFd: number;
  private readonly descriptors = new Map<number, Descriptor>();
  private nextDescriptor = FIRST_DESCRIPTOR;
  private closing: Promise<void> | null = null;
  private closedFlag = false;
  /** Files by identity, so two paths to one inode (hard links) share their blocks. */
  private readonly byInode = new Map<string, FileState>();
  /** Buffers to verify on first use (clean buffers kept by a warm reboot). */
  private readonly unverified: Uint8Array;
  private unverifiedCount = 0;
  private useClock = 0;
  private readonly lastUse: Float64Array;
  /** Named recoverable segments of the region. */
  private readonly segments: Segments;
  /** The redo journal of flushed transactions. */
  private readonly journal: Journal;
  private currentTx: Transaction | null = null;
  private readonly forgetAfterTx = new Set<FileState>();
  /** Files let go of while I/O on their descriptor was in flight (backing.ts). */
  private readonly parked = new Set<FileState>();
  private txWaiters: Array<() => void> = [];

  /** @internal Use openCache() / openCacheSync(). */
  constructor(region: Region, config: CacheConfig) {
    super();
    this.region = region;
    this.root = config.root;
    this.rootFd = config.rootFd;
    this.fsyncMode = config.fsync;
    this.recovery = config.recovery;
    this.engine = new Engine(region, config.policy, {
      quarantine: (b, f, e, a) => this.quarantineBuffer(b, f, e, a, 'write-back'),
      ioError: (err, f, op) => this.emitIoError(err, f, op),
      afterIo: (f) => this.afterIo(f),
    });
    this.engine.writeBackRatio = config.policy.dirtyRatio;
    this.unverified = new Uint8Array(region.geometry.bufferCount);
    this.lastUse = new Float64Array(region.geometry.fileSlots);
    this.loadState(config.recovery.ran);
    this.segments = new Segments(region.memory, region.geometry, config.rootFd);
    this.journal = new Journal(config.rootFd);
    this.fs = new CacheFs(this);
    this.engine.writeBack.start();
  }

  /** Builds the transient state from the region (after a clean close or a recovery). */
  private loadState(recovered: boolean): void {
    const e = this.engine;
    const bad = e.fileTable.load();
    if (bad.length > 0 && !recovered) {
      // The only place REGION_DAMAGED is raised. The warm reboot knows how to
      // repair a file table (from the other copy) but runs only on a region
      // left open: make sure this one is, so the advice below holds.
      if (this.region.header.shutdown !== 'open') this.region.writeHeader({ shutdown: 'open' });
      const what = bad.map((s) => (s === -1 ? 'the table header' : `slot ${s}`)).join(', ');
      throw regionError('REGION_DAMAGED', `the file table of ${this.region.path} fails its checksums after a clean close ` +
        `(${what}). The region is left marked open: run \`riocache recover\` on it (or open it again), and the warm ` +
        'reboot takes each damaged entry from the other copy of the table or reports it lost.');
    }
    for (const slot of e.fileTable.activeSlots()) {
      const entry = e.fileTable.entries[slot];
      const file = new FileState(slot, entry.generation, entry.path, entry.dev, entry.ino);
      e.files[slot] = file;
      this.byInode.set(`${entry.dev}:${entry.ino}`, file);
      e.sizes.load(slot);
    }
    e.pool.rebuild((slot) => e.files[slot]);
    if (recovered) {
      for (let b = 0; b < e.reg.count; b++) {
        if (e.reg.state(b) === 1) {
          this.unverified[b] = 1;
          this.unverifiedCount++;
        }
      }
    }
  }

  // ================================================================ lifecycle

  get closed(): boolean {
    return this.closedFlag || this.closing !== null;
  }

  private assertOpen(syscall = 'access'): void {
    if (this.closedFlag || this.closing !== null) {
      throw regionError('REGION_CLOSED', `the cache over ${this.region.path} is closed (${syscall}).`);
    }
  }

  /** Writes back every dirty buffer and fdatasyncs its file. */
  async flush(): Promise<void> {
    this.assertOpen('flush');
    await this.flushAll();
  }

  private async flushAll(): Promise<void> {
    const e = this.engine;
    this.checkpoint();
    await e.writeBack.drain();
    const files = e.files.filter((f): f is FileState => f !== undefined && f.attached && this.needsFlush(f));
    const errors: Error[] = [];
    await Promise.all(files.map((f) => e.writeBack.flushFile(f).catch((err) => errors.push(err))));
    if (errors.length > 0) throw errors[0];
  }

  private needsFlush(f: FileState): boolean {
    const s = this.engine.sizes;
    return f.dirty > 0 || (s.flags[f.slot] & SIZE_DIRTY) !== 0 || s.zeroFrom(f.slot) < ZERO_NONE || f.resizeAfterFlight;
  }

  /** The synchronous flush. Blocks the event loop for the I/O. */
  flushSync(): void {
    this.assertOpen('flush');
    this.flushAllSync();
  }

  private flushAllSync(): void {
    this.checkpoint();
    for (const f of this.engine.files) if (f && f.attached && this.needsFlush(f)) this.engine.flushFileSync(f);
  }

  /**
   * Flushes, marks the region clean (the next open does no scan), unmaps and
   * releases every lock. If the flush fails, the region stays marked open with
   * its dirty data, and the next open recovers it (G10).
   */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    if (this.closedFlag) return Promise.resolve();
    if (this.currentTx) this.txAbort(this.currentTx); // an unfinished transaction does not survive close
    this.engine.writeBack.stop();
    this.closing = (async () => {
      try {
        await this.flushAll();
        await this.engine.writeBack.drain();
        this.finishClose(true);
      } catch (err) {
        this.finishClose(false);
        throw err;
      }
    })();
    return this.closing;
  }

  closeSync(): void {
    if (this.closedFlag) return;
    if (this.closing) throw regionError('REGION_CLOSED', 'close() is already in progress.');
    if (this.currentTx) this.txAbort(this.currentTx); // an unfinished transaction does not survive close
    this.engine.writeBack.stop();
    if (this.engine.writeBack.busy) {
      // Synchronous code cannot wait for asynchronous write-back: leave the
      // region open (its dirty data is safe) for the next open to recover.
      this.finishClose(false);
      return;
    }
    try {
      this.flushAllSync();
    } catch (err) {
      this.finishClose(false);
      throw err;
    }
    this.finishClose(true);
  }

  private finishClose(clean: boolean): void {
    const e = this.engine;
    if (this.currentTx) this.txAbort(this.currentTx); // an unfinished transaction does not survive close
    this.journal.close();
    if (clean && e.pool.dirtyCount === 0) {
      for (const f of e.files) {
        if (f?.attached) e.sizes.setStamp(f.slot, safeMtime(f.fd));
      }
      this.region.writeHeader({ shutdown: 'clean' });
    }
    // Closing under I/O in flight (closeSync): those descriptors are retired, not freed.
    e.closed = true;
    for (const f of e.files) if (f?.attached) this.letGo(f, true);
    for (const f of this.parked) if (!f.ioInFlight) settleParked(f);
    for (const f of this.parked) releaseBacking(f, true);
    for (const d of this.descriptors.values()) if (d.kind === 'directory') fs.closeSync(d.fd);
    this.descriptors.clear();
    this.region.close();
    fs.closeSync(this.rootFd);
    this.closedFlag = true;
    this.closing = null;
  }

  /** A snapshot of the counters; REGION_CLOSED after close (the region it reads is unmapped). */
  stats(): CacheStats {
    this.assertOpen('stats');
    const e = this.engine;
    const s = e.stats;
    let dirtyBytes = 0;
    let b = e.dirtyList.head();
    for (let steps = 0; b !== -1 && steps < e.reg.count; steps++) {
      dirtyBytes += e.reg.len(b);
      b = e.dirtyList.next(b);
    }
    const capacityBlocks = e.reg.count;
    const openFiles = e.files.filter((f) => f && f.openCount > 0).length;
    return {
      ...s, hitRatio: s.hits + s.misses === 0 ? 0 : s.hits / (s.hits + s.misses),
      dirtyBlocks: e.pool.dirtyCount, dirtyBytes, cachedBlocks: capacityBlocks - e.pool.freeCount,
      freeBlocks: e.pool.freeCount, capacityBlocks, capacityBytes: capacityBlocks * e.bs, blockSize: e.bs,
      openFiles, cachedFiles: e.files.filter(Boolean).length,
    };
  }

  /** The largest write that is applied as one atomic operation (G2); larger ones are atomic per chunk of this size. */
  get atomicWriteBytesMax(): number {
    return this.engine.atomicWriteBytesMax;
  }

  // ================================================================ events

  private emitIoError(err: Error, file: FileState, op: string): void {
    const e = err as NodeJS.ErrnoException;
    const wrapped = new RioError('WRITE_BACK_FAILED',
      `WRITE_BACK_FAILED: ${op} of ${file.path} failed (${e.code ?? e.message}); its data stays dirty and will be retried.`,
      { path: file.path, cause: err, syscall: e.syscall });
    this.emit('writeBackError', wrapped);
  }

  private quarantineBuffer(b: number, file: FileState, expected: number, actual: number, by: QuarantineRecord['detectedBy']): void {
    const e = this.engine;
    const off = e.reg.viewOffset(b);
    const len = Math.min(e.bs, Math.max(0, e.reg.len(b)));
    const record = quarantine(this.rootFd, e.reg.bytes(b).subarray(off, off + len), {
      file: file.path, offset: e.reg.block(b) * e.bs, length: len, expectedCrc: expected, actualCrc: actual,
      regionUuid: this.region.header.uuid, buffer: b, detectedBy: by,
    });
    e.stats.corruptBuffers++;
    e.pool.drop(b);
    this.emit('corruption', record);
  }

  // ================================================================ files

  private allocDescriptor(d: Descriptor): number {
    const fd = this.nextDescriptor++;
    this.descriptors.set(fd, d);
    return fd;
  }

  /** @internal */
  descriptor(fd: unknown, syscall: string): Descriptor {
    const d = typeof fd === 'number' ? this.descriptors.get(fd) : undefined;
    if (!d) {
      if (this.closedFlag) this.assertOpen(syscall);
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
  openSync(path: unknown, flags: number, mode: number): number {
    this.assertOpen('open');
    const p = confine(this.root, path, 'open');
    const access = flags & ACCESS_MASK;
    const wantWrite = access === O_WRONLY || access === O_RDWR;
    const e = this.engine;
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
        fd = native.openBeneath(this.rootFd, p.os, osFlags, mode);
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
      this.refuseDuringTransaction('open with O_TRUNC');
      e.truncate(file, 0);
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
   * Binds an opened backing descriptor to a file slot: the existing entry for
   * the path (revalidated), an entry of the same inode (a hard link), or a new one.
   */
  private attach(key: string, fd: number, st: fs.Stats, writable: boolean, shown: string): FileState {
    const e = this.engine;
    const identity = `${st.dev}:${st.ino}`;
    const linked = this.byInode.get(identity);
    if (linked?.attached) {
      // Another path to a file this cache already holds (a hard link): share it.
      fs.closeSync(fd);
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
        // Reattach: trust the clean buffers only if the file is as we left it.
        const same = e.sizes.size(file.slot) === st.size && e.sizes.stamp(file.slot) === st.mtimeMs;
        if (!same) {
          e.dropAll(file);
          e.sizes.commit(file.slot, st.size, ZERO_NONE, 0);
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
      fd = native.openBeneath(this.rootFd, os, O_RDWR, 0);
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

  private createEntry(key: string, st: fs.Stats): FileState {
    const e = this.engine;
    const slot = this.freeSlot(key);
    const old = e.fileTable.entries[slot];
    const generation = (old.generation + 1) | 0;
    // The size first: the slot is FREE until the table commit, so a cut here is harmless.
    e.sizes.commit(slot, st.size, ZERO_NONE, 0);
    e.sizes.setStamp(slot, st.mtimeMs);
    const entry: FileEntry = { state: FILE_ACTIVE, generation, dev: st.dev, ino: st.ino, path: key };
    e.fileTable.commit(new Map([[slot, entry]]));
    const file = new FileState(slot, generation, key, st.dev, st.ino);
    e.files[slot] = file;
    this.byInode.set(`${st.dev}:${st.ino}`, file);
    return file;
  }

  /** A FREE slot, or the least recently used closed file's slot (written back first if dirty). */
  private freeSlot(shown: string): number {
    const e = this.engine;
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
    if (best.dirty > 0 || this.needsFlush(best)) {
      if (!best.attached) throw new Error('internal: a detached file holds dirty data');
      e.flushFileSync(best);
    }
    const slot = best.slot;
    this.retire(best);
    return slot;
  }

  /** Drops a closed, clean file from the cache and frees its slot. */
  private retire(file: FileState): void {
    const e = this.engine;
    e.dropAll(file);
    this.letGo(file);
    const entry = e.fileTable.entries[file.slot];
    e.fileTable.commit(new Map([[file.slot, { ...entry, state: FILE_FREE }]]));
    e.files[file.slot] = undefined;
    if (this.byInode.get(`${file.dev}:${file.ino}`) === file) this.byInode.delete(`${file.dev}:${file.ino}`);
  }

  /** Lets go of the file's descriptor (parked while I/O on it is in flight: backing.ts). */
  private letGo(file: FileState, closing = false): void {
    releaseBacking(file, closing);
    if (file.parked) this.parked.add(file);
  }

  /** After a write-back batch or a fill of the file completed. */
  private afterIo(file: FileState): void {
    if (file.parked) {
      settleParked(file);
      if (!file.parked) this.parked.delete(file);
      return;
    }
    this.maybeDetach(file);
  }

  /** A closed file whose data is all on disk lets go of its descriptor and lock; its clean blocks stay. */
  private maybeDetach(file: FileState): void {
    if (this.closedFlag || file.openCount > 0 || file.ioInFlight || !file.attached) return;
    if (file.orphan) {
      if (this.engine.files[file.slot] === file) this.forget(file);
      return;
    }
    if (this.needsFlush(file)) return;
    this.engine.sizes.setStamp(file.slot, safeMtime(file.fd));
    this.letGo(file);
  }

  /** An orphan (unlinked while open) is gone with its last descriptor. */
  private forget(file: FileState): void {
    const e = this.engine;
    if (this.currentTx) {
      this.forgetAfterTx.add(file); // its buffers may be pinned by the transaction: finishTx comes back
      return;
    }
    e.dropAll(file);
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
      if (file.orphan) this.forget(file);
      else this.maybeDetach(file);
    }
  }

  // ================================================================ data

  /** @internal read(2) at `position`, or at the descriptor's position when null. */
  readSync(fd: unknown, dst: Uint8Array, offset: number, length: number, position: number | null): number {
    const d = this.fileDescriptor(fd, 'read');
    if (!d.readable) throw systemError('EBADF', 'read');
    this.assertOpen('read');
    const pos = position ?? d.position;
    this.verifyRange(d.file, pos, length);
    const n = this.engine.read(d.file, dst, offset, length, pos, true) as number;
    if (position === null) d.position = pos + n;
    return n;
  }

  /** @internal read(2) for FileHandle.read: waits for a fill instead of blocking. Arguments are not validated. */
  async read(fd: unknown, dst: Uint8Array, offset: number, length: number, position: number | null): Promise<number> {
    const d = this.fileDescriptor(fd, 'read');
    if (!d.readable) throw systemError('EBADF', 'read');
    // Bounded: after ASYNC_ROUNDS_MAX rounds of waiting, finish synchronously.
    for (let round = 0; ; round++) {
      this.assertOpen('read');
      const pos = position ?? d.position;
      this.verifyRange(d.file, pos, length);
      const r = this.engine.read(d.file, dst, offset, length, pos, round >= ASYNC_ROUNDS_MAX);
      if (typeof r === 'number') {
        if (position === null) d.position = pos + r;
        return r;
      }
      await this.satisfy(r);
    }
  }

  /** @internal write(2): each call is atomic (G2) up to atomicWriteBytesMax. */
  writeSync(fd: unknown, src: Uint8Array, offset: number, length: number, position: number | null): number {
    this.refuseDuringTransaction('write');
    return this.writeDescriptorSync(fd, src, offset, length, position, null);
  }

  /** @internal write(2) for FileHandle.write: waits for room and for a transaction to end. Arguments are not validated. */
  async write(fd: unknown, src: Uint8Array, offset: number, length: number, position: number | null): Promise<number> {
    await this.transactionEnded();
    return this.writeDescriptor(fd, src, offset, length, position, null);
  }

  /** `log` (a transaction's) receives every range written. */
  private writeDescriptorSync(fd: unknown, src: Uint8Array, offset: number, length: number, position: number | null, log: Transaction | null): number {
    const d = this.fileDescriptor(fd, 'write');
    if (!d.writable) throw systemError('EBADF', 'write');
    this.assertOpen('write');
    const e = this.engine;
    const max = e.atomicWriteBytesMax;
    this.verifyRange(d.file, d.append ? e.sizes.size(d.file.slot) : position ?? d.position, length);
    // Larger writes go in chunks, each atomic, in order: a cut shows a prefix of them.
    const start = position ?? d.position;
    let done = 0;
    while (done < length) {
      const pos = d.append ? e.sizes.size(d.file.slot) : start + done;
      const n = Math.min(max, length - done);
      e.write(d.file, src, offset + done, n, pos, true);
      log?.writes.push({ file: d.file, offset: pos, length: n });
      done += n;
      if (position === null) d.position = pos + n; // pwrite never moves the offset, even with O_APPEND
    }
    if (d.sync && this.fsyncMode === 'disk' && !log) this.syncFile(d.file);
    return length;
  }

  private async writeDescriptor(fd: unknown, src: Uint8Array, offset: number, length: number, position: number | null, log: Transaction | null): Promise<number> {
    const d = this.fileDescriptor(fd, 'write');
    if (!d.writable) throw systemError('EBADF', 'write');
    const e = this.engine;
    const start = position ?? d.position;
    let done = 0;
    let rounds = 0;
    while (done < length) {
      this.assertOpen('write');
      if (log) log.assertActive('write');
      const pos = d.append ? e.sizes.size(d.file.slot) : start + done;
      const n = Math.min(e.atomicWriteBytesMax, length - done);
      this.verifyRange(d.file, pos, n);
      // Bounded: after ASYNC_ROUNDS_MAX rounds of waiting, finish synchronously.
      const r = e.write(d.file, src, offset + done, n, pos, rounds >= ASYNC_ROUNDS_MAX);
      if (typeof r !== 'number') {
        rounds++;
        await this.satisfy(r);
        continue;
      }
      rounds = 0;
      log?.writes.push({ file: d.file, offset: pos, length: n });
      done += n;
      if (position === null) d.position = pos + n; // pwrite never moves the offset, even with O_APPEND
    }
    if (d.sync && this.fsyncMode === 'disk' && !log) await this.syncFileAsync(d.file);
    return length;
  }

  // ================================================================ transactions and segments

  /**
   * A named recoverable segment of `bytes` bytes: a view of the region that
   * survives process death. Modify it inside a transaction, after setRange.
   */
  segment(name: string, bytes: number): Uint8Array {
    this.assertOpen('segment');
    return this.segments.open(name, bytes).view;
  }

  /** @internal */
  segmentOfView(view: Uint8Array): Segment | undefined {
    return this.segments.all().find((s) => s.view.buffer === view.buffer && s.view.byteOffset === view.byteOffset && s.view.length === view.length);
  }

  /** Begins a transaction (LRVM's begin_transaction). One at a time per cache. */
  beginTransaction(options: TransactionOptions = {}): Transaction {
    this.assertOpen('beginTransaction');
    if (this.currentTx) throw regionError('TRANSACTION_STATE', 'beginTransaction: a transaction is already in progress.');
    const e = this.engine;
    e.undo.begin();
    e.undo.arm(UNDO_KIND_TRANSACTION, -1, 0, 0);
    e.tx = { pinned: new Set() };
    this.currentTx = new Transaction(this as unknown as TransactionHost, () => this.segments.all(), options);
    return this.currentTx;
  }

  /** Commits the transaction in progress (LRVM's end_transaction). */
  endTransaction(options: EndOptions = {}): void {
    if (!this.currentTx) throw regionError('TRANSACTION_STATE', 'endTransaction: no transaction is in progress.');
    this.currentTx.end(options);
  }

  /** Rolls the transaction in progress back (LRVM's abort_transaction). */
  abortTransaction(): void {
    if (!this.currentTx) throw regionError('TRANSACTION_STATE', 'abortTransaction: no transaction is in progress.');
    this.currentTx.abort();
  }

  /** Runs `fn` as one transaction: committed when it returns, rolled back when it throws. */
  transactionSync<T>(fn: (fs: Transaction['fs'], tx: Transaction) => T, options: EndOptions & TransactionOptions = {}): T {
    const tx = this.beginTransaction(options);
    let result: T;
    try {
      result = fn(tx.fs, tx);
    } catch (err) {
      if (tx.state === 'active') tx.abort();
      throw err;
    }
    if (tx.state === 'active') tx.end(options);
    return result;
  }

  /** The promise form: other asynchronous writers wait until it ends. */
  async transaction<T>(fn: (fs: Transaction['fs'], tx: Transaction) => Promise<T> | T, options: EndOptions & TransactionOptions = {}): Promise<T> {
    await this.transactionEnded();
    const tx = this.beginTransaction(options);
    let result: T;
    try {
      result = await fn(tx.fs, tx);
    } catch (err) {
      if (tx.state === 'active') tx.abort();
      throw err;
    }
    if (tx.state === 'active') tx.end(options);
    return result;
  }

  /** @internal */
  txWriteSync(tx: Transaction, fd: number, src: Uint8Array, offset: number, length: number, position: number | null): number {
    return this.writeDescriptorSync(fd, src, offset, length, position, tx);
  }

  /** @internal */
  txWrite(tx: Transaction, fd: number, src: Uint8Array, offset: number, length: number, position: number | null): Promise<number> {
    return this.writeDescriptor(fd, src, offset, length, position, tx);
  }

  /** @internal setRange: the old bytes into the undo area, persisted, before the caller changes them. */
  txRecordSegment(_tx: Transaction, seg: Segment, offset: number, length: number): void {
    const undo = this.engine.undo;
    const need = UndoLogBytes(length);
    if (need > undo.remaining()) {
      throw regionError('UNDO_AREA_FULL', `setRange of ${length} bytes needs ${need} bytes of undo records; the transaction ` +
        `has ${undo.remaining()} left of ${undo.capacity}. Nothing was recorded; abort the transaction or make it smaller.`);
    }
    const from = undo.written;
    undo.addSegment(seg.index, offset, length, this.region.memory.metaId, seg.byte + offset);
    undo.persistRecords(from);
  }

  /** @internal The commit: journal first when flushed, then the undo area goes IDLE. */
  txCommit(tx: Transaction, flush: boolean): void {
    const undeclared = tx.undeclaredChange();
    if (undeclared) {
      this.txAbort(tx);
      throw regionError('TRANSACTION_STATE', `segment "${undeclared.segment.name}" changed at offset ${undeclared.offset} ` +
        'outside every range declared with setRange; the transaction was rolled back (debug mode).');
    }
    const e = this.engine;
    const mem = this.region.memory;
    // Segment bytes changed by plain stores of the caller: durable before the commit (persistent memory).
    for (const r of tx.ranges) mem.flush(mem.metaId, r.segment.byte + r.offset, r.length);
    mem.fence();
    if (flush) {
      const redo = tx.redo((file, offset, length) => {
        const out = new Uint8Array(length);
        e.read(file, out, 0, length, offset, true);
        return out;
      });
      this.journal.append(redo.files, redo.segments);
    }
    e.undo.commit(); // the commit point
    this.finishTx(tx, 'committed');
    if (this.journal.bytes > this.journal.limitBytes) this.checkpoint();
  }

  /** @internal */
  txAbort(tx: Transaction): void {
    const mem = this.region.memory;
    if (tx.snapshots) {
      // Debug mode: undeclared bytes too go back to their value at begin.
      for (const [seg, before] of tx.snapshots) mem.writeBytes(mem.metaId, seg.byte, before);
    }
    this.engine.rollBack((segment, offset, dataByte, count) => {
      const seg = this.segments.get(segment);
      if (seg) mem.move(mem.metaId, seg.byte + offset, mem.metaId, dataByte, count);
    });
    this.finishTx(tx, 'aborted');
  }

  private finishTx(tx: Transaction, state: 'committed' | 'aborted'): void {
    const e = this.engine;
    for (const b of e.tx?.pinned ?? []) e.pool.pins[b]--;
    e.tx = null;
    tx.state = state;
    this.currentTx = null;
    // Orphans whose last descriptor closed during the transaction, and waiting writers.
    if (this.forgetAfterTx.size > 0) {
      const orphans = [...this.forgetAfterTx];
      this.forgetAfterTx.clear();
      for (const f of orphans) if (f.openCount === 0) this.forget(f);
    }
    const waiters = this.txWaiters;
    this.txWaiters = [];
    for (const w of waiters) w();
  }

  private refuseDuringTransaction(what: string): void {
    if (this.currentTx) {
      throw regionError('TRANSACTION_STATE', `${what}: a transaction is in progress; write through its tx.fs, or after it ends ` +
        '(only writes are transactional: truncate, rename and unlink wait for it).');
    }
  }

  /** @internal Resolves when no transaction is in progress (the promise API waits on it). */
  transactionEnded(): Promise<void> {
    if (!this.currentTx) return Promise.resolve();
    return new Promise((res) => this.txWaiters.push(res));
  }

  /**
   * A checkpoint of the journal: the files and segments of flushed melds
   * written back and synced, then the journal emptied. After it, a replay can
   * never overwrite anything newer.
   */
  checkpoint(): void {
    if (this.journal.isEmpty) return;
    const e = this.engine;
    for (const f of e.files) if (f?.attached && this.journal.touchedFiles.has(f.path)) e.flushFileSync(f);
    this.segments.install();
    this.journal.truncate();
  }

  /**
   * @internal At open. A region created afresh while the root holds a journal
   * lost its contents (a kernel crash, a power loss, a deleted region): the
   * committed melds of flushed transactions are replayed into their files and
   * segments, in order. A region that survived is authoritative: the journal
   * is only emptied (after the segments' backing files are brought up to date).
   */
  settleJournal(regionCreated: boolean): { replayedMelds: number; tornTail: boolean } {
    const result = { replayedMelds: 0, tornTail: false };
    if (regionCreated) {
      const { melds, tornTail } = this.journal.read();
      result.tornTail = tornTail;
      const touched = new Map<string, number>();
      try {
        for (const meld of melds) {
          for (const f of meld.files) {
            let fd = touched.get(f.path);
            if (fd === undefined) {
              fd = native.openBeneath(this.rootFd, f.path, O_RDWR | O_CREAT, 0o666);
              touched.set(f.path, fd);
            }
            let done = 0;
            while (done < f.data.length) done += fs.writeSync(fd, f.data, done, f.data.length - done, f.offset + done);
          }
          for (const sg of meld.segments) {
            const seg = this.segments.open(sg.name, sg.segmentLength);
            this.region.memory.writeBytes(this.region.memory.metaId, seg.byte + sg.offset, sg.data);
          }
          result.replayedMelds++;
        }
        for (const fd of touched.values()) fs.fdatasyncSync(fd);
      } finally {
        for (const fd of touched.values()) fs.closeSync(fd);
      }
    }
    this.segments.install();
    this.journal.truncate();
    return result;
  }

  /** fsync of one file in 'disk' mode: a checkpoint first if the journal holds melds of it. */
  private syncFile(file: FileState): void {
    if (this.journal.touchedFiles.has(file.path)) this.checkpoint();
    this.engine.flushFileSync(file);
  }

  private async syncFileAsync(file: FileState): Promise<void> {
    if (this.journal.touchedFiles.has(file.path)) this.checkpoint();
    await this.engine.writeBack.flushFile(file);
  }

  private async satisfy(need: Need): Promise<void> {
    if (need.kind === 'fill') await this.engine.fillAsync(need.file, need.block);
    else await this.engine.makeSpace(need.blocks);
  }

  /**
   * Clean buffers kept by a warm reboot are verified on first use, read or
   * write (the reboot itself reads only dirty data): one that fails is dropped
   * and re-read from disk. A write must not go first: recomputing the checksum
   * over damaged bytes would launder the damage.
   */
  private verifyRange(file: FileState, position: number, length: number): void {
    if (this.unverifiedCount === 0) return;
    const e = this.engine;
    const first = Math.floor(position / e.bs);
    const last = Math.floor((position + Math.max(1, length) - 1) / e.bs);
    for (let block = first; block <= last && block - first < e.reg.count; block++) {
      const b = e.index.get(file.slot, block);
      if (b === -1 || this.unverified[b] === 0) continue;
      this.unverified[b] = 0;
      this.unverifiedCount--;
      if (e.reg.state(b) !== 1) continue;
      const actual = e.reg.compute(b, e.reg.len(b));
      if (actual !== e.reg.crc(b)) {
        e.stats.corruptBuffers++;
        this.emit('corruption', {
          file: file.path, offset: block * e.bs, length: e.reg.len(b), expectedCrc: e.reg.crc(b), actualCrc: actual,
          regionUuid: this.region.header.uuid, buffer: b, detectedAt: new Date().toISOString(), detectedBy: 'verify',
          saved: null,
        } satisfies QuarantineRecord);
        e.pool.drop(b); // clean: the disk has the bytes
      }
    }
  }

  /** @internal ftruncate(2). */
  ftruncateSync(fd: unknown, length: number): void {
    this.refuseDuringTransaction('ftruncate');
    const d = this.fileDescriptor(fd, 'ftruncate');
    if (!d.writable) throw systemError('EINVAL', 'ftruncate');
    this.assertOpen('ftruncate');
    this.engine.truncate(d.file, length);
  }

  /** @internal fsync/fdatasync: 'disk' writes back and syncs (G4); 'rio' trusts the region. */
  fsyncSync(fd: unknown, syscall: 'fsync' | 'fdatasync'): void {
    const d = this.descriptor(fd, syscall);
    this.assertOpen(syscall);
    if (d.kind === 'directory') {
      fs.fsyncSync(d.fd);
      return;
    }
    if (this.fsyncMode === 'rio') return;
    try {
      this.syncFile(d.file);
    } catch (err) {
      throw asSystemError(err, syscall);
    }
  }

  /** @internal fsync/fdatasync for FileHandle.sync/datasync. */
  async fsync(fd: unknown, syscall: 'fsync' | 'fdatasync'): Promise<void> {
    const d = this.descriptor(fd, syscall);
    this.assertOpen(syscall);
    if (d.kind === 'directory') {
      fs.fsyncSync(d.fd);
      return;
    }
    if (this.fsyncMode === 'rio') return;
    try {
      await this.syncFileAsync(d.file);
    } catch (err) {
      throw asSystemError(err, syscall);
    }
  }

  /** @internal fstat(2): the disk's metadata with the cache's size. */
  fstatSync(fd: unknown): fs.Stats {
    const d = this.descriptor(fd, 'fstat');
    this.assertOpen('fstat');
    if (d.kind === 'directory') return fs.fstatSync(d.fd);
    const file = d.file;
    const st = fs.fstatSync(file.fd);
    const size = this.engine.sizes.size(file.slot);
    st.size = size;
    st.blocks = Math.max(st.blocks, Math.ceil(size / 512));
    return st;
  }

  /** @internal The cache's view of a path's size, for statSync/readFile. */
  sizeOf(fd: unknown): number {
    return this.engine.sizes.size(this.fileDescriptor(fd, 'fstat').file.slot);
  }

  /** @internal The descriptor's current position, for a read (EBADF when not open for reading). */
  positionOf(fd: unknown): number {
    const d = this.fileDescriptor(fd, 'read');
    if (!d.readable) throw systemError('EBADF', 'read');
    return d.position;
  }

  // ================================================================ namespace

  /** (dev, ino) of what `path` names beneath the root, without following a final symlink. */
  private identityAt(os: string): { dev: number; ino: number; isDirectory: boolean } | null {
    let fd: number;
    try {
      fd = native.openBeneath(this.rootFd, os, O_PATH | fs.constants.O_NOFOLLOW, 0);
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
  unlinkSync(path: unknown): void {
    this.assertOpen('unlink');
    this.refuseDuringTransaction('unlink');
    const p = confine(this.root, path, 'unlink');
    const e = this.engine;
    const slot = e.fileTable.slotOf(p.key);
    const file = slot >= 0 ? e.files[slot] : undefined;
    if (!file) {
      this.diskUnlink(p.os, p.shown);
      return;
    }
    e.intent.arm(INTENT_UNLINK, file.dev, file.ino, p.key, '');
    try {
      this.diskUnlink(p.os, p.shown);
    } catch (err) {
      e.intent.disarm();
      throw err;
    }
    this.orphanOrFree([file]);
    e.intent.disarm();
  }

  private diskUnlink(os: string, shown: string): void {
    try {
      native.unlinkBeneath(this.rootFd, os.replace(/\/+$/, ''), false);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EXDEV') throw systemError('EACCES', 'unlink', shown, undefined, 'permission denied (the path leads out of the cache root)');
      if (code === 'EINVAL') throw systemError('EISDIR', 'unlink', shown); // "." or ".."
      throw asSystemError(err, 'unlink', shown);
    }
  }

  /** Files whose path no longer leads to them: open ones become orphans, closed ones are dropped. */
  private orphanOrFree(files: FileState[], changes = new Map<number, FileEntry>()): void {
    const e = this.engine;
    for (const f of files) {
      const entry = e.fileTable.entries[f.slot];
      if (f.openCount > 0) {
        f.orphan = true;
        changes.set(f.slot, { ...entry, state: FILE_ORPHAN });
      } else {
        e.dropAll(f);
        this.letGo(f);
        changes.set(f.slot, { ...entry, state: FILE_FREE });
        e.files[f.slot] = undefined;
      }
      if (this.byInode.get(`${f.dev}:${f.ino}`) === f) this.byInode.delete(`${f.dev}:${f.ino}`);
    }
    if (changes.size > 0) e.fileTable.commit(changes);
  }

  /**
   * @internal rename(2), files or directories. With cached files involved:
   * arm the intent, rename on disk, rewrite the file table, disarm.
   */
  renameSync(from: unknown, to: unknown): void {
    this.assertOpen('rename');
    this.refuseDuringTransaction('rename');
    const a = confine(this.root, from, 'rename', 'oldPath');
    const b = confine(this.root, to, 'rename', 'newPath');
    const e = this.engine;
    const entries = e.fileTable.entries;
    const involved = entries.some((x) => x.state === FILE_ACTIVE &&
      (x.path === a.key || x.path.startsWith(a.key + '/') || x.path === b.key));
    const disk = () => {
      try {
        native.renameBeneath(this.rootFd, a.os.replace(/\/+$/, ''), b.os.replace(/\/+$/, ''));
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
    const next = entries.map((x) => ({ ...x }));
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
    this.orphanOrFree(replaced, changes); // one table commit for the moves and the replaced file
    e.intent.disarm();
  }
}

function safeMtime(fd: number): number {
  try {
    return fs.fstatSync(fd).mtimeMs;
  } catch {
    return 0;
  }
}
