/**
 * Read misses once the cache is full (src/cache/missHistory.ts): a block read
 * once goes around the cache, straight into the caller's buffer, and evicts
 * nothing; read again soon, it is taken in. Runs of uncached blocks are read
 * in one call either way, and asynchronous reads try the page cache on the
 * event loop's thread first (RWF_NOWAIT), falling back to the thread pool
 * for what only the disk holds. The bytes must be the file's in every case.
 */
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Cache, openCacheSync } from '../../src';
import { native } from '../../src/native';
import { rng, scratchDir } from '../helpers';

const { dir, cleanup } = scratchDir('read-misses');
// A disk file system for the page-cache tests: tmpfs has no RWF_NOWAIT and never drops a page.
const disk = fs.mkdtempSync(join(tmpdir(), 'riocache-test-read-misses-'));
afterAll(() => {
  cleanup();
  fs.rmSync(disk, { recursive: true, force: true });
});

const BS = 4096;
let n = 0;

function fresh(size: string, base = dir): { root: string; cache: Cache } {
  const at = join(base, `c${n++}`);
  const root = join(at, 'root');
  fs.mkdirSync(root, { recursive: true });
  const cache = openCacheSync({ region: join(dir, `r${n}.rio`), root, size, blockSize: BS });
  return { root, cache };
}

/** A file whose every 4-byte word holds its own offset / 4: any misplaced byte shows. */
function numbered(path: string, bytes: number): Buffer {
  const b = Buffer.alloc(bytes);
  for (let i = 0; i + 4 <= bytes; i += 4) b.writeUInt32LE(i / 4, i);
  fs.writeFileSync(path, b);
  return b;
}

