/**
 * The data calls on descriptors: read, write, ftruncate, fsync and fstat,
 * in their synchronous and asynchronous cores (the fs facade derives every
 * face from these). The bytes move in Engine; this layer resolves the
 * descriptor, its position and mode, chunks large writes so that each chunk
 * is atomic (G2), and verifies clean buffers a warm reboot kept before their
 * first use.
 */
import * as fs from 'node:fs';
import { asSystemError, systemError } from '../errors';
import type { QuarantineRecord } from '../recovery/quarantine';
import type { Cache } from './cache';
import type { Need } from './engine';
import type { FileState, OpenDescriptor } from './files';
import { replaceContents } from './replace';
import type { Transaction } from './transaction';
import { truthfulStats } from './metadata';
import { applyStamp } from './sizes';

/**
 * Rounds an asynchronous read or write may wait for a fill or for room before
 * it completes synchronously: every loop has a bound, whatever races it meets.
 */
const ASYNC_ROUNDS_MAX = 16;

export class DataPath {
  /** Buffers to verify on first use (clean buffers kept by a warm reboot). */
  private readonly unverified: Uint8Array;
  private unverifiedCount = 0;

  constructor(private readonly cache: Cache) {
    this.unverified = new Uint8Array(cache.region.geometry.bufferCount);
  }

  /** A clean buffer the warm reboot kept: verified before its first use. */
  markUnverified(b: number): void {
    this.unverified[b] = 1;
    this.unverifiedCount++;
  }

  /** @internal read(2) at `position`, or at the descriptor's position when null. */
  readSync(fd: unknown, dst: Uint8Array, offset: number, length: number, position: number | null): number {
    return this.readRound(this.readable(fd), dst, offset, length, position, true) as number; // with I/O allowed it never waits
  }

  /** @internal read(2) for FileHandle.read: waits for a fill instead of blocking. Arguments are not validated. */
  async read(fd: unknown, dst: Uint8Array, offset: number, length: number, position: number | null): Promise<number> {
    const d = this.readable(fd);
    // Bounded: after ASYNC_ROUNDS_MAX rounds of waiting, finish synchronously.
    for (let round = 0; ; round++) {
      const r = this.readRound(d, dst, offset, length, position, round >= ASYNC_ROUNDS_MAX);
      if (typeof r === 'number') return r;
      await this.satisfy(r);
    }
  }

  /**
   * @internal FileHandle.read's first attempt (op.immediate): read()'s first
   * round, without waiting: the count, or null with nothing changed (read()
   * then runs). Arguments are not validated.
   */
  readNow(fd: unknown, dst: Uint8Array, offset: number, length: number, position: number | null): number | null {
    const r = this.readRound(this.readable(fd), dst, offset, length, position, false);
    return typeof r === 'number' ? r : null;
  }

  private readable(fd: unknown): OpenDescriptor {
    const d = this.cache.handles.fileDescriptor(fd, 'read');
    if (!d.readable) throw systemError('EBADF', 'read');
    return d;
  }

  /** One try of a read: the count (the descriptor's position moved when `position` is null), or what it must wait for. */
  private readRound(d: OpenDescriptor, dst: Uint8Array, offset: number, length: number, position: number | null, mayIO: boolean): number | Need {
    this.cache.assertOpen('read');
    const pos = position ?? d.position;
    this.verifyRange(d.file, pos, length);
    const r = this.cache.engine.read(d.file, dst, offset, length, pos, mayIO);
    if (typeof r === 'number' && position === null) d.position = pos + r;
    return r;
  }

  /**
   * @internal FileHandle.write's first attempt (op.immediate): one atomic
   * chunk, no transaction in progress, no O_SYNC, and room in the region now:
   * the count, else null with nothing written (write() then runs; the mtime
   * stamp it may have moved is moved again there).
   */
  writeNow(fd: unknown, src: Uint8Array, offset: number, length: number, position: number | null): number | null {
    const e = this.cache.engine;
    if (this.cache.txs.inProgress || length === 0 || length > e.atomicWriteBytesMax) return null;
    const d = this.cache.handles.fileDescriptor(fd, 'write');
    if (!d.writable) throw systemError('EBADF', 'write');
    if (d.sync && this.cache.fsyncMode === 'disk') return null;
    this.cache.assertOpen('write');
    const pos = d.append ? e.sizes.size(d.file.slot) : position ?? d.position;
    if (typeof this.writeChunk(d, src, offset, length, pos, false) !== 'number') return null;
    if (position === null) d.position = pos + length; // pwrite never moves the offset, even with O_APPEND
    return length;
  }

