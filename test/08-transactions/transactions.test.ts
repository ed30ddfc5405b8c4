/**
 * Transactions: atomic melds across writes, files and segments; abort; the
 * undo area's limit; debug mode; a cut at every store of a meld; the journal
 * of flushed melds, torn and damaged at every byte.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCacheSync, type Cache } from '../../src';
import { decodeJournal, encodeMeld, JOURNAL_PATH } from '../../src/cache/journal';
import { SimulatedCrash } from '../../src/region/primitives';
import { scratchDir } from '../helpers';
import { abandon } from '../04-recovery/abandon';
import { snapshot } from '../03-cache/differential';

const { dir, cleanup } = scratchDir('tx');
afterAll(cleanup);

let n = 0;
function world(options: Record<string, unknown> = {}) {
  const base = join(dir, `w${n++}`);
  const root = join(base, 'root');
  fs.mkdirSync(root, { recursive: true });
  const opts = { region: join(base, 'region.rio'), root, size: '2MiB', segmentAreaSize: '64KiB', writeBack: { intervalMs: 1e6, dirtyRatio: 1 }, ...options };
  return { base, root, opts, open: () => openCacheSync(opts as never) };
}

const bytes = (n: number, v: number) => Buffer.alloc(n, v);

function setup(c: Cache) {
  c.fs.writeFileSync('a', bytes(10000, 1));
  c.fs.writeFileSync('b', bytes(5000, 2));
  const seg = c.segment('accounts', 4096);
  return { fa: c.fs.openSync('a', 'r+'), fb: c.fs.openSync('b', 'r+'), seg };
}

describe('melds', () => {
  it('commit: every write and declared range across files', () => {
    const w = world();
    const c = w.open();
    const { fa, fb, seg } = setup(c);
    c.transactionSync((tfs, tx) => {
      tfs.writeSync(fa, bytes(3000, 9), 0, 3000, 2000);
      tfs.writeSync(fb, bytes(100, 8), 0, 100, 4990); // extends b
      tx.setRange(seg, 10, 20);
      seg.fill(7, 10, 30);
      // Reads inside see the transaction's own writes.
      const back = Buffer.alloc(10);
      c.fs.readSync(fa, back, 0, 10, 2500);
      expect(back.equals(bytes(10, 9))).toBe(true);
    });
    c.closeSync();
    expect(fs.readFileSync(join(w.root, 'a')).subarray(2000, 5000).equals(bytes(3000, 9))).toBe(true);
    expect(fs.statSync(join(w.root, 'b')).size).toBe(5090);
    const again = w.open();
    expect([...again.segment('accounts', 4096).subarray(8, 32)]).toEqual([0, 0, ...Array(20).fill(7), 0, 0]);
    again.closeSync();
  });

  it('abort restores every byte, size and range; a throw inside the callback aborts', () => {
    const w = world();
    const c = w.open();
    const { fa, fb, seg } = setup(c);
    seg.fill(3); // outside a transaction: the caller's responsibility
    c.flushSync();
    const before = snapshot(w.root);
    const tx = c.beginTransaction();
    tx.fs.writeSync(fa, bytes(9000, 5), 0, 9000, 500);
    tx.fs.writeSync(fb, bytes(20000, 6), 0, 20000, 1000);
    tx.setRange(seg, 0, 100);
    seg.fill(4, 0, 100);
    c.abortTransaction();
    expect([...seg.subarray(0, 200)].every((x) => x === 3)).toBe(true);
    expect(c.fs.fstatSync(fb).size).toBe(5000);
    expect(() => c.transactionSync((tfs) => {
      tfs.writeSync(fa, bytes(100, 7), 0, 100, 0);
      throw new Error('boom');
    })).toThrow('boom');
    c.flushSync();
    expect(snapshot(w.root)).toEqual(before);
    expect(c.stats().dirtyBlocks).toBe(0);
    c.closeSync();
  });

  it('the promise form; other writers wait for it, non-write calls are refused while it runs', async () => {
    const w = world();
    const c = w.open();
    const { fa } = setup(c);
    let outsideDone = false;
    await c.transaction(async (tfs) => {
      await tfs.write(fa, bytes(10, 1), 0, 10, 0);
      const outside = c.fs.promises.writeFile('c', 'later').then(() => (outsideDone = true));
      expect(() => c.fs.writeSync(fa, 'no')).toThrow(expect.objectContaining({ code: 'TRANSACTION_STATE' }));
      expect(() => c.fs.ftruncateSync(fa, 0)).toThrow(expect.objectContaining({ code: 'TRANSACTION_STATE' }));
      await new Promise((r) => setTimeout(r, 5));
      expect(outsideDone).toBe(false);
      await tfs.write(fa, bytes(10, 2), 0, 10, 10);
      void outside;
    });
    await new Promise((r) => setTimeout(r, 5));
    expect(outsideDone).toBe(true);
    await c.close();
  });

  it('a meld larger than the undo area fails before its write changes anything, and rolls back', () => {
    const w = world({ undoSize: '64KiB' });
    const c = w.open();
    const { fa } = setup(c);
    const big = c.fs.openSync('big', 'w+');
    c.fs.writeSync(big, bytes(200 * 1024, 1));
    c.flushSync();
    const before = snapshot(w.root);
    let error: { code?: string } | undefined;
    try {
      c.transactionSync((tfs) => {
        tfs.writeSync(fa, bytes(100, 2), 0, 100, 0);
        for (let off = 0; off < 200 * 1024; off += 16384) tfs.writeSync(big, bytes(16384, 3), 0, 16384, off);
      });
    } catch (err) {
      error = err as { code?: string };
    }
    expect(error?.code).toBe('UNDO_AREA_FULL');
    c.flushSync();
    expect(snapshot(w.root)).toEqual(before);
    c.closeSync();
  });

  it('debug mode catches a change outside the declared ranges and rolls it back', () => {
    const w = world();
    const c = w.open();
    const { seg } = setup(c);
    expect(() => c.transactionSync((_tfs, tx) => {
      tx.setRange(seg, 0, 8);
      seg[3] = 1;
      seg[100] = 1; // undeclared
    }, { debug: true })).toThrow(/offset 100 outside every range/);
    expect(seg[3]).toBe(0);
    expect(seg[100]).toBe(0);
    c.closeSync();
  });

  it('refuses a second transaction and an end without one', () => {
    const w = world();
    const c = w.open();
    c.beginTransaction();
    expect(() => c.beginTransaction()).toThrow(expect.objectContaining({ code: 'TRANSACTION_STATE' }));
    c.endTransaction();
    expect(() => c.endTransaction()).toThrow(expect.objectContaining({ code: 'TRANSACTION_STATE' }));
    expect(() => c.segment('x', 10)).not.toThrow();
    c.closeSync();
    const noArea = world({ segmentAreaSize: undefined });
    const d = noArea.open();
    expect(() => d.segment('x', 10)).toThrow(expect.objectContaining({ code: 'SEGMENT_AREA_FULL' }));
    d.closeSync();
  });
});

describe('a meld cut at any store is all or nothing', () => {
  for (const flush of [false, true]) {
    it(`flush: ${flush}`, () => {
      let cuts = 0;
      let before: Map<string, Buffer> | null = null;
      let after: Map<string, Buffer> | null = null;
      let segBefore = '';
      let segAfter = '';
      const meld = (c: Cache, fa: number, fb: number, seg: Uint8Array) =>
        c.transactionSync((tfs, tx) => {
          tfs.writeSync(fa, bytes(6000, 0x41), 0, 6000, 3000);
          tx.setRange(seg, 100, 16);
          seg.fill(0x42, 100, 116);
          tfs.writeSync(fb, bytes(9000, 0x43), 0, 9000, 2000);
          tfs.writeSync(fa, bytes(50, 0x44), 0, 50, 20000);
        }, { flush });
      for (let k = 0; ; k++) {
        const w = world();
        const c = w.open();
        const { fa, fb, seg } = setup(c);
        if (!before) {
          c.flushSync();
          before = snapshot(w.root, new Set(['.riocache']));
          segBefore = Buffer.from(seg).toString('hex');
        }
        let count = 0;
        c.region.memory.tracer = () => {
          if (count++ === k) throw new SimulatedCrash(k);
        };
        let finished = true;
        try {
          meld(c, fa, fb, seg);
        } catch (err) {
          if (!(err instanceof SimulatedCrash)) throw err;
          finished = false;
        }
        c.region.memory.tracer = null;
        abandon(c);
        const r = w.open();
        const segNow = Buffer.from(r.segment('accounts', 4096)).toString('hex');
        r.closeSync();
        const files = snapshot(w.root, new Set(['.riocache']));
        if (finished) {
          after = files;
          segAfter = segNow;
          expect(segAfter).not.toBe(segBefore);
          break;
        }
        const isBefore = equal(files, before!) && segNow === segBefore;
        const isAfterShape = files.get('a')!.subarray(3000, 9000).equals(bytes(6000, 0x41)) &&
          files.get('b')!.length === 11000 && segNow !== segBefore;
        if (!isBefore && !isAfterShape) throw new Error(`flush ${flush}: cut at store ${k} left a torn meld`);
        cuts++;
      }
      expect(after).not.toBeNull();
      expect(cuts).toBeGreaterThan(20);
    });
  }
});

describe('the journal of flushed melds', () => {
  it('replays committed melds into a lost region; ignores torn or damaged tails at every byte', () => {
    const melds = [
      { id: 1, files: [{ path: 'j', offset: 0, data: bytes(1000, 1) }], segments: [{ name: 's', segmentLength: 256, offset: 0, data: bytes(16, 1) }] },
      { id: 2, files: [{ path: 'j', offset: 500, data: bytes(1000, 2) }, { path: 'k', offset: 0, data: bytes(10, 2) }], segments: [] },
      { id: 3, files: [{ path: 'j', offset: 1400, data: bytes(10, 3) }], segments: [{ name: 's', segmentLength: 256, offset: 8, data: bytes(8, 3) }] },
    ];
    const parts = melds.map((m) => Buffer.concat(encodeMeld(m)));
    const whole = Buffer.concat(parts);
    const ends = parts.map((_, i) => parts.slice(0, i + 1).reduce((s, p) => s + p.length, 0));
    // Cut at every byte: exactly the melds whose commit record is whole survive.
    for (let cut = 0; cut <= whole.length; cut++) {
      const got = decodeJournal(whole.subarray(0, cut)).melds.map((m) => m.id);
      const want = melds.filter((_, i) => ends[i] <= cut).map((m) => m.id);
      expect(got, `cut at ${cut}`).toEqual(want);
    }
    // A damaged byte anywhere stops the replay at the meld it hits.
    for (let at = 0; at < whole.length; at += 7) {
      const bad = Buffer.from(whole);
      bad[at] ^= 0x5a;
      const got = decodeJournal(bad).melds.map((m) => m.id);
      const hit = ends.findIndex((e) => at < e);
      expect(got, `damage at ${at}`).toEqual(melds.slice(0, hit).map((m) => m.id));
    }
    // Replay into a lost region (the region file is gone): files and segment rebuilt.
    const w = world();
    fs.mkdirSync(join(w.root, '.riocache'), { recursive: true });
    fs.writeFileSync(join(w.root, JOURNAL_PATH), whole.subarray(0, ends[2] - 3)); // the third meld torn
    const c = w.open();
    expect(c.recovery.journal).toEqual({ replayedMelds: 2, tornTail: true });
    const seg = c.segment('s', 256);
    expect([...seg.subarray(0, 17)]).toEqual([...Array(16).fill(1), 0]);
    c.closeSync();
    const j = fs.readFileSync(join(w.root, 'j'));
    expect(j.subarray(0, 500).equals(bytes(500, 1))).toBe(true);
    expect(j.subarray(500, 1500).equals(bytes(1000, 2))).toBe(true);
    expect(fs.readFileSync(join(w.root, 'k')).equals(bytes(10, 2))).toBe(true);
    expect(fs.statSync(join(w.root, JOURNAL_PATH)).size).toBe(0);
  });

  it('a flushed meld survives the loss of the region; a meld without flush does not need to', () => {
    const w = world();
    const c = w.open();
    const { fa, seg } = setup(c);
    c.flushSync();
    c.transactionSync((tfs, tx) => {
      tfs.writeSync(fa, bytes(100, 0x77), 0, 100, 0);
      tx.setRange(seg, 0, 4);
      seg.set([1, 2, 3, 4], 0);
    }, { flush: true });
    abandon(c);
    fs.rmSync(w.opts.region); // what a kernel crash does to a region in tmpfs
    const again = w.open();
    expect(again.recovery.journal.replayedMelds).toBe(1);
    expect([...again.segment('accounts', 4096).subarray(0, 5)]).toEqual([1, 2, 3, 4, 0]);
    again.closeSync();
    expect(fs.readFileSync(join(w.root, 'a')).subarray(0, 100).equals(bytes(100, 0x77))).toBe(true);
  });

  it('fsync of a file the journal touches checkpoints it first', () => {
    const w = world();
    const c = w.open();
    const { fa } = setup(c);
    c.transactionSync((tfs) => tfs.writeSync(fa, bytes(10, 1), 0, 10, 0), { flush: true });
    expect(fs.statSync(join(w.root, JOURNAL_PATH)).size).toBeGreaterThan(0);
    c.fs.writeSync(fa, bytes(10, 2), 0, 10, 0);
    c.fs.fsyncSync(fa);
    expect(fs.statSync(join(w.root, JOURNAL_PATH)).size).toBe(0);
    c.closeSync();
  });
});

function equal(a: Map<string, Buffer>, b: Map<string, Buffer>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (!b.get(k)?.equals(v)) return false;
  return true;
}
