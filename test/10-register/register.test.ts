/**
 * riocache/register on unmodified programs (real child processes): every
 * face of node:fs gives the same results as plain fs and goes through the
 * cache beneath the root; calls elsewhere reach the real fs; two paths across
 * the root's edge; configuration errors name their variable; a second copy
 * does not stack; the lifecycle (clean close at exit, recovery after SIGKILL
 * and after a SIGTERM the program does not handle).
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCacheSync } from '../../src';
import { CALLS } from '../../src/register/calls';
import { kill, registerEnv, run, runToEnd, world } from './child';

const worlds: Array<() => void> = [];
afterAll(() => worlds.forEach((c) => c()));
const fresh = (label: string) => {
  const w = world(label);
  worlds.push(w.cleanup);
  return w;
};

/** Opens the region the way the next start would, reporting whether a warm reboot ran. */
function reopen(region: string, root: string): boolean {
  const c = openCacheSync({ region, root });
  const ran = c.recovery.ran;
  c.closeSync();
  return ran;
}

describe('riocache/register', () => {
  it('finds in cache.fs every face of every call it routes', () => {
    const w = fresh('faces-table');
    const cache = openCacheSync({ region: w.region, root: w.root });
    const real = fs as unknown as Record<string, unknown>;
    const missing: string[] = [];
    const cfs = cache.fs as unknown as Record<string, unknown> & { promises: Record<string, unknown> };
    for (const name of Object.keys(CALLS)) {
      for (const [holder, key, mine] of [[real, name, cfs], [real, `${name}Sync`, cfs], [real.promises, name, cfs.promises]] as const) {
        if (typeof (holder as Record<string, unknown>)[key] === 'function' && typeof (mine as Record<string, unknown>)[key] !== 'function') missing.push(key);
      }
    }
    cache.closeSync();
    expect(missing).toEqual([]);
  });

  it('gives every face of node:fs the results plain fs gives, through the cache', async () => {
    const plain = fresh('faces-plain');
    const hooked = fresh('faces-hooked');
    const a = await runToEnd('faces.js', { register: false, args: [plain.root] });
    const b = await runToEnd('faces.js', { register: true, args: [hooked.root], env: registerEnv(hooked.root, hooked.region) });
    expect(b.lines[0]).toEqual(a.lines[0]);
    expect(a.lines[0].cbExists).toBe(true); // fs.exists's callback gets the boolean alone, as Node's
    expect(a.lines[1]).toBeUndefined();
    expect(b.lines[1]).toMatchObject({ hooked: true, fd: true });
    // Every write call above (a writeFile that creates its file included: made whole in the region, then
    // linked); a stream batches its lines into writev.
    expect(b.lines[1].writes).toBeGreaterThanOrEqual(8);
    // After the clean exit the files on disk are the results.
    expect(fs.readFileSync(join(hooked.root, 'pr.txt'), 'utf8')).toBe('Promise\nappended\n');
    expect(reopen(hooked.region, hooked.root)).toBe(false);
  });

  it('keeps ESM named imports in step (--import)', async () => {
    const w = fresh('esm');
    const r = await runToEnd('esm.mjs', { register: true, esm: true, args: [w.root], env: registerEnv(w.root, w.region) });
    expect(r.lines[0]).toEqual({ content: 'named\npromise\nfd\n', viaPromise: 'named\npromise\nfd\n', cacheFd: true, writes: 3 }); // the creating writeFileSync, then two writes, all in the region
  });

  it('leaves calls outside the root to the real fs', async () => {
    const w = fresh('outside');
    const elsewhere = fresh('outside-dir');
    const r = await runToEnd('basics.js', { register: true, args: ['outside', w.root, elsewhere.root], env: registerEnv(w.root, w.region) });
    expect(r.lines[0].fd).toBeLessThan(2 ** 24);
    expect(r.lines[0]).toMatchObject({ writes: 0, content: 'plain' });
  });

  it('refuses rename and link across the root (EXDEV) and copies copyFile across it', async () => {
    const w = fresh('cross');
    const elsewhere = fresh('cross-dir');
    const r = await runToEnd('basics.js', { register: true, args: ['cross', w.root, elsewhere.root], env: registerEnv(w.root, w.region) });
    expect(r.lines[0]).toEqual({ renameOut: 'EXDEV', renameIn: 'EXDEV', copiedOut: 'inside', copiedIn: 'outside', linkOut: 'EXDEV' });
    expect(fs.readFileSync(join(elsewhere.root, 'copied-out.txt'), 'utf8')).toBe('inside');
    expect(fs.readFileSync(join(w.root, 'copied-in.txt'), 'utf8')).toBe('outside');
  });

  it('installs once per process, even from a second copy', async () => {
    const w = fresh('twice');
    const r = await runToEnd('basics.js', { register: true, args: ['twice', w.root], env: registerEnv(w.root, w.region) });
    expect(r.lines[0]).toEqual({ same: true });
  });

  it('stops at startup on a bad variable, naming it', async () => {
    const w = fresh('config');
    const cases: Array<[NodeJS.ProcessEnv, string]> = [
      [{ RIOCACHE_SIZE: 'banana' }, 'RIOCACHE_SIZE'],
      [{ RIOCACHE_ROOT: join(w.root, 'missing') }, 'RIOCACHE_ROOT'],
      [{ RIOCACHE_ROOT: '' }, 'RIOCACHE_ROOT is not set'],
      [{ RIOCACHE_REGION: '' }, 'RIOCACHE_REGION is not set'],
      [{ RIOCACHE_FSYNC: 'sometimes' }, 'RIOCACHE_FSYNC'],
      [{ RIOCACHE_BLOCK_SIZE: '1000' }, 'RIOCACHE_BLOCK_SIZE'],
      [{ RIOCACHE_PREFAULT: 'yes' }, 'RIOCACHE_PREFAULT'],
      [{ RIOCACHE_WRITEBACK_DIRTY_RATIO: '2' }, 'RIOCACHE_WRITEBACK_DIRTY_RATIO'],
      [{ RIOCACHE_POOL_MAX: '0' }, 'RIOCACHE_POOL_MAX'],
    ];
    for (const [env, named] of cases) {
      const r = run('basics.js', { register: true, args: ['outside', w.root, w.root], env: { ...registerEnv(w.root, w.region), ...env } });
      const { code } = await r.exited;
      expect(code, JSON.stringify(env)).toBe(78);
      expect(r.stderr()).toContain(named);
      expect(r.lines).toEqual([]); // nothing of the program ran
    }
  });

  it('closes the region clean at process.exit(), and a SIGKILL leaves it for the next start', async () => {
    const w = fresh('lifecycle');
    await runToEnd('basics.js', { register: true, args: ['ack-then-exit', w.root], env: registerEnv(w.root, w.region) });
    expect(fs.readFileSync(join(w.root, 'log'), 'utf8')).toBe('acknowledged\n');
    expect(reopen(w.region, w.root)).toBe(false); // marked clean: no warm reboot

    const k = fresh('lifecycle-kill');
    const r = run('basics.js', { register: true, args: ['ack-then-wait', k.root], env: registerEnv(k.root, k.region) });
    await r.until((l) => l.acked);
    await kill(r);
    expect(reopen(k.region, k.root)).toBe(true); // the warm reboot ran
    expect(fs.readFileSync(join(k.root, 'log'), 'utf8')).toBe('acknowledged\n');
    expect(JSON.parse(fs.readFileSync(join(k.root, 'state.json'), 'utf8'))).toEqual({ n: 1 });
  });

  it('leaves SIGTERM to Node: a program without a handler dies of it, and the next start recovers', async () => {
    const w = fresh('sigterm');
    const r = run('basics.js', { register: true, args: ['ack-then-sigterm', w.root], env: registerEnv(w.root, w.region) });
    await r.until((l) => l.acked);
    r.proc.kill('SIGTERM');
    expect((await r.exited).signal).toBe('SIGTERM');
    // The next start under the hook performs the warm reboot and finds the acknowledged line.
    const next = await runToEnd('basics.js', {
      register: true, args: ['outside', w.root, w.root], env: { ...registerEnv(w.root, w.region), RIOCACHE_VERBOSE: '1' },
    });
    expect(next.stderr()).toMatch(/warm reboot wrote back [1-9]\d* dirty buffers/);
    expect(fs.readFileSync(join(w.root, 'log'), 'utf8')).toBe('acknowledged\n');
  });
});
