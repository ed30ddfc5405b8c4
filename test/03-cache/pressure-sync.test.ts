/**
 * G9 under pressure: a full cache whose background write-back batches are in
 * flight, then synchronous calls. Every plain call must make room (sync) or
 * wait (async); none may fail for lack of room while no transaction pins the
 * cache. The differential and model tests never combine the three.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Cache, openCacheSync } from '../../src';
import { rng, scratchDir } from '../helpers';

const { dir, cleanup } = scratchDir('pressure-sync');
afterAll(cleanup);

const BS = 4096;
const MIB = 1024 * 1024;
let n = 0;

function fresh(regionBytes: number): { root: string; cache: Cache } {
  const base = join(dir, `c${n++}`);
  const root = join(base, 'root');
  fs.mkdirSync(root, { recursive: true });
  const cache = openCacheSync({ region: join(base, 'region.rio'), root, size: regionBytes, blockSize: BS });
  return { root, cache };
}

const turn = () => new Promise((r) => setImmediate(r));

describe.each([32, 64])('a %i MiB region filled by writes, background write-back in flight', (mib) => {
  const regionBytes = mib * MIB;

  it('readSync of another file never fails for lack of room', async () => {
    const { root, cache } = fresh(regionBytes);
    const other = Buffer.alloc(regionBytes);
    for (let i = 0; i < other.length; i += BS) other.writeUInt32LE(i / BS, i);
    fs.writeFileSync(join(root, 'other'), other);
    const w = cache.fs.openSync('big', 'w');
    const chunk = Buffer.alloc(64 * 1024, 0x5a);
    for (let off = 0; off < 4 * regionBytes; off += chunk.length) cache.fs.writeSync(w, chunk, 0, chunk.length, off);
    await turn(); // the background pass starts its batches
    const r = cache.fs.openSync('other', 'r');
    const got = Buffer.alloc(BS);
    for (let i = 0; i < other.length / BS; i++) {
      expect(cache.fs.readSync(r, got, 0, BS, i * BS)).toBe(BS);
      expect(got.readUInt32LE(0)).toBe(i);
    }
    cache.fs.closeSync(r);
    cache.fs.closeSync(w);
    await cache.close();
    expect(fs.statSync(join(root, 'big')).size).toBe(4 * regionBytes);
  });

  it('a 70/30 mix of 4 KiB reads and writes over 4x the region never fails', async () => {
    const { root, cache } = fresh(regionBytes);
    const span = 4 * regionBytes;
    const blocks = span / BS;
    fs.writeFileSync(join(root, 'set'), Buffer.alloc(span));
    const model = new Uint32Array(blocks); // the stamp each block should hold
    const fd = cache.fs.openSync('set', 'r+');
    const next = rng(mib);
    const buf = Buffer.alloc(BS);
    for (let op = 0; op < 3 * blocks / 4; op++) {
      const block = Math.floor(next() * blocks);
      if (next() < 0.7) {
        expect(cache.fs.readSync(fd, buf, 0, BS, block * BS)).toBe(BS);
        expect(buf.readUInt32LE(0)).toBe(model[block]);
      } else {
        model[block] = op + 1;
        buf.writeUInt32LE(op + 1, 0);
        cache.fs.writeSync(fd, buf, 0, BS, block * BS);
      }
      if (op % 1024 === 0) await turn();
    }
    cache.fs.closeSync(fd);
    await cache.close();
    const disk = fs.readFileSync(join(root, 'set'));
    for (let b = 0; b < blocks; b++) expect(disk.readUInt32LE(b * BS)).toBe(model[b]);
  });

  it('promise reads and writes interleaved with sync calls over 4x the region never fail', async () => {
    const { root, cache } = fresh(regionBytes);
    const span = 4 * regionBytes;
    const blocks = span / BS;
    fs.writeFileSync(join(root, 'set'), Buffer.alloc(span));
    const model = new Uint32Array(blocks);
    const fh = await cache.fs.promises.open('set', 'r+');
    const fd = cache.fs.openSync('set', 'r+');
    const next = rng(mib + 1);
    const chunk = Buffer.alloc(64 * 1024);
    // Fill the region with dirty blocks through the promise API first.
    for (let off = 0; off < regionBytes; off += chunk.length) {
      for (let i = 0; i < chunk.length; i += BS) chunk.writeUInt32LE(off / BS + i / BS + 1, i);
      await fh.write(chunk, 0, chunk.length, off);
      for (let i = 0; i < chunk.length / BS; i++) model[off / BS + i] = off / BS + i + 1;
    }
    const buf = Buffer.alloc(BS);
    for (let op = 0; op < blocks / 2; op++) {
      const block = Math.floor(next() * blocks);
      const sync = next() < 0.5;
      if (next() < 0.7) {
        const n = sync ? cache.fs.readSync(fd, buf, 0, BS, block * BS) : (await fh.read(buf, 0, BS, block * BS)).bytesRead;
        expect(n).toBe(BS);
        expect(buf.readUInt32LE(0)).toBe(model[block]);
      } else {
        model[block] = blocks + op;
        buf.writeUInt32LE(blocks + op, 0);
        if (sync) cache.fs.writeSync(fd, buf, 0, BS, block * BS);
        else await fh.write(buf, 0, BS, block * BS);
      }
      if (op % 1024 === 0) await turn();
    }
    cache.fs.closeSync(fd);
    await fh.close();
    await cache.close();
    const disk = fs.readFileSync(join(root, 'set'));
    for (let b = 0; b < blocks; b++) expect(disk.readUInt32LE(b * BS)).toBe(model[b]);
  });
});