  /**
   * One atomic chunk of an asynchronous write at `pos`: its mtime first (a
   * plain store: a cut never shows bytes newer than their mtime), then the
   * engine's write, which answers what it must wait for instead of writing.
   */
  private writeChunk(d: OpenDescriptor, src: Uint8Array, offset: number, n: number, pos: number, mayIO: boolean): number | Need {
    this.verifyRange(d.file, pos, n);
    this.cache.engine.sizes.touch(d.file.slot);
    return this.cache.engine.write(d.file, src, offset, n, pos, mayIO);
  }

  /** @internal write(2): each call is atomic (G2) up to atomicWriteBytesMax. */
  writeSync(fd: unknown, src: Uint8Array, offset: number, length: number, position: number | null): number {
    this.cache.txs.refuseDuringTransaction('write');
    return this.writeDescriptorSync(fd, src, offset, length, position, null);
  }

  /** @internal write(2) for FileHandle.write: waits for room and for a transaction to end. Arguments are not validated. */
  async write(fd: unknown, src: Uint8Array, offset: number, length: number, position: number | null): Promise<number> {
    await this.cache.txs.transactionEnded();
    return this.writeDescriptor(fd, src, offset, length, position, null);
  }

  /** `log` (a transaction's) receives every range written. */
  writeDescriptorSync(fd: unknown, src: Uint8Array, offset: number, length: number, position: number | null, log: Transaction | null): number {
    const d = this.cache.handles.fileDescriptor(fd, 'write');
    if (!d.writable) throw systemError('EBADF', 'write');
    this.cache.assertOpen('write');
    const e = this.cache.engine;
    const max = e.atomicWriteBytesMax;
    this.verifyRange(d.file, d.append ? e.sizes.size(d.file.slot) : position ?? d.position, length);
    // The mtime first (a plain store): a cut never shows bytes newer than their mtime.
    e.sizes.touch(d.file.slot);
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
    if (d.sync && this.cache.fsyncMode === 'disk' && !log) this.syncFile(d.file);
    return length;
  }

