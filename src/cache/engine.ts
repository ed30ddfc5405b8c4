/**
 * The data path of the cache: reads, writes and truncation of cached files,
 * over the structures in the region. Every change to region memory follows a
 * protocol of docs/format.md §10; the comments at each step say what recovery
 * sees if the process dies right there.
 *
 * The synchronous cores take `mayIO`: when false (the asynchronous API), a
 * core reads only what the kernel's page cache holds (RWF_NOWAIT), and one
 * that would need to wait for the disk or to make room returns a Need
 * instead, having changed nothing live; the caller does that I/O
 * asynchronously and calls again. Region changes therefore always happen in
 * one synchronous stretch, and at most one operation uses the undo area.
 */
import * as fs from 'node:fs';
import { getSystemErrorName, promisify } from 'node:util';
import { regionError, systemError } from '../errors';
import { D, NIL, PAGE_BYTES, UNDO_KIND_WRITE } from '../region/format';
import { writeBlocksMax } from '../region/geometry';
import type { Region } from '../region/region';
import { COPY_JOB_SLOTS, READ_JOB_SLOTS, type RegionMemory } from '../region/primitives';
import { BlockIndex } from './blockIndex';
import { EOPNOTSUPP, NOWAIT_UNSUPPORTED, readInto } from './fileReads';
import { FileTable } from './fileTable';
import type { FileState } from './files';
import { NamespaceIntent } from './intent';
import { DIRTY_LIST, List, LRU } from './lists';
import { MissHistory } from './missHistory';
import { BufferPool } from './pool';
import { CLEAN, DIRTY, FREE, Registry } from './registry';
import { SIZE_DIRTY, SizeTable, ZERO_NONE } from './sizes';
import { UNDO_BYTES_RECORD, UNDO_SEGMENT_RECORD, UNDO_SIZE_RECORD, UndoLog } from './undo';
import { WriteBack, type WriteBackPolicy } from './writeback';

const read = promisify(fs.read);

/** The most one read miss fills into the cache with one system call. */
const FILL_RUN_BYTES_MAX = 1024 * 1024;

/**
 * What an asynchronous core needs before it can complete: a block read from
 * disk (`keep`: into the cache, as a write needs; a read may be served around
 * it), or room.
 */
export type Need = { kind: 'fill'; file: FileState; block: number; keep: boolean } | { kind: 'space'; blocks: number };

export interface EngineStats {
  hits: number;
  misses: number;
  readBytes: number;
  writeBytes: number;
  writes: number;
  evictions: number;
  writeBackBytes: number;
  writeBackBatches: number;
  writeBackErrors: number;
  fdatasyncs: number;
  backPressureSync: number;
  backPressureAsync: number;
  corruptBuffers: number;
  undoWrites: number;
  /** Whole-block overwrites done by a shadow buffer (no undo). */
  shadowWrites: number;
  /** Read misses served from the file without taking a buffer (none free or clean). */
  directReads: number;
  /** Writes of uncached blocks that went straight to the file (no buffer free or clean). */
  directWrites: number;
}

export interface EngineHooks {
  quarantine(b: number, file: FileState, expected: number, actual: number): void;
  ioError(err: Error, file: FileState, op: string): void;
  /** After a write-back batch or a fill of the file completed. */
  afterIo(file: FileState): void;
}

/** A fill in flight, so a write or eviction of its block can invalidate it. */
interface PendingFill {
  stale: boolean;
  /** A miss read around the cache: its bytes, once read, for the read that retries. */
  staged: Uint8Array | null;
  /** The block's live bytes when the read was issued. */
  len: number;
}

export class Engine {
  readonly mem: RegionMemory;
  readonly reg: Registry;
  readonly index: BlockIndex;
  readonly lru: List;
  readonly dirtyList: List;
  readonly sizes: SizeTable;
  readonly fileTable: FileTable;
  readonly undo: UndoLog;
  readonly intent: NamespaceIntent;
  readonly pool: BufferPool;
  readonly writeBack: WriteBack;
  readonly bs: number;
  /** Largest number of blocks one atomic write may touch (undo space, pins). */
  readonly opBlocksMax: number;
  /** File state by slot. */
  readonly files: Array<FileState | undefined>;
  readonly stats: EngineStats = {
    hits: 0, misses: 0, readBytes: 0, writeBytes: 0, writes: 0, evictions: 0, writeBackBytes: 0,
    writeBackBatches: 0, writeBackErrors: 0, fdatasyncs: 0, backPressureSync: 0, backPressureAsync: 0,
    corruptBuffers: 0, undoWrites: 0, shadowWrites: 0, directReads: 0, directWrites: 0,
  };
  private readonly pendingFills = new Map<FileState, Map<number, PendingFill>>();
  /**
   * The transaction in progress, if any: its writes append undo records to
   * the ACTIVE undo area instead of arming and committing their own, and its
   * buffers stay pinned (no eviction, no write-back) until it ends.
   */
  tx: { pinned: Set<number> } | null = null;
  /** The cache closed: I/O completing now must not touch the (unmapped) region. */
  closed = false;
  // Scratch arrays of the write core (one write at a time).
  private readonly opBuffers: Int32Array;
  private readonly opBlocks: Float64Array;
  private readonly opNew: Uint8Array;
  /** Where the undo area saved each touched buffer's old bytes (-1: not saved). */
  private readonly opSaved: Float64Array;
  /** Copy jobs of a write's fresh buffers (COPY_JOB_SLOTS each), and each touched buffer's job (-1: none). */
  private readonly opCopyJobs: Float64Array;
  private readonly opJob: Int32Array;
  /** Blocks read around the cache recently: a miss of one of them is admitted (missHistory.ts). */
  readonly history: MissHistory;
  /** The buffers of a fill run and their read jobs (READ_JOB_SLOTS each); a run is at most fillBufs.length blocks. */
  private readonly fillBufs: Int32Array;
  private readonly fillJobs: Float64Array;

