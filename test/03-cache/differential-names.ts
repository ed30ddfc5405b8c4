/**
 * The differential driver widened to the namespace: one seeded sequence that
 * mixes the data calls of differential.ts with directories, stats, links,
 * copies, truncation by path, modes and times, applied to cache.fs and to
 * Node's fs on a twin directory. Results and errors (code, errno, syscall,
 * message with the paths relative to each side's root) must be identical at
 * every step. On the cache's side each step also checks what node:fs cannot
 * be compared on across two directories: a file's mtime never goes back, and
 * after a write it is the time of that write.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { rng } from './../helpers';
import { dataStep, Side, type StepResult } from './differential';

const files = ['a', 'b', 'c', 'd/e', 'd/f', 'g/h/i', 'missing/x', 'q/r', 'q/s/t', 'l1', 'l2'];
const dirs = ['d', 'g', 'g/h', 'q', 'q/s', 'd/u', 'missing/y', 'a'];
const links = ['l1', 'l2', 'd/l3'];
// Targets stay inside the root: one leading out is EACCES through the cache (G7), followed by node:fs.
const linkTargets = ['a', 'd', 'q/r', 'd/../a', 'missing', 'd/e', 'l1'];

/** The tree both twins start from. */
export function prepare(root: string): void {
  fs.mkdirSync(join(root, 'd'), { recursive: true });
  fs.mkdirSync(join(root, 'g/h'), { recursive: true });
  fs.mkdirSync(join(root, 'q/s'), { recursive: true });
  fs.writeFileSync(join(root, 'a'), Buffer.alloc(9000, 0x61));
  fs.writeFileSync(join(root, 'd/e'), 'preexisting');
  fs.writeFileSync(join(root, 'q/s/t'), Buffer.alloc(5000, 0x74));
  fs.symlinkSync('a', join(root, 'l1'));
}

/** The forms a namespace step may call its function in. */
export type Face = 'sync' | 'callback' | 'promise';
const FACES: readonly Face[] = ['sync', 'callback', 'promise'];

/** One step of the sequence, on one side. */
export type NameStep = (s: NameSide) => StepResult | Promise<StepResult>;

/** A Side that also knows its root (to relativise paths) and, for the cache, checks times. */
export class NameSide extends Side {
  /** The last mtime seen per inode (cache side), reset by utimes. */
  readonly lastMtime = new Map<number, number>();
  readonly violations: string[] = [];
  /** The stack of the last error (RIOCACHE_DIFF_TRACE). */
  lastStack = '';
  /** The form the current step calls its function in (set by the step). */
  face: Face = 'sync';

  constructor(api: unknown, prefix: string, readonly root: string, readonly checkTimes: boolean) {
    super(api as never, prefix);
  }

  get fsx(): typeof fs {
    return this.api as unknown as typeof fs;
  }

  /**
   * `name` called in the step's face: `nameSync`, the callback form (its
   * result or error through a promise), or the fs.promises form (the Sync
   * one where fs.promises has none: exists; and for cp, below).
   */
  call(name: string, ...args: unknown[]): any {
    const api = this.api as unknown as Record<string, (...a: unknown[]) => unknown> & { promises: Record<string, (...a: unknown[]) => Promise<unknown>> };
    // cp stays Sync: Node's asynchronous cp is a second implementation that parts from cpSync in corner cases
    // (symlinks, a missing parent), while cache.fs derives every form from one core (docs/api.md).
    if (this.face === 'sync' || name === 'cp' || (this.face === 'promise' && !api.promises[name])) return api[`${name}Sync`](...args);
    if (this.face === 'promise') return api.promises[name](...args);
    if (name === 'exists') return new Promise((res) => api.exists(...args, res));
    return new Promise((res, rej) => api[name](...args, (err: unknown, value: unknown) => (err ? rej(err) : res(value))));
  }

  p(name: string): string {
    return this.prefix ? join(this.prefix, name) : name;
  }

  /** Removes this side's root from any string in a result. */
  rel(value: unknown): unknown {
    const roots = [this.root, this.prefix].filter((r) => r);
    const strip = (s: string) => {
      for (const r of roots) s = s.split(r + '/').join('').split(r).join('.');
      return s;
    };
    return JSON.parse(strip(JSON.stringify(value ?? null)));
  }

  /** Observes a stat of a regular file: mtime never decreases (cache side). */
  observe(op: string, st: fs.Stats): void {
    if (!this.checkTimes || !st.isFile()) return;
    const last = this.lastMtime.get(st.ino);
    if (last !== undefined && st.mtimeMs < last) this.violations.push(`${op}: mtime went back from ${last} to ${st.mtimeMs}`);
    this.lastMtime.set(st.ino, st.mtimeMs);
  }
}

