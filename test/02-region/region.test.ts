import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Region, type OpenRegionOptions } from '../../src/region/region';
import { H, HEADER_SLOT_OFFSETS } from '../../src/region/format';
import { SimulatedCrash } from '../../src/region/primitives';
import { scratchDir, sha256, spawnFixture } from '../helpers';

const { dir, cleanup } = scratchDir('region');
afterAll(cleanup);

const request = { regionBytes: 1 << 20, blockBytes: 4096, fileSlots: 16, undoBytes: 65536, segmentAreaBytes: 0 };
const options = (over: Partial<OpenRegionOptions> = {}): OpenRegionOptions => ({
  create: true, request, expect: {}, allocate: 'reserve', populate: false, persist: 'auto', ...over,
});

let counter = 0;
const fresh = () => join(dir, `r${counter++}.rio`);

/** Runs fn expecting a RioError with `code`, and checks the file did not change. */
function expectUntouched(path: string, code: string, fn: () => unknown) {
  const before = sha256(path);
  const size = fs.statSync(path).size;
  expect(fn).toThrow(expect.objectContaining({ code }));
  expect(sha256(path)).toBe(before);
  expect(fs.statSync(path).size).toBe(size);
}

describe('region files', () => {
  it('creates with mode 0600 and exact size, and reopens', () => {
    const path = fresh();
    const r = Region.open(path, options());
    expect(r.created).toBe(true);
    expect(fs.statSync(path).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path).size).toBe(request.regionBytes);
    expect(r.header.shutdown).toBe('clean');
    expect(r.geometry.bufferCount).toBeGreaterThan(100);
    const uuid = r.header.uuid;
    r.close();
    r.close(); // twice is harmless
    const again = Region.open(path, options({ create: false }));
    expect(again.created).toBe(false);
    expect(again.header.uuid).toBe(uuid);
    again.close();
    // No temporary files are left behind.
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('keeps the pattern a SIGKILLed process wrote', async () => {
    for (const seed of [1, 77, 200]) {
      const path = fresh();
      const child = spawnFixture('region-writer.js', [path, String(seed)]);
      expect((await child.next()).ready).toBe(true);
      child.proc.kill('SIGKILL');
      expect((await child.exited).signal).toBe('SIGKILL');
      const r = Region.open(path, options({ create: false }));
      expect(r.foundShutdown).toBe('open');
      const data = r.memory.data[0];
      for (let i = 0; i < data.length; i += 997) expect(data[i]).toBe((i * 31 + seed) & 0xff);
      const last = r.memory.data[r.memory.data.length - 1];
      expect(last[last.length - 1]).toBe(seed & 0xff);
      r.close();
    }
  });

  it('refuses a region held by a live process, naming its pid', async () => {
    const path = fresh();
    const child = spawnFixture('region-writer.js', [path, '5']);
    const { pid } = await child.next();
    expectUntouched(path, 'REGION_LOCKED', () => Region.open(path, options({ create: false })));
    try {
      Region.open(path, options({ create: false }));
    } catch (err) {
      expect((err as Error).message).toContain(`process ${pid}`);
      expect((err as { pid: number }).pid).toBe(pid);
    }
    child.proc.kill('SIGKILL');
    await child.exited;
    Region.open(path, options({ create: false })).close();
  });

  it('refuses a second open inside the owning process, naming this pid', () => {
    const path = fresh();
    const r = Region.open(path, options());
    expect(() => Region.open(path, options())).toThrow(expect.objectContaining({ code: 'REGION_LOCKED', pid: process.pid }));
    r.close();
  });
});

describe('bad region files: a distinct code each, the file left byte for byte', () => {
  function damaged(mutate: (bytes: Buffer) => Buffer): string {
    const path = fresh();
    Region.open(path, options()).close();
    fs.writeFileSync(path, mutate(fs.readFileSync(path)));
    return path;
  }

  it('too small', () => {
    const path = fresh();
    fs.writeFileSync(path, Buffer.alloc(5000, 1));
    expectUntouched(path, 'REGION_TOO_SMALL', () => Region.open(path, options()));
  });

  it('truncated', () => {
    const path = damaged((b) => b.subarray(0, b.length - 8192));
    expectUntouched(path, 'REGION_TRUNCATED', () => Region.open(path, options()));
  });

  it('wrong magic', () => {
    const path = damaged((b) => {
      b.write('NOTRIO!!', 0, 'latin1');
      b.write('NOTRIO!!', 4096, 'latin1');
      return b;
    });
    expectUntouched(path, 'REGION_BAD_MAGIC', () => Region.open(path, options()));
    const zeros = fresh();
    fs.writeFileSync(zeros, Buffer.alloc(1 << 20));
    expectUntouched(zeros, 'REGION_BAD_MAGIC', () => Region.open(zeros, options()));
  });

  it('newer format version', () => {
    const path = damaged((b) => {
      b.writeUInt32LE(2, H.version);
      return b;
    });
    expectUntouched(path, 'REGION_VERSION_UNSUPPORTED', () => Region.open(path, options()));
  });

  it('geometry that disagrees with the options', () => {
    const path = fresh();
    Region.open(path, options()).close();
    expectUntouched(path, 'REGION_GEOMETRY_MISMATCH', () => Region.open(path, options({ expect: { blockBytes: 8192 } })));
    expectUntouched(path, 'REGION_GEOMETRY_MISMATCH', () => Region.open(path, options({ expect: { regionBytes: 2 << 20 } })));
    Region.open(path, options({ expect: { blockBytes: 4096, regionBytes: 1 << 20 } })).close();
  });

  it('a checksum mismatch in both header slots', () => {
    const path = fresh();
    const r = Region.open(path, options());
    r.writeHeader({ shutdown: 'open' }); // both slots now hold a valid header
    r.close();
    const b = fs.readFileSync(path);
    b[HEADER_SLOT_OFFSETS[0] + H.generation] ^= 1;
    b[HEADER_SLOT_OFFSETS[1] + H.generation] ^= 1;
    fs.writeFileSync(path, b);
    expectUntouched(path, 'REGION_HEADER_CORRUPT', () => Region.open(path, options()));
  });
});

describe('the double-buffered header', () => {
  it('falls back to the other slot when the newer one is damaged', () => {
    const path = fresh();
    const r = Region.open(path, options());
    r.writeHeader({ generation: 5 });
    r.writeHeader({ generation: 6 });
    r.close();
    const b = fs.readFileSync(path);
    // generation 6 went to slot 0 (seq 3): damage it; slot 1 (generation 5) wins.
    b[HEADER_SLOT_OFFSETS[0] + H.createdAt] ^= 0xff;
    fs.writeFileSync(path, b);
    const again = Region.open(path, options());
    expect(again.header.generation).toBe(5);
    expect(again.otherSlotAtOpen).toBe('bad-checksum');
    again.close();
  });

  it('a cut at every store of writeHeader leaves the old or the new header', () => {
    const path = fresh();
    const base = Region.open(path, options());
    base.writeHeader({ generation: 10 });
    base.close();
    const pristine = fs.readFileSync(path);
    let stores = 0;
    for (let cut = 0; ; cut++) {
      fs.writeFileSync(path, pristine);
      const r = Region.open(path, options());
      let n = 0;
      r.memory.tracer = () => {
        if (n++ === cut) throw new SimulatedCrash(cut);
      };
      let finished = true;
      try {
        r.writeHeader({ generation: 11, shutdown: 'open' });
      } catch (err) {
        if (!(err instanceof SimulatedCrash)) throw err;
        finished = false;
      }
      r.memory.tracer = null;
      r.close();
      const after = Region.open(path, options());
      if (finished) expect(after.header.generation).toBe(11);
      else expect([10, 11]).toContain(after.header.generation);
      if (!finished) expect(after.header.generation).toBe(10); // the sequence is the last store
      after.close();
      if (finished) {
        stores = n;
        break;
      }
    }
    expect(stores).toBeGreaterThanOrEqual(3);
  });
});
