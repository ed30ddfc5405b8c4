/**
 * The promise API against fs.promises: a seeded sequence of FileHandle and
 * whole-file operations on both, identical results and error codes at every
 * step, in a region small enough that reads miss and writes wait for room.
 */
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCache } from '../../src';
import { rng, scratchDir } from '../helpers';
import { snapshot } from './differential';

const { dir, cleanup } = scratchDir('promises');
const disk = fs.mkdtempSync(join(tmpdir(), 'riocache-test-promises-'));
afterAll(() => {
  cleanup();
  fs.rmSync(disk, { recursive: true, force: true });
});

interface Handle {
  write(b: Buffer, o: number, l: number, p: number | null): Promise<{ bytesWritten: number }>;
  read(b: Buffer, o: number, l: number, p: number | null): Promise<{ bytesRead: number }>;
  truncate(len: number): Promise<void>;
  sync(): Promise<void>;
  datasync(): Promise<void>;
  stat(): Promise<fs.Stats>;
  readFile(): Promise<Buffer>;
  writeFile(d: Buffer): Promise<void>;
  appendFile(d: Buffer): Promise<void>;
  close(): Promise<void>;
}

interface Api {
  open(path: string, flags: string): Promise<Handle>;
  readFile(path: string): Promise<Buffer>;
  writeFile(path: string, d: Buffer): Promise<void>;
  appendFile(path: string, d: Buffer): Promise<void>;
  unlink(path: string): Promise<void>;
  rename(a: string, b: string): Promise<void>;
}

const names = ['a', 'b', 'c', 'd/e', 'missing/x'];
const flags = ['r', 'r+', 'w+', 'a+', 'a', 'wx'];

async function step(api: Api, prefix: string, handles: Array<Handle | null>, r: number[], data: Buffer): Promise<string> {
  const [k, u, v, w] = r;
  const live = handles.map((h, i) => (h ? i : -1)).filter((i) => i >= 0);
  const at = live.length > 0 ? live[Math.floor(u * live.length)] : -1;
  const h = at >= 0 ? handles[at]! : null;
  const name = join(prefix, names[Math.floor(v * names.length)]);
  const pos = w < 0.3 ? null : Math.floor(w * 40000);
  try {
    if (k < 0.12 || !h) {
      if (live.length >= 8) {
        await handles[live[0]]!.close();
        handles[live[0]] = null;
      }
      handles.push(await api.open(name, flags[Math.floor(u * flags.length)]));
      return 'open';
    }
    if (k < 0.4) return `write ${(await h.write(data, 0, data.length, pos)).bytesWritten}`;
    if (k < 0.6) {
      const buf = Buffer.alloc(data.length);
      const { bytesRead } = await h.read(buf, 0, buf.length, pos);
      return `read ${buf.subarray(0, bytesRead).toString('base64')}`;
    }
    if (k < 0.65) return `truncate ${await h.truncate(Math.floor(w * 30000))}`;
    if (k < 0.68) return `sync ${await (u < 0.5 ? h.sync() : h.datasync())}`;
    if (k < 0.72) return `stat ${(await h.stat()).size}`;
    if (k < 0.75) return `readFile ${(await h.readFile()).toString('base64')}`;
    if (k < 0.78) return `writeFile ${await h.writeFile(data)}`;
    if (k < 0.8) return `appendFile ${await h.appendFile(data)}`;
    if (k < 0.83) {
      await h.close();
      handles[at] = null;
      return 'close';
    }
    if (k < 0.87) return `p.readFile ${(await api.readFile(name)).toString('base64')}`;
    if (k < 0.91) return `p.writeFile ${await api.writeFile(name, data)}`;
    if (k < 0.94) return `p.appendFile ${await api.appendFile(name, data)}`;
    if (k < 0.97) return `p.unlink ${await api.unlink(name)}`;
    return `p.rename ${await api.rename(name, join(prefix, names[Math.floor(u * names.length)]))}`;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!code) throw err;
    return `error ${code}`;
  }
}

describe('cache.fs.promises against fs.promises', () => {
  // Seed 14 on a disk file system: there the asynchronous reads and fills are served from the page cache on the
  // event loop's thread (RWF_NOWAIT) where it holds the data; tmpfs refuses the flag, so seeds 11-13 take the thread pool.
  for (const [seed, where] of [[11, 'tmpfs'], [12, 'tmpfs'], [13, 'tmpfs'], [14, 'disk']] as const) {
    it(`seed ${seed}: 2500 operations (${where})`, async () => {
      const base = join(where === 'disk' ? disk : dir, `s${seed}`);
      for (const side of ['cache', 'node']) {
        fs.mkdirSync(join(base, side, 'd'), { recursive: true });
        fs.writeFileSync(join(base, side, 'a'), Buffer.alloc(20000, 7));
      }
      const cache = await openCache({
        region: join(base, 'r.rio'), root: join(base, 'cache'), size: '256KiB', maxFiles: 16,
        writeBack: { intervalMs: 5, maxAgeMs: 5, dirtyRatio: 0.3 },
      });
      const sides: Array<[Api, string, Array<Handle | null>]> = [
        [cache.fs.promises as unknown as Api, '', []],
        [fs.promises as unknown as Api, join(base, 'node'), []],
      ];
      const next = rng(seed);
      for (let i = 0; i < 2500; i++) {
        const r = [next(), next(), next(), next()];
        const data = Buffer.alloc(1 + Math.floor(next() * 9000), i & 0xff);
        const a = await step(sides[0][0], sides[0][1], sides[0][2], r, data);
        const b = await step(sides[1][0], sides[1][1], sides[1][2], r, data);
        if (a !== b) throw new Error(`seed ${seed} step ${i}: cache ${a.slice(0, 200)} / node ${b.slice(0, 200)}`);
      }
      for (const [, , handles] of sides) for (const h of handles) if (h) await h.close();
      const stats = cache.stats();
      await cache.close();
      expect(snapshot(join(base, 'cache'))).toEqual(snapshot(join(base, 'node')));
      expect(stats.misses).toBeGreaterThan(0);
      expect(stats.writeBackBatches).toBeGreaterThan(0);
    });
  }
});
