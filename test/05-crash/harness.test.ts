/**
 * The crash-test harness itself: the one-change-in-flight protocol (checked in
 * the workload, never thrown out of the parent), the names of failed checks,
 * option validation and the command line's error messages, the segment area
 * of a workload given by path, the replay line, the progress callback, and
 * docs/crashtest.md against the code. The campaigns here are short (a few
 * kills each). Needs dist/ (npm run build): the workloads run from it.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replayCommand, runCampaign, validateCampaign, type CampaignProgress } from '../../src/tools/crashtest/campaign';
import { progressText } from '../../src/tools/crashtest/command';
import { WorkloadContext } from '../../src/tools/crashtest/context';
import { Model, VERDICT_LABELS, verdictLabel, verify } from '../../src/tools/crashtest/oracle';
import { hashOf, type OpRecord } from '../../src/tools/crashtest/protocol';
import { builtins } from '../../src/tools/crashtest/workloads';
import { repoRoot, scratchDir } from '../helpers';

const cliPath = join(repoRoot, 'dist', 'src', 'cli.js');
const docs = fs.readFileSync(join(repoRoot, 'docs', 'crashtest.md'), 'utf8');

function cli(args: string[], timeout = 60_000) {
  return spawnSync(process.execPath, [cliPath, 'crashtest', ...args], { encoding: 'utf8', timeout });
}

let scratch: { dir: string; cleanup: () => void };
/** Workload modules written for these tests. */
let workloads: string;
/** Where the campaigns make their directories: must be empty after each. */
let campaigns: string;

function workload(name: string, source: string): string {
  const path = join(workloads, `${name}.js`);
  fs.writeFileSync(path, `'use strict';\n${source}\n`);
  return path;
}

function leftovers(): string[] {
  return fs.readdirSync(campaigns);
}

beforeAll(() => {
  scratch = scratchDir('harness');
  workloads = join(scratch.dir, 'workloads');
  campaigns = join(scratch.dir, 'campaigns');
  fs.mkdirSync(workloads);
  fs.mkdirSync(campaigns);
});
afterAll(() => scratch.cleanup());

/** A WorkloadContext whose messages go to a file (no cache: intend() does not touch it). */
function contextOnFile(): { ctx: WorkloadContext; lines: () => string[] } {
  const path = join(scratch.dir, `pipe-${Math.random().toString(36).slice(2)}`);
  const fd = fs.openSync(path, 'w');
  const ctx = new WorkloadContext(null as never, 1, Math.random, fd, 0);
  return { ctx, lines: () => fs.readFileSync(path, 'utf8').split('\n').filter((l) => l.length > 0) };
}

