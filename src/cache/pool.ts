/**
 * Buffer allocation: a stack of free buffers (transient), eviction of clean
 * buffers, and the bookkeeping that ties a buffer to the index, the lists and
 * its file. Back-pressure (G9) is the caller's: when nothing can be evicted,
 * `allocate` returns NIL and the caller writes back.
 *
 * Eviction takes its candidates from a transient queue of the buffers that
 * became clean (a fill published, a write-back finished), oldest first, with
 * CLOCK's second chance for referenced ones. It used to walk the LRU list from
 * its tail, a bounded number of steps: under pressure the tail is all dirty or
 * in flight (the oldest buffers are the ones being written back), and clean
 * buffers further up were never found, so a synchronous call failed with
 * CACHE_EXHAUSTED while thousands of clean buffers were there. The queue holds
 * every clean buffer, wherever it lies in the LRU list; entries are checked
 * when taken, so a buffer that became dirty, free or another block's meanwhile
 * is skipped (it is queued again when it next becomes clean).
 *
 * Nothing here touches one word per buffer of the region on open: buffers
 * from the used bound up (docs/format.md §3) are free without being on the
 * stack or in the queue, and rebuild() sweeps only the descriptors below it.
 */
import { NIL } from '../region/format';
import type { BlockIndex } from './blockIndex';
import type { FileState } from './files';
import type { List } from './lists';
import type { MissHistory } from './missHistory';
import { CLEAN, DIRTY, FREE, type Registry, WRITING } from './registry';

/** How much of the never-used part of the region the allocator maps at a time (a huge page's worth). */
const POPULATE_BYTES = 2 * 1024 * 1024;
/** Chunks the allocator keeps asked for ahead of the buffers it hands out. */
const POPULATE_CHUNKS_AHEAD = 4;

export interface PoolStats {
  evictions: number;
}

export class BufferPool {
  /** Freed buffers below `fresh`, last freed on top. */
  private readonly free: Int32Array;
  private freeTop = 0;
  /**
   * Buffers from `fresh` up have never held a block since the region was
   * formatted (the used bound, docs/format.md §3): they are free without
   * being on the stack, so neither a clean open nor this constructor has to
   * touch one word per buffer of the region.
   */
  private fresh = 0;
  /** Pins: a buffer an operation is gathering must not be evicted. */
  readonly pins: Uint16Array;
  /** Asynchronous I/O from or into the buffer is in flight. */
  readonly busy: Uint8Array;
  /** When each buffer became dirty (ms), for the age policy. */
  readonly dirtySince: Float64Array;
  /**
   * Reference bits (CLOCK's second chance): a hit sets its buffer's bit
   * instead of moving it in the LRU list (a dozen stores); eviction sends a
   * referenced buffer to the back of the clean queue, clearing its bit, and looks further.
   * Transient: after a crash, the list order alone is the hint it was.
   */
  readonly referenced: Uint8Array;
  /**
   * The buffer holds what a read miss filled it with, unwritten since: its
   * eviction goes into the miss history (a read soon after takes it back).
   * Evictions of written buffers do not: a writer has no use for them, and
   * a bulk write evicts many (a record is a cache miss on the history).
   */
  readonly filled: Uint8Array;
  /** The file each non-free buffer belongs to; as long as `fresh` (grown as fresh buffers are taken). */
  readonly owner: Array<FileState | null> = [];
  dirtyCount = 0;
  /** Eviction candidates: a ring of buffers that became clean, oldest at cleanHead. */
  private readonly cleanRing: Int32Array;
  private cleanHead = 0;
  private cleanLength = 0;
  /**
   * Fresh buffers below this have been asked to have their pages mapped: the
   * allocator keeps two POPULATE_BYTES chunks asked for ahead of the buffers
   * it hands out, mapped on the thread pool, so that a write into a part of
   * the region never used does not take a page fault per block on the
   * writer's thread (which cost more than the write: docs/performance.md).
   */
  private populatedTo = 0;
  /** The buffer has an entry in cleanRing (at most one each: the ring never overflows). */
  private readonly queued: Uint8Array;
  /** Each file's buffers, doubly linked from FileState.firstBuffer (transient, NIL-terminated). */
  private readonly fileNext: Int32Array;
  private readonly filePrev: Int32Array;

