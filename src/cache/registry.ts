/**
 * The registry (docs/format.md §4): one descriptor per data block. This
 * module reads descriptors and changes them only through the primitives.
 */
import { mix4 } from '../region/checksum';
import { C, CLEAN, CONTROL_OFFSET, D, DESCRIPTOR_WORDS, DIRTY, FREE, NIL, SEL_BIT, STATE_MASK, WRITING } from '../region/format';
import type { Geometry } from '../region/geometry';
import { type RegionMemory, VERIFY_JOB_WORDS } from '../region/primitives';

export { CLEAN, DIRTY, FREE, WRITING };

export class Registry {
  readonly count: number;
  readonly blockBytes: number;
  readonly blockShift: number;
  private readonly base: number; // word index of descriptor 0
  private readonly viewShift: number; // log2(blocks per data view)
  private readonly viewMask: number;
  private readonly i32: Int32Array;

  constructor(private readonly mem: RegionMemory, g: Geometry) {
    this.count = g.bufferCount;
    this.blockBytes = g.blockBytes;
    this.blockShift = Math.log2(g.blockBytes);
    this.base = g.registryOffset / 4;
    const blocksPerView = g.dataViewBytes / g.blockBytes;
    this.viewShift = Math.log2(blocksPerView);
    this.viewMask = blocksPerView - 1;
    this.i32 = mem.i32;
  }

  /**
   * Has the pages of buffers [b, b + n) mapped ahead of their first write,
   * as far as b's data view goes, on the thread pool (no byte changes).
   * Returns the buffer after the last one asked for; `done(false)` where the
   * kernel cannot (every page then faults in when first written) or the
   * region is unmapped.
   */
  populate(b: number, n: number, done: (ok: boolean) => void): number {
    const viewEnd = ((b >>> this.viewShift) + 1) << this.viewShift;
    const end = Math.min(this.count, b + n, viewEnd);
    if (this.mem.unmapped) done(false);
    else this.mem.populate(this.viewId(b), this.viewOffset(b), (end - b) * this.blockBytes, done);
    return end;
  }

  /** Word index of field `f` of descriptor `b`. */
  word(b: number, f: number): number {
    return this.base + b * DESCRIPTOR_WORDS + f;
  }

  status(b: number): number {
    return this.i32[this.base + b * DESCRIPTOR_WORDS];
  }

  state(b: number): number {
    return this.i32[this.base + b * DESCRIPTOR_WORDS] & STATE_MASK;
  }

  isDirty(b: number): boolean {
    return (this.i32[this.base + b * DESCRIPTOR_WORDS] & 2) !== 0; // DIRTY or WRITING
  }

  /** The current valid length. */
  len(b: number): number {
    const w = this.base + b * DESCRIPTOR_WORDS;
    return this.i32[w + ((this.i32[w] & SEL_BIT) === 0 ? D.len0 : D.len1)];
  }

  /** The current checksum. */
  crc(b: number): number {
    const w = this.base + b * DESCRIPTOR_WORDS;
    return this.i32[w + ((this.i32[w] & SEL_BIT) === 0 ? D.crc0 : D.crc1)] >>> 0;
  }

  file(b: number): number {
    return this.i32[this.base + b * DESCRIPTOR_WORDS + D.file];
  }

  fileGen(b: number): number {
    return this.i32[this.base + b * DESCRIPTOR_WORDS + D.fileGen];
  }

  block(b: number): number {
    const w = this.base + b * DESCRIPTOR_WORDS;
    return (this.i32[w + D.blockLo] >>> 0) + (this.i32[w + D.blockHi] >>> 0) * 2 ** 32;
  }

  version(b: number): number {
    return this.i32[this.base + b * DESCRIPTOR_WORDS + D.version];
  }

  field(b: number, f: number): number {
    return this.i32[this.base + b * DESCRIPTOR_WORDS + f];
  }

  /** Identity seed of a buffer's checksum (§4): a 32-bit mix of (file, generation, block). */
  static seed(file: number, gen: number, block: number): number {
    return mix4(file, gen, block % 2 ** 32 | 0, Math.floor(block / 2 ** 32));
  }

  seedOf(b: number): number {
    return Registry.seed(this.file(b), this.fileGen(b), this.block(b));
  }

  /** Data view index and byte offset of buffer b's block. */
  viewIndex(b: number): number {
    return b >>> this.viewShift;
  }

  viewOffset(b: number): number {
    return (b & this.viewMask) << this.blockShift;
  }

  viewId(b: number): number {
    return this.mem.dataIds[b >>> this.viewShift];
  }

  bytes(b: number): Uint8Array {
    return this.mem.data[b >>> this.viewShift];
  }

  /** Checksum of the buffer's first `len` bytes under its identity. */
  compute(b: number, len: number): number {
    return this.mem.crc(this.viewId(b), this.viewOffset(b), len, this.seedOf(b)) >>> 0;
  }

