/**
 * The faces against node:fs: a sample of calls, each made through the Sync,
 * the callback and the promise form, on node:fs (in a directory tree, as
 * the working directory) and on cache.fs (over an identical tree as its
 * root), with the same relative paths. Results must be equal and errors
 * identical: code, errno, syscall, path, dest and message (and the class of
 * argument errors). Each face runs on fresh trees, so a call's effect is the
 * same for both sides.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCacheSync, type Cache } from '../../src';
import { scratchDir } from '../helpers';

type Face = 'sync' | 'callback' | 'promise';
type AnyFs = Record<string, any>;

/** One call: the function's name and its arguments (without a callback). */
type Call = [name: string, ...args: unknown[]];

const { COPYFILE_EXCL } = fs.constants;

const calls: Call[] = [
  ['readFile', 'f'], ['readFile', 'f', 'utf8'], ['readFile', 'nope'], ['readFile', 'd'], ['readFile', 'f', { encoding: 'zz' }],
  ['readFile', 'f', { flag: 'zz' }], ['readFile', 'a\0b'], ['readFile', 42.5], ['readFile', 2 ** 31 - 5],
  ['writeFile', 'w1', 'data one'], ['readFile', 'w1', 'latin1'], ['writeFile', 'w1', 'two'], ['readFile', 'w1', 'utf8'],
  ['writeFile', 'd', 'x'], ['writeFile', 'nodir/x', 'y'], ['writeFile', 'w2', 5], ['writeFile', 'w2', 'x', { mode: 'z' }],
  ['appendFile', 'w3', 'a'], ['appendFile', 'w3', Buffer.from('bc')], ['readFile', 'w3', 'utf8'], ['writeFile', 'w4', 'abc', { flag: 'wx' }],
  ['writeFile', 'w4', 'abc', { flag: 'wx' }],
  ['stat', 'f'], ['stat', 'nope'], ['stat', 'f/x'], ['lstat', 'l'], ['stat', 'l'], ['stat', 123], ['lstat', 'nope'], ['stat', 'd', { bigint: true }],
  ['access', 'f'], ['access', 'nope'], ['access', 'f', 9], ['access', 'f', 'x'], ['access', 'f', fs.constants.R_OK | fs.constants.W_OK],
  ['readdir', 'd'], ['readdir', 'nope'], ['readdir', 'f'], ['readdir', 'd', { withFileTypes: true }], ['readdir', 'd', 'buffer'],
  ['readdir', '.', { recursive: true }], ['readdir', 'd', 5],
  ['mkdir', 'm1'], ['mkdir', 'd'], ['mkdir', 'a/b/c', { recursive: true }], ['mkdir', 'a/b/c', { recursive: true }], ['mkdir', 'x', { recursive: 1 }],
  ['mkdir', 'nope/x'],
  ['rmdir', 'e'], ['rmdir', 'd'], ['rmdir', 'nope'], ['rmdir', 'f'],
  ['rm', 'nope'], ['rm', 'nope', { force: true }], ['rm', 'd'], ['rm', 'd2', { recursive: true }], ['readdir', 'd2'], ['rm', 'x', { force: 'yes' }],
  ['unlink', 'nope'], ['unlink', 'd'], ['rename', 'nope', 'x'], ['rename', 'f2', 'g2'], ['readFile', 'g2', 'utf8'], ['rename', 'g2', 'd'],
  ['readlink', 'l'], ['readlink', 'f'], ['readlink', 'nope'],
  ['symlink', 'f', 'l2'], ['readlink', 'l2'], ['symlink', 'f', 'l'], ['symlink', 'f', 'l3', 'zz'],
  ['link', 'f', 'h'], ['stat', 'h'], ['link', 'nope', 'h2'], ['link', 'f', 'h'],
  ['copyFile', 'f', 'c1'], ['readFile', 'c1', 'utf8'], ['copyFile', 'nope', 'c2'], ['copyFile', 'f', 'c1', COPYFILE_EXCL], ['copyFile', 'f', 'c3', 99],
  ['truncate', 't', 2], ['readFile', 't', 'utf8'], ['truncate', 'nope'], ['truncate', 't', 'x'], ['truncate', 'd'],
  ['realpath', 'l'], ['realpath', 'nope'], ['realpath', 'd/../f'],
  ['chmod', 'f', 0o640], ['stat', 'f'], ['chmod', 'nope', 0o644], ['chmod', 'f', 'z'],
  ['utimes', 'f', 1_000_000, 2_000_000], ['stat', 'f'], ['utimes', 'nope', 1, 2], ['utimes', 'f', 'a', 1],
  ['open', 'nope'], ['open', 'f', 'zz'], ['open', 'd', 'w'], ['open', 'f', 'r', {}], ['open', 'f', 'wx'],
  ['exists', 'f'], ['exists', 'nope'], ['exists', 5],
  ['cp', 'd', 'cpd', { recursive: true }], ['readdir', 'cpd'], ['cp', 'd', 'cpe'], ['cp', 'nope', 'cpf'],
  ['realpath', 'd/g'], ['mkdtemp', 'nope/x'],
  // Descriptor calls whose arguments Node refuses before looking at the descriptor.
  ['read', 1.5, Buffer.alloc(4), 0, 4, null], ['read', -1, Buffer.alloc(4), 0, 4, null], ['read', 'x', Buffer.alloc(4), 0, 4, null],
  ['read', 2 ** 31 - 5, 'not a buffer', 0, 4, null], ['read', 2 ** 31 - 5, Buffer.alloc(4), 5, 1, null],
  ['read', 2 ** 31 - 5, Buffer.alloc(4), 0, 9, null], ['read', 2 ** 31 - 5, Buffer.alloc(4), 0, 2, 'x'],
  ['write', 1.5, 'x'], ['write', 2 ** 31 - 5, {}], ['write', 2 ** 31 - 5, Buffer.alloc(4), 5], ['write', 2 ** 31 - 5, Buffer.alloc(4), 0, 9],
  ['fstat', -1], ['close', 'x'], ['ftruncate', 2 ** 31], ['ftruncate', 2 ** 31 - 5, 'x'], ['writev', 2 ** 31 - 5, 5],
  ['readv', 2 ** 31 - 5, [1]], ['fsync', 1.5], ['futimes', 2 ** 31 - 5, 'a', 1], ['fchmod', 2 ** 31 - 5, 'z'], ['fchown', 2 ** 31 - 5, -2, 0],
];

