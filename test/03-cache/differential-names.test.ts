import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCacheSync } from '../../src';
import { scratchDir } from '../helpers';
import { namespaceOperations, NameSide, prepare, runNamed, tree } from './differential-names';

const { dir, cleanup } = scratchDir('differential-names');
afterAll(cleanup);

/** Every file of the cache's tree: the disk's mtime after a flush is the one the cache reported (the last write's). */
function expectDiskTimesAsReported(cache: ReturnType<typeof openCacheSync>, root: string): void {
  for (const [p, what] of tree(root)) {
    if (what.startsWith('dir') || what.startsWith('->')) continue;
    expect(fs.statSync(join(root, p)).mtimeMs, p).toBe(cache.fs.statSync(p).mtimeMs);
  }
}

describe('cache.fs against Node fs with directories, stats, links, copies and truncation by path', () => {
  // RIOCACHE_DIFF_SEEDS=first-last runs more seeds (each with one of the four geometries).
  // Each namespace step calls its function in a seeded face (Sync, callback, promise); RIOCACHE_DIFF_FACES=sync keeps to Sync.
  const faces = process.env.RIOCACHE_DIFF_FACES !== 'sync';
  const geometries = [[4096, 256 * 1024], [1024, 160 * 1024], [512, 148 * 1024], [4096, 224 * 1024]] as const;
  const extra = (process.env.RIOCACHE_DIFF_SEEDS ?? '').split('-').map(Number);
  const seeds = extra.length === 2 && extra[1] >= extra[0] ? Array.from({ length: extra[1] - extra[0] + 1 }, (_, i) => extra[0] + i) : [101, 102, 103, 104];
  for (const [seed, blockSize, size, steps] of seeds.map((s) => [s, ...geometries[(((s - 101) % 4) + 4) % 4], 3000] as const)) {
    it(`seed ${seed}: ${steps} operations, block ${blockSize}, region ${size / 1024} KiB, ${faces ? 'Sync, callback and promise forms' : 'Sync forms'}`, async () => {
      const base = join(dir, `s${seed}`);
      const cacheRoot = join(base, 'cache');
      const nodeRoot = join(base, 'nodes'); // as long as 'cache': cp's absolute symlinks are as long on both sides
      fs.mkdirSync(cacheRoot, { recursive: true });
      fs.mkdirSync(nodeRoot, { recursive: true });
      prepare(cacheRoot);
      prepare(nodeRoot);
      const cache = openCacheSync({
        region: join(base, 'region.rio'), root: cacheRoot, size, blockSize, maxFiles: 24,
        writeBack: { intervalMs: 1_000_000, dirtyRatio: 1 },
      });
      const cacheSide = new NameSide(cache.fs, '', cacheRoot, true);
      const nodeSide = new NameSide(fs, nodeRoot, nodeRoot, false);
      const seen = new Set<string>();
      const recent: string[] = [];
      let i = 0;
      for (const step of namespaceOperations(seed, steps, blockSize, faces)) {
        const a = await runNamed(step, cacheSide);
        const b = await runNamed(step, nodeSide);
        recent.push(`${i} ${JSON.stringify(b).slice(0, 160)}`);
        if (process.env.RIOCACHE_DIFF_TREE) recent.push(`   cache: ${[...tree(cacheRoot)].map(([k, v]) => `${k}=${v.slice(0, 12)}`).join(" ")}\n   node:  ${[...tree(nodeRoot)].map(([k, v]) => `${k}=${v.slice(0, 12)}`).join(" ")}`);
        if (recent.length > 40) recent.shift();
        if (JSON.stringify(a) !== JSON.stringify(b)) {
          if (process.env.RIOCACHE_DIFF_TRACE) console.log(recent.join('\n'), cacheSide.lastStack);
          throw new Error(`seed ${seed} step ${i}: cache gave ${JSON.stringify(a).slice(0, 400)}, node gave ${JSON.stringify(b).slice(0, 400)}`);
        }
        seen.add(a.op === 'error' ? 'error' : a.op.split(' ')[0]);
        if (process.env.RIOCACHE_DIFF_EVERY) {
          // Coherence: every file the cache names is what its path holds on the disk.
          const e = (cache as unknown as { engine: { fileTable: { entries: Array<{ state: number; path: string; ino: number }> } } }).engine;
          e.fileTable.entries.forEach((x) => {
            if (x.state !== 1) return;
            const st = fs.statSync(join(cacheRoot, x.path), { throwIfNoEntry: false }); // a key may lead through a symlink
            if (!st || st.ino !== x.ino) cacheSide.violations.push(`file table names ${x.path} (inode ${x.ino}), the disk holds ${st?.ino}`);
          });
        }
        if (cacheSide.violations.length > 0) {
          if (process.env.RIOCACHE_DIFF_TRACE) console.log(recent.join("\n"));
          throw new Error(`seed ${seed} step ${i}: ${cacheSide.violations[0]}`);
        }
        if (i % 500 === 499 || process.env.RIOCACHE_DIFF_EVERY) {
          cache.flushSync();
          try {
            expect(tree(cacheRoot)).toEqual(tree(nodeRoot));
            expectDiskTimesAsReported(cache, cacheRoot);
          } catch (err) {
            if (process.env.RIOCACHE_DIFF_TRACE) console.log(recent.join('\n'));
            throw new Error(`seed ${seed} after step ${i}: ${(err as Error).message}`);
          }
        }
        i++;
      }
      const stats = cache.stats();
      cache.flushSync();
      expect(tree(cacheRoot)).toEqual(tree(nodeRoot));
      expectDiskTimesAsReported(cache, cacheRoot);
      // Every kind of call ran, and the region was small enough to evict and push back.
      for (const op of ['mkdir', 'rmdir', 'rm', 'readdir', 'stat', 'lstat', 'symlink', 'readlink', 'link', 'copyFile', 'cp',
        'truncate', 'chmod', 'utimes', 'realpath', 'rename', 'write', 'read', 'open', 'error']) expect(seen, op).toContain(op);
      if (!process.env.RIOCACHE_DIFF_EVERY) { // a flush at every step leaves nothing to push back
        expect(stats.evictions).toBeGreaterThan(0);
        expect(stats.backPressureSync).toBeGreaterThan(0);
      }
      for (const fd of cacheSide.fds) if (fd !== null) try { cache.fs.closeSync(fd); } catch { /* closed */ }
      for (const fd of nodeSide.fds) if (fd !== null) try { fs.closeSync(fd); } catch { /* closed */ }
      cache.closeSync();
      expect(tree(cacheRoot)).toEqual(tree(nodeRoot));
    });
  }
});

