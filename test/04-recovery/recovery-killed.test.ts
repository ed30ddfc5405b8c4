/**
 * G6: a recovery killed at any point and run again gives the files an
 * uninterrupted recovery gives. The crashed state holds dirty buffers in
 * several files, an interrupted overwrite (undo armed), a pending truncation
 * (zeroFrom) and clean buffers. Each run starts from that same state,
 * restored in place (the same inodes: recovery checks them), then a real
 * process running `riocache recover` kills itself before region store K, and
 * `riocache recover` runs again to the end.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCacheSync } from '../../src';
import { SimulatedCrash } from '../../src/region/primitives';
import { repoRoot, scratchDir } from '../helpers';
import { snapshot } from '../03-cache/differential';
import { abandon } from './abandon';

const { dir, cleanup } = scratchDir('recovery-killed');
afterAll(cleanup);

const cli = join(repoRoot, 'dist', 'src', 'cli.js');
const recoverChild = join(repoRoot, 'dist', 'src', 'tools', 'crashtest', 'recover-child.js');
const pattern = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + seed * 13) & 0xff));

describe('a killed recovery, run again, ends where an uninterrupted one ends (G6)', () => {
  it('for every kill point', () => {
    const root = join(dir, 'root');
    const region = join(dir, 'region.rio');
    fs.mkdirSync(root);
    const opts = { region, root, size: '1MiB', writeBack: { intervalMs: 1e6, dirtyRatio: 1 } } as const;
    const cache = openCacheSync(opts);
    const names = ['one', 'two', 'three', 'four'];
    names.forEach((name, i) => cache.fs.writeFileSync(name, pattern(6000 + i * 5000, i)));
    cache.flushSync(); // some clean buffers
    const fd1 = cache.fs.openSync('one', 'r+');
    cache.fs.writeSync(fd1, pattern(9000, 9), 0, 9000, 3000);
    const fd2 = cache.fs.openSync('two', 'r+');
    cache.fs.ftruncateSync(fd2, 2000);
    cache.fs.writeSync(fd2, pattern(100, 4), 0, 100, 7000); // a hole past the cut
    const fd3 = cache.fs.openSync('three', 'r+');
    // An overwrite cut after the undo area armed: recovery must roll it back.
    let n = 0;
    let armed = -1;
    cache.region.memory.tracer = (op) => {
      if (op.kind === 'commit' && op.value === 1 && armed < 0) armed = n;
      if (armed >= 0 && n === armed + 6) throw new SimulatedCrash(n);
      n++;
    };
    expect(() => cache.fs.writeSync(fd3, Buffer.alloc(9000, 0xee), 0, 9000, 1000)).toThrow(SimulatedCrash);
    cache.region.memory.tracer = null;
    abandon(cache);

    // The crashed state, kept as bytes so it can be restored into the same inodes.
    const savedRegion = fs.readFileSync(region);
    const savedFiles = new Map(names.map((name) => [name, fs.readFileSync(join(root, name))]));
    const restore = () => {
      fs.writeFileSync(region, savedRegion);
      for (const [name, bytes] of savedFiles) {
        const fd = fs.openSync(join(root, name), 'r+');
        fs.ftruncateSync(fd, 0);
        fs.writeSync(fd, bytes, 0, bytes.length, 0);
        fs.closeSync(fd);
      }
      fs.rmSync(join(root, 'lost+found'), { recursive: true, force: true });
    };
    const recoverFully = () => {
      const res = spawnSync(process.execPath, [cli, 'recover', region, '--root', root, '--json'], { encoding: 'utf8' });
      expect(res.status, res.stderr).toBe(0);
      return JSON.parse(res.stdout);
    };

    const reference = recoverFully();
    expect(reference.report.undo.rolledBack).toBe(true);
    expect(reference.report.dirtyBuffersWritten).toBeGreaterThanOrEqual(5);
    const expected = snapshot(root);
    expect(expected.get('three')!.includes(Buffer.alloc(32, 0xee))).toBe(false);

    let killed = 0;
    for (let k = 0; ; k += k < 60 ? 3 : 17) {
      restore();
      const res = spawnSync(process.execPath, [recoverChild, region, root, String(k)], { encoding: 'utf8' });
      const wasKilled = res.signal === 'SIGKILL';
      if (!wasKilled) expect(res.status, res.stderr).toBe(0);
      if (wasKilled) killed++;
      recoverFully();
      expect(snapshot(root), `killed at store ${k}`).toEqual(expected);
      if (!wasKilled) break; // k is past the last store of the recovery
    }
    expect(killed).toBeGreaterThan(20);
  }, 120_000);
});
