/**
 * The size table (docs/format.md §5): each file slot's size, zeroFrom and
 * flags in two slots selected by one word. Changing any of them writes the
 * slot not selected, then flips the selector with Atomics.store: for an
 * append, that store is the commit of the whole write. A JavaScript mirror
 * keeps the hot path off the region.
 */
import * as fs from 'node:fs';
import { mix6 } from '../region/checksum';
import { S, SIZE_DIRTY, SIZE_ENTRY_WORDS, SS, ZERO_NONE } from '../region/format';
import type { Geometry } from '../region/geometry';
import type { RegionMemory } from '../region/primitives';

export { SIZE_DIRTY, ZERO_NONE };

export interface SizeState {
  size: number;
  zeroFrom: number;
  flags: number;
}

const HI = 2 ** 32;
const NONE_WORD = -1; // 0xFFFFFFFF in both words

export class SizeTable {
  private readonly base: number;
  /** Mirrors of the selected slot, per file slot. */
  readonly sizes: Float64Array;
  readonly zeroFroms: Float64Array;
  readonly flags: Int32Array;

  constructor(private readonly mem: RegionMemory, g: Geometry) {
    this.base = g.sizeTableOffset / 4;
    this.sizes = new Float64Array(g.fileSlots);
    this.zeroFroms = new Float64Array(g.fileSlots).fill(ZERO_NONE);
    this.flags = new Int32Array(g.fileSlots);
  }

  private entry(slot: number): number {
    return this.base + slot * SIZE_ENTRY_WORDS;
  }

  static check(words: Int32Array, at: number, slot: number): number {
    return mix6(words[at + SS.sizeLo], words[at + SS.sizeHi], words[at + SS.zeroLo], words[at + SS.zeroHi], words[at + SS.flags], slot);
  }

  /** Reads a slot of the region: the selected one, or `which` (recovery). */
  readSlot(slot: number, which?: 0 | 1): SizeState & { valid: boolean } {
    const i32 = this.mem.i32;
    const e = this.entry(slot);
    const sel = which ?? (i32[e + S.sel] & 1);
    const at = e + (sel === 0 ? S.slot0 : S.slot1);
    const zeroLo = i32[at + SS.zeroLo];
    const zeroHi = i32[at + SS.zeroHi];
    return {
      size: (i32[at + SS.sizeLo] >>> 0) + (i32[at + SS.sizeHi] >>> 0) * HI,
      zeroFrom: zeroLo === NONE_WORD && zeroHi === NONE_WORD ? ZERO_NONE : (zeroLo >>> 0) + (zeroHi >>> 0) * HI,
      flags: i32[at + SS.flags],
      valid: i32[at + SS.check] === SizeTable.check(i32, at, slot),
    };
  }

  /** Loads the mirror of one file slot from the region. */
  load(slot: number): SizeState & { valid: boolean } {
    const s = this.readSlot(slot);
    this.sizes[slot] = s.size;
    this.zeroFroms[slot] = s.zeroFrom;
    this.flags[slot] = s.flags;
    return s;
  }

  size(slot: number): number {
    return this.sizes[slot];
  }

  zeroFrom(slot: number): number {
    return this.zeroFroms[slot];
  }

  version(slot: number): number {
    return this.mem.i32[this.entry(slot) + S.version];
  }