/** A tree: a file, a directory with a file, an empty directory, a symlink, files to rename and truncate, a tree to remove. */
function makeTree(at: string): void {
  fs.mkdirSync(at);
  fs.writeFileSync(join(at, 'f'), 'the file\n');
  fs.mkdirSync(join(at, 'd'));
  fs.writeFileSync(join(at, 'd', 'g'), 'gee');
  fs.mkdirSync(join(at, 'e'));
  fs.symlinkSync('f', join(at, 'l'));
  fs.writeFileSync(join(at, 'f2'), 'to rename');
  fs.writeFileSync(join(at, 't'), 'truncate me');
  fs.mkdirSync(join(at, 'd2', 'sub'), { recursive: true });
  fs.writeFileSync(join(at, 'd2', 'sub', 'x'), 'x');
}

const fdKeys = new Set(['open']);

/** A comparable form of a result: Stats by their stable fields, Dirents by name and type, Buffers as hex, the roots removed. */
function normal(value: unknown, root: string, name: string): unknown {
  if (fdKeys.has(name) && typeof value === 'number') return 'a descriptor';
  if (value instanceof fs.Stats || (value && typeof value === 'object' && 'isFile' in value && 'mtimeMs' in value)) {
    const s = value as fs.Stats;
    return {
      file: s.isFile(), dir: s.isDirectory(), link: s.isSymbolicLink(), size: s.size, mode: s.mode, nlink: s.nlink,
      mtimeMs: name === 'stat' && Number(s.mtimeMs) < 3e9 ? s.mtimeMs : 'now', bigint: typeof s.size === 'bigint',
    };
  }
  if (value instanceof fs.Dirent) return { name: value.name, file: value.isFile(), dir: value.isDirectory(), link: value.isSymbolicLink() };
  if (Buffer.isBuffer(value)) return `hex:${value.toString('hex')}`;
  if (typeof value === 'string') return value.split(root).join('<root>');
  if (Array.isArray(value)) {
    const items = value.map((v) => normal(v, root, name));
    return items.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  }
  return value;
}

