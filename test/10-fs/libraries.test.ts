/**
 * Real libraries given cache.fs as their fs: isomorphic-git (init, add,
 * commit, log, status after an in-place edit; then `git fsck` on the
 * repository the cache wrote), proper-lockfile (lock, check, unlock) and
 * fs-extra (writeJson/readJson with `{ fs: cache.fs }`).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import git from 'isomorphic-git';
import * as lockfile from 'proper-lockfile';
import fse from 'fs-extra';
import { openCacheSync, type Cache } from '../../src';
import { scratchDir } from '../helpers';

let dir: string;
let cleanup: () => void;
let root: string;
let cache: Cache;

beforeEach(() => {
  ({ dir, cleanup } = scratchDir('libraries'));
  root = join(dir, 'root');
  fs.mkdirSync(root);
  cache = openCacheSync({ region: join(dir, 'region.rio'), root, size: '8MiB' });
});

afterEach(async () => {
  if (!cache.closed) await cache.close();
  cleanup();
});

const hasGit = spawnSync('git', ['--version']).status === 0;

describe('isomorphic-git over cache.fs', () => {
  it('init, add, commit, log, and status sees an in-place edit as modified', async () => {
    const repo = join(root, 'repo');
    const author = { name: 'Rio', email: 'rio@example.com', timestamp: 1_700_000_000, timezoneOffset: 0 };
    await git.init({ fs: cache.fs, dir: repo, defaultBranch: 'main' });
    cache.fs.writeFileSync(join(repo, 'README.md'), '# hello\n');
    cache.fs.mkdirSync(join(repo, 'src'));
    cache.fs.writeFileSync(join(repo, 'src', 'a.txt'), 'alpha\n');
    await git.add({ fs: cache.fs, dir: repo, filepath: 'README.md' });
    await git.add({ fs: cache.fs, dir: repo, filepath: 'src/a.txt' });
    const first = await git.commit({ fs: cache.fs, dir: repo, message: 'first', author });
    expect(first).toMatch(/^[0-9a-f]{40}$/);
    expect(await git.status({ fs: cache.fs, dir: repo, filepath: 'README.md' })).toBe('unmodified');

    // An in-place edit of the same length: only a true mtime tells it apart.
    await new Promise((r) => setTimeout(r, 20));
    const fd = cache.fs.openSync(join(repo, 'src', 'a.txt'), 'r+');
    cache.fs.writeSync(fd, 'ALPHA', 0, 'utf8');
    cache.fs.closeSync(fd);
    expect(await git.status({ fs: cache.fs, dir: repo, filepath: 'src/a.txt' })).toBe('*modified');

    await git.add({ fs: cache.fs, dir: repo, filepath: 'src/a.txt' });
    const second = await git.commit({ fs: cache.fs, dir: repo, message: 'second', author });
    const log = await git.log({ fs: cache.fs, dir: repo });
    expect(log.map((c) => c.commit.message.trim())).toEqual(['second', 'first']);
    expect(log.map((c) => c.oid)).toEqual([second, first]);
    expect(await git.status({ fs: cache.fs, dir: repo, filepath: 'src/a.txt' })).toBe('unmodified');

    await cache.close(); // every byte on the disk
    if (!hasGit) return;
    const fsck = spawnSync('git', ['fsck', '--full', '--strict'], { cwd: repo, encoding: 'utf8' });
    expect(fsck.status, `${fsck.stdout}\n${fsck.stderr}`).toBe(0);
    const shown = spawnSync('git', ['log', '--format=%s', 'main'], { cwd: repo, encoding: 'utf8' });
    expect(shown.stdout.trim().split('\n')).toEqual(['second', 'first']);
    expect(fs.readFileSync(join(repo, 'src', 'a.txt'), 'utf8')).toBe('ALPHA\n');
  });
});

describe('proper-lockfile over cache.fs', () => {
  it('lock, check, unlock', async () => {
    cache.fs.writeFileSync('data.json', '{}');
    const file = join(root, 'data.json');
    const release = await lockfile.lock(file, { fs: cache.fs, realpath: true });
    expect(await lockfile.check(file, { fs: cache.fs })).toBe(true);
    expect(cache.fs.existsSync(`${file}.lock`)).toBe(true);
    await expect(lockfile.lock(file, { fs: cache.fs })).rejects.toMatchObject({ code: 'ELOCKED' });
    await release();
    expect(await lockfile.check(file, { fs: cache.fs })).toBe(false);
    expect(cache.fs.existsSync(`${file}.lock`)).toBe(false);
    expect(lockfile.checkSync(file, { fs: cache.fs })).toBe(false);
    const releaseSync = lockfile.lockSync(file, { fs: cache.fs });
    expect(lockfile.checkSync(file, { fs: cache.fs })).toBe(true);
    releaseSync();
    expect(lockfile.checkSync(file, { fs: cache.fs })).toBe(false);
  });
});

describe('fs-extra over cache.fs', () => {
  it('writeJson/readJson with { fs: cache.fs }, async and sync', async () => {
    const file = join(root, 'state.json');
    await fse.writeJson(file, { a: 1, list: [1, 2, 3] }, { fs: cache.fs } as never);
    expect(await fse.readJson(file, { fs: cache.fs } as never)).toEqual({ a: 1, list: [1, 2, 3] });
    fse.writeJsonSync(file, { b: 2 }, { fs: cache.fs } as never);
    expect(fse.readJsonSync(file, { fs: cache.fs } as never)).toEqual({ b: 2 });
    await cache.close();
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ b: 2 });
  });
});
