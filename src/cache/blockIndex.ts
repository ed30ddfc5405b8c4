/**
 * The hash index (file slot, block) -> buffer. Transient: rebuilt from the
 * registry at every open (a sweep of the descriptors, no data read), so it
 * needs no crash protocol. Open addressing with linear probing over an
 * Int32Array of (buffer + 1, hash) pairs, side by side so that a probe
 * touches one cache line (after a system call each page a lookup touches
 * costs a TLB miss); keys are not stored, they are read back from the
 * descriptor, whose identity cannot change while the buffer is indexed. A
 * slot holds buffer + 1, so 0 means empty and a new index needs no fill: its
 * memory comes zeroed (an open costs nothing per slot of a large region).
 */
import { D, NIL } from '../region/format';
import type { Registry } from './registry';

/** Slots of a new index; it doubles whenever it would pass half full. */
const SLOTS_INITIAL = 1024;

export class BlockIndex {
  /**
   * Slot i is entries[2i] (buffer + 1, 0: empty) and entries[2i + 1] (its
   * hash: probes compare it before reading a descriptor, and deletion and
   * growth never recompute one).
   */
  private entries: Int32Array;
  private mask: number;
  size = 0;

  constructor(private readonly reg: Registry, capacityHint: number) {
    let n = 16;
    while (n < Math.min(capacityHint * 2, SLOTS_INITIAL)) n *= 2;
    this.entries = new Int32Array(2 * n);
    this.mask = n - 1;
  }

  /** Twice the slots, every entry moved to its place in them (the entries are buffer + 1). */
  private grow(): void {
    const old = this.entries;
    const e = (this.entries = new Int32Array(old.length * 2));
    this.mask = e.length / 2 - 1;
    for (let k = 0; k < old.length; k += 2) {
      if (old[k] === 0) continue;
      const h = old[k + 1];
      let i = h & this.mask;
      while (e[2 * i] !== 0) i = (i + 1) & this.mask;
      e[2 * i] = old[k];
      e[2 * i + 1] = h;
    }
  }

  private static hash(file: number, lo: number, hi: number): number {
    let h = Math.imul(file ^ 0x27d4eb2d, 0x9e3779b1) ^ Math.imul(lo, 0x85ebca6b) ^ Math.imul(hi, 0xc2b2ae35);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    return h ^ (h >>> 12);
  }

  private hashOf(b: number): number {
    const reg = this.reg;
    return BlockIndex.hash(reg.field(b, D.file), reg.field(b, D.blockLo), reg.field(b, D.blockHi));
  }

  private matches(b: number, file: number, lo: number, hi: number): boolean {
    const reg = this.reg;
    return reg.field(b, D.file) === file && reg.field(b, D.blockLo) === lo && reg.field(b, D.blockHi) === hi;
  }

  get(file: number, block: number): number {
    const lo = block % 2 ** 32 | 0;
    const hi = Math.floor(block / 2 ** 32);
    const h = BlockIndex.hash(file, lo, hi);
    const e = this.entries;
    let i = h & this.mask;
    for (;;) {
      const b = e[2 * i] - 1;
      if (b === NIL) return NIL;
      if (e[2 * i + 1] === h && this.matches(b, file, lo, hi)) return b;
      i = (i + 1) & this.mask;
    }
  }

  /** Adds buffer b under its descriptor's identity. */
  add(b: number): void {
    if ((this.size + 1) * 2 > this.mask + 1) this.grow();
    const e = this.entries;
    const h = this.hashOf(b);
    let i = h & this.mask;
    while (e[2 * i] !== 0) {
      if (e[2 * i] === b + 1) return;
      i = (i + 1) & this.mask;
    }
    e[2 * i] = b + 1;
    e[2 * i + 1] = h;
    this.size++;
  }

  /** Puts `nb` in `b`'s slot: both name the same block (a shadow write). */
  replace(b: number, nb: number): void {
    const e = this.entries;
    let i = this.hashOf(b) & this.mask;
    while (e[2 * i] !== b + 1) {
      if (e[2 * i] === 0) throw new Error('internal: replacing a buffer the index does not hold');
      i = (i + 1) & this.mask;
    }
    e[2 * i] = nb + 1;
  }

  /** Removes buffer b (backward-shift deletion keeps probe chains intact). */
  remove(b: number): void {
    const e = this.entries;
    let i = this.hashOf(b) & this.mask;
    while (e[2 * i] !== b + 1) {
      if (e[2 * i] === 0) return;
      i = (i + 1) & this.mask;
    }
    this.size--;
    let hole = i;
    let j = i;
    for (;;) {
      j = (j + 1) & this.mask;
      if (e[2 * j] === 0) break;
      const home = e[2 * j + 1] & this.mask;
      // The entry at j may fill the hole if its home is not in the cyclic range (hole, j].
      const inRange = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!inRange) {
        e[2 * hole] = e[2 * j];
        e[2 * hole + 1] = e[2 * j + 1];
        hole = j;
      }
    }
    e[2 * hole] = 0;
  }
}