  async writeDescriptor(fd: unknown, src: Uint8Array, offset: number, length: number, position: number | null, log: Transaction | null): Promise<number> {
    const d = this.cache.handles.fileDescriptor(fd, 'write');
    if (!d.writable) throw systemError('EBADF', 'write');
    const e = this.cache.engine;
    const start = position ?? d.position;
    let done = 0;
    let rounds = 0;
    while (done < length) {
      this.cache.assertOpen('write');
      if (log) log.assertActive('write');
      const pos = d.append ? e.sizes.size(d.file.slot) : start + done;
      const n = Math.min(e.atomicWriteBytesMax, length - done);
      // Bounded: after ASYNC_ROUNDS_MAX rounds of waiting, finish synchronously.
      const r = this.writeChunk(d, src, offset + done, n, pos, rounds >= ASYNC_ROUNDS_MAX);
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
    if (d.sync && this.cache.fsyncMode === 'disk' && !log) await this.syncFileAsync(d.file);
    return length;
  }

  private async satisfy(need: Need): Promise<void> {
    if (need.kind === 'fill') await this.cache.engine.fillAsync(need.file, need.block, need.keep);
    else await this.cache.engine.makeSpace(need.blocks);
  }

  /**
   * Clean buffers kept by a warm reboot are verified on first use, read or
   * write (the reboot itself reads only dirty data): one that fails is dropped
   * and re-read from disk. A write must not go first: recomputing the checksum
   * over damaged bytes would launder the damage.
   */
  private verifyRange(file: FileState, position: number, length: number): void {
    if (this.unverifiedCount === 0) return;
    const e = this.cache.engine;
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
        this.cache.emit('corruption', {
          file: file.path, offset: block * e.bs, length: e.reg.len(b), expectedCrc: e.reg.crc(b), actualCrc: actual,
          regionUuid: this.cache.region.header.uuid, buffer: b, detectedAt: new Date().toISOString(), detectedBy: 'verify',
          saved: null,
        } satisfies QuarantineRecord);
        e.pool.drop(b); // clean: the disk has the bytes
      }
    }
  }

  /**
   * @internal The core of a truncating writeFile (by path with a 'w' flag, or
   * FileHandle.writeFile of a handle opened so): the file's contents become
   * src[offset, offset + length) in ONE atomic step under process death, up
   * to atomicWriteBytesMax (replace.ts); a larger file is replaced by its
   * first chunk atomically, the rest appended chunk by chunk, in order (a cut
   * shows the old contents or a prefix of the new). The descriptor's position
   * ends after the bytes.
   */
  replaceSync(fd: number, src: Uint8Array, offset: number, length: number): void {
    this.cache.txs.refuseDuringTransaction('writeFile');
    const d = this.replaceTarget(fd);
    const first = Math.min(length, this.cache.engine.atomicWriteBytesMax);
    replaceContents(this.cache.engine, d.file, src, offset, first);
    d.position = first;
    if (first < length) this.writeDescriptorSync(fd, src, offset + first, length - first, first, null);
    else if (d.sync && this.cache.fsyncMode === 'disk') this.syncFile(d.file);
    d.position = length;
  }

  /** @internal The asynchronous form of replaceSync: waits for a transaction to end and for room first. */
  async replace(fd: number, src: Uint8Array, offset: number, length: number): Promise<void> {
    await this.cache.txs.transactionEnded();
    const e = this.cache.engine;
    const first = Math.min(length, e.atomicWriteBytesMax);
    const blocks = Math.ceil(first / e.bs) + 1;
    // Room before the one synchronous stretch, so that it does not write back inline (G9, async side).
    for (let round = 0; round < ASYNC_ROUNDS_MAX && e.pool.freeCount < blocks && e.pool.dirtyCount > 0; round++) {
      await e.makeSpace(blocks);
    }
    this.cache.txs.refuseDuringTransaction('writeFile');
    const d = this.replaceTarget(fd);
    replaceContents(e, d.file, src, offset, first);
    d.position = first;
    if (first < length) await this.writeDescriptor(fd, src, offset + first, length - first, first, null);
    else if (d.sync && this.cache.fsyncMode === 'disk') await this.syncFileAsync(d.file);
    d.position = length;
  }

  private replaceTarget(fd: number): OpenDescriptor {
    const d = this.cache.handles.fileDescriptor(fd, 'write');
    if (!d.writable) throw systemError('EBADF', 'write');
    this.cache.assertOpen('write');
    // Clean buffers a warm reboot kept are verified before the write patches their checksums.
    this.verifyRange(d.file, 0, Math.max(1, Math.min(this.cache.engine.sizes.size(d.file.slot), this.cache.engine.atomicWriteBytesMax)));
    return d;
  }

  /** @internal ftruncate(2). */
  ftruncateSync(fd: unknown, length: number): void {
    this.cache.txs.refuseDuringTransaction('ftruncate');
    const d = this.cache.handles.fileDescriptor(fd, 'ftruncate');
    if (!d.writable) throw systemError('EINVAL', 'ftruncate');
    this.cache.assertOpen('ftruncate');
    this.truncateFile(d.file, length, false);
  }

  /**
   * @internal The cache's truncate, dated: a change of size stamps the file
   * (always, for an O_TRUNC open). The engine cuts the disk file at once when
   * nothing of it is in flight, which moves the disk's mtime to the kernel's
   * clock: the stamp goes to the disk after it, as write-back would.
   */
  truncateFile(file: FileState, length: number, always: boolean): void {
    const e = this.cache.engine;
    if (!always && e.sizes.size(file.slot) === length) return;
    e.sizes.touch(file.slot);
    e.truncate(file, length);
    if (file.attached && file.writable) applyStamp(e.sizes, file.slot, file.fd);
  }

  /** @internal fsync/fdatasync: 'disk' writes back and syncs (G4); 'rio' trusts the region. */
  fsyncSync(fd: unknown, syscall: 'fsync' | 'fdatasync'): void {
    const d = this.cache.handles.descriptor(fd, syscall);
    this.cache.assertOpen(syscall);
    if (d.kind === 'directory') {
      fs.fsyncSync(d.fd);
      return;
    }
    if (this.cache.fsyncMode === 'rio') return;
    try {
      this.syncFile(d.file);
    } catch (err) {
      throw asSystemError(err, syscall);
    }
  }

  /** @internal fsync/fdatasync for FileHandle.sync/datasync. */
  async fsync(fd: unknown, syscall: 'fsync' | 'fdatasync'): Promise<void> {
    const d = this.cache.handles.descriptor(fd, syscall);
    this.cache.assertOpen(syscall);
    if (d.kind === 'directory') {
      fs.fsyncSync(d.fd);
      return;
    }
    if (this.cache.fsyncMode === 'rio') return;
    try {
      await this.syncFileAsync(d.file);
    } catch (err) {
      throw asSystemError(err, syscall);
    }
  }

  /** @internal fstat(2), for callers that want plain Stats. */
  fstatSync(fd: unknown): fs.Stats {
    return this.fstat(fd, false) as fs.Stats;
  }

  /**
   * @internal fstat(2) (DescriptorMetaCore): the disk's metadata with the
   * cache's size, blocks and mtime (the stamp of the last write: sizes.ts).
   */
  fstat(fd: unknown, bigint: boolean): fs.Stats | fs.BigIntStats {
    const d = this.cache.handles.descriptor(fd, 'fstat');
    this.cache.assertOpen('fstat');
    if (d.kind === 'directory') return fs.fstatSync(d.fd, { bigint });
    return truthfulStats(this.cache, fs.fstatSync(d.file.fd, { bigint }), d.file);
  }

  /** @internal fchmod(2) on the file behind the descriptor. */
  fchmod(fd: unknown, mode: number): void {
    const backing = this.backingFd(fd, 'fchmod');
    try {
      fs.fchmodSync(backing, mode);
    } catch (err) {
      throw asSystemError(err, 'fchmod');
    }
  }

  /** @internal fchown(2). */
  fchown(fd: unknown, uid: number, gid: number): void {
    const backing = this.backingFd(fd, 'fchown');
    try {
      fs.fchownSync(backing, uid, gid);
    } catch (err) {
      throw asSystemError(err, 'fchown');
    }
  }

  /**
   * @internal futimes(2): the disk file's times, and the cached file's stamp
   * (read back from the disk, so stat and the disk agree to the nanosecond).
   */
  futimes(fd: unknown, atime: number, mtime: number): void {
    const d = this.cache.handles.descriptor(fd, 'futime');
    this.cache.assertOpen('futime');
    const backing = d.kind === 'directory' ? d.fd : d.file.fd;
    try {
      fs.futimesSync(backing, atime, mtime);
    } catch (err) {
      throw asSystemError(err, 'futime');
    }
    if (d.kind === 'file') this.cache.engine.sizes.setStamp(d.file.slot, fs.fstatSync(backing).mtimeMs);
  }

  private backingFd(fd: unknown, syscall: string): number {
    const d = this.cache.handles.descriptor(fd, syscall);
    this.cache.assertOpen(syscall);
    return d.kind === 'directory' ? d.fd : d.file.fd;
  }

  /** @internal The cache's view of a path's size, for statSync/readFile. */
  sizeOf(fd: unknown): number {
    return this.cache.engine.sizes.size(this.cache.handles.fileDescriptor(fd, 'fstat').file.slot);
  }

  /** @internal The descriptor's current position, for a read (EBADF when not open for reading). */
  positionOf(fd: unknown): number {
    const d = this.cache.handles.fileDescriptor(fd, 'read');
    if (!d.readable) throw systemError('EBADF', 'read');
    return d.position;
  }

  /** fsync of one file in 'disk' mode: a checkpoint first if the journal holds melds of it. */
  syncFile(file: FileState): void {
    if (this.cache.txs.journal.touchedFiles.has(file.path)) this.cache.txs.checkpoint();
    this.cache.engine.flushFileSync(file);
  }

  async syncFileAsync(file: FileState): Promise<void> {
    if (this.cache.txs.journal.touchedFiles.has(file.path)) this.cache.txs.checkpoint();
    await this.cache.engine.writeBack.flushFile(file);
  }
}
