/**
 * The benchmark smoke check: `node dist/bench/run.js --quick --json` must run
 * every trial and contender and the recovery trials, exit 0, and report
 * positive, finite figures of the expected shape. No timing is asserted
 * (the machine is shared; timings belong in the report, not in tests).
 * Also checks the runner's pieces that decide what a figure means: the
 * contender order across repetitions, the quantiles, and the CPU-profile
 * attribution.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { orderFor } from '../../bench/run';
import { trials } from '../../bench/trials';
import { targets } from '../../bench/targets';
import { contenders as tpcaContenders } from '../../bench/tpca';
import { quantile, summarize } from '../../bench/lib/stats';
import { functionTimes, selfMsOf, type CpuProfile } from '../../bench/lib/cpuprofile';
import { permutedPositions, randomPositions } from '../../bench/lib/rng';
import { repoRoot, scratchDir } from '../helpers';

const { dir, cleanup } = scratchDir('bench');
afterAll(cleanup);

/** Runs `dist/bench/<script> --quick --json --out <out>` in a fresh process; it must exit 0. Returns its JSON report and stderr. */
function runQuick(script: string, out: string): { report: any; stderr: string } {
  const r = spawnSync(process.execPath, [join(repoRoot, 'dist', 'bench', script), '--quick', '--json', '--out', out], {
    encoding: 'utf8', timeout: 110_000, maxBuffer: 64 * 1024 * 1024,
  });
  expect(r.error).toBeUndefined();
  expect(r.status, r.stderr).toBe(0);
  return { report: JSON.parse(r.stdout), stderr: r.stderr };
}

describe('the runner', () => {
  it('runs every contender once per repetition, in an order that changes between repetitions', () => {
    const xs = ['a', 'b', 'c', 'd', 'e'];
    const orders = [0, 1, 2].map((rep) => orderFor(xs, rep, 3));
    for (const o of orders) expect([...o].sort()).toEqual(xs);
    expect(new Set(orders.map((o) => o[0])).size).toBe(3);
    expect(orders[1]).not.toEqual(orders[0]);
  });

  it('computes quantiles by interpolation and a median that ignores the order of samples', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([10, 20, 30, 40, 50], 0.25)).toBe(20);
    const s = summarize([5, 1, 4, 2, 3]);
    expect([s.median, s.min, s.max, s.p25, s.p75, s.mad]).toEqual([3, 1, 5, 2, 4, 1]);
  });

  it('gives every contender the same positions for one seed, aligned and in range', () => {
    const a = randomPositions(7, 1000, 1 << 20, 4096);
    expect(Array.from(a)).toEqual(Array.from(randomPositions(7, 1000, 1 << 20, 4096)));
    expect(Array.from(a).every((p) => p % 4096 === 0 && p >= 0 && p < 1 << 20)).toBe(true);
    const cycle = Array.from(permutedPositions(7, 1 << 20, 4096)).sort((x, y) => x - y);
    expect(cycle).toEqual(Array.from({ length: 256 }, (_, i) => i * 4096));
  });

  it('charges a fast-API native call to its JS caller and keeps only samples under the given ancestor', () => {
    const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0, columnNumber: 0, scriptId: '0' });
    const p: CpuProfile = {
      nodes: [
        { id: 1, callFrame: frame('(root)'), children: [2, 5] },
        { id: 2, callFrame: frame('recoverRegion', 'file:///x/dist/src/recovery/scanner.js'), children: [3, 4] },
        { id: 3, callFrame: frame('crc', 'file:///x/dist/src/region/primitives.js') },
        { id: 4, callFrame: frame('writeBuffer') },
        { id: 5, callFrame: frame('crc', 'file:///x/dist/src/region/primitives.js') },
      ],
      samples: [3, 3, 4, 5, 5, 5],
      timeDeltas: [1000, 1000, 2000, 1000, 1000, 1000],
      startTime: 0, endTime: 7000,
    };
    const under = functionTimes(p, 'recoverRegion');
    expect(under.totalMs).toBe(4);
    expect(selfMsOf(under, 'crc', 'region/primitives')).toBe(2);
    expect(selfMsOf(under, 'writeBuffer')).toBe(2);
    expect(selfMsOf(functionTimes(p), 'crc', 'region/primitives')).toBe(5);
  });
});

