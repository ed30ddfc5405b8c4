/**
 * Crash simulation at every store boundary. For each operation of a script,
 * for each k, the operation is stopped right before its k-th store into the
 * region (the tracer throws), the cache is abandoned as a killed process would
 * be, and the region is reopened through the warm reboot. The files must then
 * show the state before the operation or after it, nothing else (G1, G2); a
 * second cut inside that recovery, then a third recovery, must give the same
 * files (G6).
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCacheSync, type Cache } from '../../src';
import { SimulatedCrash, traceNewRegions } from '../../src/region/primitives';
import { scratchDir } from '../helpers';
import { snapshot } from '../03-cache/differential';
import { abandon } from './abandon';

const { dir, cleanup } = scratchDir('cuts');
afterAll(() => {
  traceNewRegions(null);
  cleanup();
});

/** An operation of the script; `setup` ones are run but not cut (they are many writes, not one). */
type Op = { name: string; run: (c: Cache, fds: Map<string, number>) => void; setup?: boolean };

const pattern = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 13 + seed) & 0xff));

const open = (c: Cache, fds: Map<string, number>, name: string, flags = 'r+') => {
  if (!fds.has(name)) fds.set(name, c.fs.openSync(name, flags));
  return fds.get(name)!;
};

const script: Op[] = [
  { name: 'create', run: (c, f) => void open(c, f, 'log', 'a+') },
  { name: 'append', run: (c, f) => c.fs.writeSync(open(c, f, 'log'), pattern(100, 1), 0, 100, 0) },
  { name: 'append across a block', run: (c, f) => c.fs.writeSync(open(c, f, 'log'), pattern(5000, 2), 0, 5000, 100) },
  { name: 'overwrite inside a block', run: (c, f) => c.fs.writeSync(open(c, f, 'log'), pattern(300, 3), 0, 300, 1000) },
  { name: 'overwrite across blocks and extend', run: (c, f) => c.fs.writeSync(open(c, f, 'log'), pattern(9000, 4), 0, 9000, 3000) },
  { name: 'write past the end (hole)', run: (c, f) => c.fs.writeSync(open(c, f, 'log'), pattern(50, 5), 0, 50, 20000) },
  { name: 'truncate shorter', run: (c, f) => c.fs.ftruncateSync(open(c, f, 'log'), 6000) },
  { name: 'truncate longer', run: (c, f) => c.fs.ftruncateSync(open(c, f, 'log'), 13000) },
  { name: 'create a second file', run: (c, f) => void open(c, f, 'data', 'w+') },
  { name: 'second file, multi-block', run: (c, f) => c.fs.writeSync(open(c, f, 'data'), pattern(16384, 6), 0, 16384, 0) },
  { name: 'overwrite whole blocks', run: (c, f) => c.fs.writeSync(open(c, f, 'data'), pattern(8192, 7), 0, 8192, 4096) },
  { name: 'rename over an existing file', run: (c) => c.fs.renameSync('data', 'log2') },
  { name: 'fsync', run: (c, f) => c.fs.fsyncSync(open(c, f, 'log')) },
  { name: 'overwrite after fsync', run: (c, f) => c.fs.writeSync(open(c, f, 'log'), pattern(700, 8), 0, 700, 4000) },
  { name: 'unlink', run: (c) => c.fs.unlinkSync('log2') },
  { name: 'many small appends', run: (c, f) => c.fs.writeSync(open(c, f, 'log'), pattern(64, 9), 0, 64, 13000) },
  {
    name: 'fill the cache with dirty data', setup: true,
    run: (c, f) => {
      const fd = open(c, f, 'bulk', 'w+');
      for (let i = 0; i < 120; i++) c.fs.writeSync(fd, pattern(4096, i), 0, 4096, i * 4096);
    },
  },
  { name: 'multi-block write under back-pressure', run: (c, f) => c.fs.writeSync(open(c, f, 'log'), pattern(20000, 10), 0, 20000, 2000) },
  { name: 'overwrite of dirty bulk data', run: (c, f) => c.fs.writeSync(open(c, f, 'bulk'), pattern(10000, 11), 0, 10000, 100000) },
];

