import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { native } from '../../src/native';
import { repoRoot, rng } from '../helpers';

/** The slow reference: bit at a time, straight from the definition. */
function crc32cBitwise(bytes: Uint8Array, seed = 0): number {
  let crc = ~seed >>> 0;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}

const vector = Buffer.from('123456789');

describe('crc32c', () => {
  it('matches the standard test vector in every implementation', () => {
    expect(native.crc32c(vector, 0, 9)).toBe(0xe3069283);
    expect(native.crc32cPortable(vector, 0, 9)).toBe(0xe3069283);
    expect(crc32cBitwise(vector)).toBe(0xe3069283);
    for (const impl of ['portable', 'sse4.2']) {
      const out = execFileSync(process.execPath, ['-e', `
        const { native } = require('./dist/src/native');
        const v = Buffer.from('123456789');
        const big = Buffer.alloc(100000, 0x5a);
        console.log(JSON.stringify([native.info().crc32c, native.crc32c(v, 0, 9), native.crc32c(big, 0, big.length)]));
      `], { cwd: repoRoot, env: { ...process.env, RIOCACHE_CRC32C: impl } }).toString();
      const [name, crc, bigCrc] = JSON.parse(out);
      expect(name).toBe(impl);
      expect(crc).toBe(0xe3069283);
      expect(bigCrc).toBe(native.crc32cPortable(Buffer.alloc(100000, 0x5a), 0, 100000));
    }
  });

  it('agrees with the bitwise reference on random inputs, lengths, offsets and seeds', () => {
    const next = rng(0xc0ffee);
    const pool = randomBytes(1 << 20);
    for (let i = 0; i < 3000; i++) {
      const length = i < 1100 ? i : Math.floor(next() * (i % 7 === 0 ? pool.length - 64 : 20000));
      const offset = Math.floor(next() * 64);
      const seed = Math.floor(next() * 2 ** 32);
      const fast = native.crc32c(pool, offset, length, seed);
      const portable = native.crc32cPortable(pool, offset, length, seed);
      if (fast !== portable) throw new Error(`mismatch at length ${length} offset ${offset} seed ${seed}`);
      if (length < 5000 && i % 4 === 0) {
        expect(crc32cBitwise(pool.subarray(offset, offset + length), seed)).toBe(fast);
      }
    }
  });

  it('continues across calls and combines', () => {
    const data = randomBytes(70000);
    for (const cut of [0, 1, 255, 256, 4096, 69999, 70000]) {
      const a = native.crc32c(data, 0, cut);
      const whole = native.crc32c(data, 0, data.length);
      expect(native.crc32c(data, cut, data.length - cut, a)).toBe(whole);
      const b = native.crc32c(data, cut, data.length - cut);
      expect(native.crc32cCombine(a, b, data.length - cut)).toBe(whole);
    }
  });

  it('copies and checksums in one call', () => {
    const src = randomBytes(10000);
    const dst = Buffer.alloc(12000);
    const crc = native.copyCrc32c(src, 100, dst, 2000, 5000, 0);
    expect(dst.subarray(2000, 7000).equals(src.subarray(100, 5100))).toBe(true);
    expect(crc).toBe(native.crc32c(src, 100, 5000));
  });

  it('rejects ranges outside the view', () => {
    expect(() => native.crc32c(Buffer.alloc(10), 5, 6)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => native.crc32c({} as Uint8Array, 0, 0)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });
});
