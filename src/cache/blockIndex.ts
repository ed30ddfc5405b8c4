/**
 * The hash index (file slot, block) -> buffer. Transient: rebuilt from the
 * registry at every open (a sweep of the descriptors, no data read), so it
 * needs no crash protocol. Open addressing with linear probing over an
 * Int32Array; keys are not stored, they are read back from the descriptor,
 * whose identity cannot change while the buffer is indexed.
 */
import { D, NIL } from '../region/format';
import type { Registry } from './registry';

export class BlockIndex {
  private readonly slots: Int32Array;
  private readonly mask: number;
  size = 0;

  constructor(private readonly reg: Registry, capacityHint: number) {
    let n = 16;
    while (n < capacityHint * 2) n *= 2;
    this.slots = new Int32Array(n).fill(NIL);
    this.mask = n - 1;
  }

  private static hash(file: number, lo: number, hi: number): number {
    let h = Math.imul(file ^ 0x27d4eb2d, 0x9e3779b1) ^ Math.imul(lo, 0x85ebca6b) ^ Math.imul(hi, 0xc2b2ae35);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    return (h ^ (h >>> 12)) >>> 0;
  }

  private matches(b: number, file: number, lo: number, hi: number): boolean {
    const reg = this.reg;
    return reg.field(b, D.file) === file && reg.field(b, D.blockLo) === lo && reg.field(b, D.blockHi) === hi;
  }

  get(file: number, block: number): number {
    const lo = block % 2 ** 32 | 0;
    const hi = Math.floor(block / 2 ** 32);
    let i = BlockIndex.hash(file, lo, hi) & this.mask;
    for (;;) {
      const b = this.slots[i];
      if (b === NIL) return NIL;
      if (this.matches(b, file, lo, hi)) return b;
      i = (i + 1) & this.mask;
    }
  }

  /** Adds buffer b under its descriptor's identity. */
  add(b: number): void {
    const reg = this.reg;
    let i = BlockIndex.hash(reg.field(b, D.file), reg.field(b, D.blockLo), reg.field(b, D.blockHi)) & this.mask;
    while (this.slots[i] !== NIL) {
      if (this.slots[i] === b) return;
      i = (i + 1) & this.mask;
    }
    this.slots[i] = b;
    this.size++;
  }

  /** Puts `nb` in `b`'s slot: both name the same block (a shadow write). */
  replace(b: number, nb: number): void {
    const reg = this.reg;
    let i = BlockIndex.hash(reg.field(b, D.file), reg.field(b, D.blockLo), reg.field(b, D.blockHi)) & this.mask;
    while (this.slots[i] !== b) {
      if (this.slots[i] === NIL) throw new Error('internal: replacing a buffer the index does not hold');
      i = (i + 1) & this.mask;
    }
    this.slots[i] = nb;
  }

  /** Removes buffer b (backward-shift deletion keeps probe chains intact). */
  remove(b: number): void {
    const reg = this.reg;
    let i = BlockIndex.hash(reg.field(b, D.file), reg.field(b, D.blockLo), reg.field(b, D.blockHi)) & this.mask;
    while (this.slots[i] !== b) {
      if (this.slots[i] === NIL) return;
      i = (i + 1) & this.mask;
    }
    this.size--;
    let hole = i;
    let j = i;
    for (;;) {
      j = (j + 1) & this.mask;
      const c = this.slots[j];
      if (c === NIL) break;
      const home = BlockIndex.hash(reg.field(c, D.file), reg.field(c, D.blockLo), reg.field(c, D.blockHi)) & this.mask;
      // c may fill the hole if its home is not in the cyclic range (hole, j].
      const inRange = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!inRange) {
        this.slots[hole] = c;
        hole = j;
      }
    }
    this.slots[hole] = NIL;
  }
}