  /**
   * Checks the stored checksum of each buffer against its first `len` bytes
   * (under its identity seed) in one native call, a read. Returns the
   * checksum computed for each buffer, index for index, and how many differ
   * from the stored one.
   */
  verify(buffers: readonly number[]): { actual: Uint32Array; mismatches: number } {
    const jobs = new Uint32Array(buffers.length * VERIFY_JOB_WORDS);
    for (let i = 0; i < buffers.length; i++) {
      const b = buffers[i];
      const w = i * VERIFY_JOB_WORDS;
      jobs[w] = this.viewId(b);
      jobs[w + 1] = this.viewOffset(b);
      jobs[w + 2] = this.len(b);
      jobs[w + 3] = this.seedOf(b);
      jobs[w + 4] = this.crc(b);
    }
    const mismatches = this.mem.verifyMany(jobs, buffers.length);
    const actual = new Uint32Array(buffers.length);
    for (let i = 0; i < buffers.length; i++) actual[i] = jobs[i * VERIFY_JOB_WORDS + 5];
    return { actual, mismatches };
  }

  // ---- changes (each documented in docs/format.md §4) ----

  /** Names the block a FREE buffer is about to hold. Plain stores: the status commit publishes them. */
  setIdentity(b: number, file: number, gen: number, block: number): void {
    const w = this.base + b * DESCRIPTOR_WORDS;
    this.mem.store(w + D.file, file);
    this.mem.store(w + D.fileGen, gen);
    this.mem.store(w + D.blockLo, block % 2 ** 32 | 0);
    this.mem.store(w + D.blockHi, Math.floor(block / 2 ** 32));
  }

  /**
   * New length, checksum and state: the pair not selected first, then the
   * status with the flipped selector in one Atomics.store. A cut before the
   * store keeps the old pair; after it, the new one.
   */
  commit(b: number, state: number, len: number, crc: number): void {
    const w = this.base + b * DESCRIPTOR_WORDS;
    const status = this.i32[w];
    const nextSel = (status & SEL_BIT) ^ SEL_BIT;
    const pair = nextSel === 0 ? D.len0 : D.len1;
    this.mem.store(w + pair, len);
    this.mem.store(w + pair + 1, crc | 0);
    this.mem.store(w + D.version, (this.i32[w + D.version] + 1) | 0);
    // In a persistent-memory region the pair must be durable before the status names it.
    if (this.mem.persistMode !== 'none') this.mem.persist(this.mem.metaId, w * 4, DESCRIPTOR_WORDS * 4);
    this.mem.commit(w, state | nextSel);
    if (this.mem.persistMode !== 'none') this.mem.persistWord(w);
  }

  /** A state change that keeps length and checksum. */
  commitState(b: number, state: number): void {
    const w = this.base + b * DESCRIPTOR_WORDS;
    this.mem.commit(w, (this.i32[w] & SEL_BIT) | state);
  }

  /**
   * WRITING -> CLEAN (or -> DIRTY on failure) only if nothing changed the
   * buffer since `expectedStatus` was read: a write in between sets DIRTY and
   * flips the selector, so the swap fails and the buffer stays dirty.
   */
  swapState(b: number, expectedStatus: number, state: number): boolean {
    const w = this.base + b * DESCRIPTOR_WORDS;
    return this.mem.cas(w, expectedStatus, (expectedStatus & SEL_BIT) | state) === expectedStatus;
  }

  /**
   * The used bound (docs/format.md §3): every buffer at or above it has been
   * FREE since the region was formatted, so a clean open sweeps only the
   * buffers below it. Returns the region's buffer count when the pair of
   * words does not check (a region that never stored it): sweep everything.
   */
  usedBound(): number {
    const w = CONTROL_OFFSET / 4 + C.usedBound;
    const bound = this.i32[w];
    return this.i32[w + 1] === ~bound && bound >= 0 && bound <= this.count ? bound : this.count;
  }

  /**
   * Raises the used bound before a buffer at or above it is first named.
   * Two plain stores: a clean open trusts the pair only after a clean close,
   * when both have landed; a crash leads to the warm reboot, which sweeps
   * every descriptor and ignores them.
   */
  setUsedBound(bound: number): void {
    const w = CONTROL_OFFSET / 4 + C.usedBound;
    this.mem.store(w, bound);
    this.mem.store(w + 1, ~bound);
  }

  /** Plain link store (lists are repaired by recovery). */
  setLink(b: number, field: number, value: number): void {
    this.mem.store(this.base + b * DESCRIPTOR_WORDS + field, value);
  }

  link(b: number, field: number): number {
    return this.i32[this.base + b * DESCRIPTOR_WORDS + field];
  }
}

export { NIL };
