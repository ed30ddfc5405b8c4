/**
 * Crash simulation at every store boundary. For each operation of the script
 * (store-script.ts, which kill-every-store.test.ts runs in a real process it
 * kills instead), for each k, the operation is stopped right before its k-th
 * store into the region (the tracer throws), the cache is abandoned as a
 * killed process would be, and the region is reopened through the warm
 * reboot. The files (and segments) must then show the state before the
 * operation or after it, nothing else (G1, G2); a second cut inside that
 * recovery, then a third recovery, must give the same files (G6).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { openCacheSync } from '../../src';
import { SimulatedCrash, traceNewRegions } from '../../src/region/primitives';
import { scratchDir } from '../helpers';
import { abandon } from './abandon';
import { describeMismatch, equalStates, expectedStates, makeWorld, reopenedState, worldOptions } from './cuts';
import { script } from './store-script';

const { dir, cleanup } = scratchDir('cuts');
afterAll(() => {
  traceNewRegions(null);
  cleanup();
});

describe('a cut before any store of an operation leaves it all or nothing', () => {
  it('holds at every store of every operation of the script, and recovery cut again converges', () => {
    const states = expectedStates(dir);
    let cuts = 0;
    let recoveryCuts = 0;
    let backPressureCuts = 0;
    for (let i = 0; i < script.length; i++) {
      if (script[i].setup) continue;
      for (let k = 0; ; k++) {
        // The world just before operation i, built afresh (copies would change inodes).
        const w = makeWorld(dir, 'before');
        const cache = openCacheSync(worldOptions(w));
        const fds2 = new Map<string, number>();
        for (let j = 0; j < i; j++) script[j].run(cache, fds2);
        let n = 0;
        cache.region.memory.tracer = () => {
          if (n++ === k) throw new SimulatedCrash(k);
        };
        let finished = true;
        const pressureBefore = cache.stats().backPressureSync;
        try {
          script[i].run(cache, fds2);
        } catch (err) {
          if (!(err instanceof SimulatedCrash)) throw err;
          finished = false;
        }
        cache.region.memory.tracer = null;
        if (cache.stats().backPressureSync > pressureBefore) backPressureCuts++;
        abandon(cache);
        // Recovery, itself cut at store (k * 7) % 40, then run again to the end.
        let r = 0;
        const cutAt = (k * 7) % 40;
        traceNewRegions(() => {
          if (r++ === cutAt) throw new SimulatedCrash(cutAt);
        });
        try {
          const half = openCacheSync(worldOptions(w));
          traceNewRegions(null);
          abandon(half);
        } catch (err) {
          traceNewRegions(null);
          if (!(err instanceof SimulatedCrash)) throw err;
          recoveryCuts++;
        }
        const got = reopenedState(w); // lost+found included: no good state has one
        if (!equalStates(got, states[i]) && !equalStates(got, states[i + 1])) {
          throw new Error(`operation ${i} (${script[i].name}) cut at store ${k}: the files match neither the state before nor after\n` +
            describeMismatch(got, states[i], states[i + 1]));
        }
        cuts++;
        if (finished) {
          expect(equalStates(got, states[i + 1])).toBe(true);
          break;
        }
      }
    }
    console.log(`cuts ${cuts}, recovery cuts ${recoveryCuts}, cuts after back-pressure ${backPressureCuts}`);
    expect(cuts).toBeGreaterThan(script.length * 5);
    expect(recoveryCuts).toBeGreaterThan(10);
    expect(backPressureCuts).toBeGreaterThan(5); // cuts that landed after write-back inside the operation
  }, 240_000); // about 1,700 cuts: 42 s on an idle 2-core machine, over 60 s when it is shared
});

