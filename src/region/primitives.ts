/**
 * The region primitives: the ONLY code that writes region memory.
 *
 * Why one module: a SIGKILL stops the process between two instructions, so
 * crash safety is a matter of which stores have executed. Every commit point
 * is `commit` (an `Atomics.store`, which V8 neither reorders nor elides); the
 * stores between two commits are plain and the protocols in docs/format.md §10
 * allow them to land in any order. Keeping every store here makes that
 * discipline visible in one place, and lets tests trace the stores of an
 * operation or stop it after any one of them (`tracer`), which is how the
 * crash-simulation tests cut an operation at every store boundary.
 *
 * Reads go straight to the typed arrays (`i32`, `u8`, data views): they need
 * no discipline.
 *
 * Persistence domains (`persist` option): 'none' for a region in tmpfs (the
 * kernel's pages survive the process, nothing to flush); 'cpu' for a region on
 * a DAX persistent-memory file (cache-line flush + fence at commit points);
 * 'msync' for a region on an ordinary disk file whose commits must also
 * survive a kernel crash (msync at commit points: slow).
 */
import { native } from '../native';

export type PersistMode = 'none' | 'cpu' | 'msync';

/** Words of one job of `verifyMany` (native/fastcalls.cc, verifyAt). */
export const VERIFY_JOB_WORDS = 6;

/** Slots of one job of `writeCrcMany` (native/fastcalls.cc, copyInCrcMany). */
export const COPY_JOB_SLOTS = 5;

/** Slots of one job of `readFile` (native/reads.cc, preadRegion). */
export const READ_JOB_SLOTS = 4;

/** Where a byte range lives: the metadata view or one of the data views. */
export interface TraceOp {
  kind: 'store' | 'commit' | 'cas' | 'bytes' | 'move' | 'fill' | 'float';
  /** For word stores: the metadata word index; for byte ops: the target view id. */
  target: number;
  offset: number;
  length: number;
  value?: number;
  /** The source of a 'bytes' op, so a tracer can apply part of it (a torn copy). */
  source?: Uint8Array;
}

export type Tracer = (op: TraceOp) => void;

/**
 * A tracer every region mapped from now on starts with (tests: it reaches
 * regions that openCache creates internally, recovery included).
 */
let defaultTracer: Tracer | null = null;

export function traceNewRegions(tracer: Tracer | null): void {
  defaultTracer = tracer;
}

/** Thrown by test tracers to stop an operation at a chosen store. */
export class SimulatedCrash extends Error {
  constructor(readonly at: number) {
    super(`simulated crash at store ${at}`);
    this.name = 'SimulatedCrash';
  }
}

export class RegionMemory {
  readonly i32: Int32Array;
  readonly u32: Uint32Array;
  readonly u8: Uint8Array;
  readonly f64: Float64Array;
  readonly metaId: number;
  readonly data: Uint8Array[];
  readonly dataIds: number[];
  /** Absolute region offset of each view, for msync. */
  private readonly viewBase: Map<number, number>;
  private readonly scratch: Float64Array;
  private msyncPending: Array<[number, number]> = [];
  tracer: Tracer | null = defaultTracer;
  /** The region was unmapped (closed): work that completes afterwards must not start more. */
  unmapped = false;

  constructor(
    meta: ArrayBuffer,
    metaId: number,
    dataViews: ArrayBuffer[],
    dataIds: number[],
    dataOffset: number,
    dataViewBytes: number,
    private readonly handle: object,
    readonly persistMode: PersistMode,
  ) {
    this.i32 = new Int32Array(meta);
    this.u32 = new Uint32Array(meta);
    this.u8 = new Uint8Array(meta);
    this.f64 = new Float64Array(meta);
    this.metaId = metaId;
    this.data = dataViews.map((b) => new Uint8Array(b));
    this.dataIds = dataIds;
    this.viewBase = new Map([[metaId, 0]]);
    dataIds.forEach((id, i) => this.viewBase.set(id, dataOffset + i * dataViewBytes));
    this.scratch = new Float64Array(native.scratch);
  }

  // ---- word stores into the metadata (index = 32-bit word from offset 0) ----

  /** A plain store: may land in any order relative to other plain stores. */
  store(word: number, value: number): void {
    if (this.tracer !== null) this.tracer({ kind: 'store', target: word, offset: word * 4, length: 4, value });
    this.i32[word] = value;
  }