  /** Writes the slot not selected, then flips the selector (the commit). */
  commit(slot: number, size: number, zeroFrom: number, flags: number): void {
    const mem = this.mem;
    const e = this.entry(slot);
    const next = (mem.i32[e + S.sel] & 1) ^ 1;
    const at = e + (next === 0 ? S.slot0 : S.slot1);
    const zeroLo = zeroFrom >= ZERO_NONE ? NONE_WORD : zeroFrom % HI | 0;
    const zeroHi = zeroFrom >= ZERO_NONE ? NONE_WORD : Math.floor(zeroFrom / HI);
    const sizeLo = size % HI | 0;
    const sizeHi = Math.floor(size / HI);
    mem.store(at + SS.sizeLo, sizeLo);
    mem.store(at + SS.sizeHi, sizeHi);
    mem.store(at + SS.zeroLo, zeroLo);
    mem.store(at + SS.zeroHi, zeroHi);
    mem.store(at + SS.flags, flags);
    mem.store(at + SS.check, mix6(sizeLo, sizeHi, zeroLo, zeroHi, flags, slot));
    mem.store(e + S.version, (mem.i32[e + S.version] + 1) | 0);
    if (mem.persistMode !== 'none') mem.persist(mem.metaId, e * 4, 64);
    mem.commit(e + S.sel, next);
    if (mem.persistMode !== 'none') mem.persistWord(e + S.sel);
    this.sizes[slot] = size;
    this.zeroFroms[slot] = zeroFrom;
    this.flags[slot] = flags;
  }

  /**
   * The file's mtime in ms as the cache's users see it (docs/format.md §5):
   * the disk's while the file is clean, the time of the last write or
   * truncation through the cache otherwise. Write-back applies it to the
   * disk file (futimes), so the disk's mtime ends as the last write's. A
   * plain store, never a commit: it is written before the write it dates
   * commits, so a cut never shows bytes newer than their mtime.
   */
  stamp(slot: number): number {
    return this.mem.f64[(this.entry(slot) + S.stampMs) / 2];
  }

  setStamp(slot: number, mtimeMs: number): void {
    this.mem.storeFloat((this.entry(slot) + S.stampMs) / 2, mtimeMs);
  }

  /**
   * Dates a change of the file's bytes or size now (whole milliseconds, as
   * Date.now gives them: futimes carries them to the disk exactly). The hot
   * path: one clock read and one plain store, made every time so that an
   * operation's stores do not depend on the clock (the kill-at-every-store
   * tests count them).
   */
  touch(slot: number): void {
    const at = (this.entry(slot) + S.stampMs) / 2;
    const now = Date.now();
    const prev = this.mem.f64[at];
    // The kernel's clock has sub-millisecond digits Date.now drops: within the
    // same millisecond a stamp read from the disk is kept, so time never goes back.
    this.mem.storeFloat(at, prev > now && prev - now < 1 ? prev : now);
  }
}

/**
 * Gives the disk file the stamp as its mtime, its atime kept: write-back and
 * recovery call it once a file's bytes are written, so the disk's mtime is
 * the last write's, not the write-back's. libuv keeps whole microseconds,
 * truncating: the stamp goes as its microsecond (rounded up, so the time
 * never goes back) plus half a microsecond, which lands on it exactly.
 * Stamps are whole microseconds already (Date.now's milliseconds, or times
 * set through libuv); one read from the kernel's clock may carry
 * nanoseconds, and is stored back as the disk now has it. A file we may
 * write but do not own refuses (EPERM): its mtime stays the write-back's.
 */
export function applyStamp(sizes: SizeTable, slot: number, fd: number): void {
  const stampMs = sizes.stamp(slot);
  if (!(stampMs > 0)) return;
  // Exactly one store whatever the clocks say: the kill-at-every-store tests count them.
  let now = stampMs;
  try {
    const st = fs.fstatSync(fd);
    if (st.mtimeMs !== stampMs) {
      const exact = Math.round(stampMs * 1000);
      const us = Math.abs(stampMs * 1000 - exact) < 0.01 ? exact : Math.ceil(stampMs * 1000);
      const sec = Math.floor(us / 1e6);
      fs.futimesSync(fd, (st.atimeMs + 0.0005) / 1000, sec + (us - sec * 1e6 + 0.5) / 1e6);
      now = fs.fstatSync(fd).mtimeMs;
    }
  } catch {
    // Not ours to date (EPERM): the data is written all the same.
  }
  sizes.setStamp(slot, now);
}
