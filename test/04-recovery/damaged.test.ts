/**
 * Deliberately damaged regions: each case gets a correct repair or a clear
 * error with a code, never a crash, a hang, or a write outside the root.
 * The damage is built byte by byte at the offsets docs/format.md gives.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCacheSync, RegionErrorCodes, type Cache, type RioError } from '../../src';
import { C, CONTROL_OFFSET, D, DESCRIPTOR_BYTES, FE, FILE_ENTRY_BYTES, FILE_TABLE_HEADER_BYTES, H, UNDO_HEADER_BYTES } from '../../src/region/format';
import { decodeSlot } from '../../src/region/header';
import type { Geometry } from '../../src/region/geometry';
import { SimulatedCrash } from '../../src/region/primitives';
import { inspectRegion } from '../../src/tools/inspect/inspect';
import { native } from '../../src/native';
import { recoverRegionFile } from '../../src/tools/recover/command';
import { repoRoot, rng, scratchDir, sha256 } from '../helpers';
import { abandon } from './abandon';

const { dir, cleanup } = scratchDir('damaged');
afterAll(cleanup);

const pattern = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed * 7) & 0xff));

interface Crashed {
  base: string;
  region: string;
  root: string;
  g: Geometry;
  /** Buffer index holding (path, block), captured before the crash. */
  buffer(path: string, block: number): number;
  slot(path: string): number;
  /** Expected final contents of each file. */
  expected: Map<string, Buffer>;
  open(): Cache;
  poke(offset: number, bytes: Buffer | number[]): void;
  word(offset: number): number;
  setWord(offset: number, value: number): void;
}

let counter = 0;

/** A region whose owner died with dirty data in three files (a, b, c). */
function crashed(extra?: (c: Cache) => void): Crashed {
  const base = join(dir, `case${counter++}`);
  const root = join(base, 'root');
  fs.mkdirSync(root, { recursive: true });
  const region = join(base, 'region.rio');
  const opts = { region, root, size: '1MiB', writeBack: { intervalMs: 1e6, dirtyRatio: 1 } } as const;
  const cache = openCacheSync(opts);
  const expected = new Map<string, Buffer>();
  for (const [name, n, seed] of [['a', 10000, 1], ['b', 5000, 2], ['c', 20000, 3]] as const) {
    const fd = cache.fs.openSync(name, 'w+');
    cache.fs.writeSync(fd, pattern(n, seed), 0, n, 0);
    cache.fs.closeSync(fd);
    expected.set(name, pattern(n, seed));
  }
  extra?.(cache);
  const buffers = new Map<string, number>();
  const slots = new Map<string, number>();
  for (const name of ['a', 'b', 'c']) {
    const slot = cache.engine.fileTable.slotOf(name);
    slots.set(name, slot);
    for (let k = 0; k < 5; k++) buffers.set(`${name}:${k}`, cache.engine.index.get(slot, k));
  }
  abandon(cache);
  const head = Buffer.alloc(4096);
  const fd = fs.openSync(region, 'r');
  fs.readSync(fd, head, 0, 4096, 0);
  fs.closeSync(fd);
  const v = decodeSlot(head);
  const g = (v.kind === 'valid' ? v.header.geometry : (() => { throw new Error('no header'); })()) as Geometry;
  const poke = (offset: number, bytes: Buffer | number[]) => {
    const f = fs.openSync(region, 'r+');
    fs.writeSync(f, Buffer.from(bytes), 0, bytes.length, offset);
    fs.closeSync(f);
  };
  const word = (offset: number) => {
    const b = Buffer.alloc(4);
    const f = fs.openSync(region, 'r');
    fs.readSync(f, b, 0, 4, offset);
    fs.closeSync(f);
    return b.readInt32LE(0);
  };
  return {
    base, region, root, g, expected,
    buffer: (path, block) => buffers.get(`${path}:${block}`)!,
    slot: (path) => slots.get(path)!,
    open: () => openCacheSync(opts),
    poke, word,
    setWord: (offset, value) => {
      const b = Buffer.alloc(4);
      b.writeInt32LE(value | 0, 0);
      poke(offset, b);
    },
  };
}

const descriptorWord = (x: Crashed, b: number, field: number) => x.g.registryOffset + b * DESCRIPTOR_BYTES + field * 4;
const controlWord = (field: number) => CONTROL_OFFSET + field * 4;

