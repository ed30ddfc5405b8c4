/**
 * Several processes with one configuration: a Node cluster under
 * riocache/register whose workers are SIGKILLed at random and restarted by
 * the primary. Each process takes its own region of the pool (the primary
 * one too); a restarted worker takes the region its dead predecessor left
 * (the first whose lock is free) and performs its warm reboot, so every
 * record a dead worker acknowledged is in its file. A worker opening another
 * worker's file for writing is refused with FILE_LOCKED naming the holder.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rng } from '../helpers';
import { registerEnv, run, world } from './child';

const SLOTS = 3;
const KILLS = Number(process.env.RIOCACHE_CLUSTER_KILLS ?? 8);
const SEED = 20261205;

const w = world('cluster');
afterAll(() => w.cleanup());

describe('a cluster under riocache/register', () => {
  it(`keeps every acknowledged record of workers SIGKILLed ${KILLS} times; each dead worker's region is recovered by its successor`, async () => {
    const random = rng(SEED);
    const r = run('cluster.js', { register: true, ipc: true, args: [String(SLOTS)], env: registerEnv(w.root, w.region, { RIOCACHE_SIZE: '8MiB' }) });
    const starts = () => r.lines.filter((l) => l?.pid !== undefined);
    await r.until(() => starts().length >= SLOTS);
    // Each worker owns a distinct region of the pool; the primary holds the first.
    const firstRegions = starts().map((s) => s.region);
    expect(new Set(firstRegions).size).toBe(SLOTS);
    expect(firstRegions).not.toContain(w.region);

    // A file one worker's cache holds, opened for writing by another: refused, naming the holder.
    const holder = starts().find((s) => s.slot === 1)!;
    r.proc.send({ intrude: 0, slots: SLOTS });
    const locked = await r.until((l) => l?.locked !== undefined);
    expect(locked.locked).toBe('FILE_LOCKED');
    expect(locked.holder).toBe(holder.pid);
    expect(locked.message).toContain(`process ${holder.pid}`);

    const killedRegions: string[] = [];
    for (let k = 0; k < KILLS; k++) {
      const slot = Math.floor(random() * SLOTS);
      const live = starts().filter((s) => s.slot === slot).pop()!;
      const acksBefore = r.lines.filter((l) => l?.slot === slot && l.ack !== undefined).length;
      await r.until(() => r.lines.filter((l) => l?.slot === slot && l.ack !== undefined).length >= acksBefore + 5 + Math.floor(random() * 40));
      const startsBefore = starts().length;
      process.kill(live.pid, 'SIGKILL');
      killedRegions.push(live.region);
      const successor = await r.until(() => starts().length > startsBefore).then(() => starts()[startsBefore]);
      expect(successor.slot).toBe(slot);
      // The lock the dead worker held was dropped: its successor takes that region and performs the warm reboot.
      expect(successor.region).toBe(live.region);
      expect(successor.recovered).toBe(true);
      // Every record the dead worker acknowledged (the slot's acks printed before its successor's start line)
      // is in the file its successor reads at start, after the warm reboot.
      const deadAcks = r.lines.slice(0, r.lines.indexOf(successor)).filter((l) => l?.slot === slot && typeof l.ack === 'number');
      expect(successor.have).toBeGreaterThanOrEqual(Math.max(...deadAcks.map((l) => l.ack)));
    }

    r.proc.send('stop');
    await r.until((l) => l?.stopped);
    await r.exited;
    // After the clean stop every file holds every acknowledged record of every worker, whole and in order.
    for (let slot = 0; slot < SLOTS; slot++) {
      const lines = fs.readFileSync(join(w.root, `worker-${slot}.log`), 'utf8').split('\n');
      expect(lines.pop()).toBe('');
      lines.forEach((l, i) => expect(l).toBe(`${slot} ${i + 1} ${'r'.repeat((i + 1) % 50)}`));
      const acked = Math.max(...r.lines.filter((l) => l?.slot === slot && typeof l.ack === 'number').map((l) => l.ack));
      expect(lines.length).toBeGreaterThanOrEqual(acked);
    }
    console.log(`cluster: ${SLOTS} workers, ${KILLS} SIGKILLs of workers, regions ${[...new Set(killedRegions)].join(', ')} recovered by successors; ` +
      `${r.lines.filter((l) => typeof l?.ack === 'number').length} records acknowledged, lost 0, torn 0`);
  }, 120_000);
});