  constructor(
    private readonly reg: Registry,
    private readonly index: BlockIndex,
    private readonly lru: List,
    private readonly dirtyList: List,
    private readonly stats: PoolStats,
    private readonly history: MissHistory,
  ) {
    const n = reg.count;
    this.free = new Int32Array(n);
    this.pins = new Uint16Array(n);
    this.busy = new Uint8Array(n);
    this.dirtySince = new Float64Array(n);
    this.referenced = new Uint8Array(n);
    this.filled = new Uint8Array(n);
    // Zero-filled typed arrays, not filled here: pages the kernel hands out on first touch.
    this.cleanRing = new Int32Array(n);
    this.queued = new Uint8Array(n);
    this.fileNext = new Int32Array(n);
    this.filePrev = new Int32Array(n);
  }

  /** The buffers holding blocks of `file`, as a snapshot the caller may drop or evict from. */
  buffersOf(file: FileState): number[] {
    const out: number[] = [];
    for (let b = file.firstBuffer; b !== NIL; b = this.fileNext[b]) out.push(b);
    return out;
  }

  /** Puts b on its file's list (it becomes owner[b]'s). */
  private own(b: number, file: FileState): void {
    this.owner[b] = file;
    const head = file.firstBuffer;
    this.fileNext[b] = head;
    this.filePrev[b] = NIL;
    if (head !== NIL) this.filePrev[head] = b;
    file.firstBuffer = b;
  }

  /** Takes b off its owner's list; owner[b] becomes null. */
  private disown(b: number): void {
    const file = this.owner[b];
    this.owner[b] = null;
    if (!file) return;
    const prev = this.filePrev[b];
    const next = this.fileNext[b];
    if (prev !== NIL) this.fileNext[prev] = next;
    else file.firstBuffer = next;
    if (next !== NIL) this.filePrev[next] = prev;
  }

  /** A shadow write's new buffer nb takes b's place for `file`; b is left owned by nobody. */
  transfer(b: number, nb: number, file: FileState): void {
    this.disown(b);
    this.own(nb, file);
  }

  get freeCount(): number {
    return this.freeTop + this.reg.count - this.fresh;
  }

  /**
   * Sweeps the registry (after a clean open or a recovery) to rebuild the
   * transient state: the descriptors below the used bound only. A region
   * whose bound does not check (one that never stored it) is swept whole,
   * and the bound found is stored for the next open.
   */
  rebuild(fileOf: (slot: number) => FileState | undefined): void {
    this.freeTop = 0;
    this.dirtyCount = 0;
    // Only queued buffers have their flag set: clear those, not the whole array.
    while (this.cleanLength > 0) this.takeCandidate();
    this.cleanHead = 0;
    const now = Date.now();
    let bound = this.reg.usedBound();
    if (bound === this.reg.count) {
      while (bound > 0 && this.reg.state(bound - 1) === FREE) bound--;
      // Every non-FREE buffer lies below it, as the bound the allocator keeps promises.
      this.reg.setUsedBound(bound);
    }
    this.fresh = bound;
    this.populatedTo = 0;
    this.owner.length = 0;
    for (let b = 0; b < bound; b++) this.owner.push(null);
    for (let b = bound - 1; b >= 0; b--) {
      const state = this.reg.state(b);
      const file = state === FREE ? undefined : fileOf(this.reg.file(b));
      if (state === FREE || !file) {
        this.free[this.freeTop++] = b;
        continue;
      }
      this.own(b, file);
      this.index.add(b);
      if (state === DIRTY || state === WRITING) {
        this.dirtyCount++;
        file.dirty++;
        this.dirtySince[b] = now;
      }
    }
    // Eviction order: the LRU list's, tail (oldest) first, then any clean
    // buffer the list missed. Both below the bound, where every non-FREE
    // buffer lies; the walk is bounded by it too, as a repaired list may
    // still be short (and a list of more than `bound` entries is not one).
    const queueIfClean = (c: number) => {
      if (c < bound && this.owner[c] !== null && this.reg.state(c) === CLEAN) this.queueClean(c);
    };
    let b = this.lru.tail();
    for (let steps = 0; b !== NIL && steps < bound; steps++) {
      queueIfClean(b);
      b = this.lru.prev(b);
    }
    for (let c = 0; c < bound; c++) queueIfClean(c);
    this.mapAll();
  }

