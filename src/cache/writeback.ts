/**
 * Write-back: dirty buffers to their files, straight from views of the region.
 *
 * Rules (docs/format.md §10; each exists because of a race or a crash):
 *  R1  A buffer becomes CLEAN only by a compare-and-swap of WRITING after its
 *      bytes were written without error and, where the region survives a
 *      power cut (persist 'cpu' or 'msync'), fdatasync succeeded (G10). A
 *      write in between sets DIRTY, so the swap fails and the buffer stays
 *      dirty. In a region that a power cut loses (tmpfs, persist 'none') the
 *      sync protects nothing the region would have kept: once the kernel
 *      holds the bytes, process death cannot lose them (G1), and data never
 *      fsynced is not promised past a power cut either way. Such a file is
 *      marked unsynced instead; the background pass fdatasyncs it soon after
 *      (its error is reported as any write-back error), fsync and close sync
 *      it before they return (G4), and it keeps its descriptor until then.
 *  R2  The disk file is cut to zeroFrom (a truncation it has not seen) before
 *      any byte at or past zeroFrom is written (a block that straddles it
 *      included), and only when no asynchronous
 *      write of the file is in flight (an older write could land after it).
 *  R3  SIZE_DIRTY is cleared only if the size did not change meanwhile.
 *  R4  Every buffer's checksum is verified just before it is written (G5); a
 *      buffer that fails is quarantined, never written.
 *  R5  At most one asynchronous batch per file is in flight, and in-flight
 *      buffers are a bounded share of the region, so a synchronous writer can
 *      always find dirty buffers that are not in flight (G9 back-pressure).
 *  R6  The disk file's length is only ever changed synchronously (ftruncateSync
 *      on this thread), after the batch's own writes returned. An asynchronous
 *      ftruncate would carry the size of the moment it was issued and could
 *      land after a synchronous write-back (fsync, back-pressure) wrote and
 *      cleaned blocks past that size, cutting them off the disk.
 * Synchronous write-back (back-pressure, fsyncSync, flushSync) may rewrite a
 * buffer whose asynchronous write is in flight: both read the same memory,
 * and the newer bytes are there, so whichever lands last lands them.
 */
import * as fs from 'node:fs';
import { promisify } from 'node:util';
import { NIL } from '../region/format';
import type { FileState } from './files';
import { CLEAN, DIRTY, type Registry, WRITING } from './registry';
import { applyStamp, SIZE_DIRTY, ZERO_NONE, type SizeTable } from './sizes';
import type { BufferPool } from './pool';
import type { List } from './lists';
import { writeAllAsync, writeAllSync } from './writeAll';

const fdatasync = promisify(fs.fdatasync);

/** Buffers per writev call (IOV_MAX is 1024 on Linux). */
const IOV_MAX = 512;

export interface WriteBackHost {
  reg: Registry;
  sizes: SizeTable;
  pool: BufferPool;
  dirtyList: List;
  /** Quarantines a buffer whose checksum failed (R4); drops it from the cache. */
  quarantine(b: number, file: FileState, expected: number, actual: number): void;
  /** Reports a failed write or sync (G10): counted and emitted. */
  ioError(err: Error, file: FileState, op: string): void;
  /** Called after a file's write-back; lets the cache detach closed, clean files. */
  afterIo(file: FileState): void;
  /**
   * The file is still the one its slot holds and the region is open. A batch
   * whose file was dropped (unlinked, replaced) or whose cache closed while
   * it was in flight stops touching both: the slot may hold another file.
   */
  holds(file: FileState): boolean;
  /** The cache closed (its region is unmapped). */
  isClosed(): boolean;
  /** Called before the disk file is cut to zeroFrom: fills in flight may have read what the cut removes. */
  beforeCut(file: FileState): void;
  stats: { writeBackBytes: number; writeBackBatches: number; writeBackErrors: number; fdatasyncs: number };
  fileOf(b: number): FileState | null;
  /** The region survives a power cut: fdatasync before a buffer goes CLEAN (R1). */
  syncBeforeClean: boolean;
}

export interface WriteBackPolicy {
  /** Write back buffers dirty for longer than this (ms). */
  maxAgeMs: number;
  /** Start writing back when this share of buffers is dirty. */
  dirtyRatio: number;
  /** How often the background pass runs (ms). */
  intervalMs: number;
}

