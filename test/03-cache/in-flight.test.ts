/**
 * Asynchronous write-back and fills in flight while the files they touch are
 * truncated, fsynced, unlinked or read. The libuv threadpool is held busy
 * (every thread blocked opening a FIFO) so that the queued I/O really lands
 * after the operations under test, in every run.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Cache, openCacheSync } from '../../src';
import { FREE } from '../../src/cache/registry';
import { scratchDir } from '../helpers';

const { dir, cleanup } = scratchDir('in-flight');
afterAll(cleanup);

const BS = 4096;
let n = 0;

function fresh(): { root: string; cache: Cache } {
  const base = join(dir, `c${n++}`);
  const root = join(base, 'root');
  fs.mkdirSync(root, { recursive: true });
  // No background write-back: the tests start every batch themselves.
  const cache = openCacheSync({ region: join(base, 'region.rio'), root, size: '1MiB', blockSize: BS, writeBack: { intervalMs: 3_600_000, maxAgeMs: 3_600_000 } });
  return { root, cache };
}

/** Threads of this process blocked opening a FIFO (their kernel wait channel). */
function threadsWaitingOnFifos(): number {
  let count = 0;
  for (const task of fs.readdirSync('/proc/self/task')) {
    try {
      if (fs.readFileSync(`/proc/self/task/${task}/wchan`, 'utf8').startsWith('wait_for_partner')) count++;
    } catch {
      /* the thread exited */
    }
  }
  return count;
}

/**
 * Blocks every threadpool thread; resolves once all are blocked, with the
 * function that frees them. I/O queued meanwhile runs only after that.
 */
async function holdThreadpool(): Promise<() => Promise<void>> {
  const threads = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  const fifos: string[] = [];
  const opened: Array<Promise<unknown>> = [];
  for (let i = 0; i < threads; i++) {
    const fifo = join(dir, `fifo-${n}-${i}`);
    execFileSync('mkfifo', [fifo]);
    fifos.push(fifo);
    opened.push(fs.promises.open(fifo, 'r').then((h) => h.close()));
  }
  for (let tries = 0; threadsWaitingOnFifos() < threads; tries++) {
    if (tries > 5000) throw new Error('the threadpool threads never blocked on the FIFOs');
    await new Promise((r) => setTimeout(r, 1));
  }
  return async () => {
    for (const fifo of fifos) fs.closeSync(fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK));
    await Promise.all(opened);
  };
}

/** Waits (a bounded number of turns) until a write-back batch is in flight. */
async function batchInFlight(cache: Cache): Promise<void> {
  for (let i = 0; i < 1000 && !cache.engine.writeBack.busy; i++) await new Promise((r) => setImmediate(r));
  expect(cache.engine.writeBack.busy).toBe(true);
}

/** The buffer pool's bookkeeping: every buffer free exactly once, or owned and indexed. */
function expectPoolConsistent(cache: Cache): void {
  const e = cache.engine;
  const pool = e.pool as unknown as { free: Int32Array; freeTop: number; fresh: number };
  const free = new Set<number>();
  // Buffers from the used bound up are free without being on the stack.
  for (let b = pool.fresh; b < e.reg.count; b++) free.add(b);
  for (let i = 0; i < pool.freeTop; i++) {
    const b = pool.free[i];
    expect(b < pool.fresh, `buffer ${b} is on the free stack and above the used bound`).toBe(true);
    expect(free.has(b), `buffer ${b} is on the free stack twice`).toBe(false);
    free.add(b);
    expect(e.reg.state(b), `free buffer ${b} is not FREE`).toBe(FREE);
    expect(e.pool.owner[b], `free buffer ${b} has an owner`).toBe(null);
  }
  for (let b = 0; b < e.reg.count; b++) {
    if (e.reg.state(b) === FREE) {
      expect(free.has(b), `FREE buffer ${b} is neither on the free stack nor busy`).toBe(true);
      continue;
    }
    const file = e.pool.owner[b];
    expect(file, `buffer ${b} is in use without an owner`).not.toBe(null);
    expect(e.index.get(file!.slot, e.reg.block(b))).toBe(b);
    expect(free.has(b), `buffer ${b} is in use and free`).toBe(false);
  }
}