function expectFiles(x: Crashed, except: string[] = []) {
  for (const [name, bytes] of x.expected) {
    if (except.includes(name)) continue;
    expect(fs.readFileSync(join(x.root, name)).equals(bytes), `file ${name}`).toBe(true);
  }
}

describe('damaged regions', () => {
  it('broken back-links are rewritten from the forward links', () => {
    const x = crashed();
    const b = x.buffer('a', 1);
    x.setWord(descriptorWord(x, b, D.lruPrev), x.buffer('c', 3));
    x.setWord(descriptorWord(x, x.buffer('b', 0), D.dirtyPrev), 7);
    expect(inspectRegion(x.region).verdict).toBe('crashed');
    const cache = x.open();
    expect(cache.recovery.lists.lru.backLinksRepaired).toBeGreaterThan(0);
    expect(cache.recovery.lists.dirty.backLinksRepaired).toBeGreaterThan(0);
    cache.closeSync();
    expectFiles(x);
    expect(inspectRegion(x.region).verdict).toBe('clean');
  });

  it('a cycle in a list is broken and every member re-linked', () => {
    const x = crashed();
    const tail = x.word(controlWord(C.lruTail));
    const head = x.word(controlWord(C.lruHead));
    x.setWord(descriptorWord(x, tail, D.lruNext), head);
    const dTail = x.word(controlWord(C.dirtyTail));
    x.setWord(descriptorWord(x, dTail, D.dirtyNext), x.word(controlWord(C.dirtyHead)));
    const report = inspectRegion(x.region);
    expect(report.lists?.lru.cycle).toBe(true);
    const cache = x.open();
    expect(cache.recovery.lists.lru.cycleBroken).toBe(true);
    expect(cache.recovery.lists.dirty.cycleBroken).toBe(true);
    expect(cache.recovery.dirtyBuffersWritten).toBe(cache.recovery.dirtyBuffersFound);
    cache.closeSync();
    expectFiles(x);
  });

  it('a link out of range ends the walk; the registry sweep finds the rest', () => {
    const x = crashed();
    const head = x.word(controlWord(C.dirtyHead));
    x.setWord(descriptorWord(x, head, D.dirtyNext), 0x7fff0000);
    x.setWord(controlWord(C.lruHead), -12345);
    const cache = x.open();
    expect(cache.recovery.lists.dirty.outOfRange).toBe(true);
    expect(cache.recovery.lists.lru.outOfRange).toBe(true);
    expect(cache.recovery.lists.dirty.relinked).toBeGreaterThan(0);
    cache.closeSync();
    expectFiles(x);
  });

  it('a torn undo record in an idle area is ignored', () => {
    const x = crashed();
    x.poke(x.g.undoOffset + UNDO_HEADER_BYTES, pattern(30, 9)); // half a record head, area IDLE
    const cache = x.open();
    expect(cache.recovery.undo.rolledBack).toBe(false);
    cache.closeSync();
    expectFiles(x);
  });

  it('a damaged record in an armed undo area: the write is quarantined, never written torn', () => {
    // An overwrite of a (which spans blocks 1-2) cut after the undo area armed and the first block changed.
    let cutOnce = false;
    const x = crashed((cache) => {
      const fd = cache.fs.openSync('a', 'r+');
      let n = 0;
      let armed = -1;
      cache.region.memory.tracer = (op) => {
        if (op.kind === 'commit' && op.value === 1 && armed < 0) armed = n; // undo ACTIVE
        if (armed >= 0 && n === armed + 8) {
          cutOnce = true;
          throw new SimulatedCrash(n);
        }
        n++;
      };
      try {
        cache.fs.writeSync(fd, Buffer.alloc(5000, 0xee), 0, 5000, 4000);
      } catch (err) {
        if (!(err instanceof SimulatedCrash)) throw err;
      }
      cache.region.memory.tracer = null;
    });
    expect(cutOnce).toBe(true);
    // Damage the first record's head (a BYTES record: the write does not change the size).
    x.poke(x.g.undoOffset + UNDO_HEADER_BYTES + 8, [1, 2, 3, 4]);
    const before = inspectRegion(x.region);
    expect(before.undo?.state).toBe('active');
    expect(before.undo?.damaged).toBe(true);
    const cache = x.open();
    expect(cache.recovery.undo.damaged).toBe(true);
    expect(cache.recovery.corruptBuffers).toBeGreaterThan(0);
    cache.closeSync();
    // No byte of the interrupted write (0xee) reached the file.
    expect(fs.readFileSync(join(x.root, 'a')).includes(Buffer.alloc(16, 0xee))).toBe(false);
    expect(fs.readdirSync(join(x.root, 'lost+found')).some((f) => f.endsWith('.json'))).toBe(true);
    expectFiles(x, ['a']);
  });

  it('a bad checksum on a dirty buffer: quarantined with a record, the rest recovered', () => {
    const x = crashed();
    const b = x.buffer('c', 2);
    x.poke(x.g.dataOffset + b * x.g.blockBytes + 100, [0xde, 0xad]);
    const cache = x.open();
    expect(cache.recovery.corruptBuffers).toBe(1);
    expect(cache.recovery.lostAndFound).toBe('lost+found');
    const record = cache.recovery.quarantined[0];
    expect(record).toMatchObject({ file: 'c', offset: 2 * x.g.blockBytes, length: x.g.blockBytes });
    expect(record.expectedCrc).not.toBe(record.actualCrc);
    cache.closeSync();
    const lf = fs.readdirSync(join(x.root, 'lost+found'));
    const json = JSON.parse(fs.readFileSync(join(x.root, 'lost+found', lf.find((f) => f.endsWith('.json'))!), 'utf8'));
    expect(json).toMatchObject({ file: 'c', offset: 2 * x.g.blockBytes, expectedCrc: record.expectedCrc, actualCrc: record.actualCrc });
    // The damaged block never reached c; every other block did.
    const c = fs.readFileSync(join(x.root, 'c'));
    const bs = x.g.blockBytes;
    const want = x.expected.get('c')!;
    expect(c.subarray(0, 2 * bs).equals(want.subarray(0, 2 * bs))).toBe(true);
    expect(c.subarray(3 * bs).equals(want.subarray(3 * bs))).toBe(true);
    expect(c.subarray(2 * bs, 3 * bs).equals(want.subarray(2 * bs, 3 * bs))).toBe(false);
    expectFiles(x, ['c']);
  });

  it('a file-table entry damaged in the selected copy is taken from the other copy', () => {
    const x = crashed();
    const sel = x.word(controlWord(C.fileTableSelector)) & 1;
    const slot = x.slot('a'); // created before b and c: both copies hold it
    x.poke(x.g.fileTableOffsets[sel] + FILE_TABLE_HEADER_BYTES + slot * FILE_ENTRY_BYTES + 64 + 0, [0x78]);
    const cache = x.open();
    expect(cache.recovery.fileTable.entriesFromOtherCopy).toBe(1);
    expect(cache.recovery.corruptBuffers).toBe(0);
    cache.closeSync();
    expectFiles(x);
  });

  it('an entry damaged in both copies: its dirty buffers are quarantined, the others recovered', () => {
    const x = crashed();
    const slot = x.slot('b');
    for (const copy of [0, 1]) x.poke(x.g.fileTableOffsets[copy] + FILE_TABLE_HEADER_BYTES + slot * FILE_ENTRY_BYTES + FE.generation * 4, [0x55]);
    expect(inspectRegion(x.region).verdict).toBe('damaged');
    const cache = x.open();
    expect(cache.recovery.fileTable.entriesLost).toBe(1);
    expect(cache.recovery.corruptBuffers).toBeGreaterThan(0);
    expect(cache.recovery.problems.join('\n')).toMatch(/damaged in both copies/);
    cache.closeSync();
    expectFiles(x, ['b']);
  });

  it('the newest entry damaged where the other copy lags: quarantined, not dropped', () => {
    const x = crashed();
    const sel = x.word(controlWord(C.fileTableSelector)) & 1;
    const slot = x.slot('c'); // the last file created: the other copy does not have it yet
    x.poke(x.g.fileTableOffsets[sel] + FILE_TABLE_HEADER_BYTES + slot * FILE_ENTRY_BYTES + FE.inoLo * 4, [0x01]);
    const cache = x.open();
    expect(cache.recovery.corruptBuffers).toBeGreaterThan(0);
    expect(cache.recovery.quarantined.every((q) => q.file !== undefined)).toBe(true);
    cache.closeSync();
    expectFiles(x, ['c']);
  });

  for (const bad of ['../evil', '/tmp/evil-absolute']) {
    it(`a path ${JSON.stringify(bad)} in the file table is refused; nothing is written outside the root`, () => {
      const x = crashed();
      const slot = x.slot('a');
      const sel = x.word(controlWord(C.fileTableSelector)) & 1;
      const entry = x.g.fileTableOffsets[sel] + FILE_TABLE_HEADER_BYTES + slot * FILE_ENTRY_BYTES;
      // Rewrite the path with a valid checksum: only the path check can stop it.
      const f = fs.openSync(x.region, 'r+');
      const e = Buffer.alloc(FILE_ENTRY_BYTES);
      fs.readSync(f, e, 0, FILE_ENTRY_BYTES, entry);
      const path = Buffer.from(bad);
      e.fill(0, 64, 64 + 480);
      path.copy(e, 64);
      e.writeInt32LE(path.length, FE.pathBytes * 4);
      const crc = native.crc32c(e, 0, FE.crc * 4, 0);
      e.writeUInt32LE(native.crc32c(e, 64, path.length, crc), FE.crc * 4);
      fs.writeSync(f, e, 0, FILE_ENTRY_BYTES, entry);
      fs.closeSync(f);
      const outside = bad.startsWith('/') ? bad : join(x.root, bad);
      const cache = x.open();
      expect(cache.recovery.problems.join('\n')).toMatch(/unsafe path/);
      expect(cache.recovery.corruptBuffers).toBeGreaterThan(0);
      cache.closeSync();
      expect(fs.existsSync(outside)).toBe(false);
      expectFiles(x, ['a']);
    });
  }

  it('a symlink planted in the root pointing outside: recovery does not follow it out', () => {
    const x = crashed();
    const outsideDir = join(x.base, 'outside');
    fs.mkdirSync(outsideDir);
    fs.writeFileSync(join(outsideDir, 'target'), 'precious');
    fs.rmSync(join(x.root, 'b'));
    fs.symlinkSync(join(outsideDir, 'target'), join(x.root, 'b'));
    const cache = x.open();
    expect(cache.recovery.corruptBuffers).toBeGreaterThan(0);
    expect(cache.recovery.problems.join('\n')).toMatch(/out of the root|another file|cannot be opened/);
    cache.closeSync();
    expect(fs.readFileSync(join(outsideDir, 'target'), 'utf8')).toBe('precious');
    expectFiles(x, ['b']);
  });

  it('a symlink inside the root pointing at another file: refused by the inode check', () => {
    const x = crashed();
    fs.rmSync(join(x.root, 'b'));
    fs.symlinkSync('a', join(x.root, 'b'));
    const cache = x.open();
    expect(cache.recovery.problems.join('\n')).toMatch(/another file/);
    cache.closeSync();
    expectFiles(x, ['b']);
  });

  for (const [name, damage, code] of [
    ['wrong magic', (x: Crashed) => { x.poke(0, Buffer.from('XXXXXXXX')); x.poke(4096, Buffer.from('XXXXXXXX')); }, 'REGION_BAD_MAGIC'],
    ['a newer version', (x: Crashed) => { x.setWord(H.version, 9); x.setWord(4096 + H.version, 9); }, 'REGION_VERSION_UNSUPPORTED'],
    ['a truncated region file', (x: Crashed) => fs.truncateSync(x.region, x.g.regionBytes - 4096), 'REGION_TRUNCATED'],
    ['both header slots corrupt', (x: Crashed) => { x.poke(H.generation, [9]); x.poke(4096 + H.generation, [9]); }, 'REGION_HEADER_CORRUPT'],
  ] as const) {
    it(`${name}: ${code}, the file untouched`, () => {
      const x = crashed();
      damage(x);
      const before = sha256(x.region);
      expect(() => x.open()).toThrow(expect.objectContaining({ code }));
      expect(sha256(x.region)).toBe(before);
    });
  }

  it('random damage anywhere in the metadata: a repair or a coded error, never a crash or a hang', () => {
    const next = rng(4242);
    let opened = 0;
    let refused = 0;
    for (let round = 0; round < 120; round++) {
      const x = crashed();
      for (let k = 0; k < 1 + Math.floor(next() * 6); k++) {
        const at = Math.floor(next() * x.g.dataOffset);
        x.poke(at, [Math.floor(next() * 256), Math.floor(next() * 256)]);
      }
      const started = Date.now();
      try {
        const cache = x.open();
        opened++;
        cache.closeSync();
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (typeof code !== 'string' || !/^REGION_|^E[A-Z]+$/.test(code)) throw err;
        refused++;
      }
      expect(Date.now() - started).toBeLessThan(20_000);
      fs.rmSync(x.base, { recursive: true, force: true });
    }
    expect(opened + refused).toBe(120);
    expect(opened).toBeGreaterThan(0);
  });
});


