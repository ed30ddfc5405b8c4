/**
 * The LRU and dirty lists: doubly linked through the descriptors, heads in the
 * control block (docs/format.md §3, §4). Forward links are the authoritative
 * ones. Every change writes the moving node's own links first and the forward
 * link that makes it reachable (or unreachable) before the back-links, so a
 * cut leaves at worst back-links that disagree with forward links, which
 * recovery rewrites. Membership is decided by the state word, never by the
 * links, so a lost or doubled node is found by the registry sweep.
 */
import { C, CONTROL_OFFSET, D, NIL } from '../region/format';
import type { RegionMemory } from '../region/primitives';
import type { Registry } from './registry';

export interface ListSpec {
  name: 'lru' | 'dirty';
  headWord: number;
  tailWord: number;
  next: number;
  prev: number;
}

export const LRU: ListSpec = {
  name: 'lru', headWord: CONTROL_OFFSET / 4 + C.lruHead, tailWord: CONTROL_OFFSET / 4 + C.lruTail, next: D.lruNext, prev: D.lruPrev,
};
export const DIRTY_LIST: ListSpec = {
  name: 'dirty', headWord: CONTROL_OFFSET / 4 + C.dirtyHead, tailWord: CONTROL_OFFSET / 4 + C.dirtyTail, next: D.dirtyNext, prev: D.dirtyPrev,
};

export class List {
  constructor(
    private readonly mem: RegionMemory,
    private readonly reg: Registry,
    readonly spec: ListSpec,
  ) {}

  head(): number {
    return this.mem.i32[this.spec.headWord];
  }

  tail(): number {
    return this.mem.i32[this.spec.tailWord];
  }

  next(b: number): number {
    return this.reg.link(b, this.spec.next);
  }

  prev(b: number): number {
    return this.reg.link(b, this.spec.prev);
  }

  insertHead(b: number): void {
    const { reg, mem, spec } = this;
    const head = mem.i32[spec.headWord];
    reg.setLink(b, spec.prev, NIL);
    reg.setLink(b, spec.next, head);
    mem.store(spec.headWord, b); // reachable from here on
    if (head !== NIL) reg.setLink(head, spec.prev, b);
    else mem.store(spec.tailWord, b);
  }

  insertTail(b: number): void {
    const { reg, mem, spec } = this;
    const tail = mem.i32[spec.tailWord];
    reg.setLink(b, spec.next, NIL);
    reg.setLink(b, spec.prev, tail);
    if (tail !== NIL) reg.setLink(tail, spec.next, b); // reachable from here on
    else mem.store(spec.headWord, b);
    mem.store(spec.tailWord, b);
  }

  remove(b: number): void {
    const { reg, mem, spec } = this;
    const prev = reg.link(b, spec.prev);
    const next = reg.link(b, spec.next);
    if (prev !== NIL) reg.setLink(prev, spec.next, next);
    else mem.store(spec.headWord, next);
    if (next !== NIL) reg.setLink(next, spec.prev, prev);
    else mem.store(spec.tailWord, prev);
    reg.setLink(b, spec.next, NIL);
    reg.setLink(b, spec.prev, NIL);
  }

  /**
   * Puts `nb` where `b` is (same neighbours), taking `b` off: a shadow write's
   * new buffer keeps its twin's place. nb's own links first, then the forward
   * link that makes it reachable, then the back-link.
   */
  replace(b: number, nb: number): void {
    const { reg, mem, spec } = this;
    const prev = reg.link(b, spec.prev);
    const next = reg.link(b, spec.next);
    reg.setLink(nb, spec.prev, prev);
    reg.setLink(nb, spec.next, next);
    if (prev !== NIL) reg.setLink(prev, spec.next, nb);
    else mem.store(spec.headWord, nb);
    if (next !== NIL) reg.setLink(next, spec.prev, nb);
    else mem.store(spec.tailWord, nb);
    reg.setLink(b, spec.next, NIL);
    reg.setLink(b, spec.prev, NIL);
  }

  moveToHead(b: number): void {
    if (this.mem.i32[this.spec.headWord] === b) return;
    this.remove(b);
    this.insertHead(b);
  }

  /** Rewrites the whole list as `order` (recovery). */
  rebuild(order: number[]): void {
    const { reg, mem, spec } = this;
    for (let i = 0; i < order.length; i++) {
      reg.setLink(order[i], spec.prev, i === 0 ? NIL : order[i - 1]);
      reg.setLink(order[i], spec.next, i === order.length - 1 ? NIL : order[i + 1]);
    }
    mem.store(spec.headWord, order.length > 0 ? order[0] : NIL);
    mem.store(spec.tailWord, order.length > 0 ? order[order.length - 1] : NIL);
  }
}
