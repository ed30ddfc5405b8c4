/**
 * Admission on the second touch: the blocks that read misses recently served
 * around the cache. Once the cache is full, a miss evicts a clean buffer to
 * take the block in, and pays for a copy into the region and a checksum on
 * top of its read. That pays off only if the block is read again before it
 * is evicted in turn. A block read once (a scan, a working set many times the
 * region) never is: reading it around the cache costs what plain fs costs and
 * keeps the buffers for blocks that are read again (scan resistance, as in
 * 2Q, whose A1out queue this is). So a miss takes a buffer while a free one
 * is left, or when its block is in this history; otherwise it is read
 * straight into the caller's memory and recorded here. Evicted blocks are
 * recorded too: a block read again soon after its eviction is taken back at
 * once, so re-reads of a working set larger than the cache meet the LRU
 * eviction front as before (the cache-size probe measures that knee).
 *
 * Two generations of a blocked Bloom filter: a record sets three bits of one
 * 32-bit word of the current generation; a lookup tests both generations'
 * words, which lie side by side (one cache line: a miss that goes around the
 * cache has just made a system call, after which every line and page it
 * touches is a cache and TLB miss). A generation takes `generation` records
 * (twice the region's buffers), then the older one is cleared and becomes
 * the current one: a block is remembered for at least `generation` records
 * after its own, at most twice that, so a block read twice within a pass
 * over as many blocks as the cache holds is always taken in on the second
 * read. Sixteen bits per record: about one lookup in a hundred of a block
 * never recorded answers yes, which only takes that block in.
 *
 * Transient and approximate: a wrong answer changes where a miss is read
 * into, never a byte of what is read. Eight bytes per buffer of the region,
 * allocated at the first record.
 */

/** The most records a generation takes, whatever the region: 2^22 (16 MiB of table). */
const GENERATION_MAX = 1 << 22;

export class MissHistory {
  /** Word i of lane L is table[2i + L]; `lane` is the current generation's. */
  private table: Int32Array | null = null;
  private mask = 0;
  private lane = 0;
  private records = 0;
  /** Records per generation. */
  readonly generation: number;

  constructor(bufferCount: number) {
    this.generation = Math.max(64, Math.min(GENERATION_MAX, 2 * bufferCount));
  }

  /** Whether `block` of the file in `slot` was recorded within the last `generation` records (or up to twice that). */
  has(slot: number, block: number): boolean {
    const t = this.table;
    if (t === null) return false;
    const h = fingerprint(slot, block);
    const bits = bitsOf(h);
    const i = 2 * (h & this.mask);
    return (t[i] & bits) === bits || (t[i + 1] & bits) === bits;
  }

  /** Records `block` of the file in `slot`: read around the cache, or evicted. */
  add(slot: number, block: number): void {
    const t = this.table ?? this.allocate();
    if (this.records === this.generation) {
      // The older generation goes: its lane is cleared and takes the records from now on.
      this.lane ^= 1;
      for (let i = this.lane; i < t.length; i += 2) t[i] = 0;
      this.records = 0;
    }
    const h = fingerprint(slot, block);
    t[2 * (h & this.mask) + this.lane] |= bitsOf(h);
    this.records++;
  }

  private allocate(): Int32Array {
    // Sixteen bits per record: generation / 2 words a lane, a power of two.
    let words = 16;
    while (words * 2 < this.generation) words *= 2;
    this.mask = words - 1;
    return (this.table = new Int32Array(2 * words));
  }
}

/** The three bits of its word a fingerprint sets: from a second mix of it, independent of the word index. */
function bitsOf(h: number): number {
  const g = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  return (1 << (g >>> 27)) | (1 << ((g >>> 22) & 31)) | (1 << ((g >>> 17) & 31));
}

/** A 32-bit mix of (slot, block): murmur3's finaliser over the three words. */
function fingerprint(slot: number, block: number): number {
  let h = Math.imul(slot ^ 0x9e3779b9, 0x85ebca6b);
  h ^= Math.imul(block | 0, 0xc2b2ae35);
  h ^= Math.floor(block / 0x100000000);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