  constructor(readonly region: Region, policy: WriteBackPolicy, private readonly hooks: EngineHooks) {
    const g = region.geometry;
    this.mem = region.memory;
    this.reg = new Registry(this.mem, g);
    this.bs = g.blockBytes;
    this.index = new BlockIndex(this.reg, g.bufferCount);
    this.lru = new List(this.mem, this.reg, LRU);
    this.dirtyList = new List(this.mem, this.reg, DIRTY_LIST);
    this.sizes = new SizeTable(this.mem, g);
    this.fileTable = new FileTable(this.mem, g);
    this.undo = new UndoLog(this.mem, g);
    this.intent = new NamespaceIntent(this.mem);
    this.files = new Array(g.fileSlots).fill(undefined);
    this.history = new MissHistory(g.bufferCount);
    this.pool = new BufferPool(this.reg, this.index, this.lru, this.dirtyList, this.stats, this.history);
    this.opBlocksMax = writeBlocksMax(g);
    // computeGeometry refuses a layout without room for a one-block write; without it every write would loop forever.
    if (this.atomicWriteBytesMax <= 0) {
      throw new Error(`internal: atomicWriteBytesMax is ${this.atomicWriteBytesMax} (undo ${g.undoBytes} bytes, blocks of ${g.blockBytes})`);
    }
    this.opBuffers = new Int32Array(this.opBlocksMax + 1);
    this.opBlocks = new Float64Array(this.opBlocksMax + 1);
    this.opNew = new Uint8Array(this.opBlocksMax + 1);
    this.opSaved = new Float64Array(this.opBlocksMax + 1);
    this.opCopyJobs = new Float64Array((this.opBlocksMax + 1) * COPY_JOB_SLOTS);
    this.opJob = new Int32Array(this.opBlocksMax + 1);
    // One system call fills at most this many buffers: 1 MiB of blocks, and never more than an eighth of the region.
    const fillRunMax = Math.max(1, Math.min(Math.floor(FILL_RUN_BYTES_MAX / g.blockBytes), Math.floor(g.bufferCount / 8)));
    this.fillBufs = new Int32Array(fillRunMax);
    this.fillJobs = new Float64Array(fillRunMax * READ_JOB_SLOTS);
    this.writeBack = new WriteBack(
      {
        reg: this.reg, sizes: this.sizes, pool: this.pool, dirtyList: this.dirtyList, stats: this.stats,
        quarantine: (b, f, e, a) => this.hooks.quarantine(b, f, e, a),
        ioError: (err, f, op) => this.hooks.ioError(err, f, op),
        afterIo: (f) => this.hooks.afterIo(f),
        holds: (f) => !this.closed && this.files[f.slot] === f,
        isClosed: () => this.closed,
        beforeCut: (f) => this.invalidateFills(f),
        fileOf: (b) => this.pool.owner[b],
        syncBeforeClean: this.mem.persistMode !== 'none',
      },
      policy,
    );
  }

  /** Bytes one write may cover and stay a single atomic operation. */
  get atomicWriteBytesMax(): number {
    return (this.opBlocksMax - 1) * this.bs;
  }

  // ---------------------------------------------------------------- allocation

  /**
   * A free buffer for a write, writing back synchronously when no clean one
   * can be evicted (the synchronous side of G9). It cannot run out: at most a
   * quarter of the buffers is in flight in background write-back (R5 in
   * writeback.ts), at most a quarter in asynchronous fills (FILLS_IN_FLIGHT),
   * and one write pins at most a quarter (writeBlocksMax); every other buffer
   * is free, clean (evictable) or dirty and not in flight (written back here).
   * Only a transaction, whose buffers stay pinned until it ends, can pin the
   * rest.
   */
  private allocateSync(): number {
    let b = this.pool.allocate();
    if (b !== NIL) return b;
    let want = Math.max(8, Math.floor(this.reg.count / 16));
    for (let attempt = 0; attempt < 3; attempt++, want *= 4) {
      this.stats.backPressureSync++;
      this.writeBack.relieveSync(want); // what it cleans is queued for eviction
      b = this.pool.allocate();
      if (b !== NIL) return b;
    }
    throw regionError('CACHE_EXHAUSTED', `every buffer of the region is pinned or in flight (${this.tx ? 'an open transaction pins ' +
      `${this.tx.pinned.size} of ${this.reg.count}` : `${this.writeBack.inFlightBuffers} in write-back, ${this.fillsInFlight} in fills`}); ` +
      'the operation cannot proceed. Make the transaction smaller or use a larger region.');
  }

  /**
   * Waits for room (the asynchronous side of G9): starts write-back of the
   * oldest dirty buffers and waits until write-back in flight makes some, so
   * that a clean buffer can be evicted. With nothing to wait for, it writes back
   * synchronously. The caller retries, a bounded number of rounds
   * (dataPath.ts), then completes synchronously.
   */
  async makeSpace(blocks: number): Promise<void> {
    this.stats.backPressureAsync++;
    if (this.pool.freeCount >= blocks) return;
    this.writeBack.pass(true);
    if (this.writeBack.busy) {
      await this.writeBack.room(); // a run written back is enough: its buffers are clean
      return;
    }
    if (this.fillsInFlight > 0) {
      await this.fillsSettled(); // they publish clean, evictable buffers
      return;
    }
    this.writeBack.relieveSync(Math.max(blocks, 8, Math.floor(this.reg.count / 16)));
  }

  /** Fills in flight, so makeSpace can wait for their buffers to become evictable. */
  private fillsInFlight = 0;
  private fillWaiters: Array<() => void> = [];

  private fillsSettled(): Promise<void> {
    return new Promise((resolve) => this.fillWaiters.push(resolve));
  }

  private fillEnded(): void {
    this.fillsInFlight--;
    if (this.fillWaiters.length > 0) {
      const waiters = this.fillWaiters;
      this.fillWaiters = [];
      for (const w of waiters) w();
    }
  }

  // ---------------------------------------------------------------- fills

  private liveBytes(file: FileState, block: number): number {
    return Math.min(this.bs, Math.max(0, this.sizes.size(file.slot) - block * this.bs));
  }

  /**
   * Where the disk's bytes of a freshly read block stop being the file's, in
   * block-relative bytes: at the end of what the read got (past the disk's
   * EOF the cache's file may be longer), or at zeroFrom (a truncation the
   * disk has not seen yet: what it holds there is stale). Past it: zeros.
   */
  private validTo(file: FileState, block: number, got: number): number {
    const zeroFrom = this.sizes.zeroFrom(file.slot);
    return zeroFrom < ZERO_NONE ? Math.min(got, Math.max(0, zeroFrom - block * this.bs)) : got;
  }

  /**
   * Whether a read miss of `blocks` blocks from `block` takes buffers for
   * them (missHistory.ts): free ones are left without an eviction, or the
   * block was read around the cache recently. Otherwise the read goes around
   * the cache: once is not enough to evict what is there.
   */
  private admits(file: FileState, block: number, blocks: number): boolean {
    return this.pool.freeCount >= blocks || this.history.has(file.slot, block);
  }

