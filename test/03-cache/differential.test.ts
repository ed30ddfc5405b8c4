import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCacheSync } from '../../src';
import { scratchDir } from '../helpers';
import { operations, run, Side, snapshot, type FsLike } from './differential';

const { dir, cleanup } = scratchDir('differential');
afterAll(cleanup);

function prepare(root: string) {
  fs.mkdirSync(join(root, 'd'), { recursive: true });
  fs.mkdirSync(join(root, 'g/h'), { recursive: true });
  fs.writeFileSync(join(root, 'a'), Buffer.alloc(9000, 0x61));
  fs.writeFileSync(join(root, 'd/e'), 'preexisting');
}

describe('cache.fs against Node fs, step by step', () => {
  // The last two run with the region's commits flushed and fenced as for
  // persistent memory ('cpu') and msynced as for a disk file ('msync'): the
  // same results, through the other store paths.
  for (const [seed, blockSize, size, steps, persist] of [
    [1, 4096, 256 * 1024, 4000, 'none'],
    [2, 4096, 224 * 1024, 4000, 'none'],
    [3, 512, 148 * 1024, 4000, 'none'],
    [4, 4096, 240 * 1024, 4000, 'none'],
    [5, 1024, 192 * 1024, 4000, 'none'],
    [6, 4096, 224 * 1024, 2000, 'cpu'],
    [7, 4096, 224 * 1024, 1000, 'msync'],
  ] as const) {
    it(`seed ${seed}: ${steps} operations, block ${blockSize}, region ${size / 1024} KiB, persist ${persist}`, () => {
      const base = join(dir, `s${seed}`);
      const cacheRoot = join(base, 'cache');
      const nodeRoot = join(base, 'node');
      fs.mkdirSync(cacheRoot, { recursive: true });
      fs.mkdirSync(nodeRoot, { recursive: true });
      prepare(cacheRoot);
      prepare(nodeRoot);
      const cache = openCacheSync({
        region: join(base, 'region.rio'), root: cacheRoot, size, blockSize, maxFiles: 24,
        writeBack: { intervalMs: 1_000_000, dirtyRatio: 1 }, persist,
      });
      expect((cache as unknown as { engine: { mem: { persistMode: string } } }).engine.mem.persistMode).toBe(persist);
      const cacheSide = new Side(cache.fs as unknown as FsLike, '');
      const nodeSide = new Side(fs as unknown as FsLike, nodeRoot);
      let i = 0;
      for (const step of operations(seed, steps, blockSize)) {
        const a = run(step, cacheSide);
        const b = run(step, nodeSide);
        if (JSON.stringify(a) !== JSON.stringify(b)) {
          throw new Error(`seed ${seed} step ${i}: cache gave ${JSON.stringify(a).slice(0, 300)}, node gave ${JSON.stringify(b).slice(0, 300)}`);
        }
        if (i % 500 === 499) {
          cache.flushSync();
          expect(snapshot(cacheRoot)).toEqual(snapshot(nodeRoot));
        }
        i++;
      }
      const stats = cache.stats();
      cache.flushSync();
      expect(snapshot(cacheRoot)).toEqual(snapshot(nodeRoot));
      // The region was small enough that eviction and back-pressure happened.
      expect(stats.evictions).toBeGreaterThan(0);
      expect(stats.backPressureSync).toBeGreaterThan(0);
      for (const fd of cacheSide.fds) if (fd !== null) try { cache.fs.closeSync(fd); } catch { /* closed */ }
      for (const fd of nodeSide.fds) if (fd !== null) try { fs.closeSync(fd); } catch { /* closed */ }
      cache.closeSync();
      expect(snapshot(cacheRoot)).toEqual(snapshot(nodeRoot));
    });
  }
});
