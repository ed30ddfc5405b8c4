/**
 * Stats of cached files tell the truth through a crash: a real child writes
 * through the cache (nothing written back), reports what cache.fs.statSync
 * says, and is SIGKILLed; the warm reboot writes the dirty data back and gives
 * each file the mtime the child reported (its last write's), and the cache's
 * stat agrees. A clean close does the same.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCacheSync } from '../../src';
import { killHard, scratchDir, spawnFixture } from '../helpers';

const { dir, cleanup } = scratchDir('mtime');
afterAll(cleanup);

describe('mtimes of cached files', () => {
  it('a warm reboot after SIGKILL gives every file the mtime of its last write', async () => {
    const root = join(dir, 'killed');
    fs.mkdirSync(root);
    const region = join(dir, 'killed.rio');
    const child = spawnFixture('mtime-writer.js', [region, root]);
    const { stats } = await child.next();
    // Nothing reached the disk: the child's stat came from the cache.
    expect(fs.statSync(join(root, 'a')).size).toBe(0);
    await killHard(child);
    const cache = openCacheSync({ region, root, size: 1 << 20 });
    expect(cache.recovery.ran).toBe(true);
    for (const [f, want] of Object.entries(stats as Record<string, { size: number; mtimeMs: number }>)) {
      const disk = fs.statSync(join(root, f));
      expect(disk.size, f).toBe(want.size);
      expect(disk.mtimeMs, f).toBe(want.mtimeMs);
      expect(cache.fs.statSync(f).mtimeMs, f).toBe(want.mtimeMs);
    }
    cache.closeSync();
  });

  it('a clean close leaves the disk with the mtime cache.fs reported before it', () => {
    const root = join(dir, 'closed');
    fs.mkdirSync(root);
    fs.writeFileSync(join(root, 'old'), 'x');
    fs.utimesSync(join(root, 'old'), 1_000_000, 1_000_000); // long ago: any write moves it
    const cache = openCacheSync({ region: join(dir, 'closed.rio'), root, size: 1 << 20, writeBack: { intervalMs: 1_000_000, dirtyRatio: 1 } });
    const fd = cache.fs.openSync('old', 'r+');
    const before = cache.fs.fstatSync(fd).mtimeMs;
    const t0 = Date.now();
    cache.fs.writeSync(fd, 'yy', 1);
    const after = cache.fs.fstatSync(fd);
    expect(before).toBe(1_000_000_000);
    expect(after.mtimeMs).toBeGreaterThanOrEqual(t0);
    expect(after.size).toBe(3);
    expect(fs.statSync(join(root, 'old')).mtimeMs).toBe(1_000_000_000); // the disk has not seen the write yet
    cache.fs.closeSync(fd);
    cache.closeSync();
    expect(fs.statSync(join(root, 'old')).mtimeMs).toBe(after.mtimeMs);
  });
});