  /**
   * Reads blocks [first, first + n) from the disk into the buffers
   * fillBufs[0, n) (FREE, assigned to them), one read, and publishes them
   * CLEAN. Answers n, or -errno with the buffers given back and nothing
   * published (-EAGAIN with `nowait`: the page cache does not hold them). A
   * cut leaves FREE buffers, or CLEAN ones that match the disk: either is
   * harmless.
   */
  private fillInto(file: FileState, first: number, n: number, nowait: boolean): number {
    const bufs = this.fillBufs;
    const jobs = this.fillJobs;
    const reg = this.reg;
    for (let i = 0; i < n; i++) {
      const b = bufs[i];
      const w = i * READ_JOB_SLOTS;
      jobs[w] = reg.viewId(b);
      jobs[w + 1] = reg.viewOffset(b);
      jobs[w + 2] = this.liveBytes(file, first + i);
      jobs[w + 3] = reg.seedOf(b);
    }
    const got = this.mem.readFile(file.fd, jobs, n, first * this.bs, nowait);
    if (got < 0) {
      for (let i = 0; i < n; i++) this.pool.returnUnused(bufs[i], file, first + i);
      if (got === -EOPNOTSUPP) file.readsNoWait = false;
      return got;
    }
    // Past the disk's end the native read zeroed each buffer; past a truncation the disk has not seen (zeroFrom) too.
    const zeroFrom = this.sizes.zeroFrom(file.slot);
    for (let i = 0; i < n; i++) {
      const b = bufs[i];
      const w = i * READ_JOB_SLOTS;
      const len = jobs[w + 2];
      let crc = jobs[w + 3] >>> 0;
      if (zeroFrom < ZERO_NONE) {
        const valid = this.validTo(file, first + i, len);
        if (valid < len) {
          this.mem.fill(jobs[w], jobs[w + 1] + valid, len - valid, 0);
          crc = reg.compute(b, len);
        }
      }
      reg.commit(b, CLEAN, len, crc);
      this.pool.publish(b, file, false);
    }
    this.stats.misses += n;
    return n;
  }

  /**
   * Reads `block` from disk into buffer b (free, taken for it) and publishes
   * it CLEAN. An I/O error is thrown as fs.readSync throws it, with b given
   * back.
   */
  private fillSync(file: FileState, block: number, b: number): number {
    this.pool.assign(b, file, block);
    this.fillBufs[0] = b;
    const r = this.fillInto(file, block, 1, false);
    if (r === 1) return b;
    // node:fs reads the same bytes: it throws the error as fs.readSync's callers expect it (else the error as it was).
    const len = this.liveBytes(file, block);
    readInto(file.fd, Buffer.allocUnsafe(len), 0, len, block * this.bs, false);
    throw systemError(getSystemErrorName(r), 'read');
  }

  /**
   * An asynchronous write's fill of `block`, made at once when a buffer can
   * be taken without writing back and the page cache holds the block
   * (RWF_NOWAIT): the buffer, published CLEAN; else NIL with nothing changed.
   */
  private fillNow(file: FileState, block: number): number {
    if (!file.readsNoWait || file.ghosts.has(block) || this.fillPending(file, block)) return NIL;
    const b = this.pool.allocate();
    if (b === NIL) return NIL;
    this.pool.assign(b, file, block);
    this.fillBufs[0] = b;
    return this.fillInto(file, block, 1, true) === 1 ? b : NIL;
  }

  /**
   * A read's uncached blocks from `block` on (at most to `last`): a run the
   * cache admits (admits) is filled, otherwise it is read straight into dst,
   * either in one system call. Answers the block after those it served, or,
   * for an asynchronous read (mayIO false), what it must wait for: it reads
   * only what the page cache holds now (RWF_NOWAIT), never waits for the
   * disk. A read never writes back, so it never waits for room and never
   * fails for lack of it (G9), whatever write-back has in flight.
   */
  private readMissing(file: FileState, block: number, last: number, dst: Uint8Array, dstOffset: number, position: number,
    end: number, mayIO: boolean): number | Need {
    const slot = file.slot;
    const bs = this.bs;
    if (!mayIO && this.pendingFills.size > 0) {
      // A block an asynchronous fill read around the cache for this read: taken from where it was staged.
      const start = block * bs;
      const from = Math.max(position, start) - start;
      const to = Math.min(end, start + bs) - start;
      if (this.copyStaged(file, block, dst, dstOffset + (start + from - position), from, to)) return block + 1;
    }
    if (file.ghosts.size > 0 && file.ghosts.has(block)) {
      // Its buffer is a ghost whose write-back is in flight: the fill reuses it (fillAsync says why).
      if (!mayIO) return { kind: 'fill', file, block, keep: false };
      const b = this.fillSync(file, block, this.pool.takeGhost(file, block));
      this.copyOut(b, block, dst, dstOffset, position, end);
      return block + 1;
    }
    if (!mayIO && !file.readsNoWait) return { kind: 'fill', file, block, keep: false };
    let runEnd = block;
    // A run stops before a ghost's block and before a block a fill is reading or has staged: each is served alone.
    while (runEnd < last && runEnd - block + 1 < this.fillBufs.length && this.index.get(slot, runEnd + 1) === NIL &&
      !(file.ghosts.size > 0 && file.ghosts.has(runEnd + 1)) && !this.fillPending(file, runEnd + 1)) runEnd++;
    if (this.admits(file, block, runEnd - block + 1)) {
      // Buffers for the run, free or evicted (LRU order, CLOCK's second chance: the cache-size probe relies on it).
      let n = 0;
      for (let k = block; k <= runEnd; k++) {
        const b = this.pool.allocate();
        if (b === NIL) break; // every other buffer is dirty or in flight: the rest goes around the cache
        this.pool.assign(b, file, k);
        this.fillBufs[n++] = b;
      }
      const filled = n > 0 ? this.fillInto(file, block, n, !mayIO) : 0;
      if (filled > 0) {
        for (let i = 0; i < filled; i++) this.copyOut(this.fillBufs[i], block + i, dst, dstOffset, position, end);
        return block + filled;
      }
      if (!mayIO && n > 0) return { kind: 'fill', file, block, keep: false };
      // No buffer, or an I/O error: around the cache, which throws the error as fs.readSync would.
    }
    return this.readAround(file, block, runEnd, dst, dstOffset, position, end, !mayIO);
  }

  private fillPending(file: FileState, block: number): boolean {
    return this.pendingFills.size > 0 && this.pendingFills.get(file)?.has(block) === true;
  }

  /** Blocks [first, last] of a read straight into dst (around the cache), each recorded in the miss history. */
  private readAround(file: FileState, first: number, last: number, dst: Uint8Array, dstOffset: number, position: number,
    end: number, nowait: boolean): number | Need {
    const from = Math.max(position, first * this.bs);
    const to = Math.min(end, (last + 1) * this.bs);
    const at = dstOffset + (from - position);
    const got = readInto(file.fd, dst, at, to - from, from, nowait);
    if (got < 0) {
      if (got === NOWAIT_UNSUPPORTED) file.readsNoWait = false;
      return { kind: 'fill', file, block: first, keep: false };
    }
    // Past the disk's end of file, or past a truncation the disk has not seen yet (zeroFrom): zeros.
    const zeroFrom = this.sizes.zeroFrom(file.slot);
    const valid = zeroFrom < ZERO_NONE ? Math.min(from + got, Math.max(from, zeroFrom)) : from + got;
    if (valid < to) dst.fill(0, at + (valid - from), at + (to - from));
    for (let block = first; block <= last; block++) this.history.add(file.slot, block);
    this.stats.misses += last - first + 1;
    this.stats.directReads += last - first + 1;
    return last + 1;
  }

