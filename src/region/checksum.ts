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
