#!/usr/bin/env node
/**
 * Does the crash harness catch real bugs? Builds deliberately broken copies of
 * riocache (each one a single change to the compiled JavaScript, in a scratch
 * directory: the package itself is never touched) and runs short campaigns
 * against each, one per seed, reporting after how many kills each campaign
 * failed and which check caught it. A broken build that survives every
 * campaign means the harness missed a bug: the script then exits 1.
 *
 *   npm run build && node scripts/broken-builds.js [--kills 100] [--seeds 1,2,3,4,5] [--only A,C] [--json]
 *
 * The unbroken build runs each kind of campaign first with the first seed (the
 * control): a failure there is a real bug, not a caught mutant.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const packageRoot = path.resolve(__dirname, '..');

/**
 * Each broken build: the compiled file, the exact text to replace (it must
 * occur `count` times), its replacement, and the campaign that should catch it.
 */
const mutants = [
  {
    id: 'A',
    what: "an append's commit point (the size store) moved before the copy of its bytes",
    guarantee: 'G2',
    file: 'dist/src/cache/engine.js',
    find: '        mem.writeInto(reg.bytes(b), viewId, off + from, src, srcOffset, length);\n',
    replace: '        if (sizeRecord)\n            this.sizes.commit(slot, newSize, this.sizes.zeroFrom(slot), this.sizes.flags[slot] | sizes_1.SIZE_DIRTY);\n' +
      '        mem.writeInto(reg.bytes(b), viewId, off + from, src, srcOffset, length);\n',
    count: 1,
    campaign: ['--workload', 'append'],
  },
  {
    id: 'B',
    what: 'overwrites in place without undo records',
    guarantee: 'G2',
    file: 'dist/src/cache/engine.js',
    find: 'const overwrite = tx !== null || position < oldSize;',
    replace: 'const overwrite = tx !== null;',
    count: 2,
    campaign: ['--workload', 'overwrite'],
  },
  {
    id: 'C',
    what: 'write-back marks a buffer clean before its bytes are written',
    guarantee: 'G1',
    file: 'dist/src/cache/writeback.js',
    find: 'reg.commitState(b, registry_1.WRITING)',
    replace: 'reg.commitState(b, registry_1.CLEAN)',
    count: 1,
    campaign: ['--workload', 'overwrite'],
  },
  {
    id: 'D',
    what: "recovery skips the checksum check of dirty buffers",
    guarantee: 'G5',
    file: 'dist/src/recovery/scanner.js',
    find: 'if (actual !== reg.crc(b)) {',
    replace: 'if (false) {',
    count: 2,
    campaign: ['--workload', 'overwrite', '--corrupt', '0.3'],
  },
];

function parseArgs(argv) {
  const o = { kills: 100, seeds: [1, 2, 3, 4, 5], only: null, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--kills') o.kills = Number(argv[++i]);
    else if (a === '--seeds') o.seeds = argv[++i].split(',').map(Number);
    else if (a === '--only') o.only = argv[++i].split(',');
    else if (a === '--json') o.json = true;
    else throw new Error(`unknown argument ${a} (expected --kills N, --seeds a,b,c, --only A,B, --json)`);
  }
  if (!Number.isInteger(o.kills) || o.kills < 1) throw new Error('--kills must be a positive integer');
  if (o.seeds.some((s) => !Number.isInteger(s) || s < 0)) throw new Error('--seeds must be integers');
  return o;
}

/** A scratch package: a copy of dist/ (to break), links to the addon build and node_modules. */
function scratchPackage(mutant) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `riocache-broken-${mutant ? mutant.id : 'control'}-`));
  fs.cpSync(path.join(packageRoot, 'dist'), path.join(dir, 'dist'), { recursive: true });
  for (const name of ['build', 'node_modules', 'package.json', 'binding.gyp']) {
    fs.symlinkSync(path.join(packageRoot, name), path.join(dir, name));
  }
  if (mutant) {
    const file = path.join(dir, mutant.file);
    const text = fs.readFileSync(file, 'utf8');
    const found = text.split(mutant.find).length - 1;
    if (found !== mutant.count) {
      throw new Error(`broken build ${mutant.id}: expected ${mutant.count} occurrence(s) of ${JSON.stringify(mutant.find)} in ` +
        `${mutant.file}, found ${found}. The source changed: update the mutant.`);
    }
    fs.writeFileSync(file, text.split(mutant.find).join(mutant.replace));
  }
  return dir;
}

function campaign(dir, args, seed, kills) {
  const r = spawnSync(process.execPath, [path.join(dir, 'dist', 'src', 'cli.js'), 'crashtest', ...args,
    '--kills', String(kills), '--seed', String(seed), '--kill-during-recovery', '0.25', '--json'],
  { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  let result;
  try {
    result = JSON.parse(r.stdout);
  } catch {
    throw new Error(`the campaign printed no JSON (exit ${r.status}): ${r.stderr.slice(-2000)}`);
  }
  const first = result.failures[0];
  return { seed, ok: result.ok, caughtAtKill: first ? first.kill : null, check: first ? first.check : null, kills: result.kills };
}

function main() {
  const o = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(path.join(packageRoot, 'dist', 'src', 'cli.js'))) throw new Error('run `npm run build` first');
  const chosen = mutants.filter((m) => !o.only || o.only.includes(m.id));
  const report = { kills: o.kills, seeds: o.seeds, control: [], mutants: [] };
  const log = (s) => { if (!o.json) process.stdout.write(s); };

  const control = scratchPackage(null);
  try {
    // One campaign of each kind, with the first seed: the broken builds' campaigns stop at their first failure.
    for (const args of new Set(chosen.map((m) => m.campaign.join(' ')))) {
      const seed = o.seeds[0];
      const r = campaign(control, args.split(' '), seed, o.kills);
      report.control.push({ campaign: args, ...r });
      log(`control ${args} seed ${seed}: ${r.ok ? `pass (${r.kills} kills)` : `FAIL at kill ${r.caughtAtKill} (${r.check})`}\n`);
    }
  } finally {
    fs.rmSync(control, { recursive: true, force: true });
  }

  for (const m of chosen) {
    const dir = scratchPackage(m);
    try {
      const runs = o.seeds.map((seed) => campaign(dir, m.campaign, seed, o.kills));
      const entry = { id: m.id, what: m.what, guarantee: m.guarantee, campaign: m.campaign.join(' '), runs,
        caught: runs.every((r) => !r.ok) };
      report.mutants.push(entry);
      log(`${m.id} ${m.what} (${m.guarantee}): ` + runs.map((r) => r.ok ? `seed ${r.seed} MISSED` : `seed ${r.seed} kill ${r.caughtAtKill} (${r.check})`).join(', ') + '\n');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  const controlOk = report.control.every((r) => r.ok);
  const allCaught = report.mutants.every((m) => m.caught);
  if (o.json) process.stdout.write(JSON.stringify({ ...report, controlOk, allCaught }) + '\n');
  else log(`\ncontrol ${controlOk ? 'passed' : 'FAILED'}; ${report.mutants.filter((m) => m.caught).length} of ${report.mutants.length} broken builds caught by every campaign\n`);
  process.exit(controlOk && allCaught ? 0 : 1);
}

main();