describe('read misses of a full cache', () => {
  it('a scan read once goes around the cache: it evicts (almost) nothing, and the blocks read before stay hits', () => {
    const { root, cache } = fresh('1MiB');
    const capacity = cache.stats().capacityBlocks;
    numbered(join(root, 'hot'), capacity * BS);
    numbered(join(root, 'scan'), 8 * capacity * BS);
    const hot = cache.fs.openSync('hot', 'r');
    const scan = cache.fs.openSync('scan', 'r');
    const buf = Buffer.alloc(BS);
    for (let i = 0; i < capacity; i++) cache.fs.readSync(hot, buf, 0, BS, i * BS); // fills the free buffers
    const before = cache.stats();
    for (let i = 0; i < 8 * capacity; i++) {
      expect(cache.fs.readSync(scan, buf, 0, BS, i * BS)).toBe(BS);
      expect(buf.readUInt32LE(0)).toBe((i * BS) / 4);
    }
    // The history is a Bloom filter: the odd block it mistakes for a recent one is taken in.
    const scanned = cache.stats();
    expect(scanned.evictions - before.evictions).toBeLessThan(capacity / 10);
    expect(scanned.directReads - before.directReads).toBeGreaterThan(7.9 * capacity);
    // Still cached. (Not re-read to find out: a re-read in LRU order of a set as large as the cache would
    // itself evict block k + 1 to take back block k, and miss all along, the knee the probe measures.)
    const slot = cache.handles.fileDescriptor(hot, 'read').file.slot;
    let cached = 0;
    for (let i = 0; i < capacity; i++) if (cache.engine.index.get(slot, i) !== -1) cached++;
    expect(cached).toBeGreaterThan(0.9 * capacity);
    cache.closeSync();
  });

  it('a block read again soon is taken in on its second read, and hits from then on', () => {
    const { root, cache } = fresh('1MiB');
    const capacity = cache.stats().capacityBlocks;
    numbered(join(root, 'f'), 4 * capacity * BS);
    const fd = cache.fs.openSync('f', 'r');
    const buf = Buffer.alloc(BS);
    for (let i = 0; i < 2 * capacity; i++) cache.fs.readSync(fd, buf, 0, BS, i * BS); // full, the second half around it
    const block = 2 * capacity - 5;
    const s0 = cache.stats();
    cache.fs.readSync(fd, buf, 0, BS, block * BS); // the second read: taken in (an eviction)
    const s1 = cache.stats();
    expect(s1.misses - s0.misses).toBe(1);
    expect(s1.directReads - s0.directReads).toBe(0);
    expect(s1.evictions - s0.evictions).toBe(1);
    cache.fs.readSync(fd, buf, 0, BS, block * BS);
    expect(cache.stats().hits - s1.hits).toBe(1);
    expect(buf.readUInt32LE(0)).toBe((block * BS) / 4);
    cache.closeSync();
  });

  it('reads of any length and position give the file\'s bytes, around the cache or through it, past its end too', () => {
    const { root, cache } = fresh('512KiB');
    const size = 3 * 1024 * 1024 + 123;
    const want = numbered(join(root, 'f'), size);
    const fd = cache.fs.openSync('f', 'r');
    const random = rng(7);
    const got = Buffer.alloc(300 * 1024);
    for (let k = 0; k < 600; k++) {
      const length = 1 + Math.floor(random() * (k % 3 === 0 ? 300 * 1024 : 9000));
      const position = Math.floor(random() * (size + 5000));
      const offset = Math.floor(random() * (got.length - length + 1));
      got.fill(0xee);
      const r = cache.fs.readSync(fd, got, offset, length, position);
      const expected = Math.max(0, Math.min(length, size - position));
      expect(r).toBe(expected);
      expect(got.subarray(offset, offset + r).equals(want.subarray(position, position + r))).toBe(true);
      expect(got[offset + r] === undefined || offset + r >= offset + length || got[offset + r] === 0xee).toBe(true);
    }
    const s = cache.stats();
    expect(s.directReads).toBeGreaterThan(0); // some went around the cache
    expect(s.evictions).toBeGreaterThan(0); // and some were taken in
    cache.closeSync();
  });

  it('an asynchronous read of blocks only the disk holds falls back to the thread pool and gets them right', async () => {
    const { root, cache } = fresh('1MiB', disk);
    const capacity = cache.stats().capacityBlocks;
    const want = numbered(join(root, 'f'), 6 * capacity * BS);
    const h = await cache.fs.promises.open('f', 'r');
    const buf = Buffer.alloc(64 * 1024);
    for (let i = 0; i < capacity; i++) await h.read(buf, 0, BS, i * BS); // full
    // Out of the page cache: RWF_NOWAIT answers EAGAIN for these.
    const raw = fs.openSync(join(root, 'f'), 'r');
    native.fadvise(raw, 0, 0, 'dontneed');
    fs.closeSync(raw);
    for (const [position, length] of [[3 * capacity * BS, BS], [4 * capacity * BS + 100, 64 * 1024], [2 * capacity * BS - 7, 20_000]]) {
      buf.fill(0);
      const { bytesRead } = await h.read(buf, 0, length, position);
      expect(bytesRead).toBe(length);
      expect(buf.subarray(0, length).equals(want.subarray(position, position + length))).toBe(true);
    }
    // In the page cache now: served at once, the same bytes.
    const { bytesRead } = await h.read(buf, 0, BS, 3 * capacity * BS);
    expect(bytesRead).toBe(BS);
    expect(buf.subarray(0, BS).equals(want.subarray(3 * capacity * BS, 3 * capacity * BS + BS))).toBe(true);
    await h.close();
    await cache.close();
  });

  it('an asynchronous write into part of an uncached block fills it from the page cache or the disk, and lands right', async () => {
    const { root, cache } = fresh('1MiB', disk);
    const capacity = cache.stats().capacityBlocks;
    const want = numbered(join(root, 'f'), 4 * capacity * BS);
    const raw = fs.openSync(join(root, 'f'), 'r');
    const h = await cache.fs.promises.open('f', 'r+');
    const patch = Buffer.alloc(100, 0xab);
    const random = rng(3);
    for (let k = 0; k < 200; k++) {
      if (k === 100) native.fadvise(raw, 0, 0, 'dontneed'); // the second half: only the disk holds what is not cached
      const position = Math.floor(random() * (want.length - patch.length));
      await h.write(patch, 0, patch.length, position);
      patch.copy(want, position);
    }
    fs.closeSync(raw);
    await h.close();
    await cache.close();
    expect(fs.readFileSync(join(root, 'f')).equals(want)).toBe(true);
  });
});
