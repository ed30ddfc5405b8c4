/**
 * Whole-file writes are atomic under process death (src/cache/replace.ts):
 * a program rewrites one file in place with writeFileSync, callback
 * writeFile and fs.promises.writeFile, under riocache/register, and is
 * SIGKILLed at random instants; after each kill the warm reboot shows the
 * content of the last acknowledged writeFile or of the one after it (made,
 * not yet reported), never an empty or a partial file. The same program on
 * plain fs is killed the same way beside it, and what it left is counted (a
 * report: plain fs truncates, then writes).
 *
 * Kills: RIOCACHE_ATOMIC_KILLS (default 20 each).
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCacheSync } from '../../src';
import { rng } from '../helpers';
import { kill, registerEnv, run, world } from './child';

const KILLS = Number(process.env.RIOCACHE_ATOMIC_KILLS ?? 20);
const SEED = 20261206;
const w = world('atomic');
const p = world('atomic-plain');
afterAll(() => {
  w.cleanup();
  p.cleanup();
});

/** Kills the rewriting program after `acks` acknowledgements and `delayMs`; returns the last acknowledged i. */
async function killRewriter(dir: string, env: NodeJS.ProcessEnv | null, acks: number, delayMs: number, create = false): Promise<number> {
  const r = run('rewrite.js', { register: env !== null, env: env ?? {}, args: create ? [dir, 'create'] : [dir] });
  await r.until((l) => l?.ack >= acks);
  await new Promise((res) => setTimeout(res, delayMs));
  await kill(r);
  return Math.max(...r.lines.filter((l) => typeof l?.ack === 'number').map((l) => l.ack));
}

/** What the file holds: the i of a whole content, or why not. */
function state(dir: string, name = 'state.json'): { i: number } | { bad: string } {
  const text = fs.readFileSync(join(dir, name), 'utf8');
  if (text.length === 0) return { bad: 'empty' };
  try {
    const o = JSON.parse(text);
    return text === JSON.stringify({ i: o.i, pad: 'p'.repeat((o.i * 7919) % 200_000) }) ? { i: o.i } : { bad: 'mixed' };
  } catch {
    return { bad: `partial (${text.length} bytes)` };
  }
}

describe('writeFile is atomic under SIGKILL', () => {
  it(`shows the old or the new content after each of ${KILLS} kills, never empty or partial`, async () => {
    const random = rng(SEED);
    const env = registerEnv(w.root, w.region);
    for (let k = 0; k < KILLS; k++) {
      const acked = await killRewriter(w.root, env, 1 + Math.floor(random() * 20), Math.floor(random() * 20));
      const c = openCacheSync({ region: w.region, root: w.root }); // the next start: the warm reboot
      expect(c.recovery.ran).toBe(true);
      c.closeSync();
      const s = state(w.root);
      if ('bad' in s) throw new Error(`kill ${k} (seed ${SEED}): the file is ${s.bad} after ${acked} acknowledged writes`);
      expect([acked, acked + 1], `kill ${k} (seed ${SEED})`).toContain(s.i);
    }
    console.log(`writeFile under riocache: ${KILLS} kills, torn 0, empty 0, lost 0`);
  }, 180_000);

  it(`creates files atomically: after each of ${KILLS} kills every file is whole, none empty`, async () => {
    const random = rng(SEED + 2);
    const c = world('atomic-create');
    const env = registerEnv(c.root, c.region);
    try {
      for (let k = 0; k < KILLS; k++) {
        const dir = join(c.root, `run-${k}`); // a fresh directory each time, in the same root and region
        fs.mkdirSync(dir);
        const acked = await killRewriter(dir, env, 1 + Math.floor(random() * 20), Math.floor(random() * 20), true);
        openCacheSync({ region: c.region, root: c.root }).closeSync(); // the warm reboot
        const files = fs.readdirSync(dir).filter((f) => f.startsWith('f-'));
        for (const f of files) {
          const s = state(dir, f);
          if ('bad' in s || `f-${s.i}` !== f) throw new Error(`kill ${k} (seed ${SEED + 2}): ${f} is ${'bad' in s ? s.bad : `file ${s.i}`}`);
        }
        expect(files.length === acked || files.length === acked + 1, `kill ${k}: ${files.length} files, ${acked} acknowledged`).toBe(true);
      }
    } finally {
      c.cleanup();
    }
    console.log(`writeFile creating files under riocache: ${KILLS} kills, empty 0, torn 0, lost 0`);
  }, 180_000);

  it(`plain fs, killed the same way ${KILLS} times (a report)`, async () => {
    const random = rng(SEED);
    const counts: Record<string, number> = {};
    for (let k = 0; k < KILLS; k++) {
      const acked = await killRewriter(p.root, null, 1 + Math.floor(random() * 20), Math.floor(random() * 20));
      const s = state(p.root);
      const kind = 'bad' in s ? s.bad.split(' ')[0] : s.i >= acked ? 'whole' : 'lost';
      counts[kind] = (counts[kind] ?? 0) + 1;
    }
    console.log(`writeFile on plain fs: ${KILLS} kills -> ${JSON.stringify(counts)}`);
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(KILLS); // a report: every kill classified
  }, 180_000);
});
