/**
 * What the store-boundary crash tests (cut-every-store, kill-every-store)
 * share besides their script (store-script.ts): a world built afresh, the
 * state of a world as the warm reboot leaves it, the oracle's state before
 * and after each operation, and the comparison that decides (G1, G2: after a
 * crash inside an operation, the files show it all or not at all).
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { openCacheSync, type Cache } from '../../src';
import { snapshot } from '../03-cache/differential';
import { SEGMENT_DIRECTORY } from '../../src/cache/segments';
import { cacheOptions, script } from './store-script';

/** A region and the root directory its files live in. */
export interface World {
  base: string;
  region: string;
  root: string;
}

/** An empty world under `dir` (a previous one of that name is removed: copies would change inodes). */
export function makeWorld(dir: string, name: string): World {
  const base = join(dir, name);
  fs.rmSync(base, { recursive: true, force: true });
  fs.mkdirSync(join(base, 'root'), { recursive: true });
  return { base, region: join(base, 'region.rio'), root: join(base, 'root') };
}

export const worldOptions = (w: World) => cacheOptions(w.region, w.root);

/**
 * Closes the cache and returns what it left: every file under the root
 * (lost+found included, as `lost+found/` and its files: no good state has
 * one) and every segment of the region, as `segment:<name>` (in place of
 * its backing file, which must agree).
 */
export function closeAndSnapshot(cache: Cache, w: World): Map<string, Buffer> {
  const segments = (cache as unknown as { txs: { segments: { all(): Array<{ name: string; view: Uint8Array }> } } }).txs.segments.all();
  const copies = segments.map((s) => [`segment:${s.name}`, Buffer.from(s.view)] as const);
  cache.closeSync();
  const state = snapshot(w.root);
  // Even empty: recovery makes it only to quarantine a buffer that fails its checksum.
  if (fs.existsSync(join(w.root, 'lost+found'))) state.set('lost+found/', Buffer.alloc(0));
  for (const [name, bytes] of copies) state.set(name, bytes);
  // A segment's backing file is written by checkpoints and by the warm reboot, not by a clean close: whether
  // one exists says which of them ran, not what the segment holds. Where one exists it must hold the segment.
  for (const name of [...state.keys()].filter((n) => n.startsWith(`${SEGMENT_DIRECTORY}/`))) {
    const segment = state.get(`segment:${name.slice(SEGMENT_DIRECTORY.length + 1)}`);
    if (!segment?.equals(state.get(name)!)) throw new Error(`${name} differs from the segment it backs`);
    state.delete(name);
  }
  return state;
}

/** The state of a world after the warm reboot (and a clean close). */
export function reopenedState(w: World): Map<string, Buffer> {
  return closeAndSnapshot(openCacheSync(worldOptions(w)), w);
}

/** states[i] is the state before operation i of the script, states[i + 1] after it (run in this process, uninterrupted). */
export function expectedStates(dir: string): Array<Map<string, Buffer>> {
  const states: Array<Map<string, Buffer>> = [];
  for (let count = 0; count <= script.length; count++) {
    const w = makeWorld(dir, 'oracle');
    const c = openCacheSync(worldOptions(w));
    const fds = new Map<string, number>();
    for (let i = 0; i < count; i++) script[i].run(c, fds);
    for (const fd of fds.values()) c.fs.closeSync(fd);
    states.push(closeAndSnapshot(c, w));
  }
  return states;
}

export function equalStates(a: Map<string, Buffer>, b: Map<string, Buffer>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (!b.get(k)?.equals(v)) return false;
  return true;
}

/** Where `got` parts from the state before and the state after, entry by entry (for a failure's message). */
export function describeMismatch(got: Map<string, Buffer>, before: Map<string, Buffer>, after: Map<string, Buffer>): string {
  const names = [...new Set([...got.keys(), ...before.keys(), ...after.keys()])].sort();
  const part = (g: Buffer | undefined, e: Buffer | undefined) => {
    if (!g && !e) return 'absent in both';
    if (!g) return `missing (expected ${e!.length} bytes)`;
    if (!e) return `unexpected (${g.length} bytes)`;
    if (g.equals(e)) return 'equal';
    let at = 0;
    while (at < g.length && at < e.length && g[at] === e[at]) at++;
    return `${g.length} bytes vs ${e.length}, first difference at ${at}`;
  };
  const unchanged = (n: string) => {
    const [g, b, a] = [got.get(n), before.get(n), after.get(n)];
    return g !== undefined && b !== undefined && a !== undefined && g.equals(b) && g.equals(a);
  };
  return names
    .filter((n) => !unchanged(n))
    .map((n) => `  ${n}: vs before ${part(got.get(n), before.get(n))}; vs after ${part(got.get(n), after.get(n))}`)
    .join('\n');
}