interface Planned {
  b: number;
  block: number;
  len: number; // bytes to write (clamped to the size)
  status: number; // status after the WRITING commit, for R1
}

export class WriteBack {
  private timer: NodeJS.Timeout | null = null;
  private kicked = false;
  private readonly running = new Set<Promise<void>>();
  inFlightBuffers = 0;
  readonly inFlightMax: number;
  private stopped = false;
  /** After a failure, the background pass waits this long (ms) before retrying. */
  private backoffUntil = 0;

  constructor(private readonly host: WriteBackHost, private readonly policy: WriteBackPolicy) {
    this.inFlightMax = Math.max(1, Math.min(4096, Math.floor(host.reg.count / 4)));
  }

  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => {
      this.pass(false);
      this.syncUnsynced();
    }, this.policy.intervalMs);
    this.timer.unref();
  }

  /** Files written back without fdatasync (R1), synced by the background pass. */
  private readonly unsynced = new Set<FileState>();

  /** The file was written without fdatasync: the background pass syncs it; fsync, close and detach wait for that. */
  markUnsynced(file: FileState): void {
    if (!file.unsynced) file.unsyncedSince = Date.now();
    file.unsynced = true;
    this.unsynced.add(file);
  }

  /**
   * One fdatasync, off the event loop, per file unsynced for longer than the
   * age limit (maxAgeMs: the age at which dirty data is written back), or
   * closed, with nothing in flight. Not sooner: each sync makes the disk
   * write what plain fs would leave in the page cache, and the writer pays
   * for that I/O.
   */
  private syncUnsynced(): void {
    if (this.stopped || Date.now() < this.backoffUntil) return;
    const now = Date.now();
    for (const file of this.unsynced) {
      if (!file.unsynced || !this.host.holds(file) || !file.attached) {
        this.unsynced.delete(file);
        continue;
      }
      // A closed file waits for this sync to let go of its descriptor: no waiting for the age limit.
      if (file.inFlight > 0 || (file.openCount > 0 && now - file.unsyncedSince < this.policy.maxAgeMs)) continue;
      const p = this.syncTracked(file).finally(() => this.running.delete(p));
      this.running.add(p);
    }
  }

  private async syncTracked(file: FileState): Promise<void> {
    file.inFlight++; // the descriptor stays open under it (backing.ts)
    try {
      await this.sync(file);
    } catch (err) {
      if (!this.host.holds(file)) return;
      this.host.stats.writeBackErrors++;
      this.backoffUntil = Date.now() + 1000;
      this.host.ioError(err as Error, file, 'fdatasync');
    } finally {
      file.inFlight--;
      this.host.afterIo(file);
      this.roomMade();
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Asks for a background pass soon (a write crossed the dirty ratio). */
  kick(): void {
    if (this.kicked || this.stopped) return;
    this.kicked = true;
    setImmediate(() => {
      this.kicked = false;
      this.pass(false);
    });
  }

  /** Resolves when every batch in flight now has finished. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  get busy(): boolean {
    return this.running.size > 0;
  }

  /**
   * One background pass: the oldest dirty buffers first, those past the age
   * limit, plus as many as it takes to get under the dirty ratio.
   */
  pass(all: boolean): void {
    if (this.stopped && !all) return;
    if (!all && Date.now() < this.backoffUntil) return;
    const { reg, pool, dirtyList } = this.host;
    const now = Date.now();
    const target = all ? 0 : Math.floor(reg.count * this.policy.dirtyRatio * 0.5);
    let excess = pool.dirtyCount - target;
    const groups = new Map<FileState, number[]>();
    let budget = this.inFlightMax - this.inFlightBuffers;
    let b = dirtyList.head();
    for (let steps = 0; b !== NIL && steps < reg.count && budget > 0; steps++) {
      const next = dirtyList.next(b);
      const old = now - pool.dirtySince[b] >= this.policy.maxAgeMs;
      if (!all && !old && excess <= 0) break;
      const file = this.host.fileOf(b);
      if (file && file.inFlight === 0 && reg.state(b) === DIRTY && pool.busy[b] === 0 && pool.pins[b] === 0 && file.attached) {
        let list = groups.get(file);
        if (!list) groups.set(file, (list = []));
        list.push(b);
        budget--;
        excess--;
      }
      b = next;
    }
    for (const [file, buffers] of groups) {
      const p = this.writeFileAsync(file, buffers).finally(() => this.running.delete(p));
      this.running.add(p);
    }
  }

  /** Writes every dirty buffer of `file` and syncs it (fsync/fdatasync in 'disk' mode, flush). */
  async flushFile(file: FileState): Promise<void> {
    if (!this.host.holds(file)) return; // dropped: nothing of it goes anywhere
    if (file.attached && !file.writable) {
      await this.sync(file);
      return;
    }
    for (let round = 0; round < 1000; round++) {
      while (file.inFlight > 0) await this.drain();
      const buffers = this.host.pool.buffersOf(file).filter((b) => this.host.reg.state(b) === DIRTY);
      if (buffers.length === 0 && !this.needsResize(file)) {
        if (round === 0 && file.attached) await this.sync(file); // nothing dirty: still sync, as fsync does
        return;
      }
      // Tracked like the background batches: drain() must wait for every batch in flight.
      const p = this.writeFileAsync(file, buffers, true);
      this.running.add(p);
      const untrack = () => this.running.delete(p);
      p.then(untrack, untrack);
      await p;
    }
  }

  private needsResize(file: FileState): boolean {
    const { sizes } = this.host;
    return (sizes.flags[file.slot] & SIZE_DIRTY) !== 0 || sizes.zeroFrom(file.slot) < ZERO_NONE || file.resizeAfterFlight;
  }

  /** fdatasync; a write-back that lands while it runs marks the file unsynced again. */
  private async sync(file: FileState): Promise<void> {
    const was = file.unsynced;
    file.unsynced = false;
    try {
      await fdatasync(file.fd);
    } catch (err) {
      if (was) this.markUnsynced(file);
      throw err;
    }
    this.host.stats.fdatasyncs++;
    if (!file.unsynced) this.unsynced.delete(file);
  }

  private syncSync(file: FileState): void {
    const was = file.unsynced;
    file.unsynced = false;
    try {
      fs.fdatasyncSync(file.fd);
    } catch (err) {
      if (was) this.markUnsynced(file);
      throw err;
    }
    this.host.stats.fdatasyncs++;
    this.unsynced.delete(file);
  }

  /** Marks buffers WRITING, verifying each (R4); returns the plan. */
  private plan(file: FileState, buffers: number[]): Planned[] {
    const { reg, sizes } = this.host;
    const size = sizes.size(file.slot);
    const zeroFrom = sizes.zeroFrom(file.slot);
    const bs = reg.blockBytes;
    const out: Planned[] = [];
    for (const b of buffers) {
      const block = reg.block(b);
      const start = block * bs;
      if (this.host.pool.pins[b] > 0) continue; // a transaction's uncommitted bytes never reach the disk
      const len = Math.min(reg.len(b), size - start);
      if (len <= 0) continue;
      // R2: a buffer with any byte at or past zeroFrom waits for the cut, not only one that starts there. Written
      // first, the bytes of a block that straddles zeroFrom (a truncation into it, then a write that regrew the
      // file) would be cut off by that later ftruncate, and lost: the buffer is clean by then, nothing rewrites it.
      if (start + len > zeroFrom) continue;
      const expected = reg.crc(b);
      const actual = reg.compute(b, reg.len(b));
      if (actual !== expected) {
        this.host.quarantine(b, file, expected, actual);
        continue;
      }
      if (reg.state(b) === DIRTY) reg.commitState(b, WRITING);
      out.push({ b, block, len, status: reg.status(b) });
    }
    out.sort((x, y) => x.block - y.block);
    return out;
  }

  /** Runs of consecutive blocks, each one writev. */
  private runs(plan: Planned[]): Planned[][] {
    const runs: Planned[][] = [];
    for (const p of plan) {
      const last = runs[runs.length - 1];
      const prev = last?.[last.length - 1];
      if (prev && prev.block + 1 === p.block && prev.len === this.host.reg.blockBytes && last.length < IOV_MAX) last.push(p);
      else runs.push([p]);
    }
    return runs;
  }

  private view(p: Planned): Uint8Array {
    const reg = this.host.reg;
    const off = reg.viewOffset(p.b);
    return reg.bytes(p.b).subarray(off, off + p.len);
  }

  /** R1: WRITING -> CLEAN where nothing changed; a failure puts WRITING back to DIRTY. */
  private finish(file: FileState, plan: Planned[], ok: boolean): void {
    const { reg, pool } = this.host;
    for (const p of plan) {
      if (ok && reg.swapState(p.b, p.status, CLEAN)) {
        pool.markClean(p.b, file);
      } else if (reg.state(p.b) === WRITING && pool.owner[p.b] === file) {
        reg.commitState(p.b, DIRTY);
      }
    }
  }

  private async writeFileAsync(file: FileState, buffers: number[], force = false): Promise<void> {
    const { sizes, pool, stats } = this.host;
    if (!file.attached || !this.host.holds(file)) return;
    file.inFlight++;
    const plan = this.plan(file, buffers);
    for (const p of plan) pool.busy[p.b] = 1;
    this.inFlightBuffers += plan.length;
    const sizeVersion = sizes.version(file.slot);
    // Without an fdatasync to wait for (R1), each run's buffers go CLEAN as
    // soon as its write returned: room for waiting writers long before the
    // batch ends. They are a prefix of the plan (runs keep its order).
    const early = !force && !this.host.syncBeforeClean;
    let finished = 0;
    let ok = false;
    try {
      if (file.inFlight === 1) this.cutToZeroFrom(file); // R2, R6
      for (const run of this.runs(plan)) {
        if (!this.host.holds(file)) return;
        await writeAllAsync(file.fd, run.map((p) => this.view(p)), run[0].block * this.host.reg.blockBytes);
        stats.writeBackBytes += run.reduce((n, p) => n + p.len, 0);
        if (early && this.host.holds(file)) {
          this.markUnsynced(file);
          this.finish(file, run, true);
          for (const p of run) pool.releaseBusy(p.b, file);
          this.inFlightBuffers -= run.length;
          finished += run.length;
          this.roomMade();
        }
      }
      if (!this.host.holds(file)) return;
      if (file.inFlight === 1 && sizes.zeroFrom(file.slot) >= ZERO_NONE) {
        if ((sizes.flags[file.slot] & SIZE_DIRTY) !== 0 || file.resizeAfterFlight || force) {
          fs.ftruncateSync(file.fd, sizes.size(file.slot)); // R6: the size of now, nothing in flight
          file.resizeAfterFlight = false;
        }
      }
      applyStamp(sizes, file.slot, file.fd); // the disk's mtime: the last write's
      if (force || this.host.syncBeforeClean) await this.sync(file);
      else this.markUnsynced(file);
      if (!this.host.holds(file)) return;
      ok = true;
      stats.writeBackBatches++;
      this.clearSizeDirty(file, sizeVersion);
      this.backoffUntil = 0;
    } catch (err) {
      if (!this.host.holds(file)) return; // the descriptor was retired under it: nothing failed that matters
      stats.writeBackErrors++;
      this.backoffUntil = Date.now() + 1000;
      this.host.ioError(err as Error, file, 'write-back');
      if (force) throw err;
    } finally {
      const rest = finished === 0 ? plan : plan.slice(finished);
      // After the cache closed the region is unmapped: only the counters.
      if (!this.host.isClosed()) {
        this.finish(file, rest, ok);
        for (const p of rest) pool.releaseBusy(p.b, file);
      }
      this.inFlightBuffers -= rest.length;
      file.inFlight--;
      this.host.afterIo(file);
      this.roomMade();
    }
  }

  private roomWaiters: Array<() => void> = [];

  /** Resolves when write-back next makes room: a run written, a batch or a sync ended. */
  room(): Promise<void> {
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  private roomMade(): void {
    if (this.roomWaiters.length === 0) return;
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const w of waiters) w();
  }

  private cutToZeroFrom(file: FileState): void {
    const { sizes } = this.host;
    const z = sizes.zeroFrom(file.slot);
    if (z >= ZERO_NONE) return;
    this.host.beforeCut(file);
    fs.ftruncateSync(file.fd, z);
    sizes.commit(file.slot, sizes.size(file.slot), ZERO_NONE, sizes.flags[file.slot] | SIZE_DIRTY);
  }

  private clearSizeDirty(file: FileState, version: number): void {
    const { sizes } = this.host;
    const slot = file.slot;
    if ((sizes.flags[slot] & SIZE_DIRTY) !== 0 && sizes.version(slot) === version && sizes.zeroFrom(slot) >= ZERO_NONE) {
      sizes.commit(slot, sizes.size(slot), ZERO_NONE, sizes.flags[slot] & ~SIZE_DIRTY);
    }
  }

  // ---- synchronous write-back ----

  /**
   * Writes `buffers` of `file` and fdatasyncs, blocking. With `complete`, also
   * sets the disk length (fsync and flush need the file exactly as the cache
   * sees it); throws the I/O error after leaving the data dirty (G10).
   */
  writeFileSync(file: FileState, buffers: number[], complete: boolean): void {
    const { reg, sizes, stats } = this.host;
    if (!file.attached) return;
    if (!file.writable) {
      // Opened read-only: nothing of it can be dirty; fsync still syncs, as the kernel's does.
      this.syncSync(file);
      return;
    }
    const sizeVersion = sizes.version(file.slot);
    let plan: Planned[] = [];
    let ok = false;
    try {
      if (sizes.zeroFrom(file.slot) < ZERO_NONE && (file.inFlight === 0 || complete)) {
        const z = sizes.zeroFrom(file.slot);
        this.host.beforeCut(file);
        fs.ftruncateSync(file.fd, z);
        if (file.inFlight > 0) file.resizeAfterFlight = true; // an older write may still land past z
        sizes.commit(file.slot, sizes.size(file.slot), ZERO_NONE, sizes.flags[file.slot] | SIZE_DIRTY);
      }
      plan = this.plan(file, buffers);
      for (const run of this.runs(plan)) {
        writeAllSync(file.fd, run.map((p) => this.view(p)), run[0].block * reg.blockBytes);
        stats.writeBackBytes += run.reduce((n, p) => n + p.len, 0);
      }
      if (sizes.zeroFrom(file.slot) >= ZERO_NONE && (complete || (file.inFlight === 0 && (sizes.flags[file.slot] & SIZE_DIRTY) !== 0))) {
        fs.ftruncateSync(file.fd, sizes.size(file.slot));
      }
      applyStamp(sizes, file.slot, file.fd); // the disk's mtime: the last write's
      if (complete || this.host.syncBeforeClean) this.syncSync(file);
      else this.markUnsynced(file);
      stats.writeBackBatches++;
      ok = true;
      if (file.inFlight === 0) this.clearSizeDirty(file, sizeVersion);
    } catch (err) {
      stats.writeBackErrors++;
      this.host.ioError(err as Error, file, 'write-back');
      throw err;
    } finally {
      // Buffers whose asynchronous write is still in flight stay WRITING: that
      // batch swaps them, and their bytes are on disk now either way.
      this.finish(file, plan.filter((p) => this.host.pool.busy[p.b] === 0), ok);
    }
    this.host.afterIo(file);
  }

  /**
   * Back-pressure: writes back the oldest dirty buffers, about `want` of them,
   * synchronously, so that allocation can evict them. Returns how many became clean.
   */
  relieveSync(want: number, cleaned?: number[]): number {
    const { reg, pool, dirtyList } = this.host;
    const groups = new Map<FileState, number[]>();
    let picked = 0;
    let b = dirtyList.head();
    for (let steps = 0; b !== NIL && steps < reg.count && picked < want; steps++) {
      const file = this.host.fileOf(b);
      if (file && file.attached && reg.state(b) === DIRTY && pool.busy[b] === 0 && pool.pins[b] === 0) {
        let list = groups.get(file);
        if (!list) groups.set(file, (list = []));
        list.push(b);
        picked++;
      }
      b = dirtyList.next(b);
    }
    const before = pool.dirtyCount;
    for (const [file, buffers] of groups) {
      this.writeFileSync(file, buffers, false);
      if (cleaned) for (const b of buffers) if (reg.state(b) === CLEAN) cleaned.push(b);
    }
    return before - pool.dirtyCount;
  }
}