describe('one change in flight at a time', () => {
  it('intend() and the recorded helpers throw while a change is unacknowledged, and send nothing', () => {
    const { ctx, lines } = contextOnFile();
    const ack = ctx.intend({ op: 'create', file: 'a' });
    expect(() => ctx.intend({ op: 'create', file: 'b' })).toThrow(/cannot announce create b: change #0 \(create a\) is still unacknowledged/);
    expect(() => ctx.record({ op: 'create', file: 'c' }, () => 0)).toThrow(/still unacknowledged/);
    expect(lines()).toEqual(['I {"op":"create","file":"a","seq":0}']);
    ack();
    const ack2 = ctx.intend({ op: 'create', file: 'b' });
    ack2(new Error('refused'));
    expect(ctx.record({ op: 'create', file: 'c' }, () => 7)).toBe(7);
    expect(lines()).toEqual([
      'I {"op":"create","file":"a","seq":0}', 'A 0',
      'I {"op":"create","file":"b","seq":1}', 'X {"seq":1,"code":null}',
      'I {"op":"create","file":"c","seq":2}', 'A 2',
    ]);
    expect(() => ack()).toThrow(/ack\(\) called twice/);
  });

  it('a workload that intends twice fails with that message; the campaign reports it and removes its directory', async () => {
    const path = workload('double-intend', `module.exports = async (ctx) => {
  ctx.intend({ op: 'create', file: 'a' });
  ctx.intend({ op: 'create', file: 'b' });
};`);
    // Timed kills long after the workload has failed: the failure is the first thing the run does.
    const r = await runCampaign({ workload: path, kills: 3, seed: 3, dir: campaigns, runMs: [1000, 1000] });
    expect(r.ok).toBe(false);
    expect(r.workloadFailures).toBe(1);
    expect(r.failures).toHaveLength(1);
    expect(r.failures[0].check).toMatch(/^the workload failed: Error: cannot announce create b: change #0 \(create a\) is still unacknowledged/);
    expect(r.lost + r.torn + r.unexpected).toBe(0);
    expect(leftovers()).toEqual([]);
  }, 60_000);

  it('a message that breaks the protocol is a reported failure, never an exception in the parent', async () => {
    // Bypasses the context: an ack of a change never announced, written straight to the harness's pipe.
    const path = workload('stray-ack', `const fs = require('node:fs');
module.exports = async (ctx) => {
  ctx.append('log', 10);
  fs.writeSync(3, 'A 12345\\n');
  for (;;) await ctx.yield();
};`);
    const r = await runCampaign({ workload: path, kills: 3, seed: 3, dir: campaigns, runMs: [1000, 1000] });
    expect(r.ok).toBe(false);
    expect(r.workloadFailures).toBe(1);
    expect(r.failures[0].check).toBe('the workload broke the harness protocol: ack #12345 with no change in flight');
    expect(r.failures[0].details).toContain('A 12345');
    expect(leftovers()).toEqual([]);
  }, 60_000);

  it('riocache crashtest reports it (exit 1, a report, no stack trace of its own) and leaves no directory behind', () => {
    const path = workload('double-intend-cli', `module.exports = async (ctx) => {
  const ack = ctx.intend({ op: 'create', file: 'a' });
  ctx.intend({ op: 'create', file: 'b' });
  ack();
};`);
    const res = cli(['--workload', path, '--kills', '3', '--seed', '4', '--run-ms', '1000,1000', '--dir', campaigns]);
    expect(res.status, res.stderr).toBe(1);
    expect(res.stdout).toMatch(/\nFAIL\n/);
    expect(res.stdout).toMatch(/kill 0: the workload failed: Error: cannot announce create b/);
    expect(res.stdout).toMatch(/\nreplay: riocache crashtest --workload /);
    expect(res.stderr).not.toMatch(/harness bug|^\s+at /m);
    expect(leftovers()).toEqual([]);
  }, 60_000);
});

describe('a failed check is named by what was found', () => {
  const write = (seq: number, file: string, offset: number, data: Buffer): OpRecord =>
    ({ seq, op: 'write', file, offset, length: data.length, hash: hashOf(data), data: data.toString('base64') });
  const ten = Buffer.from('0123456789');
  let n = 0;
  /** A root holding `files`, and a model holding one acknowledged write of `ten` to f (or none). */
  function setup(files: Record<string, Buffer>, written = true): { root: string; model: Model } {
    const root = join(scratch.dir, `root-${n++}`);
    fs.mkdirSync(root);
    for (const [name, bytes] of Object.entries(files)) fs.writeFileSync(join(root, name), bytes);
    const model = new Model(1);
    if (written) model.apply(write(0, 'f', 0, ten));
    return { root, model };
  }

  it('a file nobody announced, even empty, is unexpected data, not lost data', () => {
    const { root, model } = setup({ f: ten, stray: Buffer.alloc(0) });
    const v = verify(root, model, null);
    expect(v.ok).toBe(false);
    expect(v.lost).toBe(0);
    expect(v.unexpected).toBe(1);
    expect(v.orderViolations).toBe(0);
    expect(verdictLabel(v)).toBe(VERDICT_LABELS.unexpected);
    expect(v.details).toEqual(['stray: unexpected file (0 bytes): no announced operation created it']);
  });

  it('bytes past the expected end of a file are unexpected data', () => {
    const { root, model } = setup({ f: Buffer.concat([ten, Buffer.from('xy')]) });
    const v = verify(root, model, null);
    expect([v.lost, v.unexpected, v.torn]).toEqual([0, 1, false]);
    expect(verdictLabel(v)).toBe(VERDICT_LABELS.unexpected);
  });

  it('a short file is acknowledged data missing, charged to the write', () => {
    const { root, model } = setup({ f: ten.subarray(0, 4) });
    const v = verify(root, model, null);
    expect([v.lost, v.unexpected, v.torn]).toEqual([1, 0, false]);
    expect(verdictLabel(v)).toBe(VERDICT_LABELS.lost);
  });

  it('a missing file is lost data, whether or not it held bytes', () => {
    const missing = setup({});
    const v = verify(missing.root, missing.model, null);
    expect([v.lost, v.unexpected]).toEqual([1, 0]);
    expect(v.details).toEqual(['f: missing']);
    expect(verdictLabel(v)).toBe(VERDICT_LABELS.lost);
    const empty = setup({}, false);
    empty.model.apply({ seq: 0, op: 'create', file: 'e' });
    const w = verify(empty.root, empty.model, null);
    expect([w.lost, w.unexpected]).toEqual([1, 0]);
    expect(verdictLabel(w)).toBe(VERDICT_LABELS.lost);
  });

  it('a half-applied in-flight write is torn; a rename that left both names is torn too', () => {
    const half = setup({ f: Buffer.from('abcde56789') });
    const v = verify(half.root, half.model, write(1, 'f', 0, Buffer.from('abcdefghij')));
    expect([v.lost, v.unexpected, v.torn]).toEqual([0, 0, true]);
    expect(verdictLabel(v)).toBe(VERDICT_LABELS.torn);
    const both = setup({ f: ten, g: ten });
    const w = verify(both.root, both.model, { seq: 1, op: 'rename', from: 'f', to: 'g' });
    expect([w.lost, w.unexpected, w.torn]).toEqual([0, 0, true]);
    expect(verdictLabel(w)).toBe(VERDICT_LABELS.torn);
  });

  it('an in-flight write wholly absent (or wholly there) is not torn, whatever else differs', () => {
    const append = write(1, 'f', 10, Buffer.from('abcdef'));
    const absent = setup({ f: ten, stray: Buffer.alloc(0) });
    const v = verify(absent.root, absent.model, append);
    expect([v.lost, v.unexpected, v.torn]).toEqual([0, 1, false]);
    expect(verdictLabel(v)).toBe(VERDICT_LABELS.unexpected);
    const present = setup({ f: Buffer.concat([ten, Buffer.from('abcdef')]), stray: Buffer.alloc(0) });
    expect(verify(present.root, present.model, append).torn).toBe(false);
    // Acknowledged bytes lost, the in-flight append absent: lost, not torn.
    const lost = setup({ f: Buffer.from('0123456XYZ') });
    const w = verify(lost.root, lost.model, append);
    expect([w.lost, w.unexpected, w.torn]).toEqual([1, 0, false]);
    expect(verdictLabel(w)).toBe(VERDICT_LABELS.lost);
  });

  it('several findings are all named, most serious first', () => {
    const { root, model } = setup({ f: ten.subarray(0, 4), stray: Buffer.from('x') });
    const v = verify(root, model, null);
    expect(verdictLabel(v)).toBe(`${VERDICT_LABELS.lost}; ${VERDICT_LABELS.unexpected}`);
  });

  it('in a campaign: a file created without announcing it fails as unexpected data, with nothing lost', async () => {
    const path = workload('stray-file', `module.exports = async (ctx) => {
  ctx.fs.closeSync(ctx.fs.openSync('stray', 'w'));
  for (let i = 0; ; i++) {
    ctx.append('log', 16);
    if (i % 16 === 0) await ctx.yield();
  }
};`);
    const r = await runCampaign({ workload: path, kills: 3, seed: 5, dir: campaigns, runMs: [20, 40] });
    expect(r.ok).toBe(false);
    expect(r.failures[0].check).toBe(VERDICT_LABELS.unexpected);
    expect(r.failures[0].details).toContain('stray: unexpected file (0 bytes): no announced operation created it');
    expect([r.lost, r.torn, r.orderViolations, r.corruptionsWritten, r.unexpected]).toEqual([0, 0, 0, 0, 1]);
    expect(leftovers()).toEqual([]);
  }, 60_000);
});

describe('options are checked before anything runs', () => {
  it('validateCampaign refuses a block size that is not a power of two and a region too small to open', () => {
    expect(() => validateCampaign({ blockSize: 1000 })).toThrow(/"blockSize".*power of two/);
    expect(() => validateCampaign({ workload: 'append', regionSize: '100KiB' })).toThrow(/"regionSize" is out of range\. It must be at least \d+ KiB with blocks of 4096 bytes/);
    expect(() => validateCampaign({ workload: 'append', regionSize: '64KiB', blockSize: 65536 })).toThrow(/"regionSize".*blocks of 65536 bytes/);
    expect(() => validateCampaign({ workload: 'append', segmentAreaSize: '1000' })).toThrow(/"segmentAreaSize"/);
    expect(() => validateCampaign({ runMs: [50, 10] })).toThrow(/"runMs"/);
    for (const name of Object.keys(builtins)) expect(() => validateCampaign({ workload: name })).not.toThrow();
  });

  it('the smallest region it names is one the cache opens', () => {
    const message = (() => {
      try {
        validateCampaign({ workload: 'append', regionSize: '64KiB' });
      } catch (err) {
        return (err as Error).message;
      }
      return '';
    })();
    const least = /at least (\d+) KiB/.exec(message)?.[1];
    expect(least, message).toBeDefined();
    expect(() => validateCampaign({ workload: 'append', regionSize: `${least}KiB` })).not.toThrow();
    expect(() => validateCampaign({ workload: 'append', regionSize: `${Number(least) - 4}KiB` })).toThrow(/at least/);
  });

  it.each([
    [['--block-size', '1000'], '--block-size', 'blockSize', /must be a power of two/],
    [['--region-size', '100KiB'], '--region-size', 'regionSize', /is out of range\. It must be at least/],
    [['--kill-during-recovery', '2'], '--kill-during-recovery', 'killDuringRecovery', /is out of range/],
    [['--kills', 'many'], '--kills', 'kills', /must be an integer/],
    [['--segment-area-size', '3000'], '--segment-area-size', 'segmentAreaSize', /is out of range/],
    [['--run-ms', '9,1'], '--run-ms', 'runMs', /is out of range/],
  ])('riocache crashtest %j: a usage error naming the flag, exit 3', (args, flag, field, what) => {
    const res = cli([...args, '--kills', args[0] === '--kills' ? args[1] : '2', '--dir', campaigns], 30_000);
    expect(res.status, res.stdout + res.stderr).toBe(3);
    expect(res.stderr).toMatch(new RegExp(`^riocache: The ${flag} option `));
    expect(res.stderr).toMatch(what);
    expect(res.stderr).not.toContain(`"${field}"`);
    expect(res.stdout).toBe('');
    expect(leftovers()).toEqual([]);
  });
});

describe('the segment area, and the replay line', () => {
  const segmentWorkload = () => workload('segment', `module.exports = async (ctx) => {
  const seg = ctx.cache.segment('counter', 4096);
  for (let i = 0; ; i++) {
    ctx.append('log', 16);
    if (i % 16 === 0) await ctx.yield();
  }
};`);

  it('a workload given by path gets a segment area when asked (none by default)', async () => {
    const path = segmentWorkload();
    const none = await runCampaign({ workload: path, kills: 2, seed: 6, dir: campaigns, runMs: [1000, 1000] });
    expect(none.ok).toBe(false);
    expect(none.failures[0].check).toMatch(/SEGMENT_AREA_FULL/);
    const r = await runCampaign({ workload: path, kills: 4, seed: 6, dir: campaigns, segmentAreaSize: '64KiB', runMs: [10, 30] });
    if (!r.ok) throw new Error(`${JSON.stringify(r.failures, null, 2)}\nreplay: ${r.replay}`);
    expect(r.kills).toBe(4);
    expect(r.replay).toContain(' --segment-area-size 64KiB ');
    expect(leftovers()).toEqual([]);
  }, 60_000);

  it('the replay line carries every option that changes the run', () => {
    const plain = replayCommand(validateCampaign({ workload: 'transfer', seed: 9, kills: 5 }));
    expect(plain).toBe('riocache crashtest --workload transfer --seed 9 --kills 5 --kill-during-recovery 0.2 --corrupt 0 ' +
      '--region-size 1MiB --block-size 4096 --segment-area-size 64KiB --keep');
    const all = replayCommand(validateCampaign({ workload: 'append', seed: 9, kills: 5, runMs: [1, 20], segmentAreaSize: '64KiB', dir: '/tmp/a b' }));
    expect(all).toContain(' --segment-area-size 64KiB --run-ms 1,20 --dir \'/tmp/a b\' --keep');
  });

  it('riocache crashtest run with a replay line prints the same replay line, and progress counts acknowledged writes', async () => {
    const seen: CampaignProgress[] = [];
    const r = await runCampaign({
      workload: 'append', kills: 3, seed: 7, dir: campaigns, runMs: [5, 25], segmentAreaSize: '64KiB', killDuringRecovery: 0.5,
      onProgress: (p) => seen.push(p),
    });
    if (!r.ok) throw new Error(`${JSON.stringify(r.failures, null, 2)}\nreplay: ${r.replay}`);
    // The progress field is the count of acknowledged writes (it was misnamed writesVerified).
    expect(seen).toHaveLength(3);
    for (const p of seen) expect(Object.keys(p).sort()).toEqual(['acknowledgedWrites', 'failures', 'kills', 'recoveries', 'total']);
    expect(seen[2].acknowledgedWrites).toBe(r.acknowledgedWrites);
    expect(r.acknowledgedWrites).toBeGreaterThan(0);
    expect(progressText(seen[2])).toBe(`kills 3/3, recoveries ${seen[2].recoveries}, acknowledged writes ${r.acknowledgedWrites}, failures 0`);

    const args = r.replay.split(' ');
    expect(args.slice(0, 2)).toEqual(['riocache', 'crashtest']);
    const res = cli([...args.slice(2), '--json']);
    expect(res.status, res.stderr).toBe(0);
    const again = JSON.parse(res.stdout);
    expect(again.replay).toBe(r.replay);
    expect(again.kills).toBe(3);
    expect(leftovers()).toEqual([]);
  }, 90_000);
});

describe('docs/crashtest.md matches the code', () => {
  const section = (title: string) => {
    const start = docs.indexOf(`\n${title}\n`);
    expect(start, title).toBeGreaterThan(-1);
    const level = title.split(' ')[0];
    const rest = docs.slice(start + title.length + 2);
    const end = rest.search(new RegExp(`\\n#{1,${level.length}} `));
    return end < 0 ? rest : rest.slice(0, end);
  };
  const firstColumn = (text: string) => [...text.matchAll(/^\| `([^`]+)`/gm)].map((m) => m[1]);

  it('the options table lists every flag of riocache crashtest --help', () => {
    const help = cli(['--help']).stdout;
    const flags = [...help.matchAll(/^ {2}(--[\w-]+)/gm)].map((m) => m[1]).filter((f) => f !== '--help');
    const documented = firstColumn(section('## Options')).map((c) => c.split(' ')[0]);
    expect(documented.sort()).toEqual(flags.sort());
  });

  it('the programmatic options table lists every option, with the library defaults and the CLI\'s where they differ', () => {
    const api = section('## The programmatic API');
    const rows = new Map([...api.matchAll(/^\| `(\w+)` \| ([^|]*) \|/gm)].map((m) => [m[1], m[2]]));
    const o = validateCampaign({});
    expect([...rows.keys()].sort()).toEqual(Object.keys(o).sort());
    expect(rows.get('kills')).toContain(String(o.kills));
    expect(rows.get('seed')).toContain(String(o.seed));
    expect(api).toMatch(/`kills` and `seed`/);
    expect(api).toMatch(/400/);
    expect(api).toMatch(/random/);
    expect(docs).not.toContain('writesVerified');
    expect(api).toContain('acknowledgedWrites');
  });

  it('the doc comment of CampaignOptions.workload names every built-in workload', () => {
    const source = fs.readFileSync(join(repoRoot, 'src', 'tools', 'crashtest', 'campaign.ts'), 'utf8');
    const comment = /\/\*\*((?:[^*]|\*(?!\/))*)\*\/\s*workload: string;/.exec(source)?.[1] ?? '';
    for (const name of Object.keys(builtins)) expect(comment, name).toContain(name);
  });

  it('every failure label is documented; replaying is described as machine-dependent', () => {
    for (const label of Object.values(VERDICT_LABELS)) expect(docs).toContain(label);
    const replaying = section('### Replaying');
    expect(replaying).toMatch(/often,\s+but\s+not\s+always/);
    expect(replaying).toMatch(/machine/);
    expect(replaying).toMatch(/store/);
  });
});