  /** A commit point: sequentially consistent, after every earlier store. */
  commit(word: number, value: number): void {
    if (this.tracer !== null) this.tracer({ kind: 'commit', target: word, offset: word * 4, length: 4, value });
    Atomics.store(this.i32, word, value);
  }

  /** Compare-and-swap commit; returns the value found. */
  cas(word: number, expected: number, value: number): number {
    if (this.tracer !== null) this.tracer({ kind: 'cas', target: word, offset: word * 4, length: 4, value });
    return Atomics.compareExchange(this.i32, word, expected, value);
  }

  /** A plain float64 store (index = 64-bit word); hints only, never a commit. */
  storeFloat(index: number, value: number): void {
    if (this.tracer !== null) this.tracer({ kind: 'float', target: index, offset: index * 8, length: 8, value });
    this.f64[index] = value;
  }

  // ---- byte ranges ----

  /** Copies `source` into view `viewId` at `offset` (a plain store of many bytes). */
  writeBytes(viewId: number, offset: number, source: Uint8Array): void {
    if (this.tracer !== null) {
      this.tracer({ kind: 'bytes', target: viewId, offset, length: source.length, source });
    }
    this.view(viewId).set(source, offset);
  }

  /**
   * Copies `length` bytes of `source` from `sourceOffset` into `target` (the
   * data view `viewId`) at `offset`: the hot path of writes, without the
   * allocation of a subarray when the whole source is copied, and with a
   * plain loop for small copies (cheaper than TypedArray.set's setup).
   */
  writeInto(target: Uint8Array, viewId: number, offset: number, source: Uint8Array, sourceOffset: number, length: number): void {
    if (this.tracer !== null) {
      this.tracer({ kind: 'bytes', target: viewId, offset, length, source: source.subarray(sourceOffset, sourceOffset + length) });
    }
    if (sourceOffset === 0 && length === source.length) target.set(source, offset);
    else if (length <= 64) for (let i = 0; i < length; i++) target[offset + i] = source[sourceOffset + i];
    else target.set(source.subarray(sourceOffset, sourceOffset + length), offset);
  }

  /**
   * writeInto and the crc32c of the copied bytes continued from `seed`, in
   * one native call: the bytes are read once from the source and checksummed
   * while the copy holds them in the L1 cache. One store (the copy), traced
   * as writeInto's; a cut before it leaves the target untouched.
   */
  writeCrc(viewId: number, offset: number, source: Uint8Array, sourceOffset: number, length: number, seed: number): number {
    if (this.tracer !== null) {
      this.tracer({ kind: 'bytes', target: viewId, offset, length, source: source.subarray(sourceOffset, sourceOffset + length) });
    }
    const s = this.scratch;
    s[0] = viewId;
    s[1] = offset;
    s[2] = length;
    s[3] = seed;
    s[4] = sourceOffset;
    native.copyInCrcAt(source);
    return s[7];
  }

  /**
   * writeCrc for `count` jobs in one native call: each job is COPY_JOB_SLOTS
   * slots [view id, offset, length, seed, source offset], and its seed slot
   * receives the crc. Every range is checked before any byte is copied. One
   * store per job, traced in job order.
   */
  writeCrcMany(source: Uint8Array, jobs: Float64Array, count: number): void {
    if (this.tracer !== null) {
      for (let j = 0; j < count; j++) {
        const w = j * COPY_JOB_SLOTS;
        const from = jobs[w + 4];
        this.tracer({ kind: 'bytes', target: jobs[w], offset: jobs[w + 1], length: jobs[w + 2], source: source.subarray(from, from + jobs[w + 2]) });
      }
    }
    native.copyInCrcMany(source, jobs, count);
  }

  /**
   * Reads consecutive bytes of the file `fd` from `position` into `count`
   * region ranges, jobs of READ_JOB_SLOTS slots [view id, offset, length,
   * seed], in one preadv: each range's bytes past what the file had are
   * zeroed, and its seed slot receives the crc32c of the range continued from
   * the seed. Answers the count read, or -errno, the ranges' bytes then
   * undefined (-EAGAIN with `nowait`: the kernel would have to wait for the
   * disk). One store per job, traced in job order; a fill reads into FREE
   * buffers only, whose bytes mean nothing to recovery until their commit.
   */
  readFile(fd: number, jobs: Float64Array, count: number, position: number, nowait: boolean): number {
    if (this.tracer !== null) {
      for (let j = 0; j < count; j++) {
        const w = j * READ_JOB_SLOTS;
        this.tracer({ kind: 'bytes', target: jobs[w], offset: jobs[w + 1], length: jobs[w + 2] });
      }
    }
    const s = this.scratch;
    s[0] = fd;
    s[3] = position;
    s[4] = nowait ? 1 : 0;
    native.preadRegion(jobs, count);
    return s[6] === 0 ? s[7] : -s[6];
  }

