import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { native } from '../../src/native';
import { crc32cBytes } from '../../src/region/checksum';
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
    for (const impl of native.info().crc32cAvailable.split(',')) {
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

  it('runs each implementation the CPU has when forced, each agreeing with the reference on every branch', () => {
    // Lengths around every branch: the byte loops (0-15), the word loop, the
    // folding minimum (256) and its 128-byte rounds and 16-byte tail, the
    // three-lane rounds of 256 and 8192 bytes (768, 24576) and their joins,
    // the folded-and-crc32 chunks of 272 k + 128 bytes (400, 672, the largest
    // 23248, several of them) and the tails after them.
    const lengths = new Set<number>();
    for (let n = 0; n <= 300; n++) lengths.add(n);
    for (const base of [383, 384, 400, 511, 512, 672, 767, 768, 1024, 4096, 8192, 23248, 23648, 24575, 24576, 24577, 3 * 8192 + 768, 46496, 65536, 100003]) {
      for (let d = -17; d <= 17; d += 1) if (base + d >= 0) lengths.add(base + d);
    }
    const cases: Array<[number, number, number]> = [];
    let k = 0;
    for (const length of lengths) cases.push([k % 16, length, (k++ * 0x9e3779b1) >>> 0]);
    const paths = native.info().crc32cAvailable.split(',');
    expect(paths).toContain('portable');
    if (process.arch === 'x64') expect(paths).toContain('sse4.2');
    const next = rng(0x5eed);
    const pool = Buffer.alloc(110000);
    for (let i = 0; i < pool.length; i++) pool[i] = Math.floor(next() * 256);
    const expected = cases.map(([offset, length, seed]) => crc32cBytes(pool, offset, length, seed));
    // The pclmul path folds only where folding was faster at load: RIOCACHE_CRC32C_FOLD=1 makes it fold anyway.
    const runs = paths.flatMap((path) => (path === 'pclmul' ? [[path, '0'], [path, '1']] : [[path, '0']]));
    for (const [path, fold] of runs) {
      const out = execFileSync(process.execPath, ['-e', `
        const { native } = require('./dist/src/native');
        const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
        const pool = Buffer.from(input.pool, 'base64');
        console.log(JSON.stringify({ name: native.info().crc32c, crcs: input.cases.map(([o, n, s]) => native.crc32c(pool, o, n, s)) }));
      `], { cwd: repoRoot, env: { ...process.env, RIOCACHE_CRC32C: path, RIOCACHE_CRC32C_FOLD: fold },
        input: JSON.stringify({ pool: pool.toString('base64'), cases }), maxBuffer: 64 * 1024 * 1024 }).toString();
      const got = JSON.parse(out) as { name: string; crcs: number[] };
      expect(got.name, 'the forced path is the one that runs').toBe(path);
      const wrong = cases.filter((_, i) => got.crcs[i] !== expected[i]).slice(0, 5);
      expect(wrong, `${path}${fold === '1' ? ' (folding)' : ''}: [offset, length, seed] that disagree with the reference`).toEqual([]);
    }
  });

  it('patches a checksum after bytes changed in place, in each implementation, as a full recompute would give', () => {
    // Lengths on both sides of the direct difference (256 bytes) and of the
    // 2 KiB pieces of the long one; tails around the branches of the shift: under 4 bytes (no carry-less
    // multiplier), the near table, one and several 4 KiB steps.
    const tails = [0, 1, 2, 3, 4, 5, 7, 100, 4091, 4095, 4096, 4097, 4100, 8191, 8196, 12000, 70000];
    const next = rng(0xba7c4);
    const message = Buffer.alloc(80000);
    for (let i = 0; i < message.length; i++) message[i] = Math.floor(next() * 256);
    const cases = tails.flatMap((tail) => [1, 7, 8, 128, 256, 257, 2049, 4096, 5000].map((length) => ({ offset: 5, length, tail, fill: Math.floor(next() * 256) })));
    const expected = cases.map(({ offset, length, tail, fill }) => {
      const m = Buffer.from(message.subarray(0, offset + length + tail));
      m.fill(fill, offset, offset + length);
      return crc32cBytes(m, 0, m.length);
    });
    for (const path of native.info().crc32cAvailable.split(',')) {
      const out = execFileSync(process.execPath, ['-e', `
        const { native } = require('./dist/src/native');
        const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
        const message = Buffer.from(input.message, 'base64');
        console.log(JSON.stringify({ name: native.info().crc32c, crcs: input.cases.map(({ offset, length, tail, fill }) => {
          const old = message.subarray(0, offset + length + tail);
          const now = Buffer.from(old);
          now.fill(fill, offset, offset + length);
          return native.crc32cPatch(native.crc32c(old, 0, old.length), old, now, offset, length, tail);
        }) }));
      `], { cwd: repoRoot, env: { ...process.env, RIOCACHE_CRC32C: path }, input: JSON.stringify({ message: message.toString('base64'), cases }),
        maxBuffer: 64 * 1024 * 1024 }).toString();
      const got = JSON.parse(out) as { name: string; crcs: number[] };
      expect(got.name).toBe(path);
      const wrong = cases.filter((_, i) => got.crcs[i] !== expected[i]).slice(0, 5);
      expect(wrong, `${path}: patches that disagree with a full recompute`).toEqual([]);
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
