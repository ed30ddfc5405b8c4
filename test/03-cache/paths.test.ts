/**
 * confine(): every path a call gives becomes one file-table key, whichever
 * way it is written. The common case takes a short cut (no normalising); it
 * must give what normalising gives, which is checked here against Node's own
 * path functions over seeded random paths.
 */
import * as fs from 'node:fs';
import { join, posix, relative, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCacheSync } from '../../src';
import { confine } from '../../src/cache/paths';
import { rng, scratchDir } from '../helpers';

const { dir, cleanup } = scratchDir('paths');
afterAll(cleanup);

const ROOT = '/srv/data/root';

/** What the key must be: the path resolved against the root, relative to it; null where it leaves the root. */
function expected(p: string): { key: string; os: string } | null {
  const abs = p.startsWith('/') ? resolve(p) : resolve(ROOT, posix.normalize(p));
  let rel = relative(ROOT, abs);
  if (rel === '..' || rel.startsWith('../') || rel.startsWith('/')) return null;
  if (!p.startsWith('/') && (posix.normalize(p) === '..' || posix.normalize(p).startsWith('../'))) return null;
  const key = rel === '' ? '.' : rel;
  if (p.endsWith('/') && rel !== '') rel += '/';
  return { key, os: rel === '' ? '.' : rel };
}

function attempt(p: string): { key: string; os: string } | null {
  try {
    const c = confine(ROOT, p, 'open');
    return { key: c.key, os: c.os };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EACCES') return null;
    throw err;
  }
}

describe('confine', () => {
  it('gives the key normalising gives, for plain and unusual paths alike', () => {
    const cases = [
      'a', 'a/b', '.git/objects/ab/cdef', 'a/.hidden', 'a/..b', 'a/b.', 'x/y/z/', 'a//b', './a', 'a/./b', 'a/../b',
      '../x', 'a/../../x', `${ROOT}/a`, `${ROOT}/a/b/`, `${ROOT}/.git/HEAD`, `${ROOT}//a`, `${ROOT}/./a`, `${ROOT}/a/../b`,
      `${ROOT}/../root/a`, `${ROOT}x/a`, '/srv/data/a', ROOT, `${ROOT}/`, 'é/ü', 'a\\b',
    ];
    for (const p of cases) expect(attempt(p), p).toEqual(expected(p));
  });

  it('agrees over seeded random paths', () => {
    const next = rng(0x7a7a);
    const parts = ['a', 'bb', '.', '..', '', '.git', '..x', 'x.', 'é', 'a\\b', '...'];
    for (let i = 0; i < 5000; i++) {
      const n = 1 + Math.floor(next() * 5);
      let p = Array.from({ length: n }, () => parts[Math.floor(next() * parts.length)]).join('/');
      if (next() < 0.4) p = `${ROOT}/${p}`;
      if (p.length === 0) continue;
      expect(attempt(p), p).toEqual(expected(p));
    }
  });

  it('names starting with two dots and names with a backslash are files in the root, by any spelling', () => {
    const root = join(dir, 'root');
    fs.mkdirSync(root, { recursive: true });
    const cache = openCacheSync({ region: join(dir, 'region.rio'), root, size: '1MiB' });
    cache.fs.writeFileSync(join(root, '..x'), 'two dots'); // was refused as outside the root (EACCES)
    cache.fs.writeFileSync(join(root, 'a\\b'), 'backslash'); // was filed as a/b
    cache.fs.writeFileSync(join(root, 'd/../...'), 'three dots');
    expect(cache.fs.readFileSync('..x', 'utf8')).toBe('two dots');
    expect(cache.fs.readFileSync('a\\b', 'utf8')).toBe('backslash');
    expect(cache.fs.readFileSync(join(root, '...'), 'utf8')).toBe('three dots');
    cache.closeSync();
    expect(fs.readdirSync(root).filter((f) => f !== '.riocache').sort()).toEqual(['...', '..x', 'a\\b']);
  });
});