describe('damage found at a clean open, and paths with no region', () => {
  const cli = join(repoRoot, 'dist', 'src', 'cli.js');
  const riocache = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

  it('REGION_DAMAGED: a cleanly closed region whose file table fails its checksums; `riocache recover` then repairs it', () => {
    expect(RegionErrorCodes.REGION_DAMAGED).not.toMatch(/could not repair/);
    expect(RegionErrorCodes.REGION_DAMAGED).toMatch(/closed cleanly/);
    const base = join(dir, `clean-damaged-${counter++}`);
    const root = join(base, 'root');
    fs.mkdirSync(root, { recursive: true });
    const region = join(base, 'region.rio');
    const cache = openCacheSync({ region, root, size: '1MiB' });
    for (const [name, n, seed] of [['a', 10000, 1], ['b', 5000, 2], ['c', 3000, 3]] as const) {
      cache.fs.writeFileSync(name, pattern(n, seed));
    }
    const slot = cache.engine.fileTable.slotOf('a'); // created first: both copies of the table hold it
    const g = cache.region.geometry;
    cache.closeSync();
    expect(inspectRegion(region).verdict).toBe('clean');
    const f = fs.openSync(region, 'r+');
    const sel = Buffer.alloc(4);
    fs.readSync(f, sel, 0, 4, controlWord(C.fileTableSelector));
    const at = g.fileTableOffsets[sel.readInt32LE(0) & 1] + FILE_TABLE_HEADER_BYTES + slot * FILE_ENTRY_BYTES + 64;
    fs.writeSync(f, Buffer.from([0x78]), 0, 1, at);
    fs.closeSync(f);

    let err: RioError | undefined;
    try {
      openCacheSync({ region, root }).closeSync();
    } catch (e) {
      err = e as RioError;
    }
    expect(err?.code).toBe('REGION_DAMAGED');
    expect(err!.message).toContain(`slot ${slot}`);
    expect(err!.message).toContain('riocache recover');
    // What the message promises: the region is left for the warm reboot, which repairs the entry.
    expect(inspectRegion(region).header.shutdown).toBe('open');
    const r = riocache('recover', region, '--root', root, '--json');
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { recovered: boolean; report: Cache['recovery'] };
    expect(out.recovered).toBe(true);
    expect(out.report.fileTable.entriesFromOtherCopy).toBe(1);
    expect(out.report.fileTable.entriesLost).toBe(0);
    const again = openCacheSync({ region, root });
    expect(again.recovery.ran).toBe(false);
    expect(again.fs.readFileSync('a').equals(pattern(10000, 1))).toBe(true);
    again.closeSync();
    for (const [name, n, seed] of [['a', 10000, 1], ['b', 5000, 2], ['c', 3000, 3]] as const) {
      expect(fs.readFileSync(join(root, name)).equals(pattern(n, seed)), name).toBe(true);
    }
  });

  it('`riocache recover` on a path with no region file refuses with ENOENT naming it, and creates nothing', () => {
    const base = join(dir, `no-region-${counter++}`);
    const root = join(base, 'root');
    fs.mkdirSync(root, { recursive: true });
    const region = join(base, 'missing.rio');
    expect(() => recoverRegionFile(region, root, true)).toThrow(expect.objectContaining({ code: 'ENOENT', path: region }));
    for (const args of [[], ['--json']]) {
      const r = riocache('recover', region, '--root', root, ...args);
      expect(r.status, r.stdout).toBe(3);
      expect(r.stderr).toContain('ENOENT');
      expect(r.stderr).toContain(region);
      expect(r.stdout).toBe('');
    }
    const i = riocache('inspect', region);
    expect(i.status).toBe(3);
    expect(i.stderr).toContain('ENOENT');
    expect(fs.readdirSync(base)).toEqual(['root']);
    expect(fs.readdirSync(root)).toEqual([]);
  });
});
