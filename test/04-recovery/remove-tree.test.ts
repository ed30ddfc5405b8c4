/**
 * rm -r and rename of a directory holding cached files, cut at every store
 * into the region (the tracer throws, the cache is abandoned as a killed
 * process leaves it) and, for rm -r, half-way through the removal on the
 * disk: the warm reboot shows the tree wholly there (with every dirty byte)
 * or wholly gone, never a removed file resurrected, never its data in
 * lost+found, and a file outside the tree untouched (docs/format.md §3, §10).
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCacheSync, type Cache } from '../../src';
import { INTENT_REMOVE_TREE } from '../../src/region/format';
import { scratchDir } from '../helpers';
import { abandon } from './abandon';
import { tree } from '../03-cache/differential-names';

const { dir, cleanup } = scratchDir('remove-tree');
afterAll(cleanup);

class Cut extends Error {}

const bytes = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff));

/** A cache over a fresh root: t/open (open, dirty), t/sub/closed (closed, dirty), keep (outside, dirty). */
function world(name: string): { root: string; region: string; cache: Cache } {
  const base = join(dir, name);
  fs.rmSync(base, { recursive: true, force: true });
  const root = join(base, 'root');
  fs.mkdirSync(root, { recursive: true });
  const region = join(base, 'r.rio');
  const cache = openCacheSync({ region, root, size: 512 * 1024, writeBack: { intervalMs: 1e6, dirtyRatio: 1 } });
  cache.fs.mkdirSync('t/sub', { recursive: true });
  const open = cache.fs.openSync('t/open', 'w+');
  cache.fs.writeSync(open, bytes(3000, 1));
  const closed = cache.fs.openSync('t/sub/closed', 'w+');
  cache.fs.writeSync(closed, bytes(9000, 2));
  cache.fs.closeSync(closed);
  cache.fs.writeFileSync('keep', bytes(5000, 3));
  return { root, region, cache };
}

const before = new Map([
  ['t', 'dir'], ['t/open', bytes(3000, 1).toString('base64')], ['t/sub', 'dir'],
  ['t/sub/closed', bytes(9000, 2).toString('base64')], ['keep', bytes(5000, 3).toString('base64')],
]);

/** The tree as files and directories (modes left out), lost+found included: no good state has one. */
function state(root: string): Map<string, string> {
  return new Map([...tree(root)].map(([p, v]) => [p, v.startsWith('dir') ? 'dir' : v.split(' ').pop()!]));
}

function reboot(root: string, region: string): Map<string, string> {
  const cache = openCacheSync({ region, root, size: 512 * 1024 });
  expect(cache.recovery.ran).toBe(true);
  cache.closeSync();
  return state(root);
}

describe('a directory holding cached files, cut', () => {
  for (const [label, op, after] of [
    ['rm -r', (c: Cache) => c.fs.rmSync('t', { recursive: true }), new Map([['keep', before.get('keep')!]])],
    ['rename', (c: Cache) => c.fs.renameSync('t', 'u'), new Map([...before].map(([p, v]) => [p.replace(/^t(\/|$)/, 'u$1'), v]))],
  ] as const) {
    it(`${label}: before or after at every store`, () => {
      let outcomes = { before: 0, after: 0 };
      for (let k = 0; ; k++) {
        const { root, region, cache } = world('every');
        let n = 0;
        cache.region.memory.tracer = () => {
          if (n++ === k) throw new Cut();
        };
        let finished = true;
        try {
          op(cache);
        } catch (err) {
          if (!(err instanceof Cut)) throw err;
          finished = false;
        }
        cache.region.memory.tracer = null;
        abandon(cache);
        const got = reboot(root, region);
        const isBefore = JSON.stringify([...got].sort()) === JSON.stringify([...before].sort());
        const isAfter = JSON.stringify([...got].sort()) === JSON.stringify([...after].sort());
        expect(isBefore || isAfter, `cut at store ${k}: ${JSON.stringify([...got.keys()])}`).toBe(true);
        outcomes = isBefore ? { ...outcomes, before: outcomes.before + 1 } : { ...outcomes, after: outcomes.after + 1 };
        if (finished) {
          expect(isAfter).toBe(true);
          break;
        }
      }
      // Cuts fell both before the commit (the intent's arming) and after it.
      expect(outcomes.before).toBeGreaterThan(0);
      expect(outcomes.after).toBeGreaterThan(0);
    });
  }

  it('rm -r cut half-way through the removal on the disk: recovery finishes it', () => {
    const { root, region, cache } = world('halfway');
    const e = (cache as unknown as { engine: { intent: { arm(op: number, dev: number, ino: number, a: string, b: string): void } } }).engine;
    const top = fs.lstatSync(join(root, 't'));
    // What rm does up to the first unlink, then the kill: armed, one file gone from the disk.
    e.intent.arm(INTENT_REMOVE_TREE, top.dev, top.ino, 't', '');
    fs.unlinkSync(join(root, 't/sub/closed'));
    abandon(cache);
    const again = openCacheSync({ region, root, size: 512 * 1024 });
    expect(again.recovery.intent).toMatchObject({ operation: 'rm', diskStepRedone: true, damaged: false });
    expect(again.recovery.filesTouched).toEqual(['keep']);
    expect(again.stats().cachedFiles).toBe(1);
    again.closeSync();
    expect(state(root)).toEqual(new Map([['keep', before.get('keep')!]]));
  });
});