describe('paths through absolute symlinks that stay inside the root', () => {
  // Found by seed 268: `a -> d/../a` with d a file. The kernel does not resolve `..` lexically: d must be a directory.
  it('fail as the kernel fails them when a component is not a directory (ENOTDIR, not ELOOP)', () => {
    const base = join(dir, 'abs-links');
    const sides = ['cache', 'nodes'].map((s) => join(base, s));
    for (const root of sides) {
      fs.mkdirSync(join(root, 'q'), { recursive: true });
      fs.writeFileSync(join(root, 'd'), 'a file');
      fs.symlinkSync('d/../a', join(root, 'a'));
      fs.symlinkSync(join(root, 'a'), join(root, 'q/r')); // absolute, as cp makes them
    }
    const cache = openCacheSync({ region: join(base, 'region.rio'), root: sides[0], size: 256 * 1024 });
    const codeOf = (f: () => unknown) => {
      try {
        f();
        return 'no error';
      } catch (err) {
        return `${(err as NodeJS.ErrnoException).code} ${(err as NodeJS.ErrnoException).syscall}`;
      }
    };
    for (const call of ['accessSync', 'statSync', 'readFileSync'] as const) {
      const cached = codeOf(() => (cache.fs[call] as (p: string) => unknown)('q/r'));
      const plain = codeOf(() => (fs[call] as (p: string) => unknown)(join(sides[1], 'q/r')));
      expect(cached, call).toBe(plain);
      expect(plain, call).toMatch(/^ENOTDIR/);
    }
    cache.closeSync();
  });
});