describe('I/O in flight', () => {
  it('a write-back in flight never lands in another file when its file is unlinked (descriptor numbers are not reused under it)', async () => {
    const { root, cache } = fresh();
    const other = Buffer.alloc(6 * BS, 0x62);
    fs.writeFileSync(join(root, 'b'), other); // written outside the cache: clean on disk
    const fd = cache.fs.openSync('a', 'w');
    for (const block of [0, 2, 4, 6]) cache.fs.writeSync(fd, Buffer.alloc(BS, 0x61), 0, BS, block * BS); // four runs
    cache.fs.closeSync(fd);
    const release = await holdThreadpool();
    const flushing = cache.flush();
    await batchInFlight(cache);
    cache.fs.unlinkSync('a');
    const fdB = cache.fs.openSync('b', 'r+'); // the kernel would give it the number 'a' had
    await release();
    await flushing;
    await cache.flush();
    expect(fs.readFileSync(join(root, 'b')).equals(other)).toBe(true);
    expect(fs.existsSync(join(root, 'a'))).toBe(false);
    expect(cache.stats().writeBackErrors).toBe(0);
    cache.fs.closeSync(fdB);
    expectPoolConsistent(cache);
    await cache.close();
  });

  it('a truncated block whose write-back lands after an fsync cut leaves zeros, on disk and in the cache', async () => {
    const { root, cache } = fresh();
    const fd = cache.fs.openSync('c', 'w+');
    cache.fs.writeSync(fd, Buffer.alloc(8 * BS, 0x63), 0, 8 * BS, 0);
    const release = await holdThreadpool();
    const flushing = cache.flush();
    await batchInFlight(cache);
    cache.fs.ftruncateSync(fd, 100); // drops blocks 1..7 (in flight), trims block 0
    cache.fs.fsyncSync(fd); // cuts the disk file while the batch is still queued
    cache.fs.ftruncateSync(fd, 8 * BS); // a hole again
    await release();
    await flushing;
    await cache.flush();
    const expected = Buffer.alloc(8 * BS);
    expected.fill(0x63, 0, 100);
    expect(fs.readFileSync(join(root, 'c')).equals(expected)).toBe(true);
    // Dropped from the cache, the hole is read back from the disk.
    for (let b = 0; b < cache.engine.reg.count; b++) {
      if (cache.engine.reg.state(b) !== FREE) cache.engine.pool.evict(b);
    }
    const back = Buffer.alloc(8 * BS, 0xff);
    cache.fs.readSync(fd, back, 0, back.length, 0);
    expect(back.equals(expected)).toBe(true);
    cache.fs.closeSync(fd);
    expectPoolConsistent(cache);
    await cache.close();
  });

  it('an asynchronous fill of a block whose old buffer is still being written back does not share that buffer', async () => {
    const { cache } = fresh();
    const fd = cache.fs.openSync('d', 'w+');
    cache.fs.writeSync(fd, Buffer.alloc(4 * BS, 0x64), 0, 4 * BS, 0);
    const release = await holdThreadpool();
    const flushing = cache.flush();
    await batchInFlight(cache);
    cache.fs.ftruncateSync(fd, 0); // every block dropped while in flight
    cache.fs.ftruncateSync(fd, 4 * BS);
    const handle = await cache.fs.promises.open('d', 'r');
    const reads = [0, 1, 2, 3].map((block) => handle.read(Buffer.alloc(BS, 0xff), 0, BS, block * BS));
    await release();
    await flushing;
    const got = await Promise.all(reads);
    for (const r of got) expect(Buffer.compare(r.buffer as Uint8Array, Buffer.alloc(BS))).toBe(0);
    await handle.close();
    expectPoolConsistent(cache);
    // Every buffer still usable: fill the whole cache with another file and read it back.
    const big = Buffer.alloc(cache.stats().capacityBytes, 0x65);
    for (let i = 0; i < big.length; i += 7) big[i] = i & 0xff;
    cache.fs.writeFileSync('e', big);
    expect(cache.fs.readFileSync('e').equals(big)).toBe(true);
    cache.fs.closeSync(fd);
    expectPoolConsistent(cache);
    await cache.close();
  });

  it('closeSync with write-back and a fill in flight: the queued I/O touches neither the files nor the region; the next open recovers', async () => {
    const { root, cache } = fresh();
    fs.writeFileSync(join(root, 'g'), Buffer.alloc(2 * BS, 0x67));
    const data = Buffer.alloc(3 * BS, 0x66);
    cache.fs.writeFileSync('f', data);
    const handle = await cache.fs.promises.open('g', 'r');
    const release = await holdThreadpool();
    const flushing = cache.flush().then(() => 'flushed', (err) => (err as { code?: string }).code);
    await batchInFlight(cache);
    const reading = handle.read(Buffer.alloc(BS), 0, BS, BS).then(() => 'read', (err) => (err as { code?: string }).code);
    cache.closeSync();
    fs.writeFileSync(join(root, 'g'), 'changed after close'); // the queued read must not see the region
    await release();
    expect(await reading).toBe('REGION_CLOSED');
    await flushing;
    // Nothing was marked clean under the retired descriptors: the region is recovered.
    const again = openCacheSync({ region: cache.region.path, root, size: '1MiB', blockSize: BS });
    expect(again.recovery?.ran).toBe(true);
    expect(fs.readFileSync(join(root, 'f')).equals(data)).toBe(true);
    expect(again.fs.readFileSync('f').equals(data)).toBe(true);
    expectPoolConsistent(again);
    await again.close();
  });
});
