/**
 * The transaction host: transactions (begin, commit, abort, the undo records
 * of their writes and declared segment ranges), the named recoverable
 * segments, and the redo journal of flushed transactions with its
 * checkpoint. See docs/transactions.md.
 */
import * as fs from 'node:fs';
import { native } from '../native';
import { regionError } from '../errors';
import { UNDO_KIND_TRANSACTION } from '../region/format';
import type { Cache } from './cache';
import type { FileState } from './files';
import { Journal } from './journal';
import { type Segment, Segments } from './segments';
import { type EndOptions, Transaction, type TransactionHost, type TransactionOptions } from './transaction';
import { UndoLog } from './undo';

const { O_RDWR, O_CREAT } = fs.constants;

export class Transactions implements TransactionHost {
  /** Named recoverable segments of the region. */
  readonly segments: Segments;
  /** The redo journal of flushed transactions. */
  readonly journal: Journal;
  currentTx: Transaction | null = null;
  private readonly forgetAfterTx = new Set<FileState>();
  private txWaiters: Array<() => void> = [];

  constructor(private readonly cache: Cache) {
    this.segments = new Segments(cache.region.memory, cache.region.geometry, cache.rootFd);
    this.journal = new Journal(cache.rootFd);
  }

  get fs(): TransactionHost['fs'] {
    return this.cache.fs;
  }

  /** An orphan whose last descriptor closed during a transaction is forgotten when it ends (its buffers may be pinned). */
  deferForget(file: FileState): boolean {
    if (!this.currentTx) return false;
    this.forgetAfterTx.add(file);
    return true;
  }

  /**
   * A named recoverable segment of `bytes` bytes: a view of the region that
   * survives process death. Modify it inside a transaction, after setRange.
   */
  segment(name: string, bytes: number): Uint8Array {
    this.cache.assertOpen('segment');
    return this.segments.open(name, bytes).view;
  }

  /** @internal */
  segmentOfView(view: Uint8Array): Segment | undefined {
    return this.segments.all().find((s) => s.view.buffer === view.buffer && s.view.byteOffset === view.byteOffset && s.view.length === view.length);
  }

  /** Begins a transaction (LRVM's begin_transaction). One at a time per cache. */
  beginTransaction(options: TransactionOptions = {}): Transaction {
    this.cache.assertOpen('beginTransaction');
    if (this.currentTx) throw regionError('TRANSACTION_STATE', 'beginTransaction: a transaction is already in progress.');
    const e = this.cache.engine;
    e.undo.begin();
    e.undo.arm(UNDO_KIND_TRANSACTION, -1, 0, 0);
    e.tx = { pinned: new Set() };
    this.currentTx = new Transaction(this, () => this.segments.all(), options);
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

  /** A transaction in progress does not survive close. */
  abortOnClose(): void {
    if (this.currentTx) this.txAbort(this.currentTx);
  }

  /** @internal */
  txWriteSync(tx: Transaction, fd: number, src: Uint8Array, offset: number, length: number, position: number | null): number {
    return this.cache.io.writeDescriptorSync(fd, src, offset, length, position, tx);
  }

  /** @internal */
  txWrite(tx: Transaction, fd: number, src: Uint8Array, offset: number, length: number, position: number | null): Promise<number> {
    return this.cache.io.writeDescriptor(fd, src, offset, length, position, tx);
  }

  /** @internal setRange: the old bytes into the undo area, persisted, before the caller changes them. */
  txRecordSegment(_tx: Transaction, seg: Segment, offset: number, length: number): void {
    const undo = this.cache.engine.undo;
    const need = UndoLog.recordBytes(length);
    if (need > undo.remaining()) {
      throw regionError('UNDO_AREA_FULL', `setRange of ${length} bytes needs ${need} bytes of undo records; the transaction ` +
        `has ${undo.remaining()} left of ${undo.capacity}. Nothing was recorded; abort the transaction or make it smaller.`);
    }
    const from = undo.written;
    undo.addSegment(seg.index, offset, length, this.cache.region.memory.metaId, seg.byte + offset);
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
    const e = this.cache.engine;
    const mem = this.cache.region.memory;
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
    const mem = this.cache.region.memory;
    if (tx.snapshots) {
      // Debug mode: undeclared bytes too go back to their value at begin.
      for (const [seg, before] of tx.snapshots) mem.writeBytes(mem.metaId, seg.byte, before);
    }
    this.cache.engine.rollBack((segment, offset, dataByte, count) => {
      const seg = this.segments.get(segment);
      if (seg) mem.move(mem.metaId, seg.byte + offset, mem.metaId, dataByte, count);
    });
    this.finishTx(tx, 'aborted');
  }

  private finishTx(tx: Transaction, state: 'committed' | 'aborted'): void {
    const e = this.cache.engine;
    for (const b of e.tx?.pinned ?? []) e.pool.pins[b]--;
    e.tx = null;
    tx.state = state;
    this.currentTx = null;
    // Orphans whose last descriptor closed during the transaction, and waiting writers.
    if (this.forgetAfterTx.size > 0) {
      const orphans = [...this.forgetAfterTx];
      this.forgetAfterTx.clear();
      for (const f of orphans) if (f.openCount === 0) this.cache.handles.forget(f);
    }
    const waiters = this.txWaiters;
    this.txWaiters = [];
    for (const w of waiters) w();
  }

  refuseDuringTransaction(what: string): void {
    if (this.currentTx) {
      throw regionError('TRANSACTION_STATE', `${what}: a transaction is in progress; write through its tx.fs, or after it ends ` +
        '(only writes are transactional: truncate, rename and unlink wait for it).');
    }
  }

  /** True while a transaction is in progress (the asynchronous faces then wait for transactionEnded). */
  get inProgress(): boolean {
    return this.currentTx !== null;
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
    const e = this.cache.engine;
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
              fd = native.openBeneath(this.cache.rootFd, f.path, O_RDWR | O_CREAT, 0o666);
              touched.set(f.path, fd);
            }
            let done = 0;
            while (done < f.data.length) done += fs.writeSync(fd, f.data, done, f.data.length - done, f.offset + done);
          }
          for (const sg of meld.segments) {
            const seg = this.segments.open(sg.name, sg.segmentLength);
            this.cache.region.memory.writeBytes(this.cache.region.memory.metaId, seg.byte + sg.offset, sg.data);
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
}