  /** Copies what block `block` (in buffer b) holds of the read's range [position, end) into dst. */
  private copyOut(b: number, block: number, dst: Uint8Array, dstOffset: number, position: number, end: number): void {
    const start = block * this.bs;
    const from = Math.max(position, start) - start;
    const to = Math.min(end, start + this.bs) - start;
    const off = this.reg.viewOffset(b);
    dst.set(this.reg.bytes(b).subarray(off + from, off + to), dstOffset + (start + from - position));
    this.pool.referenced[b] = 1;
  }

  /**
   * The asynchronous miss of a block the page cache does not hold (readMissing
   * tries that first). The block is read into a reserved buffer (free, or a
   * clean one evicted) and published only if still wanted. A read that the
   * cache does not admit (admits), or finds no buffer (every one dirty or in
   * flight), or a quarter of the region already in fills, reads into memory
   * of its own (staged) instead, which it
   * takes on its retry unless a write, a truncation or a drop of the block
   * made it stale meanwhile; a write's fill (`keep`) waits for room.
   */
  async fillAsync(file: FileState, block: number, keep: boolean): Promise<void> {
    if (this.index.get(file.slot, block) !== NIL) return;
    if (file.ghosts.has(block)) {
      // The block's old buffer is a ghost whose write-back is in flight. The
      // fill must not read into it: that write-back's completion frees a
      // FREE, unowned buffer, and would free it under the read. Nor may it
      // use other memory: the ghost's write could then land after a newer
      // one of the block. Ghosts live only as long as their batch; wait it out.
      await this.writeBack.drain();
      return; // the caller retries
    }
    const room = this.fillsInFlight < this.fillsInFlightMax;
    const b = room && (keep || this.admits(file, block, 1)) ? this.pool.allocate() : NIL;
    if (b === NIL && keep) {
      await this.makeSpace(1);
      return; // the caller retries
    }
    let fills = this.pendingFills.get(file);
    if (!fills) this.pendingFills.set(file, (fills = new Map()));
    const len = this.liveBytes(file, block);
    const pending: PendingFill = { stale: false, staged: null, len };
    fills.set(block, pending);
    let view: Uint8Array;
    let off = 0;
    if (b !== NIL) {
      this.pool.busy[b] = 1;
      this.pool.assign(b, file, block);
      view = this.reg.bytes(b);
      off = this.reg.viewOffset(b);
    } else {
      view = Buffer.allocUnsafe(len);
    }
    let got = 0;
    this.fillsInFlight++;
    file.reads++; // its descriptor is not closed under the read (backing.ts)
    try {
      while (got < len) {
        const { bytesRead } = await read(file.fd, view, off + got, len - got, block * this.bs + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
    } catch (err) {
      if (b !== NIL && !this.closed) this.pool.giveBack(b); // never published: back to the free stack
      this.forgetFill(file, block, pending);
      throw err;
    } finally {
      file.reads--;
      if (b !== NIL) this.pool.busy[b] = 0;
      this.fillEnded();
      this.hooks.afterIo(file);
    }
    if (this.closed) throw regionError('REGION_CLOSED', 'the cache was closed while this read was filling a block.');
    if (b === NIL) {
      this.history.add(file.slot, block);
      const valid = this.validTo(file, block, got);
      if (valid < len) view.fill(0, valid, len);
      if (pending.stale) this.forgetFill(file, block, pending);
      else pending.staged = view; // the read retries and takes it (stageFor)
      return;
    }
    this.forgetFill(file, block, pending);
    this.publishFill(file, b, block, pending, got, len);
  }

  private forgetFill(file: FileState, block: number, pending: PendingFill): void {
    const fills = this.pendingFills.get(file);
    if (fills?.get(block) !== pending) return;
    fills.delete(block);
    if (fills.size === 0) this.pendingFills.delete(file);
  }

  /**
   * Copies bytes [from, to) of a block an asynchronous miss staged (read
   * around the cache) into dst, if they are still current. The entry goes
   * when the whole read completes (forgetStaged): a read of several blocks
   * may stage them one round at a time and must find the earlier ones again.
   */
  private copyStaged(file: FileState, block: number, dst: Uint8Array, at: number, from: number, to: number): boolean {
    if (this.pendingFills.size === 0) return false;
    const p = this.pendingFills.get(file)?.get(block);
    if (!p || p.staged === null) return false;
    if (p.stale || p.len !== this.liveBytes(file, block) || this.files[file.slot] !== file) {
      this.forgetFill(file, block, p);
      return false;
    }
    dst.set(p.staged.subarray(from, to), at);
    this.stagedTaken.push(file, block);
    return true;
  }

  /** Staged blocks the read in progress used, as (file, block) pairs. */
  private readonly stagedTaken: Array<FileState | number> = [];

  private forgetStaged(): void {
    const taken = this.stagedTaken;
    for (let i = 0; i < taken.length; i += 2) {
      const file = taken[i] as FileState;
      const block = taken[i + 1] as number;
      const p = this.pendingFills.get(file)?.get(block);
      if (p?.staged) {
        this.forgetFill(file, block, p);
        this.stats.misses++;
        this.stats.directReads++;
      }
    }
    taken.length = 0;
  }

  /** Asynchronous fills in flight at most (G9: see allocateSync). */
  private get fillsInFlightMax(): number {
    return Math.max(1, Math.floor(this.reg.count / 4));
  }

  private publishFill(file: FileState, b: number, block: number, pending: PendingFill, got: number, len: number): void {
    // An orphan (unlinked, still open) is read and written like any file until its last close.
    const still = !pending.stale && this.index.get(file.slot, block) === NIL && this.files[file.slot] === file;
    const nowLen = this.liveBytes(file, block);
    if (!still || nowLen !== len || this.reg.state(b) !== FREE) {
      if (this.reg.state(b) === FREE && this.pool.owner[b] === null) this.pool.giveBack(b);
      return; // somebody else changed the block meanwhile; the caller retries
    }
    const valid = this.validTo(file, block, got);
    if (valid < len) this.mem.fill(this.reg.viewId(b), this.reg.viewOffset(b) + valid, len - valid, 0);
    this.reg.commit(b, CLEAN, len, this.reg.compute(b, len));
    this.pool.publish(b, file, false);
    this.freshFill.add(b); // the read that asked for it counts it as its miss
  }

  /** Buffers an asynchronous fill published for a read that will retry: counted as misses, not hits. */
  private readonly freshFill = new Set<number>();

  private invalidateFill(file: FileState, block: number): void {
    const fills = this.pendingFills.get(file);
    const p = fills?.get(block);
    if (!p) return;
    p.stale = true;
    if (p.staged !== null) this.forgetFill(file, block, p);
  }

  /**
   * Every fill of the file in flight read bytes that a change of its length
   * or of zeroFrom may have made stale (a cut of the disk file clears
   * zeroFrom, so the fill could no longer tell): none of them is published.
   */
  invalidateFills(file: FileState): void {
    const fills = this.pendingFills.get(file);
    if (!fills) return;
    for (const [block, p] of fills) {
      p.stale = true;
      if (p.staged !== null) fills.delete(block);
    }
    if (fills.size === 0) this.pendingFills.delete(file);
  }

  // ---------------------------------------------------------------- reads

  /**
   * Copies up to `length` bytes at `position` into dst. Returns the count, or
   * a Need when mayIO is false and a block is missing.
   */
  read(file: FileState, dst: Uint8Array, dstOffset: number, length: number, position: number, mayIO: boolean): number | Need {
    const size = this.sizes.size(file.slot);
    if (position >= size || length === 0) return 0;
    const n = Math.min(length, size - position);
    const bs = this.bs;
    // A hit inside one cached block: the whole read is one lookup and one copy.
    const within = position % bs;
    if (within + n <= bs) {
      const b = this.index.get(file.slot, (position - within) / bs);
      if (b !== NIL && (this.freshFill.size === 0 || !this.freshFill.has(b))) {
        const off = this.reg.viewOffset(b) + within;
        dst.set(this.reg.bytes(b).subarray(off, off + n), dstOffset);
        this.pool.referenced[b] = 1;
        this.stats.hits++;
        this.stats.readBytes += n;
        return n;
      }
    }
    const end = position + n;
    const last = Math.floor((end - 1) / bs);
    let hits = 0;
    for (let block = Math.floor(position / bs); block <= last;) {
      const b = this.index.get(file.slot, block);
      if (b === NIL) {
        const next = this.readMissing(file, block, last, dst, dstOffset, position, end, mayIO);
        if (typeof next !== 'number') {
          this.stagedTaken.length = 0;
          return next;
        }
        block = next;
        continue;
      }
      if (this.freshFill.size > 0 && this.freshFill.delete(b)) this.stats.misses++;
      else hits++;
      this.copyOut(b, block, dst, dstOffset, position, end);
      block++;
    }
    if (this.stagedTaken.length > 0) this.forgetStaged();
    this.stats.hits += hits;
    this.stats.readBytes += n;
    return n;
  }

  // ---------------------------------------------------------------- writes

  /**
   * Writes src[srcOffset, srcOffset+length) at `position` as one atomic
   * operation (G2). length must not exceed atomicWriteBytesMax.
   */
  write(file: FileState, src: Uint8Array, srcOffset: number, length: number, position: number, mayIO: boolean): number | Need {
    if (length === 0) return 0;
    const bs = this.bs;
    const slot = file.slot;
    const oldSize = this.sizes.size(slot);
    const end = position + length;
    const newSize = Math.max(oldSize, end);
    const first = Math.floor(position / bs);
    const last = Math.floor((end - 1) / bs);
    // The old last block grows with zeros when the write starts past it.
    const oldLast = Math.floor((oldSize - 1) / bs);
    const gap = oldSize % bs !== 0 && oldLast < first && this.index.get(slot, oldLast) !== NIL ? oldLast : -1;

    // A block the cache does not hold, overwritten within one page, and no buffer free or clean (write-back has
    // fallen behind): around the cache (writeAround) instead of writing back inline.
    if (mayIO && first === last && end <= oldSize && this.tx === null && this.pool.freeCount === 0 &&
        this.index.get(slot, first) === NIL && this.mayWriteAround(file, first, position, length, end)) {
      const b = this.pool.allocate();
      if (b === NIL) return this.writeAround(file, first, src, srcOffset, length, position);
      this.pool.giveBack(b); // a clean buffer was evicted: the write below takes it
    }

    // A single cached block rewritten whole: a shadow copy, no undo at all.
    if (first === last && end <= oldSize && this.tx === null && this.pool.freeCount > 0) {
      const b = this.index.get(slot, first);
      if (b !== NIL && position === first * bs && end === Math.min(oldSize, first * bs + bs) &&
          this.pool.busy[b] === 0 && this.pool.pins[b] === 0) {
        this.shadowWrite(file, b, first, src, srcOffset, length);
        return length;
      }
    }

    // One cached block (the common case): the same protocol without the gathering.
    if (first === last && gap < 0) {
      const b = this.index.get(slot, first);
      if (b !== NIL) return this.writeOne(file, b, first, src, srcOffset, length, position, oldSize, newSize);
    }

    // 1. Gather a buffer for every touched block; nothing live changes here.
    const bufs = this.opBuffers;
    const blocks = this.opBlocks;
    const isNew = this.opNew;
    let count = 0;
    const pools = this.pool;
    const release = () => {
      for (let i = 0; i < count; i++) {
        pools.pins[bufs[i]]--;
        if (isNew[i] === 1) pools.returnUnused(bufs[i], file, blocks[i]);
      }
    };
    try {
      for (let block = gap >= 0 ? gap : first; block <= last; block = block === gap ? first : block + 1) {
        let b = this.index.get(slot, block);
        let fresh = 0;
        if (b === NIL) {
          const liveEnd = Math.min(block * bs + bs, oldSize);
          const liveStart = block * bs;
          const needFill = liveEnd > liveStart && (position > liveStart || end < liveEnd);
          if (needFill) {
            if (!mayIO) {
              // What the page cache holds now fills the buffer at once (RWF_NOWAIT); else the fill waits its turn.
              b = this.fillNow(file, block);
              if (b === NIL) {
                release();
                return { kind: 'fill', file, block, keep: true };
              }
            } else {
              const ghost = this.pool.takeGhost(file, block);
              b = this.fillSync(file, block, ghost !== NIL ? ghost : this.allocateSync());
            }
          } else {
            b = this.pool.takeGhost(file, block);
            if (b === NIL) {
              b = this.pool.allocate();
              if (b === NIL) {
                if (!mayIO) {
                  release();
                  return { kind: 'space', blocks: last - first + 2 };
                }
                b = this.allocateSync();
              }
            }
            this.pool.assign(b, file, block);
            fresh = 1;
          }
        }
        bufs[count] = b;
        blocks[count] = block;
        isNew[count] = fresh;
        pools.pins[b]++;
        count++;
      }
    } catch (err) {
      release(); // an I/O error while filling, or no buffer at all: nothing live changed
      throw err;
    }

    // 2. Undo for live bytes about to be overwritten. A cut while recording
    //    leaves the area IDLE: nothing changed. After arm(), recovery rolls back.
    //    In a transaction the area is already ACTIVE: the records are appended,
    //    each complete (and persisted) before the bytes it protects change.
    const tx = this.tx;
    const overwrite = tx !== null || position < oldSize;
    const reg = this.reg;
    // A SIZE record only when the size can change: a rollback restores the old one.
    const sizeRecord = newSize !== oldSize;
    if (tx) {
      let need = sizeRecord ? UndoLog.recordBytes(0) : 0;
      for (let i = 0; i < count; i++) {
        const start = blocks[i] * bs;
        need += UndoLog.recordBytes(isNew[i] === 1 ? 0 : Math.max(0, Math.min(end, oldSize, start + bs) - Math.max(position, start)));
      }
      if (need > this.undo.remaining()) {
        release();
        throw regionError('UNDO_AREA_FULL', `this write needs ${need} bytes of undo records and the transaction has ` +
          `${this.undo.remaining()} left of ${this.undo.capacity}. Nothing of the write was applied; abort the ` +
          'transaction or make it smaller (or create the region with a larger undoSize).');
      }
    }
    const recordsFrom = this.undo.written;
    const saved = this.opSaved;
    for (let i = 0; i < count; i++) saved[i] = -1;
    if (overwrite) {
      const undo = this.undo;
      if (!tx) undo.begin();
      if (sizeRecord) undo.addSize(slot, oldSize, this.sizes.zeroFrom(slot), this.sizes.flags[slot]);
      for (let i = 0; i < count; i++) {
        const b = bufs[i];
        const start = blocks[i] * bs;
        if (isNew[i] === 1) {
          undo.addBytes(b, slot, blocks[i], 0, 0, FREE, 0, 0, reg.viewId(b), reg.viewOffset(b));
          continue;
        }
        const from = Math.max(position, start) - start;
        const to = Math.min(end, oldSize, start + bs) - start;
        const n = Math.max(0, to - from);
        saved[i] = undo.addBytes(b, slot, blocks[i], from, n, reg.status(b), reg.len(b), reg.crc(b), reg.viewId(b), reg.viewOffset(b) + from);
      }
      if (tx) undo.persistRecords(recordsFrom);
      else undo.arm(UNDO_KIND_WRITE, slot, position, length);
      this.stats.undoWrites++;
    }

    // 3. Apply. Each buffer's commit makes its new bytes current; without undo,
    //    those bytes lie past the old size until step 4, and recovery clamps.
    // Fresh buffers the write fills whole are copied and checksummed first, in
    // one native call. A FREE buffer's bytes mean nothing to recovery (§4),
    // so copying them before any commit changes nothing a cut can show.
    const jobs = this.opCopyJobs;
    const jobOf = this.opJob;
    let jobCount = 0;
    for (let i = 0; i < count; i++) {
      const start = blocks[i] * bs;
      jobOf[i] = -1;
      if (isNew[i] !== 1 || blocks[i] === gap || position > start ||
          Math.min(end, start + bs) !== Math.min(start + bs, newSize)) continue;
      const b = bufs[i];
      const w = jobCount * COPY_JOB_SLOTS;
      jobs[w] = reg.viewId(b);
      jobs[w + 1] = reg.viewOffset(b);
      jobs[w + 2] = Math.min(end, start + bs) - start;
      jobs[w + 3] = reg.seedOf(b);
      jobs[w + 4] = srcOffset + (start - position);
      jobOf[i] = jobCount++;
    }
    if (jobCount > 0) this.mem.writeCrcMany(src, jobs, jobCount);
    const now = Date.now();
    for (let i = 0; i < count; i++) {
      const b = bufs[i];
      const block = blocks[i];
      const start = block * bs;
      const viewId = reg.viewId(b);
      const off = reg.viewOffset(b);
      const oldLen = isNew[i] === 1 ? 0 : reg.len(b);
      const newLen = Math.min(bs, newSize - start);
      let from: number;
      let to = 0;
      let crc = -1;
      if (block === gap) {
        from = oldLen;
        this.mem.fill(viewId, off + oldLen, newLen - oldLen, 0);
      } else {
        from = Math.max(position, start) - start;
        to = Math.min(end, start + bs) - start;
        if (jobOf[i] >= 0) {
          crc = jobs[jobOf[i] * COPY_JOB_SLOTS + 3] >>> 0; // copied above
        } else if (isNew[i] === 0 && from === oldLen && to === newLen) {
          // An append to the buffer: copied and checksummed in one pass, continuing its checksum.
          crc = this.mem.writeCrc(viewId, off + from, src, srcOffset + (start + from - position), to - from, reg.crc(b)) >>> 0;
        } else {
          if (from > oldLen) this.mem.fill(viewId, off + oldLen, from - oldLen, 0);
          this.mem.writeInto(reg.bytes(b), viewId, off + from, src, srcOffset + (start + from - position), to - from);
        }
      }
      // In a persistent-memory region, the bytes are durable before the descriptor names them.
      if (this.mem.persistMode !== 'none') this.mem.persist(viewId, off, newLen);
      // Appending to a buffer continues its checksum; an overwrite in place
      // patches it from the old bytes the undo area saved (crc32c is linear);
      // anything else recomputes it.
      if (crc < 0) {
        crc = isNew[i] === 0 && from >= oldLen
          ? this.mem.crc(viewId, off + oldLen, newLen - oldLen, reg.crc(b)) >>> 0
          : isNew[i] === 0 && saved[i] >= 0 && newLen === oldLen && to <= oldLen && to > from
            ? this.mem.patchCrc(reg.crc(b), viewId, off + from, this.mem.metaId, saved[i], to - from, newLen - to) >>> 0
            : reg.compute(b, newLen);
      }
      const wasDirty = isNew[i] === 0 && reg.isDirty(b);
      reg.commit(b, DIRTY, newLen, crc);
      if (isNew[i] === 1) {
        this.pool.publish(b, file, true, now);
      } else {
        this.pool.referenced[b] = 1;
        if (!wasDirty) this.pool.markDirty(b, file, now);
      }
      if (this.pendingFills.size > 0) this.invalidateFill(file, block);
    }

    // 4. The size. Without undo this store is the commit of the whole write.
    if (newSize > oldSize) {
      this.sizes.commit(slot, newSize, this.sizes.zeroFrom(slot), this.sizes.flags[slot] | SIZE_DIRTY);
    }
    // 5. With undo, the commit. (A transaction commits at its end.)
    if (overwrite && !tx) this.undo.commit();

    for (let i = 0; i < count; i++) {
      const b = bufs[i];
      if (tx && !tx.pinned.has(b)) tx.pinned.add(b); // keeps this pin until the transaction ends
      else pools.pins[b]--;
    }
    this.stats.writes++;
    this.stats.writeBytes += length;
    if (this.pool.dirtyCount > this.reg.count * this.writeBackRatio) this.writeBack.kick();
    return length;
  }

  writeBackRatio = 0.5;

  /**
   * Whether a synchronous write of [position, end) in uncached block `block`
   * may go straight to the file, around the cache. It keeps G1-G3:
   *  - no buffer of the block exists (not in the index, no ghost whose
   *    write-back is in flight), so no older copy can be written back over
   *    it later, and reads, which miss, read the file and see it (a fill in
   *    flight is made stale: writeAround);
   *  - it lies within one page of the file, so the kernel copies it in one
   *    step that a SIGKILL cannot split (G2): the page-cache write checks for
   *    a fatal signal only between pages;
   *  - it changes no size (end <= the cache's size) and lies below zeroFrom,
   *    so no pending cut of the disk file (R2) can remove it;
   *  - no transaction is open (its writes must be undoable).
   * G1: once pwrite returns, the bytes are the kernel's; process death cannot
   * lose them. Power loss: as for any write not fsynced; fsync syncs the file.
   */
  private mayWriteAround(file: FileState, block: number, position: number, length: number, end: number): boolean {
    return (position % PAGE_BYTES) + length <= PAGE_BYTES && end <= this.sizes.zeroFrom(file.slot) &&
      file.writable && !file.ghosts.has(block);
  }

  /** A write around the cache (see mayWriteAround): pwrite, then the file counts as unsynced (fsync and close sync it). */
  private writeAround(file: FileState, block: number, src: Uint8Array, srcOffset: number, length: number, position: number): number {
    if (this.pendingFills.size > 0) this.invalidateFill(file, block);
    let done = 0;
    while (done < length) done += fs.writeSync(file.fd, src, srcOffset + done, length - done, position + done);
    this.writeBack.markUnsynced(file);
    this.stats.writes++;
    this.stats.writeBytes += length;
    this.stats.directWrites++;
    return length;
  }

  /**
   * write() for one block already cached, step for step the protocol of
   * docs/format.md §10: undo records (overwrite) and arm, the bytes, the
   * descriptor's commit, the size, the undo commit. Nothing to gather, so
   * nothing can fail before the first change but a full undo area (refused
   * before any change).
   */
  private writeOne(file: FileState, b: number, block: number, src: Uint8Array, srcOffset: number, length: number,
    position: number, oldSize: number, newSize: number): number {
    const reg = this.reg;
    const mem = this.mem;
    const undo = this.undo;
    const slot = file.slot;
    const start = block * this.bs;
    const from = position - start;
    const to = from + length;
    const oldLen = reg.len(b);
    const newLen = Math.min(this.bs, newSize - start);
    const oldCrc = reg.crc(b);
    const viewId = reg.viewId(b);
    const off = reg.viewOffset(b);
    const tx = this.tx;
    const overwrite = tx !== null || position < oldSize;
    const sizeRecord = newSize !== oldSize;
    let saved = -1;
    if (overwrite) {
      const n = Math.max(0, Math.min(to, oldLen) - from);
      if (tx) {
        const need = (sizeRecord ? UndoLog.recordBytes(0) : 0) + UndoLog.recordBytes(n);
        if (need > undo.remaining()) {
          throw regionError('UNDO_AREA_FULL', `this write needs ${need} bytes of undo records and the transaction has ` +
            `${undo.remaining()} left of ${undo.capacity}. Nothing of the write was applied; abort the ` +
            'transaction or make it smaller (or create the region with a larger undoSize).');
        }
      } else {
        undo.begin();
      }
      const recordsFrom = undo.written;
      if (sizeRecord) undo.addSize(slot, oldSize, this.sizes.zeroFrom(slot), this.sizes.flags[slot]);
      saved = undo.addBytes(b, slot, block, from, n, reg.status(b), oldLen, oldCrc, viewId, off + from);
      if (tx) undo.persistRecords(recordsFrom);
      else undo.arm(UNDO_KIND_WRITE, slot, position, length);
      this.stats.undoWrites++;
    }
    let crc: number;
    if (from === oldLen && to === newLen) {
      // An append to the buffer: copied and checksummed in one pass, continuing its checksum.
      crc = mem.writeCrc(viewId, off + from, src, srcOffset, length, oldCrc) >>> 0;
      if (mem.persistMode !== 'none') mem.persist(viewId, off, newLen);
    } else {
      if (from > oldLen) mem.fill(viewId, off + oldLen, from - oldLen, 0);
      mem.writeInto(reg.bytes(b), viewId, off + from, src, srcOffset, length);
      if (mem.persistMode !== 'none') mem.persist(viewId, off, newLen);
      crc = from >= oldLen
        ? mem.crc(viewId, off + oldLen, newLen - oldLen, oldCrc) >>> 0
        : saved >= 0 && newLen === oldLen && to <= oldLen
          ? mem.patchCrc(oldCrc, viewId, off + from, mem.metaId, saved, length, newLen - to) >>> 0
          : reg.compute(b, newLen);
    }
    const wasDirty = reg.isDirty(b);
    reg.commit(b, DIRTY, newLen, crc);
    this.pool.referenced[b] = 1;
    if (!wasDirty) this.pool.markDirty(b, file);
    if (this.pendingFills.size > 0) this.invalidateFill(file, block);
    if (sizeRecord) this.sizes.commit(slot, newSize, this.sizes.zeroFrom(slot), this.sizes.flags[slot] | SIZE_DIRTY);
    if (overwrite && !tx) undo.commit();
    if (tx && !tx.pinned.has(b)) {
      this.pool.pins[b]++;
      tx.pinned.add(b);
    }
    this.stats.writes++;
    this.stats.writeBytes += length;
    if (this.pool.dirtyCount > reg.count * this.writeBackRatio) this.writeBack.kick();
    return length;
  }

  /**
   * Rewrites the whole live range of cached block `block` (buffer `b`) by a
   * shadow buffer: the new bytes go into a free buffer that names the same
   * block with a larger version; its status store is the commit. A cut
   * before it leaves the new buffer FREE; after it, two buffers name the
   * block and recovery keeps the newer (docs/format.md §4, "Twins"). Then
   * the old buffer is freed. No old byte is copied anywhere.
   */
  private shadowWrite(file: FileState, b: number, block: number, src: Uint8Array, srcOffset: number, length: number): void {
    const reg = this.reg;
    const pool = this.pool;
    const nb = pool.allocate(); // freeCount > 0: a free buffer, never an eviction
    pool.assign(nb, file, block);
    this.mem.store(reg.word(nb, D.version), (reg.version(b) + 1) | 0);
    const viewId = reg.viewId(nb);
    const off = reg.viewOffset(nb);
    const crc = this.mem.writeCrc(viewId, off, src, srcOffset, length, reg.seedOf(nb)) >>> 0;
    if (this.mem.persistMode !== 'none') this.mem.persist(viewId, off, length);
    const wasDirty = reg.isDirty(b);
    reg.commit(nb, DIRTY, length, crc); // the commit
    // The new buffer takes the old one's place in the index and the lists; the old one goes FREE.
    this.index.replace(b, nb);
    this.lru.replace(b, nb);
    if (wasDirty) {
      this.dirtyList.replace(b, nb);
      pool.dirtySince[nb] = pool.dirtySince[b];
    }
    reg.commitState(b, FREE);
    pool.transfer(b, nb, file);
    pool.referenced[b] = 0;
    pool.giveBack(b);
    pool.referenced[nb] = 1;
    if (!wasDirty) pool.markDirty(nb, file);
    if (this.pendingFills.size > 0) this.invalidateFill(file, block);
    this.stats.writes++;
    this.stats.writeBytes += length;
    this.stats.shadowWrites++;
    if (pool.dirtyCount > reg.count * this.writeBackRatio) this.writeBack.kick();
  }

  // ---------------------------------------------------------------- truncation

  /**
   * Sets the file's size. Shrinking commits the size first (the commit: the
   * bytes past it are gone), then trims; growing zero-extends the last
   * buffer (past the old size: not live) and then commits the size.
   */
  truncate(file: FileState, length: number): void {
    const slot = file.slot;
    const oldSize = this.sizes.size(slot);
    if (length === oldSize) return;
    if (this.pendingFills.size > 0) this.invalidateFills(file);
    const bs = this.bs;
    const reg = this.reg;
    if (length < oldSize) {
      const zeroFrom = Math.min(this.sizes.zeroFrom(slot), length);
      this.sizes.commit(slot, length, zeroFrom, this.sizes.flags[slot] | SIZE_DIRTY);
      this.trimBuffers(file, length);
    } else {
      const lastBlock = Math.floor((oldSize - 1) / bs);
      const b = oldSize % bs !== 0 ? this.index.get(slot, lastBlock) : NIL;
      if (b !== NIL) {
        const oldLen = reg.len(b);
        const newLen = Math.min(bs, length - lastBlock * bs);
        this.mem.fill(reg.viewId(b), reg.viewOffset(b) + oldLen, newLen - oldLen, 0);
        const crc = this.mem.crc(reg.viewId(b), reg.viewOffset(b) + oldLen, newLen - oldLen, reg.crc(b)) >>> 0;
        reg.commit(b, reg.state(b), newLen, crc);
      }
      this.sizes.commit(slot, length, this.sizes.zeroFrom(slot), this.sizes.flags[slot] | SIZE_DIRTY);
    }
    // Tell the disk now when nothing of this file is in flight (R2 in writeback.ts).
    if (file.attached && file.writable && file.inFlight === 0) {
      const z = this.sizes.zeroFrom(slot);
      fs.ftruncateSync(file.fd, z < ZERO_NONE ? z : length);
      if (z < ZERO_NONE) fs.ftruncateSync(file.fd, length);
      this.sizes.commit(slot, length, ZERO_NONE, this.sizes.flags[slot] & ~SIZE_DIRTY);
    }
  }

  /**
   * After the size of `file` dropped to `length` (committed): frees the
   * buffers past it and clamps the last one (truncate, and a replace that
   * shrank the file). A cut anywhere in here leaves buffers past the size,
   * which recovery clamps or frees (invariant 5).
   */
  trimBuffers(file: FileState, length: number): void {
    const bs = this.bs;
    const reg = this.reg;
    const lastKept = length > 0 ? Math.floor((length - 1) / bs) : -1;
    for (const b of this.pool.buffersOf(file)) {
      const block = reg.block(b);
      if (this.pendingFills.size > 0) this.invalidateFill(file, block);
      // A buffer whose write-back is in flight: that write copies the
      // buffer's memory whenever the kernel gets to it, possibly after the
      // cut that removes these bytes from the disk. Zeroing what stopped
      // being live makes a late write carry zeros, which is what the hole
      // holds (the kernel serializes the write and the cut on the inode,
      // so an earlier copy of the old bytes lands before the cut removes it).
      if (block > lastKept) {
        if (this.pool.busy[b] !== 0) this.mem.fill(reg.viewId(b), reg.viewOffset(b), bs, 0);
        this.pool.drop(b);
      } else if (block === lastKept && reg.len(b) > length - block * bs) {
        const keep = length - block * bs;
        reg.commit(b, reg.state(b), keep, reg.compute(b, keep));
        if (this.pool.busy[b] !== 0) this.mem.fill(reg.viewId(b), reg.viewOffset(b) + keep, bs - keep, 0);
      }
    }
  }

  // ---------------------------------------------------------------- rollback

  /**
   * Undoes the records of the ACTIVE undo area at run time (a transaction's
   * abort): each record in reverse order, restoring the region exactly as
   * recovery would, and the transient state (index, lists, counts) with it.
   * Then the area goes IDLE.
   */
  rollBack(restoreSegment: (segment: number, offset: number, dataByte: number, count: number) => void): void {
    const contents = this.undo.read();
    if (contents === null) throw new Error('internal: the undo area of the running transaction fails its checksum');
    const reg = this.reg;
    for (let i = contents.records.length - 1; i >= 0; i--) {
      const r = contents.records[i];
      if (r.type === UNDO_BYTES_RECORD) {
        const b = r.buffer;
        if (r.count > 0) this.mem.move(reg.viewId(b), reg.viewOffset(b) + r.offset, this.mem.metaId, r.dataByte, r.count);
        const old = r.oldStatus & 3;
        const file = this.pool.owner[b];
        if (old === FREE) {
          if (file) this.pool.drop(b);
          continue;
        }
        const wasDirty = reg.isDirty(b);
        reg.commit(b, old, r.oldLen, r.oldCrc);
        const nowDirty = reg.isDirty(b);
        if (file && wasDirty && !nowDirty) this.pool.markClean(b, file);
        if (file && !wasDirty && nowDirty) this.pool.markDirty(b, file);
      } else if (r.type === UNDO_SIZE_RECORD) {
        this.sizes.commit(r.file, r.size, r.zeroFrom, r.flags);
      } else if (r.type === UNDO_SEGMENT_RECORD) {
        restoreSegment(r.segment, r.offset, r.dataByte, r.count);
      }
    }
    this.undo.commit();
  }

  // ---------------------------------------------------------------- whole files

  /** Every buffer of the file dropped (unlink, replaced by rename, stale on reattach). */
  dropAll(file: FileState): void {
    if (this.pendingFills.size > 0) this.invalidateFills(file);
    for (const b of this.pool.buffersOf(file)) {
      if (this.pendingFills.size > 0) this.invalidateFill(file, this.reg.block(b));
      this.pool.drop(b);
    }
  }

  /** Synchronously writes back and syncs one file (fsyncSync, flushSync). */
  flushFileSync(file: FileState): void {
    if (!file.attached) return;
    const dirty = this.pool.buffersOf(file).filter((b) => this.reg.isDirty(b));
    this.writeBack.writeFileSync(file, dirty, true);
  }
}
