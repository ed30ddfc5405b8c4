/**
 * The widened differential through the installed hook: a program that calls
 * plain node:fs (test/10-register/apps/differential.js, running the seeded
 * sequence of test/03-cache/differential-names.ts, each namespace step in a
 * seeded form: Sync, callback or promise) under
 * `--require riocache/register`, on a directory beneath RIOCACHE_ROOT and its
 * twin outside it. Every step's result and error must be the same on both,
 * and after the program's exit (clean close) both trees must be identical.
 * Steps that read the root's listing see no `.riocache` in it.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers';
import { transpileForChild } from '../transpile';
import { prepare, tree } from '../03-cache/differential-names';
import { registerEnv, run, world } from './child';

const STEPS = 3000;
// RIOCACHE_DIFF_HOOKED_SEEDS=first-last runs those seeds instead.
const range = (process.env.RIOCACHE_DIFF_HOOKED_SEEDS ?? '').split('-').map(Number);
const SEEDS = range.length === 2 && range.every(Number.isInteger) && range[0] <= range[1]
  ? Array.from({ length: range[1] - range[0] + 1 }, (_, i) => range[0] + i)
  : [301, 302];
const worlds: Array<() => void> = [];
afterAll(() => worlds.forEach((c) => c()));

/** The differential's modules as plain CommonJS beside dist/src (their one import of src resolves there). */
const compiled = join(repoRoot, 'dist', 'test');
beforeAll(() => {
  for (const f of ['helpers.ts', '03-cache/differential.ts', '03-cache/differential-names.ts']) {
    transpileForChild(join(repoRoot, 'test', f), join(compiled, f.replace(/\.ts$/, '.js')));
  }
});

describe('the widened differential through riocache/register', () => {
  for (const seed of SEEDS) {
    it(`seed ${seed}: ${STEPS} steps of plain node:fs (Sync, callback and promise forms) give the same results beneath the root as outside it`, async () => {
      const w = world(`diff-${seed}`);
      worlds.push(w.cleanup);
      // Twins of equal path length (messages carry paths, relativised per side).
      const cacheRoot = join(w.root, 'cache');
      const nodeRoot = join(w.root, 'nodes');
      fs.mkdirSync(cacheRoot);
      fs.mkdirSync(nodeRoot);
      prepare(cacheRoot);
      prepare(nodeRoot);
      const env = registerEnv(cacheRoot, w.region, {
        RIOCACHE_SIZE: '256KiB', RIOCACHE_BLOCK_SIZE: '4096', RIOCACHE_MAX_FILES: '24', RIOCACHE_WRITEBACK_INTERVAL_MS: '1000000',
      });
      const r = run('differential.js', {
        register: true, env, args: [join(compiled, '03-cache/differential-names.js'), cacheRoot, nodeRoot, String(seed), String(STEPS), '4096'],
      });
      const { code } = await r.exited;
      expect(r.lines[0], r.stderr()).toMatchObject({ steps: STEPS }); // else the first step that differed
      expect(code).toBe(0);
      expect(r.lines[0].kinds.length).toBeGreaterThan(20);
      expect(r.lines[0].cached.writes).toBeGreaterThan(100); // the first twin's calls went through the cache
      expect(tree(cacheRoot)).toEqual(tree(nodeRoot)); // no `.riocache` left behind either
    });
  }
});