  /**
   * After an open, every page of the data area is mapped in this process,
   * one chunk at a time on the thread pool (so one pool thread at most), in
   * the background: first the buffers earlier processes used (below the used
   * bound), then the never-used ones the allocator's look-ahead has not asked
   * for. The first access to each page of a new mapping otherwise costs a
   * page fault on the thread that makes it, hits and writes included (native
   * populate says how much). Stops where the kernel cannot, or the region
   * closed.
   */
  private mapAll(): void {
    const chunk = POPULATE_BYTES / this.reg.blockBytes;
    const count = this.reg.count;
    const next = (from: number): void => {
      if (from >= this.fresh && from < this.populatedTo) from = this.populatedTo; // asked for by the look-ahead
      if (from >= count) return;
      const end = this.reg.populate(from, chunk, (ok) => {
        if (ok) next(end);
      });
      if (from >= this.fresh) this.populatedTo = Math.max(this.populatedTo, end);
    };
    next(0);
  }

  /** Makes a buffer that just became clean an eviction candidate. */
  queueClean(b: number): void {
    if (this.queued[b] !== 0) return;
    this.queued[b] = 1;
    const n = this.cleanRing.length;
    this.cleanRing[(this.cleanHead + this.cleanLength) % n] = b;
    this.cleanLength++;
  }

  private takeCandidate(): number {
    const b = this.cleanRing[this.cleanHead];
    this.cleanHead = (this.cleanHead + 1) % this.cleanRing.length;
    this.cleanLength--;
    this.queued[b] = 0;
    return b;
  }

  /** A free buffer, evicting the oldest clean one not recently used if needed; NIL if none is clean. */
  allocate(): number {
    if (this.freeTop > 0) return this.free[--this.freeTop];
    if (this.fresh < this.reg.count) {
      this.reg.setUsedBound(this.fresh + 1); // before the buffer can be named (setIdentity)
      this.owner.push(null);
      this.populateAhead();
      return this.fresh++;
    }
    // Each entry is taken at most twice (a referenced one goes round once,
    // its bit cleared), so the walk is bounded by twice the ring's length.
    for (let steps = 2 * this.cleanLength; steps > 0 && this.cleanLength > 0; steps--) {
      const b = this.takeCandidate();
      if (this.owner[b] === null || this.reg.state(b) !== CLEAN) continue; // stale: queued again when next clean
      if (this.pins[b] !== 0 || this.busy[b] !== 0 || this.referenced[b] === 1) {
        this.referenced[b] = 0; // second chance (or in use right now): to the back of the queue
        this.queueClean(b);
        continue;
      }
      this.evict(b);
      this.stats.evictions++;
      return this.free[--this.freeTop];
    }
    return NIL;
  }

  private populateAhead(): void {
    const chunk = POPULATE_BYTES / this.reg.blockBytes;
    const count = this.reg.count;
    while (this.populatedTo < count && this.populatedTo < this.fresh + POPULATE_CHUNKS_AHEAD * chunk) {
      this.populatedTo = this.reg.populate(Math.max(this.fresh, this.populatedTo), chunk, (ok) => {
        if (!ok) this.populatedTo = count; // the kernel cannot (or the region was closed first): stop asking
      });
    }
  }

