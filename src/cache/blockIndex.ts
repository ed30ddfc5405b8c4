/**
 * The hash index (file slot, block) -> buffer. Transient: rebuilt from the
 * registry at every open (a sweep of the descriptors, no data read), so it
 * needs no crash protocol. Open addressing with linear probing over an
 * Int32Array; keys are not stored, they are read back from the descriptor,
 * whose identity cannot change while the buffer is indexed. A slot holds
 * buffer + 1, so 0 means empty and a new index needs no fill: its memory
 * comes zeroed (an open costs nothing per slot of a large region).
 */
import { D, NIL } from '../region/format';
import type { Registry } from './registry';

/** Slots of a new index; it doubles whenever it would pass half full. */
const SLOTS_INITIAL = 1024;

export class BlockIndex {
  private slots: Int32Array;
  /** Each occupied slot's hash: probes compare it before reading a descriptor, and deletion and growth never recompute one. */
  private hashes: Int32Array;
  private mask: number;
  size = 0;

  constructor(private readonly reg: Registry, capacityHint: number) {
    let n = 16;
    while (n < Math.min(capacityHint * 2, SLOTS_INITIAL)) n *= 2;
    this.slots = new Int32Array(n);
    this.hashes = new Int32Array(n);
    this.mask = n - 1;
  }

  /** Twice the slots, every entry moved to its place in them (the entries are buffer + 1). */
  private grow(): void {
    const old = this.slots;
    const oldHashes = this.hashes;
    this.slots = new Int32Array(old.length * 2);
    this.hashes = new Int32Array(old.length * 2);
    this.mask = this.slots.length - 1;
    for (let k = 0; k < old.length; k++) {
      if (old[k] === 0) continue;
      const h = oldHashes[k];
      let i = h & this.mask;
      while (this.slots[i] !== 0) i = (i + 1) & this.mask;
      this.slots[i] = old[k];
      this.hashes[i] = h;
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
    let i = h & this.mask;
    for (;;) {
      const b = this.slots[i] - 1;
      if (b === NIL) return NIL;
      if (this.hashes[i] === h && this.matches(b, file, lo, hi)) return b;
      i = (i + 1) & this.mask;
    }
  }

  /** Adds buffer b under its descriptor's identity. */
  add(b: number): void {
    if ((this.size + 1) * 2 > this.slots.length) this.grow();
    const h = this.hashOf(b);
    let i = h & this.mask;
    while (this.slots[i] !== 0) {
      if (this.slots[i] === b + 1) return;
      i = (i + 1) & this.mask;
    }
    this.slots[i] = b + 1;
    this.hashes[i] = h;
    this.size++;
  }

  /** Puts `nb` in `b`'s slot: both name the same block (a shadow write). */
  replace(b: number, nb: number): void {
    let i = this.hashOf(b) & this.mask;
    while (this.slots[i] !== b + 1) {
      if (this.slots[i] === 0) throw new Error('internal: replacing a buffer the index does not hold');
      i = (i + 1) & this.mask;
    }
    this.slots[i] = nb + 1;
  }

  /** Removes buffer b (backward-shift deletion keeps probe chains intact). */
  remove(b: number): void {
    let i = this.hashOf(b) & this.mask;
    while (this.slots[i] !== b + 1) {
      if (this.slots[i] === 0) return;
      i = (i + 1) & this.mask;
    }
    this.size--;
    let hole = i;
    let j = i;
    for (;;) {
      j = (j + 1) & this.mask;
      if (this.slots[j] === 0) break;
      const home = this.hashes[j] & this.mask;
      // The entry at j may fill the hole if its home is not in the cyclic range (hole, j].
      const inRange = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!inRange) {
        this.slots[hole] = this.slots[j];
        this.hashes[hole] = this.hashes[j];
        hole = j;
      }
    }
    this.slots[hole] = 0;
  }
}