function statView(st: fs.Stats): Record<string, unknown> {
  const type = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'link' : 'other';
  return { type, size: type === 'dir' ? undefined : st.size, nlink: st.nlink, mode: st.mode, uid: st.uid };
}

function direntView(d: fs.Dirent): Record<string, unknown> {
  return { name: d.name, path: d.parentPath ?? (d as fs.Dirent & { path: string }).path, file: d.isFile(), dir: d.isDirectory(), link: d.isSymbolicLink() };
}

/**
 * The sequence of `seed`. With `faces`, each step calls its namespace
 * function in a form drawn from a generator of its own (the data steps keep
 * their Sync calls), so a seed's operations are the same either way.
 */
export function* namespaceOperations(seed: number, count: number, blockSize: number, faces = false): Generator<NameStep> {
  const faceRng = rng(seed ^ 0x5eed);
  for (const step of namespaceSteps(seed, count, blockSize)) {
    const face: Face = faces ? FACES[Math.floor(faceRng() * FACES.length)] : 'sync';
    yield (s) => {
      s.face = face;
      return step(s);
    };
  }
}

function* namespaceSteps(seed: number, count: number, blockSize: number): Generator<NameStep> {
  const r = rng(seed);
  const int = (n: number) => Math.floor(r() * n);
  const pick = <T>(xs: readonly T[]) => xs[int(xs.length)];
  for (let i = 0; i < count; i++) {
    const k = r();
    if (k < 0.55) {
      const step = dataStep(r, blockSize);
      // Writes through a descriptor: the mtime is that write's (checked on the cache's side).
      yield (s) => {
        const t0 = Date.now();
        const out = step(s);
        if (s instanceof NameSide && s.checkTimes && out.op.startsWith('write #')) {
          const at = Number(out.op.slice(7).split(' ')[0]);
          const fd = s.fd(at);
          const st = s.fsx.fstatSync(fd);
          // Date.now() drops the sub-millisecond digits a stamp from the disk may keep: a millisecond of slack above.
          if (st.mtimeMs < t0 || st.mtimeMs >= Date.now() + 1) s.violations.push(`${out.op}: mtime ${st.mtimeMs} outside [${t0}, now]`);
          s.observe(out.op, st);
        }
        return out;
      };
      continue;
    }
    const f = pick(files);
    const g = pick(files);
    const d = pick(dirs);
    const d2 = pick(dirs);
    const u = r();
    const v = r();
    const len = int(blockSize * 5);
    const mode = pick([0o644, 0o600, 0o755, 0o664]);
    const when = 1_600_000_000 + int(100_000_000) + int(1000) / 1000;
    const lk = pick(links);
    const c = r();
    if (c < 0.1) {
      yield async (s) => {
        const st = u < 0.5 ? await s.call('stat', s.p(f)) : await s.call('lstat', s.p(f));
        if (s instanceof NameSide) s.observe(`stat ${f}`, st);
        return { op: `${u < 0.5 ? 'stat' : 'lstat'} ${f}`, value: statView(st) };
      };
    } else if (c < 0.18) {
      yield async (s) => {
        return { op: `mkdir ${d} ${u < 0.5}`, value: (s as NameSide).rel(await s.call('mkdir', (s as NameSide).p(d), { recursive: u < 0.5 })) };
      };
    } else if (c < 0.23) {
      yield async (s) => {
        await s.call('rmdir', (s as NameSide).p(d));
        return { op: `rmdir ${d}` };
      };
    } else if (c < 0.3) {
      const target = u < 0.5 ? d : f;
      const recursive = v < 0.6;
      const force = v < 0.3 || v > 0.8;
      yield async (s) => {
        await s.call('rm', (s as NameSide).p(target), { recursive, force });
        return { op: `rm ${target} r=${recursive} f=${force}` };
      };
    } else if (c < 0.38) {
      const withFileTypes = u < 0.5;
      const recursive = v < 0.4;
      yield async (s) => {
        const list = await s.call('readdir', (s as NameSide).p(u < 0.8 ? d : '.'), { withFileTypes, recursive } as never) as unknown[];
        const view = list.map((x) => (typeof x === 'string' ? x : direntView(x as fs.Dirent)));
        return { op: `readdir ${d} types=${withFileTypes} r=${recursive}`, value: (s as NameSide).rel(view) };
      };
    } else if (c < 0.42) {
      yield async (s) => {
        return { op: `exists ${f}`, value: await s.call('exists', (s as NameSide).p(f)) };
      };
    } else if (c < 0.45) {
      yield async (s) => {
        await s.call('access', (s as NameSide).p(f), u < 0.5 ? fs.constants.F_OK : fs.constants.R_OK | fs.constants.W_OK);
        return { op: `access ${f}` };
      };
    } else if (c < 0.5) {
      const link = lk;
      const to = linkTargets[Math.floor(v * linkTargets.length)];
      yield async (s) => {
        await s.call('symlink', to, (s as NameSide).p(link));
        return { op: `symlink ${to} ${link}` };
      };
    } else if (c < 0.53) {
      yield async (s) => {
        return { op: `readlink ${f}`, value: (s as NameSide).rel(await s.call('readlink', (s as NameSide).p(u < 0.5 ? lk : f))) };
      };
    } else if (c < 0.58) {
      yield async (s) => {
        await s.call('link', (s as NameSide).p(f), (s as NameSide).p(g));
        return { op: `link ${f} ${g}` };
      };
    } else if (c < 0.68) {
      yield async (s) => {
        await s.call('copyFile', (s as NameSide).p(f), (s as NameSide).p(g), u < 0.3 ? fs.constants.COPYFILE_EXCL : 0);
        return { op: `copyFile ${f} ${g}` };
      };
    } else if (c < 0.72) {
      const src = u < 0.5 ? d : f;
      const dest = u < 0.5 ? d2 : g;
      const opts = { recursive: v < 0.7, force: v < 0.5, errorOnExist: v > 0.8 };
      yield async (s) => {
        await s.call('cp', (s as NameSide).p(src), (s as NameSide).p(dest), opts);
        return { op: `cp ${src} ${dest} ${JSON.stringify(opts)}` };
      };
    } else if (c < 0.8) {
      yield async (s) => {
        await s.call('truncate', (s as NameSide).p(f), len);
        const st = await s.call('stat', (s as NameSide).p(f));
        if (s instanceof NameSide) s.observe(`truncate ${f}`, st);
        return { op: `truncate ${f} ${len}`, value: st.size };
      };
    } else if (c < 0.84) {
      yield async (s) => {
        await s.call('chmod', (s as NameSide).p(f), mode);
        return { op: `chmod ${f} ${mode.toString(8)}`, value: (await s.call('stat', (s as NameSide).p(f))).mode };
      };
    } else if (c < 0.88) {
      yield async (s) => {
        await s.call('utimes', (s as NameSide).p(f), when, when);
        const st = await s.call('stat', (s as NameSide).p(f));
        if (s instanceof NameSide) s.lastMtime.set(st.ino, st.mtimeMs);
        return { op: `utimes ${f} ${when}`, value: st.mtimeMs };
      };
    } else if (c < 0.92) {
      yield async (s) => {
        return { op: `realpath ${f}`, value: (s as NameSide).rel(await s.call('realpath', (s as NameSide).p(f))) };
      };
    } else if (c < 0.97) {
      const from = u < 0.5 ? d : f;
      const to = u < 0.5 ? d2 : g;
      yield async (s) => {
        await s.call('rename', (s as NameSide).p(from), (s as NameSide).p(to));
        return { op: `rename ${from} ${to}` };
      };
    } else {
      yield async (s) => {
        await s.call('unlink', (s as NameSide).p(f));
        return { op: `unlink ${f}` };
      };
    }
  }
}

/** Runs a step; an error becomes its code, errno, syscall and message (paths relative to the side's root). */
export async function runNamed(step: NameStep, side: NameSide): Promise<StepResult> {
  try {
    return await step(side);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (!e.code) throw err;
    if (process.env.RIOCACHE_DIFF_TRACE && side.checkTimes) side.lastStack = e.stack ?? '';
    return { op: 'error', error: side.rel(`${e.code} ${e.errno} ${e.syscall} ${e.message}`) as string };
  }
}

/** The tree under dir: directories, symlinks (their targets relative to the root), files (bytes and mode). */
export function tree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(join(dir, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      const full = join(dir, p);
      if (e.isDirectory()) {
        out.set(p, `dir ${(fs.statSync(full).mode & 0o7777).toString(8)}`);
        walk(p);
      } else if (e.isSymbolicLink()) {
        out.set(p, `-> ${fs.readlinkSync(full).split(dir + '/').join('').split(dir).join('.')}`);
      } else if (e.isFile()) {
        const st = fs.statSync(full);
        out.set(p, `${(st.mode & 0o7777).toString(8)} nlink ${st.nlink} ${fs.readFileSync(full).toString('base64')}`);
      }
    }
  };
  walk('');
  return out;
}
