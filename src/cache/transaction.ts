/**
 * Transactions (atomic melds, after LRVM and Vista): every write made through
 * `tx.fs`, and every segment range declared with `setRange`, commits as one
 * or not at all, across blocks and files.
 *
 * How: beginning arms the undo area (ACTIVE) with no records; each write and
 * each setRange appends undo records (complete, and persisted, before the
 * bytes they protect change), and the buffers the meld touched stay pinned,
 * so neither eviction nor write-back lets an uncommitted byte out. The commit
 * is one Atomics.store of IDLE. A cut before it rolls the whole meld back;
 * after it, the meld is in the region like any acknowledged write.
 *
 * `flush: true` first appends the meld's redo records and a commit record to
 * the journal and syncs it (one fdatasync), so the meld also survives a
 * kernel crash or power loss (see journal.ts).
 */
import type * as fs from 'node:fs';
import { outOfRange, regionError } from '../errors';
import { writeArgs as writeArgsOf } from '../fs/args';
import type { FileState } from './files';
import type { Segment } from './segments';
import type { RedoFile, RedoSegment } from './journal';

export interface TransactionOptions {
  /**
   * Snapshot every segment at begin and compare at commit: a byte changed
   * outside a declared range fails the commit (and the transaction is rolled
   * back, undeclared bytes included). For tests: it copies every segment.
   */
  debug?: boolean;
}

export interface EndOptions {
  /** false (default): survives process death (LRVM no_flush). true: also a kernel crash or power loss (journal + fdatasync). */
  flush?: boolean;
}

/** What a transaction needs from the cache (kept narrow: the cache implements it). */
export interface TransactionHost {
  txWriteSync(tx: Transaction, fd: number, src: Uint8Array, offset: number, length: number, position: number | null): number;
  txWrite(tx: Transaction, fd: number, src: Uint8Array, offset: number, length: number, position: number | null): Promise<number>;
  txCommit(tx: Transaction, flush: boolean): void;
  txAbort(tx: Transaction): void;
  txRecordSegment(tx: Transaction, segment: Segment, offset: number, length: number): void;
  segmentOfView(view: Uint8Array): Segment | undefined;
  readonly fs: {
    openSync(path: fs.PathLike, flags?: fs.OpenMode, mode?: fs.Mode | null): number;
    closeSync(fd: number): void;
    readSync(fd: number, buffer: NodeJS.ArrayBufferView, offset?: number, length?: number, position?: number | null): number;
    fstatSync(fd: number): fs.Stats;
    readFileSync(path: fs.PathOrFileDescriptor, options?: unknown): any;
  };
}

export type TransactionState = 'active' | 'committed' | 'aborted';

export class Transaction {
  state: TransactionState = 'active';
  /** File ranges written, in order (the redo log of a flushed commit). */
  readonly writes: Array<{ file: FileState; offset: number; length: number }> = [];
  /** Segment ranges declared. */
  readonly ranges: Array<{ segment: Segment; offset: number; length: number }> = [];
  /** Segment contents at begin (debug mode). */
  readonly snapshots: Map<Segment, Buffer> | null;
  /** The transaction's fs: writes through it belong to the transaction. */
  readonly fs: TransactionFs;

  constructor(private readonly host: TransactionHost, segments: () => Segment[], options: TransactionOptions) {
    this.snapshots = options.debug ? new Map(segments().map((s) => [s, Buffer.from(s.view)])) : null;
    this.fs = new TransactionFs(host, this);
  }

  assertActive(what: string): void {
    if (this.state !== 'active') {
      throw regionError('TRANSACTION_STATE', `${what}: the transaction is ${this.state}.`);
    }
  }

  /**
   * Declares that the caller is about to modify `length` bytes of a segment
   * at `offset` (LRVM's set_range): their old value goes to the undo area
   * first. Modify them only after this returns.
   */
  setRange(segment: Uint8Array, offset: number, length: number): void {
    this.assertActive('setRange');
    const seg = this.host.segmentOfView(segment);
    if (!seg) throw outOfRange('segment', 'a view returned by cache.segment()', segment);
    if (!Number.isInteger(offset) || offset < 0 || offset > seg.length) throw outOfRange('offset', `>= 0 and <= ${seg.length}`, offset);
    if (!Number.isInteger(length) || length < 0 || offset + length > seg.length) {
      throw outOfRange('length', `>= 0 and <= ${seg.length - offset}`, length);
    }
    if (length === 0) return;
    this.host.txRecordSegment(this, seg, offset, length);
    this.ranges.push({ segment: seg, offset, length });
  }