interface World {
  base: string;
  region: string;
  root: string;
}

function makeWorld(name: string): World {
  const base = join(dir, name);
  fs.rmSync(base, { recursive: true, force: true });
  fs.mkdirSync(join(base, 'root'), { recursive: true });
  return { base, region: join(base, 'region.rio'), root: join(base, 'root') };
}

const options = (w: World) => ({ region: w.region, root: w.root, size: 512 * 1024, writeBack: { intervalMs: 1e6, dirtyRatio: 1 } });

/** Runs the first `count` operations, flushes, and returns the files as they are then. */
function expectedAfter(count: number): Map<string, Buffer> {
  const w = makeWorld('oracle');
  const c = openCacheSync(options(w));
  const fds = new Map<string, number>();
  for (let i = 0; i < count; i++) script[i].run(c, fds);
  for (const fd of fds.values()) c.fs.closeSync(fd);
  c.closeSync();
  return snapshot(w.root);
}


describe('a cut before any store of an operation leaves it all or nothing', () => {
  it('holds at every store of every operation of the script, and recovery cut again converges', () => {
    const states = [expectedAfter(0)];
    for (let i = 1; i <= script.length; i++) states.push(expectedAfter(i));
    let cuts = 0;
    let recoveryCuts = 0;
    let backPressureCuts = 0;
    for (let i = 0; i < script.length; i++) {
      if (script[i].setup) continue;
      for (let k = 0; ; k++) {
        // The world just before operation i, built afresh (copies would change inodes).
        const w = makeWorld('before');
        const cache = openCacheSync(options(w));
        const fds2 = new Map<string, number>();
        for (let j = 0; j < i; j++) script[j].run(cache, fds2);
        let n = 0;
        cache.region.memory.tracer = () => {
          if (n++ === k) throw new SimulatedCrash(k);
        };
        let finished = true;
        const pressureBefore = cache.stats().backPressureSync;
        try {
          script[i].run(cache, fds2);
        } catch (err) {
          if (!(err instanceof SimulatedCrash)) throw err;
          finished = false;
        }
        cache.region.memory.tracer = null;
        if (cache.stats().backPressureSync > pressureBefore) backPressureCuts++;
        abandon(cache);
        // Recovery, itself cut at store (k * 7) % 40, then run again to the end.
        let r = 0;
        const cutAt = (k * 7) % 40;
        traceNewRegions(() => {
          if (r++ === cutAt) throw new SimulatedCrash(cutAt);
        });
        try {
          const half = openCacheSync(options(w));
          traceNewRegions(null);
          abandon(half);
        } catch (err) {
          traceNewRegions(null);
          if (!(err instanceof SimulatedCrash)) throw err;
          recoveryCuts++;
        }
        const after = openCacheSync(options(w));
        after.closeSync();
        const got = snapshot(w.root, new Set(['lost+found']));
        const ok = equal(got, states[i]) || equal(got, states[i + 1]);
        if (!ok) {
          const show = (m: Map<string, Buffer>) => JSON.stringify([...m].map(([n, b]) => [n, b.length, b.subarray(0, 8).toString('hex')]));
          console.log('got', show(got), 'before', show(states[i]), 'after', show(states[i + 1]));
          throw new Error(`operation ${i} (${script[i].name}) cut at store ${k}: the files match neither the state before nor after`);
        }
        expect(fs.existsSync(join(w.root, 'lost+found'))).toBe(false);
        cuts++;
        if (finished) {
          expect(equal(got, states[i + 1])).toBe(true);
          break;
        }
      }
    }
    console.log(`cuts ${cuts}, recovery cuts ${recoveryCuts}, cuts after back-pressure ${backPressureCuts}`);
    expect(cuts).toBeGreaterThan(script.length * 5);
    expect(recoveryCuts).toBeGreaterThan(10);
    expect(backPressureCuts).toBeGreaterThan(5); // cuts that landed after write-back inside the operation
  });
});

function equal(a: Map<string, Buffer>, b: Map<string, Buffer>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (!b.get(k)?.equals(v)) return false;
  return true;
}
