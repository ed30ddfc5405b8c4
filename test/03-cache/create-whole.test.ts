/**
 * A writeFile that creates its file (docs/format.md §6, UNNAMED): the bytes
 * go to a cached file with no name, linked under the path once committed.
 * Here: what a caller sees (the file cached, plain fs's errors and flags),
 * and the two ends a creation can meet short of its link — a clean close
 * while it waits, and a name taken meanwhile. The kills at every store are
 * in test/04-recovery (store-script.ts: "create a file whole").
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCacheSync } from '../../src';
import { scratchDir } from '../helpers';

const { dir, cleanup } = scratchDir('create-whole');
afterAll(cleanup);

let n = 0;
function fresh() {
  const base = join(dir, `c${n++}`);
  const root = join(base, 'root');
  fs.mkdirSync(root, { recursive: true });
  const options = { region: join(base, 'region.rio'), root, size: '1MiB', writeBack: { intervalMs: 1e6, dirtyRatio: 1 } };
  return { root, options, cache: openCacheSync(options) };
}

const bytes = (length: number, seed: number) => Buffer.from(Array.from({ length }, (_, i) => (i * 7 + seed) & 0xff));

describe('a writeFile that creates its file', () => {
  it('is cached from the start, named once its bytes are committed, and answers as node:fs does', async () => {
    const { root, cache } = fresh();
    const data = bytes(10_000, 1);
    cache.fs.writeFileSync('new', data);
    expect(cache.stats().dirtyBytes).toBeGreaterThanOrEqual(data.length); // in the region, not written through
    expect(cache.fs.readFileSync('new').equals(data)).toBe(true);
    expect(fs.readdirSync(root)).toEqual(['new']); // no temporary name, ever
    await cache.fs.promises.writeFile('p', 'promise');
    await new Promise<void>((res, rej) => cache.fs.writeFile('cb', 'callback', (err) => (err ? rej(err) : res())));
    expect(() => cache.fs.writeFileSync('new', 'x', { flag: 'wx' })).toThrow(expect.objectContaining({ code: 'EEXIST', syscall: 'open' }));
    cache.fs.writeFileSync('excl', 'only', { flag: 'wx' });
    expect(() => cache.fs.writeFileSync('missing/x', 'x')).toThrow(expect.objectContaining({ code: 'ENOENT', syscall: 'open' }));
    cache.fs.writeFileSync('moded', 'm', { mode: 0o600 });
    cache.closeSync();
    expect(fs.readFileSync(join(root, 'new')).equals(data)).toBe(true);
    expect(fs.readFileSync(join(root, 'p'), 'utf8')).toBe('promise');
    expect(fs.readFileSync(join(root, 'cb'), 'utf8')).toBe('callback');
    expect(fs.readFileSync(join(root, 'excl'), 'utf8')).toBe('only');
    expect(fs.statSync(join(root, 'moded')).mode & 0o777).toBe(0o600 & ~process.umask());
    expect(fs.readdirSync(root).sort()).toEqual(['cb', 'excl', 'moded', 'new', 'p']);
  });

  it('is whole at any size: more than atomicWriteBytesMax and more than the region, named only after the last byte', () => {
    const { root, cache } = fresh();
    const data = bytes(3 * 1024 * 1024, 2); // three times the 1 MiB region
    expect(data.length).toBeGreaterThan(cache.atomicWriteBytesMax);
    cache.fs.writeFileSync('big', data);
    expect(cache.fs.readFileSync('big').equals(data)).toBe(true);
    cache.closeSync();
    expect(fs.readFileSync(join(root, 'big')).equals(data)).toBe(true);
  });

  it('cut short by a clean close before its link: no file, no entry left, the region opens clean', () => {
    const { root, options, cache } = fresh();
    // The steps of the creation up to its link, as an asynchronous writeFile still waiting for room would be.
    const fd = cache.handles.openUnnamed('pending', 0o666)!;
    cache.io.replaceSync(fd, Buffer.from('never named'), 0, 11);
    expect(cache.fs.existsSync('pending')).toBe(false); // no call finds a file before its name exists
    cache.closeSync();
    expect(fs.readdirSync(root).filter((f) => f !== '.riocache')).toEqual([]);
    const again = openCacheSync(options);
    expect(again.recovery.ran).toBe(false);
    expect(again.engine.fileTable.unnamedSlots()).toEqual([]); // freed at open, not left to hold a slot
    expect(again.fs.existsSync('pending')).toBe(false);
    again.fs.writeFileSync('pending', 'now'); // the slot and the name are free
    again.closeSync();
    expect(fs.readFileSync(join(root, 'pending'), 'utf8')).toBe('now');
  });

  it('a name taken while it waited: the waiting file is dropped and the file there is written, as plain fs would', async () => {
    const { root, cache } = fresh();
    let waiting!: Promise<void>;
    await cache.transaction(async () => {
      waiting = cache.fs.promises.writeFile('race', 'second');
      await new Promise((r) => setImmediate(r));
      fs.writeFileSync(join(root, 'race'), 'first, by another program');
    }, { flush: false });
    await waiting;
    expect(cache.fs.readFileSync('race', 'utf8')).toBe('second');
    cache.closeSync();
    expect(fs.readFileSync(join(root, 'race'), 'utf8')).toBe('second');
  });
});