describe('npm run bench:quick', () => {
  it('runs every trial, contender and recovery step and reports positive figures', () => {
    const out = join(dir, 'results');
    const { report, stderr } = runQuick('run.js', out);
    expect(stderr).not.toMatch(/failure/);
    expect(report.quick).toBe(true);
    expect(report.failures).toEqual([]);

    expect(report.trials.map((t: { id: string }) => t.id)).toEqual(trials.map((t) => t.id));
    for (const def of trials) {
      const t = report.trials.find((x: { id: string }) => x.id === def.id);
      expect(t.contenders.map((c: { id: string }) => c.id), def.id).toEqual(def.contenders.map((c) => c.id));
      for (const c of t.contenders) {
        const where = `${def.id} / ${c.id}`;
        expect(c.runs.length, where).toBe(1);
        expect(c.ns.median, where).toBeGreaterThan(0);
        expect(Number.isFinite(c.ns.median), where).toBe(true);
        expect(c.runs[0].ops, where).toBeGreaterThan(0);
        expect(c.runs[0].info.checked, where).toBe(def.op === 'append' ? 0 : 1);
        expect(c.ratioSync.median, where).toBeGreaterThan(0);
        expect(c.q.every((v: number) => v > 0), where).toBe(true);
        if (def.unit === 'MB/s') expect(c.mbps.median, where).toBeGreaterThan(0);
      }
    }
    // riocache really missed in the miss trial and really hit in the hit trial.
    const rio = (trial: string) => report.trials.find((x: { id: string }) => x.id === trial).contenders.find((c: { id: string }) => c.id === 'rio.sync');
    expect(rio('read-hit-4k').runs[0].info.hitRatio).toBe(1);
    // Misses, but for the odd block the miss history (a Bloom filter) mistakes for a recent one and takes in.
    expect(rio('read-miss-4k').runs[0].info.hitRatio).toBeLessThan(0.05);

    expect(report.verdicts.map((v: { id: string }) => v.id)).toEqual(targets.map((t) => t.id));
    for (const v of report.verdicts) expect(v.measured, v.id).not.toBe('not run');

    const rec = report.recovery;
    expect(rec.diskDirty.length).toBeGreaterThan(1);
    expect(rec.shmDirty.length).toBeGreaterThan(1);
    for (const p of [...rec.diskDirty, ...rec.shmDirty, ...rec.region]) {
      expect(p.medianMs).toBeGreaterThan(0);
      for (const run of p.runs) {
        expect(run.bytesWritten).toBe(run.dirtyBytes);
        expect(run.dirtyBytes).toBeGreaterThan(0);
      }
    }
    expect(rec.shmDirty[1].dirtyBytes).toBeGreaterThan(rec.shmDirty[0].dirtyBytes);
    for (const c of rec.clean) expect(c.medianMs).toBeGreaterThan(0);
    expect(rec.verify.verifyMs).toBeGreaterThan(0);

    for (const f of ['latest.json', 'latest.md', 'recovery-scaling.svg', 'region-scaling.svg', ...trials.map((t) => `${t.id}.svg`)]) {
      expect(fs.existsSync(join(out, f)), f).toBe(true);
    }
    expect(fs.readFileSync(join(out, 'recovery-scaling.svg'), 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>$/);
    expect(fs.readFileSync(join(out, 'latest.md'), 'utf8')).toMatch(/## Targets/);
  }, 120_000);
});

describe('npm run bench:tpca -- --quick', () => {
  it('runs every transaction contender on both access patterns, each ending with balanced tables', () => {
    const out = join(dir, 'tpca');
    const { report } = runQuick('tpca.js', out);
    expect(report.results.length).toBe(tpcaContenders.length * 2);
    for (const x of report.results) {
      const where = `${x.contender} / ${x.access}`;
      expect(x.balanced, where).toBe(true);
      expect(x.transactions, where).toBeGreaterThan(0);
      expect(x.ns, where).toBeGreaterThan(0);
      expect(Number.isFinite(x.txPerSecond), where).toBe(true);
    }
    expect(report.targets.length).toBe(4);
    expect(fs.readFileSync(join(out, 'tpca.md'), 'utf8')).toMatch(/## RVM\/TPC-A transactions/);
  }, 120_000);
});