  /** Clean buffers queued for eviction (some entries may be stale). */
  get cleanCandidates(): number {
    return this.cleanLength;
  }

  /** Returns an unused buffer (allocated but never committed) to the free stack. */
  giveBack(b: number): void {
    this.free[this.freeTop++] = b;
  }

  /** Returns a buffer an operation took but did not commit: a ghost stays a ghost while busy. */
  returnUnused(b: number, file: FileState, block: number): void {
    if (this.busy[b] !== 0) file.ghosts.set(block, b);
    else this.free[this.freeTop++] = b;
  }

  /** Binds a FREE buffer to a block. Its status stays FREE until the caller commits it. */
  assign(b: number, file: FileState, block: number): void {
    this.reg.setIdentity(b, file.slot, file.generation, block);
  }

  /** After the caller committed a freshly assigned buffer: index, lists, file. */
  publish(b: number, file: FileState, dirty: boolean, now?: number): void {
    this.index.add(b);
    this.lru.insertHead(b);
    this.own(b, file);
    if (dirty) {
      this.markDirty(b, file, now);
    } else {
      this.filled[b] = 1;
      this.queueClean(b);
    }
  }

  /**
   * Called when a buffer becomes DIRTY (it was CLEAN or freshly published).
   * `now` (ms) lets a write of many blocks read the clock once.
   */
  markDirty(b: number, file: FileState, now = Date.now()): void {
    this.filled[b] = 0;
    this.dirtyList.insertTail(b);
    this.dirtySince[b] = now;
    this.dirtyCount++;
    file.dirty++;
  }

  /** Called when a buffer leaves the dirty list (written back, or dropped). */
  markClean(b: number, file: FileState): void {
    this.dirtyList.remove(b);
    this.dirtyCount--;
    file.dirty--;
    this.queueClean(b); // a drop's buffer is FREE by the time it is taken: skipped then
  }

  /** CLEAN -> FREE. A block a read brought in goes into the miss history: read again soon, it is taken back (missHistory.ts). */
  evict(b: number): void {
    if (this.filled[b] !== 0) {
      this.filled[b] = 0;
      this.history.add(this.reg.file(b), this.reg.block(b));
    }
    this.referenced[b] = 0;
    this.index.remove(b);
    this.lru.remove(b);
    this.reg.commit(b, FREE, 0, 0);
    this.disown(b);
    this.free[this.freeTop++] = b;
  }

  /**
   * Any state -> FREE, for data that stopped existing (truncate, unlink,
   * rollback). A buffer whose write-back is in flight becomes a ghost of its
   * block instead of free: see FileState.ghosts.
   */
  drop(b: number): void {
    this.referenced[b] = 0;
    this.filled[b] = 0;
    const file = this.owner[b];
    const wasDirty = this.reg.isDirty(b);
    this.index.remove(b);
    this.lru.remove(b);
    if (wasDirty && file) this.markClean(b, file);
    this.reg.commit(b, FREE, 0, 0);
    this.disown(b);
    if (file) {
      if (this.busy[b] !== 0 && !file.orphan) {
        file.ghosts.set(this.reg.block(b), b);
        return;
      }
    }
    if (this.busy[b] === 0) this.free[this.freeTop++] = b;
    // else: busy and orphaned: freed by the I/O completion (releaseBusy).
  }

  /** Takes back a ghost for its block (the block is being written again). */
  takeGhost(file: FileState, block: number): number {
    const b = file.ghosts.get(block);
    if (b === undefined) return NIL;
    file.ghosts.delete(block);
    return b;
  }

  /** Async I/O on b finished: a ghost or an orphan's buffer is free now. */
  releaseBusy(b: number, file: FileState): void {
    this.busy[b] = 0;
    if (this.reg.state(b) !== FREE || this.owner[b] !== null) return;
    const block = this.reg.block(b);
    if (file.ghosts.get(block) === b) file.ghosts.delete(block);
    this.free[this.freeTop++] = b;
  }
}