  /** Commits (LRVM's end_transaction). */
  end(options: EndOptions = {}): void {
    this.assertActive('endTransaction');
    this.host.txCommit(this, options.flush === true);
  }

  /** Rolls every write and declared range back (LRVM's abort_transaction). */
  abort(): void {
    this.assertActive('abortTransaction');
    this.host.txAbort(this);
  }

  /** Debug mode: the first byte changed outside every declared range, or null. */
  undeclaredChange(): { segment: Segment; offset: number } | null {
    if (!this.snapshots) return null;
    for (const [seg, before] of this.snapshots) {
      const declared = this.ranges.filter((r) => r.segment === seg);
      for (let i = 0; i < seg.length; i++) {
        if (seg.view[i] === before[i]) continue;
        if (!declared.some((r) => i >= r.offset && i < r.offset + r.length)) return { segment: seg, offset: i };
      }
    }
    return null;
  }

  /** The redo records of a flushed commit: the bytes each range holds now. */
  redo(read: (file: FileState, offset: number, length: number) => Uint8Array): { files: RedoFile[]; segments: RedoSegment[] } {
    return {
      files: this.writes.filter((w) => !w.file.orphan).map((w) => ({ path: w.file.path, offset: w.offset, data: read(w.file, w.offset, w.length) })),
      segments: this.ranges.map((r) => ({
        name: r.segment.name, segmentLength: r.segment.length, offset: r.offset,
        data: Buffer.from(r.segment.view.subarray(r.offset, r.offset + r.length)),
      })),
    };
  }
}

/**
 * The fs a transaction hands its code: reads as cache.fs, and writes that
 * belong to the transaction. Calls that are not writes (truncate, rename,
 * unlink) are not transactional and are refused while it runs. Call its
 * methods on it (`tfs.writeSync(...)`), as with a FileHandle.
 */
export class TransactionFs {
  constructor(private readonly host: TransactionHost, private readonly tx: Transaction) {}

  openSync(path: fs.PathLike, flags?: fs.OpenMode, mode?: fs.Mode | null): number {
    return this.host.fs.openSync(path, flags, mode);
  }

  closeSync(fd: number): void {
    this.host.fs.closeSync(fd);
  }

  readSync(fd: number, buffer: NodeJS.ArrayBufferView, offset?: number, length?: number, position?: number | null): number {
    return this.host.fs.readSync(fd, buffer, offset, length, position);
  }

  fstatSync(fd: number): fs.Stats {
    return this.host.fs.fstatSync(fd);
  }

  readFileSync(path: fs.PathOrFileDescriptor, options?: unknown): any {
    return this.host.fs.readFileSync(path, options);
  }

  /** writeSync(fd, buffer, offset?, length?, position?) or writeSync(fd, string, position?, encoding?), in the transaction. */
  writeSync(fd: number, data: NodeJS.ArrayBufferView | string, a?: unknown, b?: unknown, c?: unknown): number {
    this.tx.assertActive('write');
    const { bytes, offset, length, position } = writeArgsOf(data, a, b, c);
    return this.host.txWriteSync(this.tx, fd, bytes, offset, length, position);
  }

  /** The promise form of writeSync (waits for room or a read instead of blocking). */
  async write(fd: number, data: NodeJS.ArrayBufferView | string, a?: unknown, b?: unknown, c?: unknown): Promise<number> {
    this.tx.assertActive('write');
    const { bytes, offset, length, position } = writeArgsOf(data, a, b, c);
    return this.host.txWrite(this.tx, fd, bytes, offset, length, position);
  }

  /** Appends to a file (opened 'a' for the call). */
  appendFileSync(path: fs.PathLike, data: string | Uint8Array): void {
    const fd = this.host.fs.openSync(path, 'a');
    try {
      const bytes = typeof data === 'string' ? Buffer.from(data) : data;
      this.writeSync(fd, bytes, 0, bytes.length, null);
    } finally {
      this.host.fs.closeSync(fd);
    }
  }
}
