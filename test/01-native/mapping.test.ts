import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { native } from '../../src/native';
import { COPY_JOB_SLOTS, VERIFY_JOB_WORDS } from '../../src/region/primitives';
import { fixtures, repoRoot, rng, scratchDir, spawnFixture } from '../helpers';

const { dir, cleanup } = scratchDir('mapping');
afterAll(cleanup);

function mapFile(name: string, bytes: number, ranges: Array<[number, number]>) {
  const path = join(dir, name);
  const fd = fs.openSync(path, 'w+');
  fs.ftruncateSync(fd, bytes);
  return { fd, path, mapping: native.map(fd, bytes, ranges, false) };
}

describe('mapping', () => {
  it('shares stores with the file (MAP_SHARED)', () => {
    const { fd, path, mapping } = mapFile('shared', 1 << 16, [[0, 1 << 16]]);
    const view = new Uint8Array(mapping.views[0]);
    view.set([1, 2, 3], 1000);
    expect([...fs.readFileSync(path).subarray(1000, 1003)]).toEqual([1, 2, 3]);
    native.unmap(mapping.handle);
    fs.closeSync(fd);
  });

  it('unmap detaches every view, is safe twice, and fast calls then fail', () => {
    const { fd, mapping } = mapFile('unmap', 1 << 16, [[0, 4096], [4096, 8192]]);
    const views = mapping.views.map((b) => new Uint8Array(b));
    expect(native.unmap(mapping.handle)).toBe(true);
    expect(views.map((v) => v.length)).toEqual([0, 0]);
    expect(mapping.views[1].byteLength).toBe(0);
    expect(native.unmap(mapping.handle)).toBe(false);
    const scratch = new Float64Array(native.scratch);
    scratch[0] = mapping.viewIds[1];
    scratch[1] = 0;
    scratch[2] = 1;
    expect(() => native.crcAt()).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    fs.closeSync(fd);
  });

  it('populates pages ahead of their first write on the thread pool, changing no byte; unmap waits for one running', async () => {
    // In tmpfs, where a first write to a shared page faults (the case populate is for).
    const shm = fs.mkdtempSync('/dev/shm/riocache-populate-');
    try {
      const path = join(shm, 'region');
      const fd = fs.openSync(path, 'w+');
      const bytes = 8 << 20;
      fs.ftruncateSync(fd, bytes);
      const mapping = native.map(fd, bytes, [[0, bytes]], false);
      const view = new Uint8Array(mapping.views[0]);
      view[4096 * 3 + 5] = 7;
      const populate = (offset: number, length: number) => new Promise<boolean>((res) => native.populate(mapping.handle, offset, length, res));
      const ok = await populate(4096, 4 << 20);
      expect(ok).toBe(true); // Linux 5.14 and later (this machine's kernel)
      expect(view[4096 * 3 + 5]).toBe(7);
      expect(view.subarray(4096, 4 << 20).some((b, i) => b !== 0 && i !== 4096 * 2 + 5)).toBe(false);
      expect(() => native.populate(mapping.handle, bytes - 10, 20, () => {})).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
      expect(() => native.populate(mapping.handle, 0, 10, 1 as unknown as () => void)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
      // Several queued, then unmapped at once: each completes (done or not), none touches the pages after unmap.
      const pending = [0, 1, 2, 3].map((k) => populate(k * (2 << 20), 2 << 20));
      native.unmap(mapping.handle);
      expect((await Promise.all(pending)).every((r) => typeof r === 'boolean')).toBe(true);
      expect(() => native.populate(mapping.handle, 0, 10, () => {})).toThrow(expect.objectContaining({ code: 'ERR_REGION_UNMAPPED' }));
      fs.closeSync(fd);
    } finally {
      fs.rmSync(shm, { recursive: true, force: true });
    }
  });

  it('copies and checksums many ranges in one call (copyInCrcMany): each copy and crc as copyInCrcAt gives them, bad ranges refused before any byte is copied', () => {
    const { fd, mapping } = mapFile('copymany', 1 << 16, [[0, 4096], [4096, 61440]]);
    const views = mapping.views.map((b) => new Uint8Array(b));
    const next = rng(0xc0de);
    const src = Buffer.alloc(3 * 4096 + 5);
    for (let i = 0; i < src.length; i++) src[i] = Math.floor(next() * 256);
    // [view index, offset, length, seed, src offset]: a block, a short unaligned range, empty, a block at the end of its view
    const jobsOf: Array<[number, number, number, number, number]> = [
      [1, 0, 4096, 0x9e3779b1, 0], [0, 17, 300, 0, 4096 + 3], [1, 8192, 0, 7, 0], [1, 61440 - 4096, 4096, 0xffffffff, 2 * 4096 + 5],
    ];
    const slots = COPY_JOB_SLOTS;
    const jobs = new Float64Array(jobsOf.length * slots + slots); // one spare job: count, not the length, decides
    jobsOf.forEach(([v, off, len, seed, from], i) => jobs.set([mapping.viewIds[v], off, len, seed, from], i * slots));
    native.copyInCrcMany(src, jobs, jobsOf.length);
    jobsOf.forEach(([v, off, len, seed, from], i) => {
      expect(Buffer.from(views[v].subarray(off, off + len)).equals(src.subarray(from, from + len))).toBe(true);
      expect(jobs[i * slots + 3]).toBe(native.crc32c(src, from, len, seed));
    });
    // A job past its view, or past src: refused, and no byte of any job is copied.
    const before = Buffer.from(views[1]);
    const fresh = (extra: [number, number, number, number, number]) => {
      jobs.fill(0);
      jobs.set([mapping.viewIds[1], 100, 4096, 0, 1], 0);
      jobs.set(extra, slots);
    };
    fresh([mapping.viewIds[0], 4000, 97, 0, 0]);
    expect(() => native.copyInCrcMany(src, jobs, 2)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    fresh([mapping.viewIds[1], 0, 10, 0, src.length - 9]);
    expect(() => native.copyInCrcMany(src, jobs, 2)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(Buffer.from(views[1]).equals(before)).toBe(true);
    expect(() => native.copyInCrcMany(src, jobs, 1.5)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => native.copyInCrcMany(src, jobs, 100)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => native.copyInCrcMany(src, new Uint32Array(10) as unknown as Float64Array, 1)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => native.copyInCrcMany(new Uint16Array(10) as unknown as Uint8Array, jobs, 1)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    native.unmap(mapping.handle);
    expect(() => native.copyInCrcMany(src, jobs, 1)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    fs.closeSync(fd);
  });

  it('verifies many ranges in one call (verifyAt): each crc as crc32c gives it, mismatches counted, bad ranges refused before any is read', () => {
    const { fd, mapping } = mapFile('verify', 1 << 16, [[0, 4096], [4096, 61440]]);
    const views = mapping.views.map((b) => new Uint8Array(b));
    const next = rng(0xfeed);
    for (const v of views) for (let i = 0; i < v.length; i++) v[i] = Math.floor(next() * 256);
    // [view index, offset, length, seed]: empty, short, a block, a block at the end of its view, unaligned
    const ranges: Array<[number, number, number, number]> = [
      [1, 0, 0, 7], [0, 3, 100, 0], [1, 4096, 4096, 0x9e3779b1], [1, 61440 - 4096, 4096, 5], [0, 17, 4079, 0xffffffff], [1, 1, 300, 42],
    ];
    const words = VERIFY_JOB_WORDS;
    const jobs = new Uint32Array(ranges.length * words + words); // one spare job: count, not the length, decides
    const expected = ranges.map(([v, off, len, seed]) => native.crc32c(views[v], off, len, seed));
    ranges.forEach(([v, off, len, seed], i) => {
      jobs.set([mapping.viewIds[v], off, len, seed, expected[i], 0], i * words);
    });
    expect(native.verifyAt(jobs, ranges.length)).toBe(0);
    ranges.forEach((_, i) => expect(jobs[i * words + 5]).toBe(expected[i]));
    jobs[2 * words + 4] ^= 1; // a wrong expected crc
    views[1][61440 - 1] ^= 0x80; // a flipped bit in the block at the end of view 1
    expect(native.verifyAt(jobs, ranges.length)).toBe(2);
    expect(jobs[2 * words + 5]).toBe(expected[2]);
    expect(jobs[3 * words + 5]).not.toBe(expected[3]);
    expect(jobs[3 * words + 5]).toBe(native.crc32c(views[1], 61440 - 4096, 4096, 5));
    // One job past its view: refused, and no job's result is written.
    for (let i = 0; i < ranges.length; i++) jobs[i * words + 5] = 0;
    jobs.set([mapping.viewIds[0], 4000, 97, 0, 0, 0], ranges.length * words);
    expect(() => native.verifyAt(jobs, ranges.length + 1)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    for (let i = 0; i <= ranges.length; i++) expect(jobs[i * words + 5]).toBe(0);
    expect(() => native.verifyAt(jobs, ranges.length + 2)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => native.verifyAt(jobs, 1.5)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => native.verifyAt(new Int32Array(6) as unknown as Uint32Array, 1)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    native.unmap(mapping.handle);
    expect(() => native.verifyAt(jobs, 2)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' })); // job 1 reads 100 bytes of an unmapped view
    expect(native.verifyAt(jobs, 0)).toBe(0);
    fs.closeSync(fd);
  });

  it('survives the GC finalizers running after unmap, and unmaps on collection alone', async () => {
    const out = execFileSync(process.execPath, ['--expose-gc', join(fixtures, 'gc-after-unmap.js'), join(dir, 'gc')], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    expect(out.toString()).toBe('ok');
  });

  it('rejects ranges outside the file and views over 4 GiB', () => {
    const path = join(dir, 'small');
    const fd = fs.openSync(path, 'w+');
    fs.ftruncateSync(fd, 4096);
    expect(() => native.map(fd, 8192, [[0, 8192]], false)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => native.map(fd, 4096, [[0, 8192]], false)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    fs.closeSync(fd);
  });

  it('maps a 5 GiB sparse region in segments and writes its last byte', () => {
    const total = 5 * 1024 ** 3;
    const seg = 1024 ** 3;
    const ranges: Array<[number, number]> = [];
    for (let off = 0; off < total; off += seg) ranges.push([off, Math.min(seg, total - off)]);
    const { fd, path, mapping } = mapFile('five-gib', total, ranges);
    const last = new Uint8Array(mapping.views[mapping.views.length - 1]);
    expect(mapping.views.length).toBe(5);
    last[last.length - 1] = 0xab;
    const first = new Uint8Array(mapping.views[0]);
    first[0] = 0xcd;
    native.unmap(mapping.handle);
    const check = Buffer.alloc(1);
    fs.readSync(fd, check, 0, 1, total - 1);
    expect(check[0]).toBe(0xab);
    // Sparse: only the touched pages hold memory.
    expect(fs.statSync(path).blocks * 512).toBeLessThan(64 * 1024 * 1024);
    fs.closeSync(fd);
    fs.rmSync(path);
  });

  it('msync writes a disk-backed mapping', () => {
    const path = join(repoRoot, 'build', `msync-test-${process.pid}`);
    const fd = fs.openSync(path, 'w+');
    fs.ftruncateSync(fd, 1 << 16);
    const m = native.map(fd, 1 << 16, [[0, 1 << 16]], false);
    new Uint8Array(m.views[0])[5000] = 9;
    native.msync(m.handle, 4000, 2000);
    native.unmap(m.handle);
    expect(fs.readFileSync(path)[5000]).toBe(9);
    fs.closeSync(fd);
    fs.rmSync(path);
  });
});

describe('region lock', () => {
  it('refuses a second owner, names its pid, and frees on SIGKILL', async () => {
    const path = join(dir, 'lockfile');
    fs.writeFileSync(path, 'x');
    const child = spawnFixture('lock-holder.js', [path]);
    const msg = await child.next();
    expect(msg.locked).toBe(true);
    const fd = fs.openSync(path, 'r+');
    expect(native.lockTry(fd)).toBe(msg.pid);
    child.proc.kill('SIGKILL');
    expect((await child.exited).signal).toBe('SIGKILL');
    expect(native.lockTry(fd)).toBe(0);
    // Held by this process now: a second descriptor here is refused too (OFD
    // semantics). F_GETLK never reports the caller's own locks, so the owner is
    // unknown (-1) here; the region layer names it from its own registry.
    const fd2 = fs.openSync(path, 'r+');
    expect(native.lockTry(fd2)).toBe(-1);
    native.unlock(fd);
    expect(native.lockTry(fd2)).toBe(0);
    fs.closeSync(fd);
    fs.closeSync(fd2);
  });
});

describe('persist', () => {
  it('reports the instruction chosen at load and honours the override', () => {
    const info = native.info();
    expect(['clwb', 'clflushopt', 'clflush', 'none']).toContain(info.flush);
    for (const mode of ['none', 'clflush', info.flush]) {
      const out = execFileSync(process.execPath, ['-e', `
        const { native } = require('./dist/src/native');
        const b = new Uint8Array(8192);
        native.flush(b, 0, 8192); native.fence(); native.persist(b, 100, 5000);
        console.log(JSON.stringify(native.info()));
      `], { cwd: repoRoot, env: { ...process.env, RIOCACHE_FLUSH: mode } }).toString();
      const forced = JSON.parse(out);
      expect(forced.flush).toBe(mode);
      expect(forced.flushForced).toBe(true);
    }
  });
});

describe('confined open', () => {
  it('opens beneath the root and refuses .., absolute paths and escaping symlinks', () => {
    const root = join(dir, 'root');
    fs.mkdirSync(join(root, 'sub'), { recursive: true });
    fs.writeFileSync(join(root, 'sub', 'a'), 'inside');
    fs.writeFileSync(join(dir, 'outside'), 'outside');
    fs.symlinkSync('../outside', join(root, 'escape'));
    fs.symlinkSync('sub/a', join(root, 'inner-link'));
    const rootFd = fs.openSync(root, 'r');
    const fd = native.openBeneath(rootFd, 'sub/a', fs.constants.O_RDONLY, 0);
    expect(fs.readFileSync(fd, 'utf8')).toBe('inside');
    fs.closeSync(fd);
    const viaLink = native.openBeneath(rootFd, 'inner-link', fs.constants.O_RDONLY, 0);
    expect(fs.readFileSync(viaLink, 'utf8')).toBe('inside');
    fs.closeSync(viaLink);
    for (const bad of ['../outside', '/etc/passwd', 'escape', 'sub/../../outside']) {
      expect(() => native.openBeneath(rootFd, bad, fs.constants.O_RDONLY, 0)).toThrow(expect.objectContaining({ code: 'EXDEV' }));
    }
    fs.closeSync(rootFd);
  });

  it('passes the mode only with O_CREAT or O_TMPFILE: O_DIRECTORY (a bit of glibc\'s __O_TMPFILE) opens with any mode', () => {
    const { O_RDONLY, O_RDWR, O_CREAT, O_EXCL, O_DIRECTORY } = fs.constants;
    const O_TMPFILE = 0o20000000 | O_DIRECTORY; // Linux's __O_TMPFILE | O_DIRECTORY (Node does not export it)
    const root = join(dir, 'modes');
    fs.mkdirSync(join(root, 'sub'), { recursive: true });
    fs.writeFileSync(join(root, 'plain'), 'x');
    const rootFd = fs.openSync(root, 'r');
    try {
      // The cache passes its default mode (0o666) with every open: openat2 refuses a mode without O_CREAT/O_TMPFILE.
      for (const [path, mode] of [['sub', 0o666], ['sub', 0], ['.', 0o600]] as const) {
        const fd = native.openBeneath(rootFd, path, O_RDONLY | O_DIRECTORY, mode);
        expect(fs.fstatSync(fd).isDirectory(), `${path} ${mode.toString(8)}`).toBe(true);
        fs.closeSync(fd);
      }
      expect(() => native.openBeneath(rootFd, 'plain', O_RDONLY | O_DIRECTORY, 0o666)).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
      // O_CREAT still gets its mode (the umask applies).
      const umask = process.umask();
      const created = native.openBeneath(rootFd, 'sub/new', O_RDWR | O_CREAT | O_EXCL, 0o640);
      expect(fs.fstatSync(created).mode & 0o777).toBe(0o640 & ~umask);
      fs.closeSync(created);
      // And O_TMPFILE (which contains O_DIRECTORY) too, where the filesystem supports it.
      let tmp = -1;
      try {
        tmp = native.openBeneath(rootFd, 'sub', O_RDWR | O_TMPFILE, 0o600);
      } catch (err) {
        expect((err as NodeJS.ErrnoException).code).toMatch(/^(EOPNOTSUPP|EISDIR)$/);
      }
      if (tmp >= 0) {
        expect(fs.fstatSync(tmp).isFile()).toBe(true);
        expect(fs.fstatSync(tmp).mode & 0o777).toBe(0o600 & ~umask);
        fs.closeSync(tmp);
      }
    } finally {
      fs.closeSync(rootFd);
    }
  });
});