  /** Copies within the region (between any two views); ranges may overlap. */
  move(dstId: number, dstOffset: number, srcId: number, srcOffset: number, length: number): void {
    if (length === 0) return;
    if (this.tracer !== null) this.tracer({ kind: 'move', target: dstId, offset: dstOffset, length });
    const s = this.scratch;
    s[0] = dstId;
    s[1] = dstOffset;
    s[2] = srcId;
    s[3] = srcOffset;
    s[4] = length;
    native.moveAt();
  }

  fill(viewId: number, offset: number, length: number, byte: number): void {
    if (length === 0) return;
    if (this.tracer !== null) this.tracer({ kind: 'fill', target: viewId, offset, length, value: byte });
    const s = this.scratch;
    s[0] = viewId;
    s[1] = offset;
    s[2] = length;
    s[3] = byte;
    native.fillAt();
  }

  /**
   * Maps the pages of a range of a data view ahead of their first write, on
   * the thread pool, without changing a byte (not a store); `done(false)`
   * where the kernel cannot.
   */
  populate(viewId: number, offset: number, length: number, done: (ok: boolean) => void): void {
    native.populate(this.handle, this.viewBase.get(viewId)! + offset, length, done);
  }

  /** crc32c of a range of the region, continued from `seed` (a read). */
  crc(viewId: number, offset: number, length: number, seed: number): number {
    const s = this.scratch;
    s[0] = viewId;
    s[1] = offset;
    s[2] = length;
    s[3] = seed;
    native.crcAt();
    return s[7];
  }

  /**
   * crc32c of many ranges of the region in one native call (a read): jobs of
   * VERIFY_JOB_WORDS words [view id, offset, length, seed, expected, actual],
   * `actual` filled in. Returns how many jobs' actual differs from expected.
   */
  verifyMany(jobs: Uint32Array, count: number): number {
    return native.verifyAt(jobs, count);
  }

  /**
   * A buffer's checksum after `length` bytes at (newId, newOffset) changed
   * from the copy at (oldId, oldOffset), with `tail` checksummed bytes after
   * them (a read: crc32c is linear, the unchanged bytes are not read).
   */
  patchCrc(crc: number, newId: number, newOffset: number, oldId: number, oldOffset: number, length: number, tail: number): number {
    const s = this.scratch;
    s[0] = newId;
    s[1] = newOffset;
    s[2] = length;
    s[3] = oldId;
    s[4] = oldOffset;
    s[5] = tail;
    s[6] = crc;
    native.patchAt();
    return s[7];
  }

  // ---- persistence ----

  /** Starts writing a range back to its persistence domain, without waiting. */
  flush(viewId: number, offset: number, length: number): void {
    if (this.persistMode === 'none' || length === 0) return;
    if (this.persistMode === 'cpu') {
      const s = this.scratch;
      s[0] = viewId;
      s[1] = offset;
      s[2] = length;
      native.flushAt();
    } else {
      this.msyncPending.push([(this.viewBase.get(viewId) ?? 0) + offset, length]);
    }
  }

  /** Waits for every earlier flush: after it, they are persistent. */
  fence(): void {
    if (this.persistMode === 'none') return;
    if (this.persistMode === 'cpu') {
      native.fence();
      return;
    }
    for (const [offset, length] of this.msyncPending) native.msync(this.handle, offset, length);
    this.msyncPending = [];
  }

  persist(viewId: number, offset: number, length: number): void {
    this.flush(viewId, offset, length);
    this.fence();
  }

  /** A word of the metadata made persistent (after a commit). */
  persistWord(word: number): void {
    this.persist(this.metaId, word * 4, 4);
  }

  view(viewId: number): Uint8Array {
    if (viewId === this.metaId) return this.u8;
    const i = this.dataIds.indexOf(viewId);
    return this.data[i];
  }
}
