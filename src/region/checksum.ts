/**
 * Checksums of small structures, computed in JavaScript: a native call costs
 * more than checksumming a few words. Data blocks use the native crc32c.
 */

const table = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  table[n] = c >>> 0;
}

/** crc32c of `length` bytes, continued from `seed` (same results as native.crc32c). */
export function crc32cBytes(bytes: Uint8Array, offset: number, length: number, seed = 0): number {
  let c = ~seed;
  const end = offset + length;
  for (let i = offset; i < end; i++) c = table[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** crc32c of 32-bit words taken as little-endian bytes. */
export function crc32cWords(words: Int32Array | Uint32Array, first: number, count: number, seed = 0): number {
  let c = ~seed;
  for (let i = first; i < first + count; i++) {
    const w = words[i];
    c = table[(c ^ w) & 0xff] ^ (c >>> 8);
    c = table[(c ^ (w >>> 8)) & 0xff] ^ (c >>> 8);
    c = table[(c ^ (w >>> 16)) & 0xff] ^ (c >>> 8);
    c = table[(c ^ (w >>> 24)) & 0xff] ^ (c >>> 8);
  }
  return ~c >>> 0;
}

/** crc32c of a list of 32-bit values (for identities built on the fly). */
export function crc32cOf(...values: number[]): number {
  let c = ~0;
  for (const w of values) {
    c = table[(c ^ w) & 0xff] ^ (c >>> 8);
    c = table[(c ^ (w >>> 8)) & 0xff] ^ (c >>> 8);
    c = table[(c ^ (w >>> 16)) & 0xff] ^ (c >>> 8);
    c = table[(c ^ (w >>> 24)) & 0xff] ^ (c >>> 8);
  }
  return ~c >>> 0;
}

/**
 * A 32-bit hash of `count` words (murmur3's mixing): the check word of
 * structures written on every operation (undo records and header, the
 * namespace intent). It must catch a torn or stray-written structure, which
 * any good 32-bit mix does with probability 1 - 2^-32, at a fraction of the
 * cost of a byte-wise crc32c in JavaScript.
 */
export function mixWords(words: Int32Array | Uint32Array, first: number, count: number, seed = 0): number {
  let h = seed ^ 0x5bd1e995;
  for (let i = first; i < first + count; i++) {
    let k = Math.imul(words[i], 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, 0x1b873593);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= count;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

/** The same hash of four values (a buffer's identity: the seed of its data checksum). */
export function mix4(a: number, b: number, c: number, d: number): number {
  let h = 0x5bd1e995;
  h = mixStep(h, a);
  h = mixStep(h, b);
  h = mixStep(h, c);
  h = mixStep(h, d);
  h ^= 4;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function mixStep(h: number, w: number): number {
  let k = Math.imul(w, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  h ^= Math.imul(k, 0x1b873593);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/**
 * A 32-bit mix of six words, for the size slots that change on every append:
 * cheap, and a stray write into any word changes it with probability 1 - 2^-32.
 */
export function mix6(a: number, b: number, c: number, d: number, e: number, f: number): number {
  let h = 0x9e3779b9 ^ f;
  h = Math.imul(h ^ a, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ b, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16) ^ c, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ d, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16) ^ e, 0x85ebca6b);
  return (h ^ (h >>> 15)) | 0;
}
