/**
 * The cache: one region, one root directory, the files opened through it.
 * This class owns the lifecycle (open, warm reboot state, flush, close), the
 * counters and the events. Its jobs live in one file each:
 *
 *   openFiles.ts     the descriptor table, attaching and letting go of files
 *   dataPath.ts      read, write, ftruncate, fsync, fstat on descriptors
 *   namespace.ts     unlink and rename of cached files (intent-bracketed)
 *   transactions.ts  transactions, segments, the redo journal
 *   engine.ts        the data path over the region's structures
 *
 * The fs facade (src/fs) is built on top of it and validates arguments like
 * Node's fs; the cache never imports it.
 */
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import { regionError, RioError } from '../errors';
import type { Region } from '../region/region';
import { quarantine, type QuarantineRecord } from '../recovery/quarantine';
import type { RecoveryReport } from '../recovery/report';
import { DataPath } from './dataPath';
import { Engine, type EngineStats } from './engine';
import { FileState } from './files';
import { FILE_FREE } from './fileTable';
import { Namespace } from './namespace';
import { OpenFiles, safeMtime } from './openFiles';
import { SIZE_DIRTY, ZERO_NONE } from './sizes';
import type { EndOptions, Transaction, TransactionOptions } from './transaction';
import { Transactions } from './transactions';
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

export class Cache extends EventEmitter {
  /** What the warm reboot did when this cache was opened (ran: false after a clean close). */
  readonly recovery: RecoveryReport;
  /** The root directory every path is relative to. */
  readonly root: string;
  readonly fsyncMode: FsyncMode;
  /** @internal The open region (file, header, geometry, memory); `riocache inspect` reports the same read-only. */
  readonly region: Region;
  /** @internal */ readonly engine: Engine;
  /** @internal */ readonly rootFd: number;
  /** @internal The descriptor table and the files behind it. */
  readonly handles: OpenFiles;
  /** @internal Reads, writes, truncation and syncs on descriptors. */
  readonly io: DataPath;
  /** @internal unlink and rename of cached files. */
  readonly names: Namespace;
  /** @internal Transactions, segments and the journal. */
  readonly txs: Transactions;
  private closing: Promise<void> | null = null;
  private closedFlag = false;

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
      afterIo: (f) => this.handles.afterIo(f),
    });
    this.engine.writeBackRatio = config.policy.dirtyRatio;
    this.handles = new OpenFiles(this);
    this.io = new DataPath(this);
    this.names = new Namespace(this);
    this.loadState(config.recovery.ran);
    this.txs = new Transactions(this);
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
    // A clean close that cut a creating writeFile short: that file was never named, and its inode is gone.
    const unnamed = e.fileTable.unnamedSlots();
    if (unnamed.length > 0) e.fileTable.commit(new Map(unnamed.map((s) => [s, { ...e.fileTable.entries[s], state: FILE_FREE }])));
    for (const slot of e.fileTable.activeSlots()) {
      const entry = e.fileTable.entries[slot];
      const file = new FileState(slot, entry.generation, entry.path, entry.dev, entry.ino);
      e.files[slot] = file;
      this.handles.adopt(file);
      e.sizes.load(slot);
    }
    e.pool.rebuild((slot) => e.files[slot]);
    if (recovered) {
      for (let b = 0; b < e.reg.count; b++) if (e.reg.state(b) === 1) this.io.markUnverified(b);
    }
  }

  // ================================================================ lifecycle

  get closed(): boolean {
    return this.closedFlag || this.closing !== null;
  }

  /** @internal Closed completely (not merely closing): the region is unmapped. */
  get shut(): boolean {
    return this.closedFlag;
  }

  /** @internal Throws REGION_CLOSED once close has started. */
  assertOpen(syscall = 'access'): void {
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
    this.txs.checkpoint();
    await e.writeBack.drain();
    const files = e.files.filter((f): f is FileState => f !== undefined && f.attached && this.needsFlush(f));
    const errors: Error[] = [];
    await Promise.all(files.map((f) => e.writeBack.flushFile(f).catch((err) => errors.push(err))));
    if (errors.length > 0) throw errors[0];
  }

  /** @internal The file has something the disk lacks: dirty data, a length, zeroes. */
  needsFlush(f: FileState): boolean {
    const s = this.engine.sizes;
    return f.dirty > 0 || (s.flags[f.slot] & SIZE_DIRTY) !== 0 || s.zeroFrom(f.slot) < ZERO_NONE || f.resizeAfterFlight || f.unsynced;
  }

  /** The synchronous flush. Blocks the event loop for the I/O. */
  flushSync(): void {
    this.assertOpen('flush');
    this.flushAllSync();
  }

  private flushAllSync(): void {
    this.txs.checkpoint();
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
    this.txs.abortOnClose();
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
    this.txs.abortOnClose();
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
    this.txs.abortOnClose();
    this.txs.journal.close();
    if (clean && e.pool.dirtyCount === 0) {
      for (const f of e.files) {
        if (f?.attached) e.sizes.setStamp(f.slot, safeMtime(f.fd));
      }
      this.region.writeHeader({ shutdown: 'clean' });
    }
    // Closing under I/O in flight (closeSync): those descriptors are retired, not freed.
    e.closed = true;
    this.handles.releaseAll();
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
    return {
      ...s, hitRatio: s.hits + s.misses === 0 ? 0 : s.hits / (s.hits + s.misses),
      dirtyBlocks: e.pool.dirtyCount, dirtyBytes, cachedBlocks: capacityBlocks - e.pool.freeCount,
      freeBlocks: e.pool.freeCount, capacityBlocks, capacityBytes: capacityBlocks * e.bs, blockSize: e.bs,
      openFiles: this.handles.openFileCount(), cachedFiles: e.files.filter(Boolean).length,
    };
  }

  /** The largest write that is applied as one atomic operation (G2); larger ones are atomic per chunk of this size. */
  get atomicWriteBytesMax(): number {
    return this.engine.atomicWriteBytesMax;
  }

  // ================================================================ transactions and segments

  /**
   * A named recoverable segment of `bytes` bytes: a view of the region that
   * survives process death. Modify it inside a transaction, after setRange.
   */
  segment(name: string, bytes: number): Uint8Array {
    return this.txs.segment(name, bytes);
  }

  /** Begins a transaction (LRVM's begin_transaction). One at a time per cache. */
  beginTransaction(options: TransactionOptions = {}): Transaction {
    return this.txs.beginTransaction(options);
  }

  /** Commits the transaction in progress (LRVM's end_transaction). */
  endTransaction(options: EndOptions = {}): void {
    this.txs.endTransaction(options);
  }

  /** Rolls the transaction in progress back (LRVM's abort_transaction). */
  abortTransaction(): void {
    this.txs.abortTransaction();
  }

  /** Runs `fn` as one transaction: committed when it returns, rolled back when it throws. */
  transactionSync<T>(fn: (fs: Transaction['fs'], tx: Transaction) => T, options: EndOptions & TransactionOptions = {}): T {
    return this.txs.transactionSync(fn, options);
  }

  /** The promise form: other asynchronous writers wait until it ends. */
  transaction<T>(fn: (fs: Transaction['fs'], tx: Transaction) => Promise<T> | T, options: EndOptions & TransactionOptions = {}): Promise<T> {
    return this.txs.transaction(fn, options);
  }

  /**
   * A checkpoint of the journal: the files and segments of flushed melds
   * written back and synced, then the journal emptied.
   */
  checkpoint(): void {
    this.txs.checkpoint();
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
}