function normalError(err: unknown, root: string): Record<string, unknown> {
  const e = err as NodeJS.ErrnoException;
  // mkdtemp's six random characters cannot be compared (Node's sync form shows XXXXXX, its async forms the random name).
  const shown = (v: unknown) => String(v).split(root).join('<root>').replace(/(mkdtemp '[^']*?)[A-Za-z0-9]{6}'/, "$1??????'");
  const out: Record<string, unknown> = { code: e.code, message: shown(e.message) };
  const fields = e as unknown as Record<string, unknown>;
  for (const k of ['errno', 'syscall', 'path', 'dest']) {
    if (fields[k] !== undefined) out[k] = k === 'path' && e.syscall === 'mkdtemp' ? 'a random name' : shown(fields[k]);
  }
  // System errors are Error (riocache's RioError extends it); argument errors must be the same class.
  if (e.errno === undefined) out.class = (err as Error).constructor.name;
  return out;
}

/**
 * Calls where node:fs itself misbehaves in one face, left out of that face:
 * fs.readFile(badFd, cb) fails with an internal ERR_INVALID_ARG_TYPE ("list"
 * argument) in Node 20 instead of EBADF; cp of a directory without
 * `recursive` is ERR_FS_EISDIR with errno 22 (EINVAL) from cpSync but 21
 * (EISDIR) from the asynchronous cp, and the one core gives cpSync's.
 */
const cpDirectory = JSON.stringify(['cp', 'd', 'cpe']);
const nodeQuirks: Record<Face, string[]> = {
  sync: [], callback: [JSON.stringify(['readFile', 2 ** 31 - 5]), cpDirectory], promise: [cpDirectory],
};

type Outcome = { ok: unknown } | { error: Record<string, unknown> } | { threw: Record<string, unknown> };

async function run(target: AnyFs, face: Face, [name, ...args]: Call, root: string): Promise<Outcome> {
  try {
    if (face === 'sync') return { ok: normal(target[`${name}Sync`](...args), root, name) };
    if (face === 'promise') {
      if (typeof target.promises[name] !== 'function') return { ok: 'no promise form' };
      const r = await target.promises[name](...args);
      if (r && typeof r === 'object' && typeof r.close === 'function' && 'fd' in r) {
        await r.close();
        return { ok: 'a FileHandle' };
      }
      return { ok: normal(r, root, name) };
    }
    return await new Promise<Outcome>((resolve) => {
      const cb = (...res: unknown[]) => {
        if (name === 'exists') return resolve({ ok: normal(res[0], root, name) });
        if (res[0]) return resolve({ error: normalError(res[0], root) });
        if (name === 'open') target.closeSync(res[1]);
        resolve({ ok: normal(res.length > 1 ? res[1] : undefined, root, name) });
      };
      target[name](...args, cb);
    });
  } catch (err) {
    return { threw: normalError(err, root) };
  }
}

const { dir, cleanup } = scratchDir('faces');
const caches: Cache[] = [];
const home = process.cwd();

afterAll(async () => {
  process.chdir(home);
  for (const c of caches) if (!c.closed) await c.close();
  cleanup();
});

describe('cache.fs faces against node:fs on the same trees', () => {
  for (const face of ['sync', 'callback', 'promise'] as Face[]) {
    it(`${face}: ${calls.length} calls give node:fs's results and errors`, async () => {
      const nodeRoot = join(dir, `node-${face}`);
      const cacheRoot = join(dir, `cache-${face}`);
      makeTree(nodeRoot);
      makeTree(cacheRoot);
      const cache = openCacheSync({ region: join(dir, `${face}.rio`), root: cacheRoot, size: '4MiB' });
      caches.push(cache);
      const differences: string[] = [];
      let compared = 0;
      for (const c of calls) {
        if (nodeQuirks[face].includes(JSON.stringify(c))) continue;
        process.chdir(nodeRoot);
        const expected = await run(fs as unknown as AnyFs, face, c, nodeRoot);
        process.chdir(home);
        const actual = await run(cache.fs as unknown as AnyFs, face, c, cacheRoot);
        compared++;
        const a = JSON.stringify(actual, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
        const e = JSON.stringify(expected, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
        if (a !== e) differences.push(`${JSON.stringify(c)}\n    node:     ${e}\n    riocache: ${a}`);
      }
      expect(compared).toBe(calls.length - nodeQuirks[face].length);
      expect(differences, differences.join('\n')).toEqual([]);
    });
  }
});
